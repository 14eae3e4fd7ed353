"""E-bonding: the two-way sync between a case and its vendor record (docs/e-bonding.md).

Outbound: :func:`enqueue_for_change` (called by the ``case_changed`` receiver, inside the change's
transaction) writes :class:`OutboxMessage` rows; :func:`deliver` (the ``vendors`` queue's worker) sends them
in order per link. Inbound: webhook pushes and the poller write :class:`InboxEvent` rows; :func:`process_event`
re-reads the record and applies it with :func:`apply_record`, which is also what every own write's
response goes through (the vendor's business rules may have changed more than Kompass wrote).

Duplicate and stale changes are recognised by ``sys_mod_count`` (fields) and journal ``sys_id`` (comments
and work notes); Kompass's own journal entries carry a marker (``[kompass:reply:12]``). Echo suppression
is by origin (changes applied from the vendor are never sent back) and by the per-field last synchronised
values in ``VendorLink.synced`` — never by ``sys_updated_by`` alone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kompass.cases import services as cases
from kompass.cases.services import CaseError, ChangeOrigin
from kompass.core import durable
from kompass.vendors.mapping import MARKER_PREFIX, OPEN_CASE_STATES, RECORD_FIELDS, Mapping, marker
from kompass.vendors.models import InboxEvent, OutboxMessage, VendorConnection, VendorLink
from kompass.vendors.transports import TransportError, transport_for

logger = logging.getLogger(__name__)

#: Journal rows are read from ``journal_watermark`` minus this (sys_created_on has 1-second resolution
#: and nodes' clocks differ); the sys_ids already seen are skipped.
JOURNAL_OVERLAP = timedelta(seconds=5)
SN_FORMAT = "%Y-%m-%d %H:%M:%S"

State = OutboxMessage.State


class Postponed(Exception):
    """An earlier message of the same link is still on its way: try this one again shortly."""


# ---------------------------------------------------------------------------------------------
# Transports, one per connection and process (keeps the TLS connection and the OAuth token)
# ---------------------------------------------------------------------------------------------
_transports: dict[tuple, object] = {}
_transports_lock = threading.Lock()


def transport(connection: VendorConnection):
    key = (
        connection.pk,
        connection.base_url,
        connection.username,
        connection.auth_method,
        connection.ca_bundle,
        connection.secret_env,
        connection.timeout_seconds,
    )
    with _transports_lock:
        found = _transports.get(key)
        if found is None:
            for old in [k for k in _transports if k[0] == connection.pk]:
                _transports.pop(old).close()
            found = _transports[key] = transport_for(connection)
        return found


def reset_transports() -> None:
    with _transports_lock:
        for found in _transports.values():
            found.close()
        _transports.clear()


def vendor_origin(link: VendorLink, name: str = "") -> ChangeOrigin:
    return ChangeOrigin.by_vendor(link.ref, name or link.connection.name)


def _sn_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, SN_FORMAT)
    except (TypeError, ValueError):
        return None


def _minus(value: str, delta: timedelta) -> str:
    moment = _sn_time(value)
    return (moment - delta).strftime(SN_FORMAT) if moment else ""


def _mod(record: dict) -> int:
    try:
        return int(record.get("sys_mod_count", -1))
    except (TypeError, ValueError):
        return -1


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------
def open_link(case, connection: VendorConnection, *, table: str = "incident") -> tuple[VendorLink, bool]:
    """Bond ``case`` to a new record at ``connection``'s vendor: the link and its create message, in the
    caller's transaction. Returns ``(link, created)``; a case already linked keeps its link."""
    with transaction.atomic():
        existing = VendorLink.objects.filter(case=case).first()
        if existing is not None:
            return existing, False
        link = VendorLink.objects.create(case=case, connection=connection, table=table, correlation_id=case.number)
        mapping = Mapping.for_connection(connection)
        OutboxMessage.objects.create(
            link=link, kind=OutboxMessage.Kind.CREATE, fields=mapping.create_fields(case, link.correlation_id)
        )
        _queue_attachments(link, case.attachments.values_list("pk", flat=True))
        cases.add_note(
            case,
            f"Sendt til leverandøren {connection.name} (koblingsnøkkel {link.correlation_id}).",
            origin=vendor_origin(link),
            author_name=connection.name,
        )
        durable.kick(OutboxMessage)
    return link, True


