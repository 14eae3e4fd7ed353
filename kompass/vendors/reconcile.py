"""Reconciliation: compare every open (and recently closed) link with its vendor record.

Compared: state, priority (impact/urgency), resolution, every public comment once on each side, and the
attachments (every vendor attachment on the case, every case attachment once at the vendor). What is
safe is repaired automatically (a newer remote record is applied; a Kompass reply missing at the vendor is
sent again through the outbox, its marker making that idempotent); the rest is listed as drift for an agent.
Result: "N links checked, M agree, K repaired, J need attention" (:class:`ReconciliationRun`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from kompass.core import durable
from kompass.vendors import conf, sync
from kompass.vendors.mapping import MARKER_PREFIX, OPEN_CASE_STATES, RECORD_FIELDS, Mapping, marker
from kompass.vendors.models import InboxEvent, OutboxMessage, ReconciliationRun, VendorLink
from kompass.vendors.transports import TransportError

ACTIVE = [OutboxMessage.State.PENDING, OutboxMessage.State.CLAIMED]


def links_to_check(now=None):
    now = now or timezone.now()
    since = now - timedelta(days=conf.reconcile_closed_days())
    return (
        VendorLink.objects.exclude(sys_id="")
        .filter(Q(case__state__in=[*OPEN_CASE_STATES, "resolved"]) | Q(case__closed_at__gte=since))
        .select_related("connection", "case")
        .order_by("pk")
    )


def differences(
    link: VendorLink, record: dict | None, journal: list[dict], attachments: list[dict] | None = None
) -> list[str]:
    """What does not agree between the case and its vendor record (empty: they agree). ``attachments``: the
    record's attachment rows (``None``: not compared)."""
    if record is None:
        return ["missing at the vendor"]
    case = link.case
    mapping = Mapping.for_connection(link.connection)
    found = []
    wanted = mapping.case_state(record)
    if wanted is not None and wanted != case.state:
        if not (wanted == "resolved" and case.state == "closed"):  # the requester confirmed before auto-close
            found.append(f"state: vendor {Mapping.state_key(record)} → {wanted}, case {case.state}")
    priority = Mapping.case_priority(record)
    if case.is_open and priority and priority != (case.impact, case.urgency):
        found.append(f"priority: vendor {priority}, case {(case.impact, case.urgency)}")
    if str(record.get("state")) in ("6", "7") and case.state in ("resolved", "closed"):
        notes = (record.get("close_notes") or "").strip()
        if notes and notes not in (case.resolution or ""):
            found.append("resolution differs")
    found += _comment_differences(link, journal)
    if attachments is not None:
        found += _attachment_differences(link, attachments)
    return found


def _attachment_differences(link: VendorLink, rows: list[dict]) -> list[str]:
    """Every vendor attachment is on the case (or was refused by Kompass's checks, noted there), and every case
    attachment is at the vendor once (or the vendor refused it: known, not drift)."""
    found = []
    for row in rows:
        if row.get("sys_id") not in link.attachments:
            found.append(f"vendor attachment {row.get('file_name', '')!r} is not on the case")
    remote_ids = {row.get("sys_id") for row in rows}
    at_vendor = defaultdict(int)
    for sys_id, pk in link.attachments.items():
        if sys_id in remote_ids:
            at_vendor[pk] += 1
    refused = set(OutboxMessage.objects.filter(link=link, refused=True).values_list("marker", flat=True))
    for pk in link.case.attachments.values_list("pk", flat=True):
        if at_vendor.get(pk, 0) != 1 and marker("attachment", pk) not in refused:
            found.append(f"attachment {pk} is at the vendor {at_vendor.get(pk, 0)} times")
    return found


def _comment_differences(link: VendorLink, journal: list[dict]) -> list[str]:
    case = link.case
    remote = [row for row in journal if row.get("element") == "comments"]
    remote_vendor = defaultdict(int)
    remote_markers = defaultdict(int)
    for row in remote:
        text = (row.get("value") or "").strip()
        if MARKER_PREFIX in text:
            remote_markers[text[text.rfind(MARKER_PREFIX) :]] += 1
        elif text:
            remote_vendor[text] += 1
    local_vendor = defaultdict(int)
    found = []
    # A reply the vendor refused (its record was already Closed) is shown on the case as refused: known, not drift.
    refused = set(OutboxMessage.objects.filter(link=link, refused=True).values_list("marker", flat=True))
    for reply in case.replys.all():
        if reply.origin == "vendor":
            local_vendor[reply.text.strip()] += 1
        else:
            count = remote_markers.get(marker("reply", reply.pk), 0)
            if count != 1 and not (count == 0 and marker("reply", reply.pk) in refused):
                found.append(f"reply {reply.pk} is at the vendor {count} times")
    for text, count in remote_vendor.items():
        if local_vendor.get(text, 0) != count:
            found.append(f"vendor comment {text[:40]!r}: {count} at the vendor, {local_vendor.get(text, 0)} in Kompass")
    for text in local_vendor:
        if text not in remote_vendor:
            found.append(f"vendor reply {text[:40]!r} in Kompass has no comment at the vendor")
    return found


