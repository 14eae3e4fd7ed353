"""Sending notifications: the one way any app tells a person something.

::

    from kompass.notifications import services as notifications

    notifications.send(
        event="cases.resolved",                   # declared with kompass.core.notifications.declare
        recipients=[case.requester],
        template="cases/notifications/resolved",  # .subject.txt, .txt and .html
        context={"number": case.number, "url": case.get_absolute_url()},  # JSON-serialisable
        key=f"case:{case.pk}:resolved:{change.pk}",  # the same key again never sends again
        obj=case,
    )
    notifications.deliveries_for(case)             # the ledger rows, newest first

``send`` only writes ledger rows, inside the caller's transaction; the worker (queue ``notifications``)
delivers them after the commit. See ``docs/notifications.md`` for the guarantees.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Min, Q, Value
from django.db.models.functions import Coalesce
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from kompass.core import durable
from kompass.core import notifications as events
from kompass.core.models import NotificationPreference
from kompass.notifications.models import Channel, Delivery, Notification

logger = logging.getLogger(__name__)

__all__ = [
    "DeliveryFailed",
    "DeliveryLost",
    "NotificationError",
    "deliver",
    "deliveries_for",
    "delivered_keys",
    "health",
    "mark_all_read",
    "mark_read",
    "record_bounce",
    "retry",
    "send",
    "unread_count",
]

#: Headers a caller may not set: they are the ledger's own (or would redirect the message).
RESERVED_HEADERS = frozenset(
    {"message-id", "x-kompass-delivery", "auto-submitted", "to", "from", "cc", "bcc", "subject", "sender"}
)


class NotificationError(ValueError):
    """A programming error in a call to :func:`send` (unknown event, channel, bad context or header)."""


class DeliveryFailed(RuntimeError):
    """The channel refused or failed the message (the text names the original error, not the address)."""


class DeliveryLost(RuntimeError):
    """Our claim on the row was taken over before we fixed its Message-ID: the new holder sends it."""


# ---------------------------------------------------------------------------------------------
# Sending (in the caller's transaction)
# ---------------------------------------------------------------------------------------------
def send(
    *,
    event: str,
    recipients,
    template: str,
    key: str,
    context: dict | None = None,
    obj=None,
    headers: dict | None = None,
    channels=None,
    agency=None,
    fresh_key: bool = False,
) -> list[Delivery]:
    """Write one ledger row per recipient × channel the recipient wants, and deliver them after the commit.

    ``channels=None`` means every channel the event was declared with. A recipient who switched a channel
    off (and the event is not mandatory) gets no row for it; inactive users get none. A row that already
    exists for ``key`` × recipient × channel is returned as it is, not duplicated, not re-sent.
    ``agency`` defaults to ``obj.agency`` when the object has one (it scopes the ledger row).
    Returns the rows, new and existing, in recipient × channel order.

    ``fresh_key=True``: the caller made ``key`` from a row it has just inserted in this transaction (a new case's
    change row), so no ledger row can hold it yet; the rows are then inserted without the savepoint that lets a
    duplicate fall back to the existing row (two round trips less per creation). A duplicate would fail the
    transaction instead of being returned.
    """
    declared = events.event(event)
    if declared is None:
        raise NotificationError(f"Unknown notification event {event!r}: declare it first.")
    wanted = tuple(declared.channels if channels is None else channels)
    unknown = set(wanted) - set(declared.channels)
    if unknown:
        raise NotificationError(f"Event {event!r} has no channel(s) {sorted(unknown)}.")
    if not key or len(key) > 200:
        raise NotificationError("The idempotency key must be 1 to 200 characters.")
    context = _json_roundtrip(context or {}, "context")
    headers = _clean_headers(headers or {})
    content_type, object_id = (None, "")
    if obj is not None:
        content_type, object_id = ContentType.objects.get_for_model(obj), str(obj.pk)
        if agency is None and getattr(obj, "agency_id", None):
            agency = obj.agency
    people = [recipient for recipient in recipients if recipient.is_active]
    choices = _choices(declared, people, wanted)
    planned = []
    for recipient in people:
        for channel in wanted:
            if not choices.get((recipient.pk, channel), declared.default):
                continue
            fields = {
                "event": event,
                "address": recipient.email if channel == Channel.EMAIL else "",
                "content_type": content_type,
                "object_id": object_id,
                "agency": agency,
                "template": template,
                "context": context,
                "headers": headers,
                "language": recipient.language or settings.LANGUAGE_CODE,
            }
            planned.append(({"key": key, "recipient": recipient, "channel": channel}, fields))
    rows = _rows_once(planned, fresh=fresh_key)
    if any(created for _, created in rows):
        durable.kick(Delivery)  # on commit: a rolled-back transaction leaves no row and sends nothing
    return [row for row, _ in rows]


def _choices(declared, people, channels) -> dict[tuple[int, str], bool]:
    """The saved choices of ``people`` for the event by ``channels``, in one query (none for a mandatory event:
    it cannot be switched off). A missing pair means the event's default."""
    if declared.mandatory or not people:
        return {}
    saved = NotificationPreference.objects.filter(
        user__in=[p.pk for p in people], event=declared.key, channel__in=list(channels)
    ).values_list("user_id", "channel", "enabled")
    return {(user_id, channel): enabled for user_id, channel, enabled in saved}