# ---------------------------------------------------------------------------------------------
# Outbound: the receiver's half (inside the case change's transaction)
# ---------------------------------------------------------------------------------------------
def enqueue_for_change(link: VendorLink, case, change) -> OutboxMessage | None:
    """The outbox row a case change needs, if any. Changes applied from the vendor never come here."""
    mapping = Mapping.for_connection(link.connection)
    kind, fields, mark = None, {}, ""
    later: list[int] = []  # attachments that follow the message (a reply's files after its comment)
    if change.kind == "reply":
        reply = case.replys.filter(pk=change.detail.get("reply")).first()
        if reply is None:
            return None
        kind, fields, mark = OutboxMessage.Kind.COMMENT, {"text": reply.text}, marker("reply", reply.pk)
        later = list(reply.attachments.values_list("pk", flat=True))
    elif change.kind == "attachment":
        queued = _queue_attachments(link, change.detail.get("attachments", []), change_id=change.pk)
        return queued[0] if queued else None
    elif change.kind in ("state", "reopened"):
        fields = mapping.remote_state(case.state, resolution=case.resolution) or {}
        if not fields or link.synced.get("state") == Mapping.state_key(fields):
            return None  # a state the vendor does not get, or the one it already has (echo)
        kind = OutboxMessage.Kind.UPDATE
    elif change.kind == "priority":
        fields = {"impact": str(case.impact), "urgency": str(case.urgency)}
        if link.synced.get("priority") == Mapping.priority_key(fields):
            return None
        kind = OutboxMessage.Kind.UPDATE
    elif change.kind == "details":
        names = set(change.detail.get("fields", []))
        if "title" in names:
            fields["short_description"] = case.title[:160]
        if "description" in names:
            fields["description"] = case.description
        if not fields:
            return None
        kind = OutboxMessage.Kind.UPDATE
    elif change.kind == "note" and change.detail.get("shared"):
        note = case.notes.filter(pk=change.detail.get("note"), share_with_vendor=True).first()
        if note is None:
            return None
        kind, fields, mark = OutboxMessage.Kind.WORK_NOTE, {"text": note.text}, marker("note", note.pk)
    else:
        return None  # internal notes not marked "share with vendor" stay internal; assignment is each side's own
    message = OutboxMessage.objects.create(link=link, kind=kind, fields=fields, marker=mark, change_id=change.pk)
    _queue_attachments(link, later, change_id=change.pk)
    durable.kick(OutboxMessage)
    return message


def _queue_attachments(link: VendorLink, pks, *, change_id=None) -> list[OutboxMessage]:
    """One attachment message per Kompass attachment not yet at the vendor (every case attachment is public:
    the cases model has no internal attachments)."""
    sent = set(link.attachments.values())
    queued = [
        OutboxMessage.objects.create(
            link=link,
            kind=OutboxMessage.Kind.ATTACHMENT,
            fields={"attachment": pk},
            marker=marker("attachment", pk),
            change_id=change_id,
        )
        for pk in pks
        if pk not in sent
    ]
    if queued:
        durable.kick(OutboxMessage)
    return queued


# ---------------------------------------------------------------------------------------------
# Outbound: the worker's half
# ---------------------------------------------------------------------------------------------
def _postpone(message: OutboxMessage, reason: str) -> None:
    """Wait for an earlier message without spending an attempt (the claim is given back by ``fail``)."""
    OutboxMessage.objects.filter(pk=message.pk, claim_token=message.claim_token).update(attempts=message.attempts - 1)
    message.attempts -= 1
    raise Postponed(reason)


