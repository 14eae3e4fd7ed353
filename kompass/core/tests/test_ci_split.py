"""The shares by which CI's two runs split the checks that cannot depend on the database (``kompass.testing.split``)."""

import pytest

from kompass.testing.split import ShareError, in_share, parse_share

KEYS = [f"{who}@kommune.example core:page-{n}" for who in ("admin", "avtale", "kam", "servicedesk") for n in range(60)]


def test_the_halves_hold_every_item_exactly_once():
    first = {key for key in KEYS if in_share(key, "1/2")}
    second = {key for key in KEYS if in_share(key, "2/2")}
    assert first | second == set(KEYS)
    assert not first & second
    # A stable hash, not an alternation: each half gets a fair part of a few hundred keys.
    assert 0.35 < len(first) / len(KEYS) < 0.65


def test_three_parts_also_partition():
    parts = [{key for key in KEYS if in_share(key, f"{i}/3")} for i in (1, 2, 3)]
    assert sum(len(part) for part in parts) == len(KEYS)
    assert set().union(*parts) == set(KEYS)


def test_all_and_none():
    assert all(in_share(key, "all") for key in KEYS)
    assert all(in_share(key, "") for key in KEYS)  # unset means all
    assert not any(in_share(key, "none") for key in KEYS)
    assert parse_share("ALL") == (1, 1)
    assert parse_share("none") is None


@pytest.mark.parametrize("share", ["0/2", "3/2", "half", "1/", "1/0"])
def test_a_mistyped_share_is_an_error(share):
    with pytest.raises(ShareError):
        parse_share(share)
