"""Concurrent sends of one key write one row (PostgreSQL: real concurrent transactions)."""

import threading

import pytest
from django.db import connection, connections, transaction

from kompass.notifications import services as notifications
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.models import Delivery

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"),
]


def test_concurrent_sends_of_one_key_write_one_row_each_channel(cast):
    user = cast["requester"]
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results, errors = [], []

    def send():
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                rows = notifications.send(event=TEST_EVENT, recipients=[user], template=TEST_TEMPLATE, key="race:1")
            results.append(sorted(row.pk for row in rows))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Delivery.objects.filter(key="race:1").count() == 2
    assert len({tuple(r) for r in results}) == 1  # every caller got the same two rows back
