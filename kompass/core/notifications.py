"""Notification events, declared by the apps that send them, so core names no app's events.

An app declares its events in its ``notifications`` section (e.g. in ``apps.py ready()`` or its
``access.py``)::

    from kompass.core import notifications

    notifications.declare("cases.resolved", _("A case of mine is resolved"), channels=("email", "portal"))

A user's choices are :class:`~kompass.core.models.NotificationPreference` rows; without a row the
event's default holds. :func:`wants` is what a sender asks. An event declared ``mandatory=True`` (e.g.
"your case is resolved": the requester must hear of it) cannot be switched off: :func:`wants` ignores a
saved "off" for it, and "My settings" shows it as always on.
"""

from dataclasses import dataclass

__all__ = ["Event", "declare", "event", "events", "wants"]

CHANNELS = ("email", "portal")


@dataclass(frozen=True)
class Event:
    key: str
    label: str
    channels: tuple[str, ...] = CHANNELS
    default: bool = True
    mandatory: bool = False


_events: dict[str, Event] = {}


def declare(
    key: str, label, *, channels: tuple[str, ...] = CHANNELS, default: bool = True, mandatory: bool = False
) -> Event:
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"Unknown channel(s) {sorted(unknown)} for event {key!r}")
    declared = Event(key, label, tuple(channels), default or mandatory, mandatory)
    _events[key] = declared
    return declared


def event(key: str) -> Event | None:
    """The declared event ``key``, or ``None``."""
    return _events.get(key)


def events() -> list[Event]:
    return sorted(_events.values(), key=lambda e: e.key)


def wants(user, event_key: str, channel: str) -> bool:
    """Does ``user`` want ``event_key`` by ``channel``? Their saved choice, else the event's default."""
    event = _events.get(event_key)
    if event is None or channel not in event.channels:
        return False
    if event.mandatory:
        return True
    choice = user.notification_preferences.filter(event=event_key, channel=channel).values_list("enabled", flat=True)
    return next(iter(choice), event.default)
