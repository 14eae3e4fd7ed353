"""Saved queue filters in the matrix: every role × the save and delete endpoints, and the meta-test that takes
each ``SavedFilter`` rule away in turn (a rule nothing notices would be untested)."""

import pytest

from kompass.cases.models import SavedFilter
from kompass.cases.tests.test_views import page_status
from kompass.core.models import Organisation
from kompass.testing.cast import CAST
from kompass.testing.matrix import assert_every_rule_is_tested, check_access_table

pytestmark = pytest.mark.django_db

#: The cast members whose roles use the queue (and so keep saved filters).
QUEUE_USERS = ("agreement", "desk", "kam", "it_contact", "owner", "agency_admin")


@pytest.fixture
def own_filters(cast):
    Organisation.current()  # the error pages read it; made here so a refusal changes nothing
    mine = {
        key: SavedFilter.objects.create(owner=cast[key], name=f"Mitt {key}", query="state=new") for key in QUEUE_USERS
    }
    shared = SavedFilter.objects.create(owner=cast["desk"], name="Delt", query="priority=1", team="Drift")
    return {**{key: saved.pk for key, saved in mine.items()}, "shared": shared.pk}


def rows_for(own_filters) -> dict:
    rows = {}
    for key in CAST:
        rows[(key, "POST", "/cases/saved-filters/")] = page_status(302, {"admin", *QUEUE_USERS}, seen=set(CAST))[key]
    for owner in QUEUE_USERS:  # one's own private filter: deleted by oneself; to everyone else it does not exist
        url = f"/cases/saved-filters/{own_filters[owner]}/delete/"
        for key, status in page_status(302, {owner}, seen=set(), everyone_else=404).items():
            rows[(key, "POST", url)] = status
    shared = f"/cases/saved-filters/{own_filters['shared']}/delete/"  # seen by the service desk, deleted by its owner
    for key, status in page_status(302, {"desk", "admin"}, seen=set(), everyone_else=404).items():
        rows[(key, "POST", shared)] = status
    return rows


DATA = {"/cases/saved-filters/": {"name": "Ny", "query": "state=new"}}


def test_saved_filter_access_table(clients, own_filters):
    rows = rows_for(own_filters)
    assert check_access_table(clients, rows, data=DATA) >= len(rows)


@pytest.mark.slow
@pytest.mark.database_independent
def test_removing_any_saved_filter_rule_makes_a_test_fail(clients, own_filters):
    rows = rows_for(own_filters)

    def run_for_keys(keys):
        check_access_table(clients, {k: v for k, v in rows.items() if k[0] in keys}, data=DATA)

    assert assert_every_rule_is_tested([SavedFilter], run_for_keys) == 18
