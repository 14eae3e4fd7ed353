"""E-mail bonding: the second transport, for vendors without an API (docs/e-bonding.md, "E-mail bonding").

It implements the same :class:`~kompass.vendors.transports.base.Transport` interface as the ServiceNow transport,
so the sync logic (``vendors/sync.py``: outbox, inbox, ordering, markers, echo suppression, reconciliation) runs
unchanged:

- **Out**: every write is a structured mail to the connection's ``service_desk_email`` in the format of
  docs/e-bonding.md ("The mail format"): subject ``[KOMPASS-REF:KOM-2026-000123] [VENDOR-REF:VND-42] <title>``,
  headers ``X-Kompass-Correlation`` and ``X-Kompass-Operation``, a plain-text body that starts with a block of
  ``Key: value`` lines (:func:`compose_body`), then the description, comment or work note (with its
  ``[kompass:…]`` marker) — sent with Django's mail backend; a failure to hand the mail over is a retryable
  :class:`TransportError` (the outbox backs off).
- **The record**: a vendor with no API has no record to read, so Kompass keeps its copy (:class:`EmailRecord`):
  ``sys_id``, ``sys_mod_count``, ``sys_updated_on``, the fields, the journal and the attachments. Every read of
  the interface (fetch, fetch many, changed since, journal since, find by correlation, marker) answers from it,
  exactly in the Table API's shapes.
- **In**: the vendor answers by e-mail to Kompass's intake address. The cases e-mail intake
  (``kompass.cases.mail``) offers each message to the ``intake_message`` signal first; :func:`handle_vendor_mail`
  (connected in ``vendors/receivers.py``) claims a message from a connection's service desk address that names a
  bonded case (:func:`correlation_of`: header or subject tag), applies the block at the top of its *new* text
  (:func:`parse_reply`: ``State:``/``Resolution:``/… — never the quoted original), the rest of that text (a
  comment, or a work note after ``Work note: yes``) and its attachments to the copy, and puts an event in the
  vendors inbox — processed like a webhook push (re-read through this transport, applied by ``sync.apply_record``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from kompass.vendors.transports.servicenow import CheckResult, TransportError

logger = logging.getLogger(__name__)

SN_FORMAT = "%Y-%m-%d %H:%M:%S"

# The mail format (docs/e-bonding.md, "The mail format"): the composer and the parser below follow it exactly.
#: Subject tags: Kompass's reference (the correlation id) always, the vendor's number once known.
KOMPASS_TAG = re.compile(r"\[KOMPASS-REF:\s*([A-Za-z0-9][A-Za-z0-9._/-]{0,99})\]", re.IGNORECASE)
VENDOR_TAG = re.compile(r"\[VENDOR-REF:\s*([A-Za-z0-9][A-Za-z0-9._/-]{0,39})\]", re.IGNORECASE)
LEGACY_TAG = re.compile(r"\[Kompass ([A-Z]+-\d{4}-\d{6})\]")  # mails sent before the convention
#: The block's keys as Kompass writes them, and the record field each stands for (in this order).
BLOCK_KEYS = {
    "Kompass-Ref": "correlation_id",
    "Vendor-Ref": "number",
    "Operation": "_operation",
    "Title": "short_description",
    "State": "state",
    "Hold reason": "hold_reason",
    "Impact": "impact",
    "Urgency": "urgency",
    "Priority": "priority",
    "Close code": "close_code",
    "Resolution": "close_notes",
}
#: The keys a vendor's reply may set (case-insensitive; aliases included) and the field each sets.
REPLY_FIELDS = {
    "vendor-ref": "number",
    "ticket": "number",
    "state": "state",
    "status": "state",
    "hold reason": "hold_reason",
    "impact": "impact",
    "urgency": "urgency",
    "priority": "priority",
    "close code": "close_code",
    "resolution": "close_notes",
    "close notes": "close_notes",
    "work note": "_work_note",
}
#: Keys a reply may carry that set nothing (Kompass's own, e.g. copied from the mail being answered).
REPLY_IGNORED = {"kompass-ref", "operation", "title"}
#: State and hold-reason labels (the mapping speaks codes): Kompass writes the label, a vendor may write either.
STATES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
HOLD_REASONS = {"1": "Awaiting Caller", "2": "Awaiting Change", "3": "Awaiting Problem", "4": "Awaiting Vendor"}
STATE_LABELS = {label.lower(): code for code, label in STATES.items()} | {"cancelled": "8"}
HOLD_LABELS = {label.lower(): code for code, label in HOLD_REASONS.items()}
FIELD_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z -]{0,19}):[ \t]*(.*)$")
#: Fields that are never block lines: the text after the block, or journal entries.
NOT_IN_BLOCK = {"description", "comments", "work_notes"}
FOOTER = "Svar over denne linjen. Nøkkellinjer øverst i svaret (State:, Resolution:, Vendor-Ref: …) leses av Kompass."


def subject_for(correlation: str, number: str, title: str) -> str:
    """``[KOMPASS-REF:<correlation>] [VENDOR-REF:<number>] <title>`` (the vendor tag once the number is known)."""
    tags = f"[KOMPASS-REF:{correlation}]" + (f" [VENDOR-REF:{number}]" if number else "")
    return " ".join(f"{tags} {title}".split())


def compose_body(correlation: str, number: str, operation: str, fields: dict, text: str = "") -> str:
    """The plain-text body: the block of ``Key: value`` lines, a blank line, the text, the footer."""
    values = {"correlation_id": correlation, "number": number, "_operation": operation, **fields}
    lines = []
    for key, field in BLOCK_KEYS.items():
        value = values.get(field)
        if field == "state":
            value = STATES.get(str(value), value) if value not in (None, "") else value
        elif field == "hold_reason":
            value = HOLD_REASONS.get(str(value), value)
        if value not in (None, "") or (field == "hold_reason" and field in fields):
            lines.append(f"{key}: {_one_line(value)}")
    known = set(BLOCK_KEYS.values()) | NOT_IN_BLOCK
    lines += [f"{name}: {_one_line(value)}" for name, value in fields.items() if name not in known]
    if text:
        lines += ["", text]
    return "\n".join([*lines, "", "-- ", FOOTER])


def _one_line(value) -> str:
    return " ".join(str(value).split())


def _now() -> str:
    return datetime.now(UTC).strftime(SN_FORMAT)


def _records():
    from kompass.vendors.models import EmailRecord  # the app's own model (transports load before the models)

    return EmailRecord


def as_record(row) -> dict:
    """The copy in the Table API's shape: flat string values."""
    values = {"state": "1", "hold_reason": "", "number": "", **row.fields}
    values.update(
        sys_id=row.sys_id,
        correlation_id=row.correlation_id,
        sys_mod_count=str(row.mod_count),
        sys_updated_on=row.updated_on,
        sys_updated_by=values.get("sys_updated_by", "kompass"),
    )
    return {k: "" if v is None else str(v) for k, v in values.items()}