def _rows_once(planned: list[tuple[dict, dict]], *, fresh: bool = False) -> list[tuple[Delivery, bool]]:
    """The ledger rows of ``planned`` (lookup, fields): one bulk insert when none exists yet (the usual case),
    else row by row (:func:`_row_once` returns an existing row, and decides a race by the unique key).
    ``fresh``: no row can exist yet (see :func:`send`), so the insert needs no savepoint to fall back from."""
    if not planned:
        return []
    if fresh:
        return [(row, True) for row in Delivery.objects.bulk_create([Delivery(**lk, **f) for lk, f in planned])]
    try:
        with transaction.atomic():
            made = Delivery.objects.bulk_create([Delivery(**lookup, **fields) for lookup, fields in planned])
        return [(row, True) for row in made]
    except IntegrityError:
        return [_row_once(**lookup, fields=fields) for lookup, fields in planned]


def _row_once(key: str, recipient, channel: str, fields: dict) -> tuple[Delivery, bool]:
    """The ledger row of ``key`` × recipient × channel: the existing one, or a new one.

    The unique constraint decides under concurrency: the loser's insert fails inside a savepoint (on
    PostgreSQL it waits for the winner's commit first) and it returns the winner's row instead.
    """
    lookup = {"key": key, "recipient": recipient, "channel": channel}
    existing = Delivery.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Delivery.objects.create(**lookup, **fields), True
    except IntegrityError:
        return Delivery.objects.get(**lookup), False


def _json_roundtrip(value: dict, name: str) -> dict:
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise NotificationError(f"The {name} must be JSON-serialisable: {exc}") from exc


def _clean_headers(headers: dict) -> dict:
    clean = {}
    for name, value in headers.items():
        name, value = str(name), str(value)
        if name.lower() in RESERVED_HEADERS:
            raise NotificationError(f"The header {name!r} is set by the ledger, not by the caller.")
        if any(c in name + value for c in "\r\n") or ":" in name or not name:
            raise NotificationError(f"Invalid e-mail header {name!r}.")
        clean[name] = value
    return clean


# ---------------------------------------------------------------------------------------------
# Reading the ledger
# ---------------------------------------------------------------------------------------------
def deliveries_for(obj):
    """The ledger rows about ``obj``, newest first (the caller has already decided who may see ``obj``)."""
    content_type = ContentType.objects.get_for_model(obj)
    return (
        Delivery.objects.filter(content_type=content_type, object_id=str(obj.pk))
        .select_related("recipient")
        .order_by("-created", "-pk")
    )


def delivered_keys(keys) -> set[str]:
    """The idempotency keys among ``keys`` that have a ledger row sent (or done) to somebody: "was anyone told
    about this?" for many events at once, in one query per 500 keys."""
    keys = list(dict.fromkeys(keys))
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(
            Delivery.objects.filter(key__in=keys[start : start + 500])
            .filter(Q(sent_at__isnull=False) | Q(state=Delivery.State.DONE))
            .values_list("key", flat=True)
            .distinct()
        )
    return found


def health(*, now=None) -> dict:
    """The ledger's state for an integration-health page.

    ``backlog``: rows not yet delivered (pending or claimed); ``oldest_pending_age``: seconds the oldest of
    them has waited (``None`` without a backlog); ``failures_last_hour``: rows whose last attempt failed
    within the hour and that are not delivered yet; ``dead``: rows that used up their attempts.
    """
    now = now or timezone.now()
    waiting = Delivery.objects.filter(state__in=[Delivery.State.PENDING, Delivery.State.CLAIMED])
    oldest = waiting.aggregate(oldest=Min("created"))["oldest"]
    failing = Delivery.objects.filter(
        ~Q(last_error=""),
        state__in=[Delivery.State.PENDING, Delivery.State.DEAD],
        updated__gte=now - timedelta(hours=1),
    )
    return {
        "backlog": waiting.count(),
        "oldest_pending_age": (now - oldest).total_seconds() if oldest else None,
        "failures_last_hour": failing.count(),
        "dead": Delivery.objects.filter(state=Delivery.State.DEAD).count(),
    }