def deliver(message: OutboxMessage) -> str:
    """Send one outbox message (idempotently), then apply the vendor's answer. Raises to retry later."""
    link = VendorLink.objects.select_related("connection", "case").get(pk=message.link_id)
    earlier = OutboxMessage.objects.filter(link=link, pk__lt=message.pk, state__in=[State.PENDING, State.CLAIMED])
    first = earlier.order_by("pk").first()
    if first is not None:
        _postpone(message, f"Waiting for message #{first.pk} of the same link.")
    if message.kind != OutboxMessage.Kind.CREATE and not link.sys_id:
        raise TransportError("The remote record does not exist yet (its create is a dead letter?).", retryable=True)
    vendor = transport(link.connection)
    try:
        if message.kind == OutboxMessage.Kind.CREATE:
            record = _create(link, message, vendor)
        elif message.kind in (OutboxMessage.Kind.COMMENT, OutboxMessage.Kind.WORK_NOTE):
            record = _journal(link, message, vendor)
        elif message.kind == OutboxMessage.Kind.ATTACHMENT:
            return _attach(link, message, vendor)
        else:
            record = vendor.update(link.table, link.sys_id, message.fields)
    except TransportError as exc:
        if exc.refused:
            _refused(link, message, exc)
            return "refused"
        raise
    link.refresh_from_db()
    if record:
        apply_record(link, record, vendor, own_write=True)
    VendorLink.objects.filter(pk=link.pk).update(last_outbound_at=timezone.now())
    return "sent"


def _create(link: VendorLink, message: OutboxMessage, vendor) -> dict:
    if link.sys_id:
        return vendor.fetch(link.table, link.sys_id, RECORD_FIELDS) or {}
    record = None
    if message.attempts > 1:
        # A retried create: the first POST may have been committed with its answer lost (contract §9.1).
        found = vendor.find_by_correlation(link.table, link.correlation_id, RECORD_FIELDS)
        record = found[0] if found else None
    if record is None:
        record = vendor.create(link.table, message.fields)
    with transaction.atomic():
        VendorLink.objects.filter(pk=link.pk).update(
            sys_id=record["sys_id"],
            number=record.get("number", ""),
            sync_state=VendorLink.SyncState.LINKED,
            last_error="",
        )
        link.refresh_from_db()
        cases.add_note(
            link.case,
            f"Registrert hos {link.connection.name} som {link.number}.",
            origin=vendor_origin(link),
            author_name=link.connection.name,
        )
    return record


def _journal(link: VendorLink, message: OutboxMessage, vendor) -> dict:
    element = "comments" if message.kind == OutboxMessage.Kind.COMMENT else "work_notes"
    if message.attempts > 1 and vendor.journal_has_marker(link.table, link.sys_id, message.marker):
        return vendor.fetch(link.table, link.sys_id, RECORD_FIELDS) or {}  # the earlier PATCH did land
    text = f"{message.fields.get('text', '')}\n\n{message.marker}"
    return vendor.add_journal(link.table, link.sys_id, element, text)


def _attach(link: VendorLink, message: OutboxMessage, vendor) -> str:
    """Upload one case attachment. A retry first looks for it among the record's attachments by its content
    hash (an upload whose answer was lost was committed), so the vendor never gets it twice."""
    pk = message.fields.get("attachment")
    attachment = link.case.attachments.filter(pk=pk).first()
    if attachment is None:
        return "gone"
    if pk in link.attachments.values():
        return "sent"
    found = None
    if message.attempts > 1:
        found = next(
            (row for row in vendor.list_attachments(link.table, link.sys_id) if row.get("hash") == attachment.sha256),
            None,
        )
    if found is None:
        with attachment.file.open("rb") as handle:
            data = handle.read()
        found = vendor.add_attachment(link.table, link.sys_id, attachment.name, attachment.content_type, data)
    with transaction.atomic():
        fresh = VendorLink.objects.select_for_update().get(pk=link.pk)
        fresh.attachments = {**fresh.attachments, found["sys_id"]: attachment.pk}
        fresh.last_outbound_at = timezone.now()
        fresh.save(update_fields=["attachments", "last_outbound_at", "updated"])
    return "sent"