class EmailTransport:
    def __init__(self, connection):
        self.connection = connection

    # -- mail out ---------------------------------------------------------------------------
    def _mail(self, row, operation: str, lines: dict, text: str = "", attachment=None) -> None:
        if not self.connection.service_desk_email:
            raise TransportError("The e-mail connection has no vendor address.", retryable=False)
        number = row.fields.get("number", "")
        message = EmailMessage(
            subject=subject_for(row.correlation_id, number, row.fields.get("short_description", "")),
            body=compose_body(row.correlation_id, number, operation, lines, text),
            from_email=settings.KOMPASS_INTAKE_ADDRESS,
            to=[self.connection.service_desk_email],
            headers={"X-Kompass-Correlation": row.correlation_id, "X-Kompass-Operation": operation},
        )
        if attachment is not None:
            message.attach(*attachment)
        try:
            message.send(fail_silently=False)
        except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
            raise TransportError(f"The mail to the vendor could not be handed over: {exc}", retryable=True) from exc

    @staticmethod
    def _touch(row, user: str = "kompass") -> None:
        row.mod_count += 1
        row.updated_on = _now()
        row.fields = {**row.fields, "sys_updated_by": user}

    # -- the Transport interface: writes ----------------------------------------------------
    def create(self, table: str, fields: dict) -> dict:
        correlation = fields.get("correlation_id", "")
        with transaction.atomic():
            row, _made = (
                _records()
                .objects.select_for_update()
                .get_or_create(
                    connection=self.connection,
                    correlation_id=correlation,
                    defaults={"sys_id": uuid.uuid4().hex, "fields": dict(fields), "updated_on": _now()},
                )
            )
        if not row.create_sent:
            self._mail(row, "create", fields, fields.get("description", ""))
            _records().objects.filter(pk=row.pk).update(create_sent=True)
            row.create_sent = True
        return as_record(row)

    def _row(self, sys_id: str):
        row = _records().objects.filter(connection=self.connection, sys_id=sys_id).first()
        if row is None:
            raise TransportError("No such e-mail bonded record.", status=404)
        return row

    def update(self, table: str, sys_id: str, fields: dict) -> dict:
        row = self._row(sys_id)
        self._mail(row, "update", fields)
        with transaction.atomic():
            row = _records().objects.select_for_update().get(pk=row.pk)
            row.fields = {**row.fields, **{k: v for k, v in fields.items() if k not in ("comments", "work_notes")}}
            self._touch(row)
            row.save()
        return as_record(row)

    def add_journal(self, table: str, sys_id: str, element: str, text: str) -> dict:
        if element not in ("comments", "work_notes"):
            raise ValueError("Not a journal field")
        row = self._row(sys_id)
        self._mail(row, element, {}, text)
        with transaction.atomic():
            row = _records().objects.select_for_update().get(pk=row.pk)
            row.journal = [*row.journal, _journal_row(sys_id, element, text, "kompass")]
            self._touch(row)
            row.save()
        return as_record(row)

    def add_attachment(self, table: str, sys_id: str, file_name: str, content_type: str, data: bytes) -> dict:
        row = self._row(sys_id)
        self._mail(row, "attachment", {"file": file_name}, attachment=(file_name, data, content_type))
        meta = _attachment_meta(sys_id, file_name, content_type, data)
        with transaction.atomic():
            row = _records().objects.select_for_update().get(pk=row.pk)
            row.attachments = [*row.attachments, meta]
            row.save(update_fields=["attachments"])
        return dict(meta)

    # -- the Transport interface: reads (from the copy) -------------------------------------
    def fetch(self, table: str, sys_id: str, fields: list[str] | None = None) -> dict | None:
        row = _records().objects.filter(connection=self.connection, sys_id=sys_id).first()
        return as_record(row) if row else None

    def fetch_many(self, table: str, sys_ids: list[str], fields: list[str] | None = None) -> list[dict]:
        rows = _records().objects.filter(connection=self.connection, sys_id__in=list(sys_ids)).order_by("sys_id")
        return [as_record(row) for row in rows]

    def fetch_changed_since(
        self, table: str, since: str, *, fields: list[str] | None = None, limit: int = 200, offset: int = 0
    ) -> list[dict]:
        rows = (
            _records()
            .objects.filter(connection=self.connection, updated_on__gte=since or "1970-01-01 00:00:00")
            .exclude(correlation_id="")
            .order_by("updated_on", "sys_id")
        )
        return [as_record(row) for row in rows[offset : offset + limit]]

    def fetch_journal_since(self, table: str, sys_id: str, since: str = "", *, limit: int = 500) -> list[dict]:
        row = _records().objects.filter(connection=self.connection, sys_id=sys_id).first()
        entries = [dict(e) for e in (row.journal if row else []) if e.get("sys_created_on", "") >= (since or "")]
        return sorted(entries, key=lambda e: (e["sys_created_on"], e["sys_id"]))[:limit]

    def fetch_journal_many(self, table: str, sys_ids: list[str], since: str = "") -> list[dict]:
        rows = _records().objects.filter(connection=self.connection, sys_id__in=list(sys_ids))
        entries = [
            {**e, "element_id": e.get("element_id") or row.sys_id}
            for row in rows
            for e in row.journal
            if e.get("sys_created_on", "") >= (since or "")
        ]
        return sorted(entries, key=lambda e: (e["sys_created_on"], e["sys_id"]))

    def list_attachments_many(self, table: str, sys_ids: list[str]) -> list[dict]:
        rows = _records().objects.filter(connection=self.connection, sys_id__in=list(sys_ids))
        return [
            {**{k: v for k, v in meta.items() if k != "data"}, "table_sys_id": row.sys_id}
            for row in rows
            for meta in row.attachments
        ]

    def find_by_correlation(self, table: str, correlation_id: str, fields: list[str] | None = None) -> list[dict]:
        rows = _records().objects.filter(connection=self.connection, correlation_id=correlation_id, create_sent=True)
        return [as_record(row) for row in rows]

    def journal_has_marker(self, table: str, sys_id: str, marker: str) -> bool:
        return any(marker in entry.get("value", "") for entry in self.fetch_journal_since(table, sys_id))

    def list_attachments(self, table: str, sys_id: str) -> list[dict]:
        row = _records().objects.filter(connection=self.connection, sys_id=sys_id).first()
        return [{k: v for k, v in meta.items() if k != "data"} for meta in (row.attachments if row else [])]

    def download_attachment(self, attachment_sys_id: str) -> tuple[dict, bytes]:
        for row in _records().objects.filter(connection=self.connection):
            for meta in row.attachments:
                if meta.get("sys_id") == attachment_sys_id:
                    return {k: v for k, v in meta.items() if k != "data"}, base64.b64decode(meta.get("data", ""))
        raise TransportError("No such attachment.", status=404)

    def check(self) -> CheckResult:
        address = self.connection.service_desk_email
        return CheckResult(bool(address), f"Mail goes to {address}" if address else "No vendor address set", 0.0)

    def close(self) -> None:
        pass


