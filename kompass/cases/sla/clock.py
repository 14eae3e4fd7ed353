"""SLA clocks: a case's response or resolution clock, computed from its list of events.

A :class:`Clock` is an immutable value: the events so far plus the profile that gives them meaning.
Each event method (:meth:`Clock.start`, :meth:`~Clock.pause`, :meth:`~Clock.resume`,
:meth:`~Clock.stop`, :meth:`~Clock.priority_change`) checks the event is legal and returns a new
clock; :meth:`Clock.status` computes everything else at a given ``now``. Nothing is stored but the
events, so a changed rule or a corrected event recomputes cleanly, and the cases app persists only
``Clock.to_dict()`` plus the :class:`ClockStatus` fields it wants to query.

Rules, and why:

* **Elapsed** time is business time on the current target's calendar over the running spans, i.e.
  from the start, minus paused spans (waiting for the requester), up to ``now`` or the stop.
* **Priority changes** recompute from the case's start with the new target: the whole history is
  measured on the new priority's calendar against its target (working days resolved from the start),
  paused spans still excluded. A raise can therefore be overdue at once; its ``breached_at`` is the
  change, never earlier. A downgrade can clear a breach: the events keep the priority history, and
  the case's audit trail shows who changed it.
* **Due** is the earliest running instant at which elapsed reaches the target. The clock is
  **breached** once it has run past due (wall clock, as in ServiceNow): a case still open on Saturday
  with Friday 16:00 as due is breached although no business time passed since. ``breached_at`` is
  stored for reporting.
* While **paused**, ``due_at`` is ``None`` (it depends on when the requester answers);
  ``projected_due_at`` says when it would fall due if resumed now.
* **States**: ``running`` and ``paused`` are open clocks (check ``breached`` for open breaches);
  ``met`` and ``breached`` are the verdicts of a stopped clock; ``stopped`` is a clock stopped without
  a verdict (``stop(at, cancelled=True)``: a withdrawn or duplicate case), which reports leave out.
* Events come in time order (equal times are fine), the first is ``start``, and nothing follows
  ``stop``: a reopened case gets a new clock, decided by the cases app. Anything else is a
  :class:`ClockError` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .calendar import BusinessCalendar, from_microseconds, to_microseconds
from .profiles import ClockKind, SlaProfile

__all__ = ["Clock", "ClockError", "ClockEvent", "ClockState", "ClockStatus", "EventType"]

_US = timedelta(microseconds=1)


class ClockError(ValueError):
    """An illegal event sequence or unreadable clock data; the clock is unchanged."""


class EventType(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    PRIORITY_CHANGE = "priority_change"


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ClockEvent:
    """One thing that happened to a clock. ``priority`` only on start and priority changes."""

    type: EventType
    at: datetime
    priority: int | None = None
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type.value, "at": self.at.isoformat()}
        if self.priority is not None:
            data["priority"] = self.priority
        if self.cancelled:
            data["cancelled"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClockEvent:
        try:
            kind = EventType(data["type"])
            at = datetime.fromisoformat(data["at"]) if isinstance(data["at"], str) else data["at"]
            priority = data.get("priority")
            return cls(kind, at, None if priority is None else int(priority), bool(data.get("cancelled", False)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ClockError(f"unreadable clock event {dict(data)!r}: {exc}") from None


@dataclass(frozen=True)
class ClockStatus:
    """Everything a clock says at ``as_of``. Datetimes are UTC; durations are business time."""

    as_of: datetime
    state: ClockState
    priority: int
    started_at: datetime
    stopped_at: datetime | None
    paused_since: datetime | None
    target: timedelta
    elapsed: timedelta
    #: Target minus elapsed; negative once business time past due has run.
    remaining: timedelta
    due_at: datetime | None
    projected_due_at: datetime | None
    warning: bool
    warning_at: datetime | None
    breached: bool
    breached_at: datetime | None

    @property
    def next_change_at(self) -> datetime | None:
        """When the warning or breach flag will next flip if nothing happens (for a scheduler)."""
        if self.state is not ClockState.RUNNING:
            return None
        upcoming = [t for t in (self.warning_at, self.due_at) if t is not None and t > self.as_of]
        return min(upcoming, default=None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly fields (ISO datetimes, seconds) to store beside the case."""
        data: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, timedelta):
                value = value.total_seconds()
            elif isinstance(value, ClockState):
                value = value.value
            data[name] = value
        return data


