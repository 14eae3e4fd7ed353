"""The test kit's selection for CI's two runs (``kompass.testing.plugin.selected``)."""

from types import SimpleNamespace

import pytest

from kompass.testing.plugin import selected


def item(nodeid, *, markers=(), fixtures=()):
    return SimpleNamespace(
        nodeid=nodeid,
        fixturenames=list(fixtures),
        get_closest_marker=lambda name: SimpleNamespace(name=name) if name in markers else None,
        iter_markers=lambda name: iter([SimpleNamespace(name=name)] if name in markers else []),
    )


DATABASE = [item(f"kompass/x/tests/test_db.py::test_{n}", fixtures=["db"]) for n in range(20)] + [
    item(f"kompass/x/tests/test_live.py::test_{n}", markers=["django_db"]) for n in range(20)
]
FREE = [item(f"snowsim/tests/test_pure.py::test_{n}") for n in range(200)] + [
    item(f"kompass/x/tests/test_meta.py::test_{n}", markers=["django_db", "database_independent"]) for n in range(20)
]


@pytest.mark.parametrize("share", ["all", "1/2", "2/2", "none"])
@pytest.mark.parametrize("only_database", [False, True])
def test_a_test_that_reaches_the_database_runs_on_every_run(share, only_database):
    assert all(selected(i, only_database=only_database, database_free_share=share) for i in DATABASE)


def test_database_free_tests_split_into_halves_that_hold_each_once():
    halves = [
        {i.nodeid for i in FREE if selected(i, only_database=False, database_free_share=s)} for s in ("1/2", "2/2")
    ]
    assert halves[0] | halves[1] == {i.nodeid for i in FREE}
    assert not halves[0] & halves[1]
    assert 0.35 < len(halves[0]) / len(FREE) < 0.65


def test_database_only_drops_every_database_free_test():
    assert not any(selected(i, only_database=True, database_free_share="all") for i in FREE)
    assert all(selected(i, only_database=False, database_free_share="all") for i in FREE)


def test_a_database_free_test_with_a_conditional_skip_goes_to_both_runs():
    """``@skipif(not SQLite)`` skips on the PostgreSQL run; if the share sent it only there, no run would test it."""
    tests = [item(f"kompass/core/tests/test_settings.py::test_sqlite_only_{n}", markers=["skipif"]) for n in range(20)]
    for share in ("1/2", "2/2"):
        assert all(selected(i, only_database=False, database_free_share=share) for i in tests)
    assert not any(selected(i, only_database=True, database_free_share="all") for i in tests)