def _journal_row(sys_id: str, element: str, text: str, user: str) -> dict:
    return {
        "sys_id": uuid.uuid4().hex,
        "element": element,
        "element_id": sys_id,
        "value": text,
        "sys_created_on": _now(),
        "sys_created_by": user,
    }


def _attachment_meta(sys_id: str, file_name: str, content_type: str, data: bytes, *, keep: bool = False) -> dict:
    meta = {
        "sys_id": uuid.uuid4().hex,
        "file_name": file_name,
        "content_type": content_type or "application/octet-stream",
        "size_bytes": str(len(data)),
        "hash": hashlib.sha256(data).hexdigest(),
        "table_sys_id": sys_id,
    }
    if keep:
        meta["data"] = base64.b64encode(data).decode("ascii")
    return meta


# ---------------------------------------------------------------------------------------------
# In: the vendor's reply, offered by the cases e-mail intake (``kompass.cases.signals.intake_message``)
# ---------------------------------------------------------------------------------------------
def parse_reply(text: str) -> tuple[dict, str, bool]:
    """``(fields, comment, is_work_note)`` of a vendor's reply — give it the reply's *new* text (the quoted
    original removed): the block is the run of ``Key: value`` lines at the top (blank lines before it skipped)
    and ends at the first other line; only the keys of :data:`REPLY_FIELDS` set a field (state and hold reason
    by code or label), those of :data:`REPLY_IGNORED` are skipped; the rest is the comment."""
    fields, lines, work_note = {}, (text or "").splitlines(), False
    index, in_block = 0, False
    while index < len(lines):
        line = lines[index]
        if not line.strip() and not in_block:
            index += 1
            continue
        match = FIELD_LINE.match(line)
        key = match.group(1).strip().lower() if match else ""
        if key not in REPLY_FIELDS and key not in REPLY_IGNORED:
            break
        in_block, value = True, match.group(2).strip()
        name = REPLY_FIELDS.get(key)
        if name == "state":
            value = STATE_LABELS.get(value.lower(), value)
        elif name == "hold_reason":
            value = HOLD_LABELS.get(value.lower(), value)
        if name == "_work_note":
            work_note = value.lower() in ("yes", "ja", "true", "1")
        elif name:
            fields[name] = value
        index += 1
    comment = "\n".join(lines[index:]).strip()
    return fields, comment, work_note