def _refused(link: VendorLink, message: OutboxMessage, exc: TransportError) -> None:
    """The vendor will never take this write as it stands: show it on the case and stop retrying it."""
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(refused=True, last_error=str(exc)[:4000])
        VendorLink.objects.filter(pk=link.pk).update(sync_state=VendorLink.SyncState.REFUSED, last_error=str(exc))
        cases.add_note(
            link.case,
            f"Leverandøren avviste en endring ({message.get_kind_display()}): {exc}",
            origin=vendor_origin(link),
            author_name=link.connection.name,
        )


def retry_dead(messages) -> int:
    """An agent's retry of dead letters (and refused messages): pending again now, with fresh attempts."""
    pks = [m.pk for m in messages]
    OutboxMessage.objects.filter(pk__in=pks, refused=True).update(
        state=State.DEAD, refused=False, finished=timezone.now()
    )
    count = durable.retry(OutboxMessage, pks)
    if count:
        durable.kick(OutboxMessage)
    return count


# ---------------------------------------------------------------------------------------------
# Inbound
# ---------------------------------------------------------------------------------------------
def record_event(connection: VendorConnection, payload: dict, *, source: str, event_id: str = "") -> bool:
    """Store a push (or any hint) in the inbox; ``False`` for a duplicate of an event already there."""
    sys_id = str(payload.get("sys_id", ""))[:32]
    if not sys_id:
        return False
    event_id = event_id[:100]
    if event_id and InboxEvent.objects.filter(connection=connection, event_id=event_id).exists():
        return False
    try:
        with transaction.atomic():
            InboxEvent.objects.create(
                connection=connection,
                source=source,
                event_id=event_id,
                table=str(payload.get("table") or "incident")[:80],
                sys_id=sys_id,
                mod_count=_mod(payload),
                payload=payload,
            )
    except IntegrityError:  # the same event, stored by a concurrent request
        return False
    durable.kick(InboxEvent)
    return True


@dataclass
class _Prefetch:
    """What one claimed batch of inbox events needs from the vendor, read with one query per kind instead of
    three per event: the records (``sys_idIN…``), then their journal rows (``element_idIN…``) and attachments
    (``table_sys_idIN…``), in that order — the journal is read after the record, as :func:`apply_record` needs.

    Each record's reads are handed out once (``take``): a second event of the same record in the batch is
    stale by then (its ``sys_mod_count`` was applied with the first) or reads afresh.
    """

    token: str
    records: dict[str, dict]
    journals: dict[str, list[dict]]
    attachments: dict[str, list[dict]]

    def take(self, sys_id: str, *, with_record: bool) -> tuple[dict | None, list[dict] | None, list[dict] | None]:
        record = self.records.pop(sys_id, None) if with_record else None
        if with_record and record is None:
            return None, None, None  # not read with the batch (or already used): the event reads it itself
        journal = self.journals.pop(sys_id, None)
        return record, journal, self.attachments.pop(sys_id, None)


_local = threading.local()


def _needs_read(mod_count: int, source: str, last_mod_count: int) -> bool:
    """False for an event already applied: a push or poll whose ``sys_mod_count`` the link has seen."""
    return not (0 <= mod_count <= last_mod_count and source in ("webhook", "poll"))


