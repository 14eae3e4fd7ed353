"""The SLA engine: business calendars, SLA profiles and clocks, with no Django in it.

Pure Python on purpose: the rules that decide whether the vendor met the contract must be testable
by the thousand (property tests, a benchmark) and readable without a database. The cases app keeps
the events and the computed fields; this package computes.

How the cases app uses it::

    from kompass.cases.sla import Clock, ClockKind, DEFAULT_PROFILE, priority_for

    priority = priority_for(case.impact, case.urgency)               # store all three
    clock = Clock(ClockKind.RESOLUTION, DEFAULT_PROFILE).start(case.created, priority)
    clock = clock.pause(when_waiting_for_requester)                    # state "venter på innmelder"
    clock = clock.resume(when_requester_answered)
    clock = clock.priority_change(changed_at, 1)                       # recomputed from the start
    status = clock.status(now)                                         # due_at, warning, breached, ...
    case.sla_resolution = clock.to_dict()                              # JSONField: the events
    case.resolution_due, case.resolution_breached = status.due_at, status.breached
    clock = Clock.from_dict(case.sla_resolution, profile_for(case.service))
    clock = clock.stop(case.resolved_at)                               # verdict: status.state met/breached

* Persist the events (``Clock.to_dict()``) and recompute; store the :class:`ClockStatus` fields you
  filter or report on (``due_at``, ``warning``, ``breached``, ``breached_at``, ``state``) and refresh
  them on every event and at ``status.next_change_at`` (a scheduled job), when flags flip on their own.
* One clock per kind: a response clock is usually only started and stopped; the resolution clock is
  paused while waiting for the requester. Illegal sequences raise :class:`ClockError` (a ``ValueError``)
  and change nothing, so a view can turn them into a 400.
* One :class:`SlaProfile` per service (or contract), built from configuration. The clock stores the
  profile's *name*; pass ``from_dict`` a mapping of profiles by name. When bilag 5 changes, add the
  new levels under a new name and keep the old profile in that mapping, so open cases keep the
  targets they were opened under unless the cases app moves them on purpose.
* All datetimes in must be aware (any zone); all datetimes out are UTC.
* Calendars: :data:`OSLO_OFFICE_HOURS` (08–16 Mon–Fri, statutory holidays), :data:`TWENTY_FOUR_SEVEN`;
  variants with ``calendar.replace(extra_closed=..., reduced_day_rules=(oslo_reduced_days,))``.
  Auto-close after N working days: ``OSLO_OFFICE_HOURS.add_working_days(resolved_at, n)``.
"""

from .calendar import (
    OSLO_OFFICE_HOURS,
    TWENTY_FOUR_SEVEN,
    BusinessCalendar,
    CalendarError,
    Hours,
    easter_sunday,
    every_day,
    norwegian_holidays,
    oslo_reduced_days,
    parse_hours,
    weekdays,
)
from .clock import Clock, ClockError, ClockEvent, ClockState, ClockStatus, EventType
from .profiles import (
    DEFAULT_MATRIX,
    DEFAULT_PROFILE,
    PRIORITIES,
    ClockKind,
    SlaProfile,
    SlaTarget,
    TargetDuration,
    priority_for,
)

__all__ = [
    "DEFAULT_MATRIX",
    "DEFAULT_PROFILE",
    "OSLO_OFFICE_HOURS",
    "PRIORITIES",
    "TWENTY_FOUR_SEVEN",
    "BusinessCalendar",
    "CalendarError",
    "Clock",
    "ClockError",
    "ClockEvent",
    "ClockKind",
    "ClockState",
    "ClockStatus",
    "EventType",
    "Hours",
    "SlaProfile",
    "SlaTarget",
    "TargetDuration",
    "easter_sunday",
    "every_day",
    "norwegian_holidays",
    "oslo_reduced_days",
    "parse_hours",
    "priority_for",
    "weekdays",
]
