"""E-mail bonding: the second transport, for vendors without an API (docs/e-bonding.md, "E-mail bonding").

It implements the same :class:`~kompass.vendors.transports.base.Transport` interface as the ServiceNow transport,
so the sync logic (``vendors/sync.py``: outbox, inbox, ordering, markers, echo suppression, reconciliation) runs
unchanged:

- **Out**: every write is a structured mail to the connection's ``service_desk_email`` — subject
  ``[Kompass KOM-2026-000123] <title>``, headers ``X-Kompass-Correlation`` and ``X-Kompass-Operation``, a body of
  ``field: value`` lines, then the comment or work note (with its ``[kompass:…]`` marker) — sent with Django's
  mail backend; a failure to hand the mail over is a retryable :class:`TransportError` (the outbox backs off).
- **The record**: a vendor with no API has no record to read, so Kompass keeps its copy (:class:`EmailRecord`):
  ``sys_id``, ``sys_mod_count``, ``sys_updated_on``, the fields, the journal and the attachments. Every read of
  the interface (fetch, fetch many, changed since, journal since, find by correlation, marker) answers from it,
  exactly in the Table API's shapes.
- **In**: the vendor answers by e-mail to Kompass's intake address. The cases e-mail intake
  (``kompass.cases.mail``) offers each message to the ``intake_message`` signal first; :func:`handle_vendor_mail`
  (connected in ``vendors/receivers.py``) claims a message from a connection's service desk address that names a
  bonded case (header or subject tag), applies its ``State:``/``Close notes:``/… lines and its text (a comment, or a
  work note after ``Work note: yes``) and its attachments to the copy, and puts an event in the vendors inbox —
  processed like a webhook push (re-read through this transport, applied by ``sync.apply_record``).
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
SUBJECT_TAG = re.compile(r"\[Kompass ([A-Z]+-\d{4}-\d{6})\]")
#: The field lines a vendor may write at the top of a reply (case-insensitive), and the field each sets.
REPLY_FIELDS = {
    "state": "state",
    "status": "state",
    "hold reason": "hold_reason",
    "close code": "close_code",
    "close notes": "close_notes",
    "resolution": "close_notes",
    "ticket": "number",
    "impact": "impact",
    "urgency": "urgency",
    "work note": "_work_note",
}
#: State and hold-reason labels a vendor may write instead of the codes (the mapping speaks codes).
STATE_LABELS = {"new": "1", "in progress": "2", "on hold": "3", "resolved": "6", "closed": "7", "canceled": "8"}
STATE_LABELS["cancelled"] = "8"
HOLD_LABELS = {"awaiting caller": "1", "awaiting change": "2", "awaiting problem": "3", "awaiting vendor": "4"}
FIELD_LINE = re.compile(r"^\s*([A-Za-z ]{2,20}):\s*(.*)$")


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
        title = row.fields.get("short_description", "")
        body = [f"Kompass-Correlation: {row.correlation_id}", f"Operation: {operation}"]
        body += [f"{name}: {value}" for name, value in lines.items() if name not in ("comments", "work_notes")]
        if text:
            body += ["", text]
        body += [
            "",
            "-- ",
            "Svar over denne linjen. Feltlinjer øverst (State:, Close notes:, Ticket:) leses av Kompass.",
        ]
        message = EmailMessage(
            subject=f"[Kompass {row.correlation_id}] {title}".strip(),
            body="\n".join(body),
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
    """``(fields, comment, is_work_note)`` of a vendor's reply: the ``Name: value`` lines at the top (known names
    only; state and hold reason by code or label), then the text."""
    fields, lines, work_note = {}, (text or "").splitlines(), False
    index = 0
    while index < len(lines):
        line = lines[index]
        match = FIELD_LINE.match(line)
        if not line.strip() and not fields:
            index += 1
            continue
        if not match or match.group(1).strip().lower() not in REPLY_FIELDS:
            break
        name, value = REPLY_FIELDS[match.group(1).strip().lower()], match.group(2).strip()
        if name == "state":
            value = STATE_LABELS.get(value.lower(), value)
        elif name == "hold_reason":
            value = HOLD_LABELS.get(value.lower(), value)
        if name == "_work_note":
            work_note = value.lower() in ("yes", "ja", "true", "1")
        else:
            fields[name] = value
        index += 1
    comment = "\n".join(lines[index:]).strip()
    return fields, comment, work_note


def handle_vendor_mail(message) -> str | None:
    """Claim a vendor's reply (``None``: not one): apply it to the copy and queue an inbox event; returns the
    case number. The sender must be the connection's service desk address; the case is found by the
    ``X-Kompass-Correlation`` header or the subject's ``[Kompass KOM-…]`` tag."""
    from kompass.vendors.models import VendorConnection

    sender = (getattr(message.sender, "address", "") or "").lower()
    if not sender:
        return None
    connection = VendorConnection.objects.filter(
        kind=VendorConnection.Kind.EMAIL, service_desk_email__iexact=sender, active=True
    ).first()
    if connection is None:
        return None
    correlation = (message.headers.get("x-kompass-correlation", "") or "").strip()
    if not correlation:
        found = SUBJECT_TAG.search(message.subject or "")
        correlation = found.group(1) if found else ""
    row = _records().objects.filter(connection=connection, correlation_id=correlation).first() if correlation else None
    if row is None:
        logger.info("E-mail bonding: %s from %s names no bonded case", message.message_id, connection.name)
        return None
    fields, comment, work_note = parse_reply(message.new_text or message.text)
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