def _prefetch(event: InboxEvent, link: VendorLink, vendor) -> _Prefetch | None:
    """The batch reads of ``event``'s claim (made by its first event; ``None`` for a batch of one)."""
    token = event.claim_token
    found = getattr(_local, "prefetch", None)
    if found is not None and found.token == token:
        return found
    _local.prefetch = None
    mates = list(
        InboxEvent.objects.filter(
            claim_token=token, state=InboxEvent.State.CLAIMED, connection_id=event.connection_id
        ).values_list("sys_id", "mod_count", "source")
    )
    links = {
        sys_id: (mod, mark)
        for sys_id, mod, mark in VendorLink.objects.filter(
            connection_id=link.connection_id, table=link.table, sys_id__in={m[0] for m in mates}
        )
        .exclude(sys_id="")
        .values_list("sys_id", "last_mod_count", "journal_watermark")
    }
    wanted, records_for = set(), set()
    for sys_id, mod_count, source in mates:
        if sys_id in links and _needs_read(mod_count, source, links[sys_id][0]):
            wanted.add(sys_id)
            if source != InboxEvent.Source.POLL:
                records_for.add(sys_id)
    if len(wanted) < 2:
        return None
    since = {sys_id: _minus(links[sys_id][1], JOURNAL_OVERLAP) for sys_id in wanted}
    records = {}
    if records_for:
        records = {row["sys_id"]: row for row in vendor.fetch_many(link.table, sorted(records_for), RECORD_FIELDS)}
    journals: dict[str, list[dict]] = {sys_id: [] for sys_id in wanted}
    for row in vendor.fetch_journal_many(link.table, sorted(wanted), min(since.values())):
        owner = row.get("element_id", "")
        if owner in journals and row.get("sys_created_on", "") >= since[owner]:
            journals[owner].append(row)
    attachments: dict[str, list[dict]] = {sys_id: [] for sys_id in wanted}
    try:
        for row in vendor.list_attachments_many(link.table, sorted(wanted)):
            if row.get("table_sys_id") in attachments:
                attachments[row["table_sys_id"]].append(row)
    except TransportError as exc:
        logger.info("Attachments of a batch not read this time: %s", exc)
        attachments = {}  # each event lists its own (or the next re-read does)
    _local.prefetch = _Prefetch(token, records, journals, attachments)
    return _local.prefetch


@dataclass
class _BatchLinks:
    """The links of one claimed batch's events, read with one query (with their connections) for the staleness
    check; each is handed out once: a second event of the same record reads its link afresh (the first one's
    apply has moved it on). :func:`apply_record` re-reads the link locked in any case."""

    token: str
    links: dict[tuple[int, str], VendorLink]
    used: set[tuple[int, str]]


def _link_of(event: InboxEvent) -> VendorLink | None:
    key = (event.connection_id, event.sys_id)
    batch = getattr(_local, "links", None)
    if event.claim_token and (batch is None or batch.token != event.claim_token):
        mates = InboxEvent.objects.filter(claim_token=event.claim_token, state=InboxEvent.State.CLAIMED)
        found = VendorLink.objects.select_related("connection").filter(sys_id__in=mates.values("sys_id"))
        batch = _local.links = _BatchLinks(
            event.claim_token, {(link.connection_id, link.sys_id): link for link in found if link.sys_id}, set()
        )
    if event.claim_token and key not in batch.used:
        batch.used.add(key)
        return batch.links.get(key)
    return (
        VendorLink.objects.select_related("connection")
        .filter(connection_id=event.connection_id, sys_id=event.sys_id)
        .first()
    )


def process_event(event: InboxEvent) -> str:
    """Apply one inbox event: re-read the record (the push is only a hint), then :func:`apply_record`.

    The events of one claimed batch share their reads (:class:`_Prefetch`); each is applied in its own
    transaction, so one that fails is retried alone and the others stay applied.
    """
    link = _link_of(event)
    if link is None:
        outcome = "not linked"
    elif not _needs_read(event.mod_count, event.source, link.last_mod_count):
        # Already applied (a duplicate, or overtaken by a later read). The journal up to that sys_mod_count was
        # read with it (apply_record reads the journal after the record), so a stale event needs no read at all.
        outcome = "stale"
    else:
        vendor = transport(link.connection)
        polled = event.source == InboxEvent.Source.POLL
        batch = _prefetch(event, link, vendor) if event.claim_token else None
        record, journal, attachments = batch.take(event.sys_id, with_record=not polled) if batch else (None,) * 3
        if polled:
            record = event.payload.get("record")
        elif record is None:
            record = vendor.fetch(link.table, event.sys_id, RECORD_FIELDS)
        if not record:
            outcome = "gone"
        else:
            outcome = apply_record(link, record, vendor, journal=journal, attachments=attachments)
    event.outcome = outcome
    if not event.claim_token:  # under a claim, durable.complete writes it with the completion
        InboxEvent.objects.filter(pk=event.pk).update(outcome=outcome)
    return outcome


