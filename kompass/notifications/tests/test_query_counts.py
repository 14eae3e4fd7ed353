"""The inbox, the ledger and their API lists use a fixed number of queries, however many rows they show."""

import pytest

from kompass.core.tests.test_query_counts import count_queries
from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE

pytestmark = pytest.mark.django_db


def _grow(cast, run_worker, n, start=0):
    people = [cast["admin"], cast["requester"], cast["owner"]]
    for i in range(start, start + n):
        notifications.send(event=TEST_EVENT, recipients=people, template=TEST_TEMPLATE, key=f"q:{i}")
    run_worker()


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("admin", "/notifications/"),
        ("admin", "/notifications/ledger/"),
        ("admin", "/api/notifications/"),
        ("admin", "/api/notification-deliveries/"),
        ("requester", "/notifications/"),
    ],
)
def test_lists_do_not_grow_queries_with_rows(clients, cast, run_worker, who, url):
    _grow(cast, run_worker, 1)
    client = clients(who)
    before = count_queries(client, url)
    _grow(cast, run_worker, 5, start=1)
    assert count_queries(client, url) == before
