"""The one door from cases to the notifications app (``kompass.notifications.services``).

Services call :func:`send` inside their transaction, so the delivery ledger row commits with the change (and a
rolled-back change sends nothing); the worker delivers it later, never the request. Until the notifications
app is installed, :func:`send` is a no-op that returns ``False``; tests patch :data:`backend` to see the calls.
Never pass internal note text in ``context``: the templates render every context value.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings

__all__ = ["REPLYABLE_EVENTS", "deliveries_for", "record_bounce", "send"]

#: The requester's notifications: a reply to one of them becomes a public reply on the case (e-mail intake).
REPLYABLE_EVENTS = frozenset({"cases.received", "cases.replied", "cases.needs_info", "cases.resolved", "cases.closed"})


def _backend():
    if not apps.is_installed("kompass.notifications"):
        return None
    from kompass.notifications import services  # the notifications app's public API

    return services


#: Replaced in tests; ``None`` until the notifications app is installed.
backend = _backend


def reply_headers(case, person) -> dict:
    from kompass.cases.mail import reply_headers as headers_for

    return headers_for(case, person)


def send(
    event: str,
    *,
    case,
    recipients,
    key: str,
    context: dict | None = None,
    headers: dict | None = None,
    fresh_key: bool = False,
) -> bool:
    """Queue ``event`` about ``case`` for ``recipients`` (users; duplicates and ``None`` dropped). ``fresh_key``:
    ``key`` names a row made in this very transaction (see ``notifications.services.send``)."""
    people = []
    for person in recipients:
        if person is not None and person.is_active and person not in people:
            people.append(person)
    services = backend()
    if services is None or not people:
        return False
    if event in REPLYABLE_EVENTS:
        # Each requester-side recipient gets their own signed reply address (kompass.cases.mail), so the
        # ledger is written one recipient at a time; the key stays the same (it is unique per recipient).
        for person in people:
            extra = {**(headers or {}), **reply_headers(case, person)}
            _send(services, event, case, [person], key, context, extra, fresh_key)
    else:
        _send(services, event, case, people, key, context, headers or {}, fresh_key)
    return True


def _send(services, event, case, people, key, context, headers, fresh_key=False) -> None:
    services.send(
        event=event,
        recipients=people,
        template=f"cases/notifications/{event.removeprefix('cases.')}",
        context={
            "case_id": case.pk,
            "case_number": case.number,
            "case_title": case.title,
            "case_url": case.get_absolute_url(),
            "url": case.get_absolute_url(),  # the portal notification's link (no read of the case to find it)
            "site_url": settings.KOMPASS_CASES_SITE_URL.rstrip("/"),
            **(context or {}),
        },
        key=key,
        obj=case,
        agency=case.agency,
        headers=headers,
        **({"fresh_key": True} if fresh_key else {}),
    )


def deliveries_for(case) -> list:
    """The ledger rows about ``case`` (for "requester informed <time> by e-mail"); empty without the app."""
    services = backend()
    return list(services.deliveries_for(case)) if services is not None else []


def record_bounce(raw: bytes) -> int:
    """Hand a bounce (the whole message) to the ledger, which marks the e-mail rows it reports; their count."""
    services = backend()
    return len(services.record_bounce(raw)) if services is not None else 0
