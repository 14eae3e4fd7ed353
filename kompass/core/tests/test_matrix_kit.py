"""The access-table kit itself: a refused write that changed a row must fail the table, on either database.

``check_access_table`` compares every row only when the database counted a write during the request
(SQLite's ``total_changes()``, PostgreSQL's ``pg_stat_xact_user_tables``); these tests make sure an insert,
an update and a delete behind a refusal are all still caught, and that a clean refusal passes.
"""

from types import SimpleNamespace

import pytest

from kompass.core.models import Agency
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db


class RefusingClient:
    """Answers 403 to every write after doing ``effect`` (a stand-in for a view with a broken access check)."""

    def __init__(self, effect):
        self.effect = effect

    def _write(self, *args, **kwargs):
        self.effect()
        return SimpleNamespace(status_code=403)

    generic = post = put = patch = delete = _write


def run_table(effect, method="POST", url="/agencies/new/"):
    client = RefusingClient(effect)
    return check_access_table(lambda role, kind: client, {("someone", method, url): 403})


def test_a_clean_refusal_passes(agencies):
    assert run_table(lambda: None) == 1


@pytest.mark.parametrize(
    "effect",
    [
        lambda: Agency.objects.create(name="Sneaked in", short_code="SNEAK"),
        lambda: Agency.objects.filter(short_code="ALFA").update(name="Renamed behind a 403"),
        lambda: Agency.objects.filter(short_code="GAMMA").delete(),
    ],
    ids=["insert", "update", "delete"],
)
@pytest.mark.parametrize("url", ["/agencies/new/", "/api/agencies/"])
def test_a_refused_write_that_changed_a_row_fails_the_table(agencies, effect, url):
    with pytest.raises(AssertionError, match=r"refused, but changed \[.*'core.Agency'"):
        run_table(effect, url=url)
    # The table's savepoint undid the change.
    assert set(Agency.objects.values_list("short_code", flat=True)) == {"ALFA", "BETA", "GAMMA"}
    assert Agency.objects.get(short_code="ALFA").name == "Bydel Alfa"


def test_an_update_to_the_same_value_is_no_change(agencies):
    """The database counts the write; the rows are compared and found equal: not a failure."""
    assert run_table(lambda: Agency.objects.filter(short_code="ALFA").update(name="Bydel Alfa")) == 1