#: The link columns :func:`apply_record` writes besides the audited ``number`` and ``sync_state``.
_BOOKKEEPING = (
    "journal_watermark",
    "seen_journal",
    "last_mod_count",
    "last_updated_on",
    "last_inbound_at",
    "synced",
    "last_error",
    "updated",
)


def apply_record(
    link: VendorLink,
    record: dict,
    vendor,
    *,
    own_write: bool = False,
    journal: list[dict] | None = None,
    attachments: list[dict] | None = None,
) -> str:
    """Apply a freshly read remote record and the journal rows written since: ``applied``/``stale``.

    The journal is read **after** the record, so every entry up to the record's ``sys_mod_count`` is seen by
    the time that count is recorded; a later, stale read then needs no journal of its own. ``journal`` and
    ``attachments`` are rows a batch already read (after ``record``); ``None`` reads them here.
    """
    if journal is None:
        since = _minus(link.journal_watermark, JOURNAL_OVERLAP)
        journal = vendor.fetch_journal_since(link.table, link.sys_id or record.get("sys_id", ""), since)
    rows = journal
    mapping = Mapping.for_connection(link.connection)
    with transaction.atomic():
        # The link and its case locked in one read (not the connection: every event of a connection would wait
        # for the others on PostgreSQL); the case changes below use this locked case (cases.held), not a re-read.
        link = (
            VendorLink.objects.select_for_update(of=("self", "case"))
            .select_related("connection", "case", "case__requester", "case__agency")  # the notifications need both
            .get(pk=link.pk)
        )
        case = link.case
        audited = (link.number, link.sync_state)
        seen = set(link.seen_journal)
        origin = vendor_origin(link)
        mod = _mod(record)
        outcome = "stale"
        with cases.held(case):
            for row in sorted(rows, key=lambda r: (r.get("sys_created_on", ""), r.get("sys_id", ""))):
                if row["sys_id"] in seen:
                    continue
                seen.add(row["sys_id"])
                link.journal_watermark = max(link.journal_watermark, row.get("sys_created_on", ""))
                _apply_journal(case, row, origin)
            if mod > link.last_mod_count:
                outcome = "applied"
                _apply_state(link, case, record, mapping, origin)
                _apply_priority(link, case, record, origin)
        if outcome == "applied":
            link.last_mod_count = mod
            link.last_updated_on = record.get("sys_updated_on", link.last_updated_on)
            link.number = link.number or record.get("number", "")
            if not own_write:
                link.last_inbound_at = timezone.now()
        link.seen_journal = sorted(seen)
        if link.sync_state == VendorLink.SyncState.PENDING and link.sys_id:
            link.sync_state = VendorLink.SyncState.LINKED
        if (link.number, link.sync_state) == audited:
            # Only the sync's bookkeeping moved (no audited field: vendors/audit.py): one UPDATE, without the
            # audit log's re-read of the row for a diff that would be empty.
            link.updated = timezone.now()
            VendorLink.objects.filter(pk=link.pk).update(**{name: getattr(link, name) for name in _BOOKKEEPING})
        else:
            link.save()
    if not own_write:
        try:
            pull_attachments(link, vendor, attachments)
        except TransportError as exc:
            # The fields and journal are applied and committed; a file that could not be read now comes with the
            # next re-read of this record or the next reconciliation (which compares attachments).
            logger.info("Attachments of %s not read this time: %s", link, exc)
    return outcome


@dataclass(frozen=True)
class VendorFile:
    """A file from the vendor, in the shape the cases upload checks take (``name``, ``content``)."""

    name: str
    content: bytes