@dataclass(frozen=True)
class Clock:
    """The response or resolution clock of one case. Build with ``Clock(kind, profile).start(...)``."""

    kind: ClockKind
    profile: SlaProfile
    events: tuple[ClockEvent, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ClockKind(self.kind))

    # ---- events ------------------------------------------------------------------------------

    def start(self, at: datetime, priority: int) -> Clock:
        return self.apply(ClockEvent(EventType.START, at, priority))

    def pause(self, at: datetime) -> Clock:
        """Waiting for the requester: business time stops counting."""
        return self.apply(ClockEvent(EventType.PAUSE, at))

    def resume(self, at: datetime) -> Clock:
        return self.apply(ClockEvent(EventType.RESUME, at))

    def stop(self, at: datetime, *, cancelled: bool = False) -> Clock:
        """Responded or resolved; ``cancelled=True`` for a case that ends without a verdict."""
        return self.apply(ClockEvent(EventType.STOP, at, cancelled=cancelled))

    def priority_change(self, at: datetime, new_priority: int) -> Clock:
        """Recompute from the start against ``new_priority``'s target (see the module docstring)."""
        return self.apply(ClockEvent(EventType.PRIORITY_CHANGE, at, new_priority))

    def apply(self, event: ClockEvent) -> Clock:
        """This clock with ``event`` appended, or :class:`ClockError` if it is not legal now."""
        self._check(event)
        at = _utc(event.at)
        return Clock(
            self.kind, self.profile, (*self.events, ClockEvent(event.type, at, event.priority, event.cancelled))
        )

    def _check(self, event: ClockEvent) -> None:
        try:
            at = to_microseconds(event.at)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ClockError(f"{event.type} needs an aware datetime: {exc}") from None
        started, paused, stopped = self._phase()
        if event.type is EventType.START:
            if started:
                raise ClockError("the clock has already started")
        elif not started:
            raise ClockError(f"{event.type} before the clock has started")
        if stopped:
            raise ClockError(f"{event.type} after the clock has stopped")
        if self.events and at < to_microseconds(self.events[-1].at):
            raise ClockError(
                f"{event.type} at {event.at.isoformat()} is out of time order: "
                f"the previous event was at {self.events[-1].at.isoformat()}"
            )
        if event.type is EventType.PAUSE and paused:
            raise ClockError("pause while already paused")
        if event.type is EventType.RESUME and not paused:
            raise ClockError("resume while running")
        if event.type in (EventType.START, EventType.PRIORITY_CHANGE):
            try:
                self.profile.target(event.priority)  # type: ignore[arg-type]
            except ValueError as exc:
                raise ClockError(str(exc)) from None
        elif event.priority is not None:
            raise ClockError(f"{event.type} takes no priority")

    def _phase(self) -> tuple[bool, bool, bool]:
        """(started, paused, stopped) after all events."""
        paused = False
        for event in self.events:
            if event.type is EventType.PAUSE:
                paused = True
            elif event.type is EventType.RESUME:
                paused = False
        stopped = bool(self.events) and self.events[-1].type is EventType.STOP
        return bool(self.events), paused, stopped

    @classmethod
    def from_events(cls, kind: ClockKind | str, profile: SlaProfile, events: Iterable[ClockEvent]) -> Clock:
        """Replay ``events`` through the same checks as the event methods."""
        clock = cls(ClockKind(kind), profile)
        for event in events:
            clock = clock.apply(event)
        return clock

    # ---- persistence ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "profile", "events": [...]}``: plain JSON for a JSONField."""
        return {"kind": self.kind.value, "profile": self.profile.name, "events": [e.to_dict() for e in self.events]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], profile: SlaProfile | Mapping[str, SlaProfile]) -> Clock:
        """Rebuild a clock; ``profile`` is the profile itself or a mapping of profiles by name."""
        try:
            if not isinstance(profile, SlaProfile):
                profile = profile[data["profile"]]
            kind, events = data["kind"], data["events"]
            return cls.from_events(kind, profile, (ClockEvent.from_dict(e) for e in events))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ClockError):
                raise
            raise ClockError(f"unreadable clock data: {exc!r}") from None

    # ---- computing -------------------------------------------------------------------------------

    def status(self, now: datetime) -> ClockStatus:
        """The clock as of ``now`` (events after ``now`` are ignored, so past states can be replayed)."""
        now_us = _us(now)
        events = [e for e in self.events if to_microseconds(e.at) <= now_us]
        if not events:
            raise ClockError("the clock has not started by then" if self.events else "the clock has not started")
        start = events[0]
        setter = [e for e in events if e.priority is not None][-1]
        target = self.profile.target(setter.priority)  # type: ignore[arg-type]
        calendar = target.calendar
        budget = target.duration(self.kind).resolve(calendar, start.at) // _US
        warn_budget = round(budget * self.profile.warning_share)
        spans, paused_since, stop = _running_spans(events)
        end_us = to_microseconds(stop.at) if stop else now_us
        elapsed = sum(calendar.business_us(a, end_us if b is None else b) for a, b in spans)
        due = _crossing(calendar, spans, budget, strict=True)
        warn = _crossing(calendar, spans, warn_budget, strict=False)
        changed_us = to_microseconds(setter.at)
        breached = due is not None and due < end_us
        if stop is not None:
            state = ClockState.STOPPED if stop.cancelled else ClockState.BREACHED if breached else ClockState.MET
        else:
            state = ClockState.PAUSED if paused_since else ClockState.RUNNING
        projected = None
        if state is ClockState.PAUSED:
            due_at = None
            projected = calendar.add_us(now_us, max(budget - elapsed, 0))
        elif stop is not None and not breached:
            due_at = calendar.add_us(end_us, max(budget - elapsed, 0))  # where it was due when it stopped
        else:
            due_at = due
            projected = due if state is ClockState.RUNNING else None
        return ClockStatus(
            as_of=from_microseconds(now_us),
            state=state,
            priority=setter.priority,  # type: ignore[arg-type]
            started_at=start.at,
            stopped_at=stop.at if stop else None,
            paused_since=paused_since,
            target=timedelta(microseconds=budget),
            elapsed=timedelta(microseconds=elapsed),
            remaining=timedelta(microseconds=budget - elapsed),
            due_at=_dt(due_at),
            projected_due_at=_dt(projected),
            warning=warn is not None and warn <= end_us,
            warning_at=_dt(None if warn is None else max(warn, changed_us)),
            breached=breached,
            breached_at=_dt(max(due, changed_us)) if breached and due is not None else None,
        )