def _in_flight(link: VendorLink) -> bool:
    return (
        OutboxMessage.objects.filter(link=link, state__in=ACTIVE).exists()
        or InboxEvent.objects.filter(connection=link.connection, sys_id=link.sys_id, state__in=ACTIVE).exists()
    )


def _repair(link: VendorLink, record: dict, vendor) -> None:
    """The safe repairs: apply the vendor's newer record; re-send Kompass replies missing at the vendor."""
    if record and sync._mod(record) > link.last_mod_count:
        sync.apply_record(link, record, vendor)
    link.refresh_from_db()
    journal = vendor.fetch_journal_since(link.table, link.sys_id, "")
    present = {
        (row.get("value") or "")[(row.get("value") or "").rfind(MARKER_PREFIX) :]
        for row in journal
        if MARKER_PREFIX in (row.get("value") or "")
    }
    rows = vendor.list_attachments(link.table, link.sys_id)
    sync.pull_attachments(link, vendor, rows)
    link.refresh_from_db()
    if link.case.is_open:
        remote_ids = {row.get("sys_id") for row in rows}
        at_vendor = {pk for sys_id, pk in link.attachments.items() if sys_id in remote_ids}
        pending = set(
            OutboxMessage.objects.filter(link=link, kind=OutboxMessage.Kind.ATTACHMENT, state__in=ACTIVE).values_list(
                "marker", flat=True
            )
        )
        missing = [
            pk
            for pk in link.case.attachments.values_list("pk", flat=True)
            if pk not in at_vendor and marker("attachment", pk) not in pending
        ]
        if missing:
            link.attachments = {k: v for k, v in link.attachments.items() if v not in missing}
            link.save(update_fields=["attachments", "updated"])
            sync._queue_attachments(link, missing)
    for reply in link.case.replys.exclude(origin="vendor"):
        mark = marker("reply", reply.pk)
        pending = OutboxMessage.objects.filter(link=link, marker=mark, state__in=ACTIVE).exists()
        if mark not in present and not pending and link.case.is_open:
            OutboxMessage.objects.create(
                link=link, kind=OutboxMessage.Kind.COMMENT, fields={"text": reply.text}, marker=mark
            )
            durable.kick(OutboxMessage)


def reconcile(*, trigger: str = "schedule", repair: bool = True) -> ReconciliationRun:
    run = ReconciliationRun.objects.create(trigger=trigger)
    by_connection = defaultdict(list)
    for link in links_to_check():
        by_connection[link.connection_id].append(link)
    try:
        for links in by_connection.values():
            vendor = sync.transport(links[0].connection)
            records = {
                row["sys_id"]: row
                for row in vendor.fetch_many(links[0].table, [each.sys_id for each in links], RECORD_FIELDS)
            }
            for link in links:
                if _in_flight(link):
                    continue  # changes on their way: the next run compares them
                run.checked += 1
                record = records.get(link.sys_id)
                journal = vendor.fetch_journal_since(link.table, link.sys_id, "")
                attachments = vendor.list_attachments(link.table, link.sys_id) if record is not None else None
                found = differences(link, record, journal, attachments)
                if not found:
                    run.agree += 1
                    continue
                if repair and record is not None:
                    _repair(link, record, vendor)
                    link.refresh_from_db()
                    link.case.refresh_from_db()
                    fresh = vendor.fetch(link.table, link.sys_id, RECORD_FIELDS)
                    after = differences(
                        link,
                        fresh,
                        vendor.fetch_journal_since(link.table, link.sys_id, ""),
                        vendor.list_attachments(link.table, link.sys_id) if fresh is not None else None,
                    )
                    if not after or _in_flight(link):
                        run.repaired += 1
                        continue
                    found = after
                run.attention += 1
                run.drift.append({"link": link.pk, "case": link.case.number, "remote": link.number, "found": found})
    except TransportError as exc:
        run.error = str(exc)
    run.finished = timezone.now()
    run.save()
    return run
