"""The inbox, the ledger and their API lists use a fixed number of queries, however many rows they show."""

import pytest

from kompass.core.tests.test_query_counts import count_queries
from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.models import Delivery

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


def test_a_fresh_key_writes_its_rows_without_a_savepoint_and_a_reused_one_fails(cast):
    """``fresh_key=True`` (the key names a row made in this very transaction): one insert, no savepoint around
    it; the same key again is then a programming error the unique constraint refuses, not a silent duplicate."""
    from django.db import IntegrityError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    people = [cast["admin"], cast["requester"]]
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        rows = notifications.send(
            event=TEST_EVENT, recipients=people, template=TEST_TEMPLATE, key="fresh:1", fresh_key=True
        )
    assert len(rows) >= 2 and all(row.pk for row in rows)
    assert not [q for q in ctx.captured_queries if "SAVEPOINT" in q["sql"].upper()]
    assert len([q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]) == 1
    # without fresh_key the same key returns the existing rows; with it, the insert is refused
    assert {r.pk for r in notifications.send(event=TEST_EVENT, recipients=people, template=TEST_TEMPLATE,
                                             key="fresh:1")} == {r.pk for r in rows}  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        notifications.send(event=TEST_EVENT, recipients=people, template=TEST_TEMPLATE, key="fresh:1", fresh_key=True)


#: Queries to deliver one ledger row (e-mail or portal), the batch's claim spread over its rows: 6.8 before issue
#: 10's delivery work (the recipient read per row; the portal's get-or-create: a read, a savepoint pair, the
#: insert), 4.3 after (SQLite, 20 rows in one batch, each with its own link in the context), 3.3 after branch
#: ``vendors-cpu`` (``sent_at`` and the subject written with the completion, one UPDATE instead of two).
DELIVERY_QUERIES_PER_ROW = 3.5


def test_queries_per_delivered_row(cast, run_worker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = [cast["admin"], cast["requester"], cast["owner"], cast["desk"], cast["it_contact"]]
    notifications.send(event=TEST_EVENT, recipients=people, template=TEST_TEMPLATE, key="warm")
    run_worker()
    for n in range(2):
        notifications.send(
            event=TEST_EVENT, recipients=people, template=TEST_TEMPLATE, key=f"pin:{n}", context={"url": "/cases/"}
        )
    rows = Delivery.objects.filter(key__startswith="pin:").count()
    with CaptureQueriesContext(connection) as ctx:
        assert run_worker().done == rows
    assert len(ctx) <= DELIVERY_QUERIES_PER_ROW * rows, f"{len(ctx) / rows:.1f} queries per row ({rows} rows)"
