"""SLA profiles: which response and resolution targets apply to a priority, on which calendar.

The numbers in :data:`DEFAULT_PROFILE` are **illustrative** (domain.md §3, the published Danish
national platform's levels, which sit inside every range of that table). The signed contract's
bilag 5 holds the real ones; a deployment builds its own :class:`SlaProfile` per service from
configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from .calendar import OSLO_OFFICE_HOURS, TWENTY_FOUR_SEVEN, BusinessCalendar, to_microseconds

__all__ = [
    "DEFAULT_MATRIX",
    "DEFAULT_PROFILE",
    "PRIORITIES",
    "ClockKind",
    "SlaProfile",
    "SlaTarget",
    "TargetDuration",
    "priority_for",
]

#: Kompass's priorities: 1 Kritisk, 2 Høy, 3 Normal, 4 Lav.
PRIORITIES = (1, 2, 3, 4)
_US = timedelta(microseconds=1)


class ClockKind(StrEnum):
    """Which of a case's two clocks: time to first response, or time to resolution."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class TargetDuration:
    """A target length: either business time (``4 h``) or a number of working days (``2 virkedager``).

    The two differ on reduced days: a working day is a working day even when it closes at 12:00,
    whereas four business hours are four hours of opening time wherever they fall.
    """

    business: timedelta | None = None
    working_days: int | None = None

    def __post_init__(self) -> None:
        if (self.business is None) == (self.working_days is None):
            raise ValueError("a target is either a business duration or a number of working days, exactly one")
        if (self.business is not None and self.business < timedelta(0)) or (self.working_days or 0) < 0:
            raise ValueError("a target cannot be negative")

    @classmethod
    def minutes(cls, minutes: float) -> TargetDuration:
        return cls(business=timedelta(minutes=minutes))

    @classmethod
    def hours(cls, hours: float) -> TargetDuration:
        return cls(business=timedelta(hours=hours))

    @classmethod
    def days(cls, working_days: int) -> TargetDuration:
        return cls(working_days=working_days)

    def resolve(self, calendar: BusinessCalendar, start: datetime) -> timedelta:
        """The business-time budget this target gives a clock that started at ``start``.

        Working days depend on where they start (holidays and reduced days in between), which is why
        a clock resolves its target from the case's start, also after a priority change.
        """
        if self.business is not None:
            return self.business
        return timedelta(microseconds=calendar.working_days_us(to_microseconds(start), self.working_days or 0))

    def describe(self) -> str:
        """Short English label, e.g. ``15 min``, ``4 h``, ``2 working days``."""
        if self.working_days is not None:
            return f"{self.working_days} working day{'' if self.working_days == 1 else 's'}"
        minutes = self.business // timedelta(minutes=1) if self.business is not None else 0
        return f"{minutes // 60} h" if minutes % 60 == 0 and minutes else f"{minutes} min"

    def to_dict(self) -> dict[str, int]:
        if self.working_days is not None:
            return {"working_days": self.working_days}
        return {"business_seconds": int((self.business or timedelta(0)).total_seconds())}

    @classmethod
    def from_dict(cls, data: Mapping[str, int]) -> TargetDuration:
        if "working_days" in data:
            return cls(working_days=int(data["working_days"]))
        return cls(business=timedelta(seconds=int(data["business_seconds"])))


@dataclass(frozen=True)
class SlaTarget:
    """The response and resolution targets of one priority, and the calendar both run on."""

    response: TargetDuration
    resolution: TargetDuration
    calendar: BusinessCalendar

    def duration(self, kind: ClockKind | str) -> TargetDuration:
        return self.response if ClockKind(kind) is ClockKind.RESPONSE else self.resolution


@dataclass(frozen=True)
class SlaProfile:
    """Targets per priority for one service (or one contract), plus when to warn.

    ``targets`` maps priority 1–4 to :class:`SlaTarget` (a dict is accepted and frozen);
    ``warning_share`` is the share of the target at which a clock raises its warning flag.
    """

    name: str
    targets: Mapping[int, SlaTarget]
    warning_share: float = 0.75

    def __post_init__(self) -> None:
        missing = [p for p in PRIORITIES if p not in self.targets]
        if missing:
            raise ValueError(
                f"SLA profile {self.name!r} has no target for priorit{'y' if len(missing) == 1 else 'ies'} {missing}"
            )
        if not 0 <= self.warning_share <= 1:
            raise ValueError("warning_share is a share of the target, between 0 and 1")
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.targets.items())), self.warning_share))

    def target(self, priority: int) -> SlaTarget:
        """The targets of ``priority``; a clear ``ValueError`` for a priority the profile lacks."""
        try:
            return self.targets[priority]
        except (KeyError, TypeError):
            raise ValueError(f"SLA profile {self.name!r} has no priority {priority!r}") from None


#: Illustrative levels (domain.md §3): P1 15 min / 2 h and P2 1 h / 4 h around the clock,
#: P3 4 business hours / 2 working days and P4 1 / 10 working days in office hours.
DEFAULT_PROFILE = SlaProfile(
    name="default",
    targets={
        1: SlaTarget(TargetDuration.minutes(15), TargetDuration.hours(2), TWENTY_FOUR_SEVEN),
        2: SlaTarget(TargetDuration.hours(1), TargetDuration.hours(4), TWENTY_FOUR_SEVEN),
        3: SlaTarget(TargetDuration.hours(4), TargetDuration.days(2), OSLO_OFFICE_HOURS),
        4: SlaTarget(TargetDuration.days(1), TargetDuration.days(10), OSLO_OFFICE_HOURS),
    },
)

#: (impact, urgency) -> priority, 1 = high. ServiceNow's default lookup (the simulator's
#: ``PRIORITY_MATRIX``) with its priority 5 "Planning" folded into 4, since Kompass has four.
DEFAULT_MATRIX: Mapping[tuple[int, int], int] = MappingProxyType(
    {
        (1, 1): 1,
        (1, 2): 2,
        (1, 3): 3,
        (2, 1): 2,
        (2, 2): 3,
        (2, 3): 4,
        (3, 1): 3,
        (3, 2): 4,
        (3, 3): 4,
    }
)


def priority_for(impact: int, urgency: int, matrix: Mapping[tuple[int, int], int] = DEFAULT_MATRIX) -> int:
    """The priority of an impact (1–3) and urgency (1–3), looked up in ``matrix``.

    Store impact, urgency and the result separately (domain.md §3): the matrix is configuration and
    may change, the priority a case was given may not silently change with it.
    """
    try:
        priority = matrix[(int(impact), int(urgency))]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"impact {impact!r} and urgency {urgency!r} are not in the priority matrix") from None
    if priority not in PRIORITIES:
        raise ValueError(f"the priority matrix maps ({impact}, {urgency}) to {priority!r}, not one of {PRIORITIES}")
    return priority
