"""Applying vendor updates, pinned: the queries of one applied inbox event may not creep back up (issue 10).

A batch of vendor comments, each also moving its incident to "in progress", pushed as inbox events and applied
by one ``durable.process`` run of the vendors queue (what its worker does). Measured on SQLite, per event with
the batch's shared reads spread over 5 events: 38.6 before issue 10's work, 27.6 after (the link locked with
its case, requester and agency in one read, that case used by the reply and the transition instead of a
locked re-read each, their audit diffs against the copy in memory, the ledger rows without savepoints, the link's
bookkeeping in one UPDATE without the audit re-read, no lease renewal while the lease is fresh, the outcome
written with the completion). PostgreSQL has one query fewer per change (no FTS5 row).
"""

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from kompass.core import durable
from kompass.vendors import sync
from kompass.vendors.models import InboxEvent
from kompass.vendors.tests.test_sync_units import bonded, connection, push_all, vendor  # noqa: F401

pytestmark = pytest.mark.django_db

EVENTS = 5
APPLY_QUERIES_PER_EVENT = 28


def _apply_batch(pairs, vendor):  # noqa: F811
    for n, (_case, link) in enumerate(pairs):
        vendor.vendor_write(link.sys_id, comments=f"Svar {n}", state="2")
    push_all([link for _case, link in pairs], vendor)
    with CaptureQueriesContext(db) as queries:
        result = durable.process(InboxEvent, sync.process_event, "test", limit=50)
    assert result.done == len(pairs)
    return queries


def test_queries_per_applied_event(bonded, vendor):  # noqa: F811
    _apply_batch([bonded() for _ in range(2)], vendor)  # warm: the first batch fills per-process caches
    pairs = [bonded() for _ in range(EVENTS)]
    queries = _apply_batch(pairs, vendor)
    assert len(queries) <= APPLY_QUERIES_PER_EVENT * EVENTS, f"{len(queries) / EVENTS:.1f} queries per event"
    # and every event still did all it owes: the reply, the state, the outcome, one notification of the requester
    events = InboxEvent.objects.filter(sys_id__in=[link.sys_id for _case, link in pairs])
    assert set(events.values_list("outcome", flat=True)) == {"applied"}
    assert set(events.values_list("state", flat=True)) == {"done"}
    for n, (case, link) in enumerate(pairs):
        case.refresh_from_db()
        link.refresh_from_db()
        assert case.state == "in_progress" and list(case.replys.values_list("text", flat=True)) == [f"Svar {n}"]
        assert link.last_mod_count == int(vendor.records[link.sys_id]["sys_mod_count"])
        ledger = apps.get_model("notifications", "Delivery")  # no import of a sibling's models
        replied = list(ledger.objects.filter(event="cases.replied", key__startswith=f"case:{case.pk}:"))
        assert sorted(row.channel for row in replied) == ["email", "portal"]
        assert {row.recipient_id for row in replied} == {case.requester_id}


def test_a_held_case_is_audited_as_auditlog_itself_would(bonded, vendor):  # noqa: F811
    """The reply and the transition applied from the vendor save the case without auditlog's re-read of the
    row; the audit entries are still there, with the same changes a plain save logs."""
    (case, link), (other, _other_link) = bonded(), bonded()
    vendor.vendor_write(link.sys_id, comments="Vi ser på det", state="2")
    sync.apply_record(link, dict(vendor.records[link.sys_id]), vendor)
    entries = LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.UPDATE)
    changes = [entry.changes_dict for entry in entries.order_by("pk")]
    assert changes[-1] == {"state": ["new", "in_progress"]}
    assert "responded_at" in changes[-2] and "state" not in changes[-2]  # the reply: the first response

    # the same two changes made without held(): auditlog's own receiver gives the same fields
    from kompass.cases import services

    origin = sync.vendor_origin(link)
    services.add_reply(other, "Vi ser på det", origin=origin)
    services.transition(other, "in_progress", origin=origin, reason="vendor")
    plain = LogEntry.objects.get_for_object(other).filter(action=LogEntry.Action.UPDATE).order_by("pk")
    plain_changes = [entry.changes_dict for entry in plain]
    assert [set(c) for c in plain_changes[-2:]] == [set(c) for c in changes[-2:]]


def test_the_outcome_is_written_with_the_completion_or_alone_without_a_claim(bonded, vendor):  # noqa: F811
    (_case, link), (_other, other_link) = bonded(), bonded()
    push_all([link], vendor)
    assert durable.process(InboxEvent, sync.process_event, "test").done == 1
    assert InboxEvent.objects.get(sys_id=link.sys_id).outcome == "stale"  # nothing new at the vendor
    push_all([other_link], vendor)
    event = InboxEvent.objects.get(sys_id=other_link.sys_id)
    assert sync.process_event(event) == "stale"  # called outside a worker's claim
    assert InboxEvent.objects.get(pk=event.pk).outcome == "stale"