def _running_spans(events: list[ClockEvent]) -> tuple[list[tuple[int, int | None]], datetime | None, ClockEvent | None]:
    """The running spans ``[a, b)`` (``b`` None: still running), when a pause began, and the stop."""
    spans: list[tuple[int, int | None]] = []
    open_at: int | None = None
    paused_since: datetime | None = None
    stop: ClockEvent | None = None
    for event in events:
        at = to_microseconds(event.at)
        if event.type in (EventType.START, EventType.RESUME):
            open_at, paused_since = at, None
        elif event.type in (EventType.PAUSE, EventType.STOP):
            if open_at is not None:
                spans.append((open_at, at))
                open_at = None
            if event.type is EventType.PAUSE:
                paused_since = event.at
            else:
                stop, paused_since = event, None
    if open_at is not None:
        spans.append((open_at, None))
    return spans, paused_since, stop


def _crossing(
    calendar: BusinessCalendar, spans: list[tuple[int, int | None]], budget: int, *, strict: bool
) -> int | None:
    """The first running instant at which elapsed reaches ``budget``, or None if no span gets there.

    ``strict``: a span that ends exactly when the budget runs out does not count (the clock did not
    run *past* it), so a pause at the due instant defers the breach to the resume.
    """
    used = 0
    for a, b in spans:
        at = calendar.add_us(a, budget - used) if budget > used else a
        if b is None or at < b or (not strict and at == b):
            return at
        used += calendar.business_us(a, b)
    return None


def _us(value: datetime) -> int:
    try:
        return to_microseconds(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ClockError(f"now needs an aware datetime: {exc}") from None


def _utc(value: datetime) -> datetime:
    return from_microseconds(to_microseconds(value))


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_microseconds(value)