def pull_attachments(link: VendorLink, vendor, rows: list[dict] | None = None) -> int:
    """The vendor's attachments not yet on the case, stored as case attachments (deduplicated by the remote
    sys_id, and by content hash so Kompass's own uploads are never taken back). Returns how many were added.
    A file Kompass's checks refuse (type, size) is noted on the case once and not fetched again."""
    if not link.sys_id:
        return 0
    rows = vendor.list_attachments(link.table, link.sys_id) if rows is None else rows
    known = set(link.attachments)
    new = [row for row in rows if row.get("sys_id") and row["sys_id"] not in known]
    if not new:
        return 0
    case = link.case
    local = dict(case.attachments.values_list("sha256", "pk"))
    mapped, added = {}, 0
    origin = vendor_origin(link)
    for row in new:
        if row.get("hash") and row["hash"] in local:
            mapped[row["sys_id"]] = local[row["hash"]]  # Kompass's own file (its upload's answer was not kept)
            continue
        _meta, data = vendor.download_attachment(row["sys_id"])
        name = row.get("file_name") or "vedlegg"
        try:
            stored = cases.add_attachments(
                case, [VendorFile(name, data)], origin=origin, author_name=link.connection.name
            )
        except CaseError as exc:
            mapped[row["sys_id"]] = 0
            cases.add_note(
                case,
                f"Vedlegget {name} fra leverandøren ble ikke tatt inn: {exc.message}",
                origin=origin,
                author_name=link.connection.name,
            )
            continue
        mapped[row["sys_id"]] = stored[0].pk
        local[stored[0].sha256] = stored[0].pk
        added += 1
    with transaction.atomic():
        fresh = VendorLink.objects.select_for_update().get(pk=link.pk)
        fresh.attachments = {**fresh.attachments, **mapped}
        fresh.save(update_fields=["attachments", "updated"])
    link.attachments = fresh.attachments
    return added


def _apply_journal(case, row: dict, origin: ChangeOrigin) -> None:
    text = (row.get("value") or "").strip()
    if not text or MARKER_PREFIX in text:
        return  # Kompass's own entry coming back (or an empty one)
    author = row.get("sys_created_by", "")
    try:
        if row.get("element") == "comments":
            cases.add_reply(case, text, origin=origin, author_name=author)
        else:
            cases.add_note(case, text, origin=origin, author_name=author)
    except CaseError:
        # The case is closed: keep the vendor's words as an internal note for the agents.
        cases.add_note(case, f"Kommentar fra leverandøren etter lukking: {text}", origin=origin, author_name=author)


def _apply_state(link: VendorLink, case, record: dict, mapping: Mapping, origin: ChangeOrigin) -> None:
    key = Mapping.state_key(record)
    if link.synced.get("state") == key:
        return  # the vendor's state has not moved since the two sides last agreed
    link.synced = {**link.synced, "state": key}
    target = mapping.case_state(record)
    if target is None or (target == case.state and target != "resolved"):
        return
    try:
        _move(case, target, record, mapping, origin)
    except CaseError as exc:
        link.last_error = f"Kunne ikke følge leverandørens status {key}: {exc.message}"


def _move(case, target: str, record: dict, mapping: Mapping, origin: ChangeOrigin) -> None:
    state = case.state
    if target in ("resolved", "closed"):
        notes = (record.get("close_notes") or "").strip()
        if state == "resolved" and notes and notes not in (case.resolution or ""):
            # Reopened and resolved again at the vendor between two reads: the new resolution is news.
            cases.transition(case, "in_progress", origin=origin, reason="vendor")
            state = case.state
        if state in OPEN_CASE_STATES:
            cases.transition(case, "resolved", origin=origin, resolution=mapping.resolution_text(record))
            state = case.state
        if target == "closed" and state == "resolved":
            cases.transition(case, "closed", origin=origin, reason="vendor")
    elif target == "cancelled":
        if state in OPEN_CASE_STATES:
            cases.transition(case, "cancelled", origin=origin, reason="vendor")
    else:  # an open state
        if state == "closed":
            cases.reopen(case, origin=origin, reason="vendor")
        elif state == "resolved":
            cases.transition(case, "in_progress", origin=origin, reason="vendor")
        if case.state in OPEN_CASE_STATES and case.state != target:
            cases.transition(case, target, origin=origin, reason="vendor")