def correlation_of(message, connection) -> str:
    """Which bonded case a vendor's mail answers: the ``X-Kompass-Correlation`` header, else the subject's
    ``[KOMPASS-REF:…]`` tag (or the older ``[Kompass …]``), else its ``[VENDOR-REF:…]`` tag naming a known
    vendor number. Never the quoted text. ``""``: none."""
    header = (message.headers.get("x-kompass-correlation", "") or "").strip()
    if header:
        return header
    subject = message.subject or ""
    found = KOMPASS_TAG.search(subject) or LEGACY_TAG.search(subject)
    if found:
        return found.group(1)
    found = VENDOR_TAG.search(subject)
    if found:
        row = _records().objects.filter(connection=connection, fields__number=found.group(1)).first()
        return row.correlation_id if row else ""
    return ""


def handle_vendor_mail(message) -> str | None:
    """Claim a vendor's reply (``None``: not one): apply it to the copy and queue an inbox event; returns the
    case number. The sender must be the connection's service desk address; the case is found by
    :func:`correlation_of`."""
    from kompass.vendors.models import VendorConnection

    sender = (getattr(message.sender, "address", "") or "").lower()
    if not sender:
        return None
    connection = VendorConnection.objects.filter(
        kind=VendorConnection.Kind.EMAIL, service_desk_email__iexact=sender, active=True
    ).first()
    if connection is None:
        return None
    correlation = correlation_of(message, connection)
    row = _records().objects.filter(connection=connection, correlation_id=correlation).first() if correlation else None
    if row is None:
        logger.info("E-mail bonding: %s from %s names no bonded case", message.message_id, connection.name)
        return None
    # The new text only (the intake removed the quote, attribution and signature; a forward keeps its text): the
    # quoted original carries Kompass's own block, which must never be applied again.
    fields, comment, work_note = parse_reply(message.new_text)
    event_id = f"mail:{message.message_id}"[:100]
    with transaction.atomic():
        row = _records().objects.select_for_update().get(pk=row.pk)
        if connection.inbox.filter(event_id=event_id).exists():
            return correlation  # this mail was applied already (delivered twice)
        row.fields = {**row.fields, **fields}
        if comment:
            element = "work_notes" if work_note else "comments"
            row.journal = [*row.journal, _journal_row(row.sys_id, element, comment, sender)]
        row.attachments = [
            *row.attachments,
            *(
                _attachment_meta(row.sys_id, a.filename or "vedlegg", a.content_type, a.content, keep=True)
                for a in message.attachments
            ),
        ]
        EmailTransport._touch(row, sender)
        row.save()
        from kompass.vendors import sync  # the inbox (imported here: sync imports the transports)

        sync.record_event(
            connection,
            {"sys_id": row.sys_id, "sys_mod_count": row.mod_count, "table": "incident"},
            source="webhook",
            event_id=event_id,
        )
    return correlation