def retry(deliveries) -> int:
    """Give dead rows a new set of attempts and deliver them soon; returns how many were revived."""
    pks = [row.pk for row in deliveries]
    revived = durable.retry(Delivery, pks)
    if revived:
        durable.kick(Delivery)
    return revived


# ---------------------------------------------------------------------------------------------
# In-app notifications
# ---------------------------------------------------------------------------------------------
def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(notification: Notification, *, user) -> Notification:
    """Mark one of ``user``'s notifications read (already read: unchanged)."""
    if notification.recipient_id != user.pk:
        raise PermissionError("Only the recipient marks a notification read.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# Delivering (the worker; see durable.py)
# ---------------------------------------------------------------------------------------------
def deliver(delivery: Delivery) -> None:
    """Deliver one claimed ledger row by its channel; raise to fail the attempt.

    Runs at least once per row (a killed worker's row is taken over), so it is idempotent: a row whose
    ``sent_at`` is set is not sent again; see :func:`_deliver_email` for the one window that remains.
    """
    if delivery.sent_at is not None:
        return  # sent by an earlier attempt that died before it could complete the row
    recipient = delivery.recipient
    context = {**delivery.context, "recipient": recipient, "delivery": delivery, "event": delivery.event}
    with translation.override(delivery.language):
        subject = " ".join(_render(f"{delivery.template}.subject.txt", context, autoescape=False).split())
        text = _render(f"{delivery.template}.txt", context, autoescape=False)
        html = _render(f"{delivery.template}.html", context) if delivery.channel == Channel.EMAIL else ""
    if delivery.channel == Channel.EMAIL:
        _deliver_email(delivery, subject[:300], text, html)
    elif delivery.channel == Channel.PORTAL:
        _deliver_portal(delivery, subject[:300], text)
    else:
        raise NotificationError(f"Unknown channel {delivery.channel!r}")


def _render(name: str, context: dict, *, autoescape: bool = True) -> str:
    """Render a notification template; the plain-text parts without HTML escaping ("&" stays "&")."""
    template = get_template(name)
    if autoescape:
        return template.render(context)
    return template.template.render(Context(context, autoescape=False))


def _message_id(delivery: Delivery) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or None
    return make_msgid(idstring=f"kompass.delivery.{delivery.pk}", domain=domain)


def _deliver_email(delivery: Delivery, subject: str, text: str, html: str) -> None:
    """Send the e-mail, with a Message-ID fixed for the row before the first attempt.

    SMTP has no exactly-once: if the worker dies after the server accepted the message but before
    ``sent_at`` is written (one UPDATE, milliseconds), the next attempt sends it again, with the *same*
    Message-ID, so the recipient's mail system (and the ledger) can tell it is the same message.
    """
    if not delivery.message_id:
        message_id = _message_id(delivery)
        # Fenced: only while our claim holds. Stored before sending, so every attempt uses the same ID.
        if not delivery._mine().filter(message_id="").update(message_id=message_id, subject=subject):
            delivery.refresh_from_db(fields=["message_id"])
            if not delivery.message_id:
                raise DeliveryLost(f"Delivery {delivery.pk}: the claim was lost before sending")
        else:
            delivery.message_id = message_id
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={
            **delivery.headers,
            "Message-ID": delivery.message_id,
            "X-Kompass-Delivery": str(delivery.pk),
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        # Mail errors often quote the address (SMTPRecipientsRefused): keep it out of logs and the ledger's
        # error text; the row itself says who the recipient is.
        text = str(exc).replace(delivery.address, "<recipient>") if delivery.address else str(exc)
        raise DeliveryFailed(f"{type(exc).__name__}: {text}") from None
    _mark_sent(delivery, subject)


def _deliver_portal(delivery: Delivery, subject: str, text: str) -> None:
    """The in-app notification and ``sent_at`` in one transaction. A row whose ``sent_at`` was not set when it was
    claimed has no notification yet, unless an earlier holder of the row (its lease expired) commits one meanwhile:
    then the one-to-one key refuses ours, and the row is marked sent (a no-op) instead of getting a second one. One
    insert, without the read and the savepoint of a get-or-create."""
    url = _url_of(delivery)
    state, token = delivery.state, delivery.claim_token
    try:
        with transaction.atomic():
            Notification.objects.create(
                delivery=delivery,
                recipient=delivery.recipient,
                event=delivery.event,
                subject=subject,
                body=text.strip(),
                url=url,
            )
            _mark_sent(delivery, subject)
    except IntegrityError:
        delivery.state, delivery.claim_token = state, token  # rolled back: the row is still claimed by us
        if not Notification.objects.filter(delivery=delivery).exists():
            raise  # another constraint: a real failure of this attempt
        _mark_sent(delivery, subject)
    except BaseException:
        delivery.state, delivery.claim_token = state, token  # rolled back (the commit failed): ours to fail
        raise


def _url_of(delivery: Delivery) -> str:
    url = delivery.context.get("url")
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
        return url[:500]
    obj = delivery.obj if delivery.content_type_id else None
    getter = getattr(obj, "get_absolute_url", None)
    return getter()[:500] if getter else ""


def _mark_sent(delivery: Delivery, subject: str) -> None:
    """Record that the channel accepted the message: ``sent_at`` and the subject written with the row's completion
    (one UPDATE, fenced on our claim; the worker then counts the row done). If our claim was taken over meanwhile,
    ``sent_at`` is written anyway, unfenced: once the channel accepted the message, that is a fact worth recording
    even if our lease ran out (it keeps the next holder from sending again); the row is then the new holder's to
    complete (the worker counts ours lost)."""
    now = timezone.now()
    # An earlier holder's sent_at (it sent too, after our claim) stays the row's: the first acceptance is the fact.
    first = Coalesce(F("sent_at"), Value(now), output_field=DateTimeField())
    if delivery.claim_token and durable.complete(delivery, now=now, sent_at=first, subject=subject):
        delivery.sent_at = now
        return
    Delivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).update(sent_at=now, subject=subject, updated=now)
    delivery.sent_at, delivery.subject = now, subject


# ---------------------------------------------------------------------------------------------
# Bounces: a delivery status notification marks the ledger row of the e-mail that bounced
# ---------------------------------------------------------------------------------------------
_DELIVERY_ID = re.compile(r"<?kompass\.delivery\.(\d+)\b")


def _bounce_facts(raw: bytes) -> tuple[set[str], set[int], str]:
    """The Message-IDs and ``X-Kompass-Delivery`` numbers of the returned message, and the failure's status
    and diagnostic, from a DSN (RFC 3464: ``multipart/report`` with ``message/delivery-status`` and the
    original's headers) or a bounce that merely quotes the original headers."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    ids, deliveries, reason = set(), set(), ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload() or []:
                status = block.get("Status", "") if hasattr(block, "get") else ""
                diagnostic = block.get("Diagnostic-Code", "") if hasattr(block, "get") else ""
                if status or diagnostic:
                    reason = " ".join(f"{status} {diagnostic}".split())[:300]
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is None:
                inner = email.message_from_string(part.get_payload(decode=True).decode("utf-8", "replace"))
            if inner.get("Message-ID"):
                ids.add(inner["Message-ID"].strip())
            if (inner.get("X-Kompass-Delivery") or "").strip().isdigit():
                deliveries.add(int(inner["X-Kompass-Delivery"].strip()))
    for match in _DELIVERY_ID.finditer(raw.decode("utf-8", "replace")):
        deliveries.add(int(match.group(1)))
    return ids, deliveries, reason


def record_bounce(raw: bytes, *, now=None) -> list[Delivery]:
    """Mark the ledger rows of the e-mails a bounce (``raw``, the whole message) reports as undeliverable:
    ``bounced_at`` and ``bounce_reason``. Only e-mail rows that were sent are marked, and each once (a second
    copy of the bounce changes nothing). Returns the rows marked now; a bounce about no row of ours marks none."""
    ids, deliveries, reason = _bounce_facts(raw)
    if not ids and not deliveries:
        return []
    rows = list(
        Delivery.objects.filter(Q(message_id__in=ids) | Q(pk__in=deliveries) if ids else Q(pk__in=deliveries))
        .filter(channel=Channel.EMAIL, bounced_at__isnull=True)
        .exclude(message_id="")
    )
    # The row's whole Message-ID (random) must be quoted in the bounce: a guessed row number alone marks nothing.
    text = raw.decode("utf-8", "replace")
    rows = [row for row in rows if row.message_id in ids or row.message_id in text]
    when = now or timezone.now()
    marked = []
    for row in rows:
        if Delivery.objects.filter(pk=row.pk, bounced_at__isnull=True).update(
            bounced_at=when, bounce_reason=reason or "bounced"
        ):
            row.bounced_at, row.bounce_reason = when, reason or "bounced"
            marked.append(row)
    if marked:
        logger.info("Bounce recorded for deliveries %s", [row.pk for row in marked])
    return marked