def _apply_priority(link: VendorLink, case, record: dict, origin: ChangeOrigin) -> None:
    key = Mapping.priority_key(record)
    if link.synced.get("priority") == key:
        return
    link.synced = {**link.synced, "priority": key}
    wanted = Mapping.case_priority(record)
    if wanted and case.is_open and (case.impact, case.urgency) != wanted:
        try:
            cases.change_priority(case, origin=origin, impact=wanted[0], urgency=wanted[1])
        except CaseError as exc:
            link.last_error = exc.message


# ---------------------------------------------------------------------------------------------
# Polling (the safety net under the pushes)
# ---------------------------------------------------------------------------------------------
POLL_OVERLAP = timedelta(seconds=10)
POLL_PAGE = 200


def poll(connection: VendorConnection, *, page: int = POLL_PAGE, now=None) -> int:
    """Query the records changed since the watermark (minus an overlap), in a stable order, and put the ones
    that are news in the inbox. Restarts from the new watermark after each full page instead of walking deep
    offsets; offsets are used only within one second that has more changes than a page."""
    vendor = transport(connection)
    tables = sorted(set(connection.links.values_list("table", flat=True))) or ["incident"]
    watermark = connection.poll_watermark
    if not watermark:
        first = connection.links.order_by("created").values_list("created", flat=True).first()
        start = (first or timezone.now()) - timedelta(minutes=5)
        watermark = start.astimezone(UTC).strftime(SN_FORMAT)
    queued = 0
    newest = watermark
    for table in tables:
        since, offset = _minus(watermark, POLL_OVERLAP), 0
        for _round in range(50):
            rows = vendor.fetch_changed_since(table, since, fields=RECORD_FIELDS, limit=page, offset=offset)
            queued += _queue_polled(connection, table, rows)
            if rows:
                newest = max(newest, max(row.get("sys_updated_on", "") for row in rows))
            if len(rows) < page:
                break
            last = rows[-1].get("sys_updated_on", "")
            if last == since:  # a whole page in one second: the only case for an offset
                offset += page
            else:
                since, offset = last, 0
    VendorConnection.objects.filter(pk=connection.pk).update(poll_watermark=newest, last_poll_at=now or timezone.now())
    return queued


def _queue_polled(connection: VendorConnection, table: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    applied = dict(
        VendorLink.objects.filter(connection=connection, sys_id__in=[r["sys_id"] for r in rows]).values_list(
            "sys_id", "last_mod_count"
        )
    )
    events = [
        InboxEvent(
            connection=connection,
            source=InboxEvent.Source.POLL,
            event_id=f"poll:{row['sys_id']}:{_mod(row)}",
            table=table,
            sys_id=row["sys_id"],
            mod_count=_mod(row),
            payload={"sys_id": row["sys_id"], "table": table, "record": row},
        )
        for row in rows
        if row.get("sys_id") in applied and _mod(row) > applied[row["sys_id"]]
    ]
    known = set(
        InboxEvent.objects.filter(connection=connection, event_id__in=[e.event_id for e in events]).values_list(
            "event_id", flat=True
        )
    )
    events = [event for event in events if event.event_id not in known]
    if not events:
        return 0
    InboxEvent.objects.bulk_create(events, ignore_conflicts=True)  # the overlap window's repeats are dropped
    durable.kick(InboxEvent)
    return len(events)


# ---------------------------------------------------------------------------------------------
# Reading the state (case page panel, health)
# ---------------------------------------------------------------------------------------------
def dead_letters():
    return OutboxMessage.objects.filter(Q(state=State.DEAD) | Q(refused=True)).select_related("link", "link__case")
