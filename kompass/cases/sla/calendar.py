"""Business calendars: when the contract's clock runs.

A :class:`BusinessCalendar` answers "how much business time lies between two instants" and "when
has this much business time passed". It knows weekly opening hours in local wall time, Norwegian
statutory holidays (from ``holidays.Norway``), extra closed dates and reduced-hours days.

Time handling, and why:

* Every public method takes **aware** datetimes in any time zone (Django hands out UTC) and returns
  aware **UTC** datetimes, the form the database stores. Naive datetimes are refused: guessing their
  zone is how an SLA ends up an hour off twice a year.
* Opening hours are local wall time, so each day is laid out in local time and each interval's two
  endpoints are converted to UTC with ``zoneinfo``. An interval therefore lasts its *real* elapsed
  length: ``00:00–24:00`` is 23 h on the spring-forward day and 25 h on the autumn day, and the
  24×7 calendar counts exactly the wall-clock seconds between two instants.
* An endpoint inside the spring gap (02:00–03:00 local does not exist) is read with the offset
  before the switch (PEP 495, ``fold=0``), so ``02:30`` means 03:30 CEST; an endpoint inside the
  autumn overlap (02:00–03:00 happens twice) means its first occurrence (CEST). Office hours
  (08–16) never touch either; only calendars open at night do.
* Internally instants are integer microseconds since the epoch, so adding and then measuring
  business time round-trips exactly (no float drift).
* Speed: each local year is laid out once per calendar (its open intervals, the running total of
  business time, its working days) and then searched with ``bisect``; whole years are skipped by
  their totals. A due date costs a few microseconds, whatever its length (``bench/sla_bench.py``).
  The caches fill idempotently, so one calendar can be shared between threads.

Statutory holidays: ``holidays.Norway`` lists the twelve holidays of domain.md §4 and, with
``include_sundays=True``, every Sunday. We always ask for it *without* Sundays: Sundays are closed
by the weekly hours of an office calendar anyway, and a calendar that *does* define Sunday hours
(an extended-service calendar) is then open on ordinary Sundays but still closed on holiday Sundays
such as Easter Sunday or 1. pinsedag. Two holidays on one date (17 May 2027 is Grunnlovsdag *and*
2. pinsedag) close one day, once. The 24×7 calendar ignores holidays altogether.

Reduced days (24 and 31 December, Easter Saturday, the Wednesday before Maundy Thursday) are *not*
statutory and SLA calculations use the statutory list unless bilag 5 says otherwise, so they are
never applied by default: a deployment opts in with ``reduced_day_rules=(oslo_reduced_days,)``.
Reduced hours are intersected with the weekday's normal hours, so a reduced day can shorten a day
but never open a closed one (24 December on a Saturday stays closed).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "DAY_SECONDS",
    "OSLO_OFFICE_HOURS",
    "TWENTY_FOUR_SEVEN",
    "BusinessCalendar",
    "CalendarError",
    "Hours",
    "ReducedDayRule",
    "easter_sunday",
    "every_day",
    "norwegian_holidays",
    "oslo_reduced_days",
    "parse_hours",
    "weekdays",
]

DAY_SECONDS = 86_400
#: Opening hours of one day: sorted, non-overlapping ``(start, end)`` in seconds after local
#: midnight, ``0 <= start < end <= 86400`` (86400 is 24:00).
Hours = tuple[tuple[int, int], ...]
#: A rule that yields the reduced days of one year (date -> the hours the day is capped to).
ReducedDayRule = Callable[[int], Mapping[date, Hours]]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_US_PER_S = 1_000_000
_US_PER_YEAR = 31_556_952_000_000  # the mean Gregorian year
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class CalendarError(ValueError):
    """A calendar is misconfigured, or has no business time where some was needed."""


# --------------------------------------------------------------------------------------------
# Building opening hours
# --------------------------------------------------------------------------------------------


def _normalise(spans: Iterable[tuple[int, int]]) -> Hours:
    """Sort and merge overlapping or touching spans, so every day has one canonical form."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if not 0 <= start < end <= DAY_SECONDS:
            raise CalendarError(f"opening span {start}-{end} s is not within one day")
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def parse_hours(*spans: str | tuple[time, time]) -> Hours:
    """Opening hours from ``"08:00-16:00"`` strings (``"24:00"`` allowed) or ``(time, time)`` pairs."""
    seconds: list[tuple[int, int]] = []
    for span in spans:
        if isinstance(span, str):
            match = _SPAN.match(span)
            if not match:
                raise CalendarError(f"opening hours {span!r} are not like '08:00-16:00'")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if m1 > 59 or m2 > 59 or h1 > 24 or h2 > 24:
                raise CalendarError(f"opening hours {span!r} are not valid times")
            seconds.append((h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60))
        else:
            start, end = span
            seconds.append((_time_seconds(start), _time_seconds(end) or DAY_SECONDS))
    return _normalise(seconds)


def _time_seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def weekdays(*spans: str | tuple[time, time]) -> tuple[Hours, ...]:
    """Weekly hours open Monday to Friday with ``spans``, closed at weekends."""
    day = parse_hours(*spans)
    return (day,) * 5 + ((), ())


def every_day(*spans: str | tuple[time, time]) -> tuple[Hours, ...]:
    """Weekly hours open all seven days with ``spans``."""
    return (parse_hours(*spans),) * 7


def _intersect(a: Hours, b: Hours) -> Hours:
    out = [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if max(s1, s2) < min(e1, e2)]
    return _normalise(out)


# --------------------------------------------------------------------------------------------
# Holidays and reduced days
# --------------------------------------------------------------------------------------------


@functools.cache
def norwegian_holidays(year: int) -> Mapping[date, tuple[str, ...]]:
    """Norway's statutory holidays of ``year`` (bokmål names), without ordinary Sundays.

    Cached per year: building a ``holidays.Norway`` costs milliseconds, a lookup nanoseconds. A date
    with two holidays keeps both names, sorted (17 May 2027: Andre pinsedag, Grunnlovsdag).
    """
    calendar = holidays.Norway(years=year, language="no", include_sundays=False)
    return {day: tuple(sorted(calendar.get_list(day))) for day in sorted(calendar)}


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm), for the reduced-day preset."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lh = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lh) // 451
    month, day = divmod(h + lh - 7 * m + 114, 31)
    return date(year, month, day + 1)


_UNTIL_NOON = parse_hours("00:00-12:00")


def oslo_reduced_days(year: int) -> dict[date, Hours]:
    """Opt-in preset of common half days: the service closes at 12:00 on these days.

    The Wednesday before Maundy Thursday, Easter Saturday, 24 December and 31 December (domain.md
    §4; Oslo kommune's own rules are unverified). Not statutory: pass it as a reduced-day rule only
    when bilag 5 says so.
    """
    easter = easter_sunday(year)
    days = (easter - timedelta(days=4), easter - timedelta(days=1), date(year, 12, 24), date(year, 12, 31))
    return dict.fromkeys(days, _UNTIL_NOON)


# --------------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------------


def to_microseconds(value: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} is naive: pass an aware datetime (UTC from the database is fine)")
    return (value - _EPOCH) // _US


def from_microseconds(value: int) -> datetime:
    """Integer microseconds since the epoch as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=value)


class _Year(NamedTuple):
    """One local year of a calendar, laid out for binary search (all instants in UTC microseconds)."""

    year: int
    first: int  # local midnight, 1 January
    after: int  # local midnight, 1 January of the next year
    starts: list[int]  # open intervals, in order
    ends: list[int]
    cum: list[int]  # business time in the year before each interval
    cum_end: list[int]  # ... and up to its end
    working: list[int]  # ordinals of the working days
    total: int

    def before(self, at: int) -> int:
        """Business time in this year before ``at`` (``at`` within the year)."""
        i = bisect_right(self.starts, at) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(at, self.ends[i]) - self.starts[i]


@dataclass(frozen=True)
class BusinessCalendar:
    """When a service level's clock runs. Immutable; build variants with :meth:`replace`.

    ``weekly`` holds the opening hours Monday first (seven :data:`Hours`; see :func:`weekdays`,
    :func:`every_day`); ``extra_closed`` are dates closed on top of the holidays (e.g. a bridge day
    bilag 5 grants); ``reduced_days`` (a dict ``date -> Hours`` is accepted) and ``reduced_day_rules``
    (functions ``year -> {date: Hours}`` such as :func:`oslo_reduced_days`) cap single dates' hours.
    """

    name: str
    weekly: tuple[Hours, ...]
    timezone: str = "Europe/Oslo"
    statutory_holidays: bool = True
    extra_closed: frozenset[date] = frozenset()
    reduced_days: tuple[tuple[date, Hours], ...] = ()
    reduced_day_rules: tuple[ReducedDayRule, ...] = ()
    # Per-instance caches (local day -> UTC intervals, year -> reduced days and index); not identity.
    _days: dict[int, tuple[int, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _reduced: dict[int, dict[date, Hours]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _years: dict[int, _Year] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weekly = tuple(_normalise(day) for day in self.weekly)
        if len(weekly) != 7:
            raise CalendarError(f"calendar {self.name!r} needs opening hours for 7 weekdays, got {len(weekly)}")
        if not any(weekly):
            raise CalendarError(f"calendar {self.name!r} is never open")
        reduced = self.reduced_days.items() if isinstance(self.reduced_days, Mapping) else self.reduced_days
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "extra_closed", frozenset(self.extra_closed))
        object.__setattr__(self, "reduced_days", tuple(sorted((d, _normalise(h)) for d, h in reduced)))
        object.__setattr__(self, "reduced_day_rules", tuple(self.reduced_day_rules))
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        always = all(day == ((0, DAY_SECONDS),) for day in weekly)
        plain = not (self.statutory_holidays or self.extra_closed or self.reduced_days or self.reduced_day_rules)
        # 24x7: business time is wall-clock time, no day walking needed.
        object.__setattr__(self, "_always_open", always and plain)

    def replace(self, **changes: object) -> BusinessCalendar:
        """A copy with some fields changed (fresh caches), e.g. ``cal.replace(extra_closed={...})``."""
        return dataclasses.replace(self, **changes)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone  # type: ignore[attr-defined]

    @property
    def always_open(self) -> bool:
        """True for a 24×7 calendar without closures: business time equals elapsed time."""
        return self._always_open  # type: ignore[attr-defined]

    # ---- days ------------------------------------------------------------------------------

    def hours_on(self, day: date) -> Hours:
        """The local opening hours of ``day`` after holidays, closures and reduced hours."""
        if day in self.extra_closed or (self.statutory_holidays and day in norwegian_holidays(day.year)):
            return ()
        hours = self.weekly[day.weekday()]
        cap = self._reduced_for_year(day.year).get(day)
        return hours if cap is None else _intersect(hours, cap)

    def holiday_names(self, day: date) -> tuple[str, ...]:
        """The statutory holidays on ``day`` this calendar observes (for "closed because ..." texts)."""
        return norwegian_holidays(day.year).get(day, ()) if self.statutory_holidays else ()

    def is_working_day(self, day: date) -> bool:
        """A working day (virkedag) is any day with some opening hours, reduced days included."""
        return bool(self._day(day.toordinal()))

    def _reduced_for_year(self, year: int) -> dict[date, Hours]:
        cached = self._reduced.get(year)
        if cached is None:
            cached = {}
            sources = [dict(self.reduced_days)] + [rule(year) for rule in self.reduced_day_rules]
            for source in sources:
                for day, hours in source.items():
                    if day.year == year:
                        hours = _normalise(hours)
                        cached[day] = _intersect(cached[day], hours) if day in cached else hours
            self._reduced[year] = cached
        return cached

    def _day(self, ordinal: int) -> tuple[int, ...]:
        """Flat ``(start, end, start, end, ...)`` UTC microseconds of one local day's open intervals."""
        cached = self._days.get(ordinal)
        if cached is None:
            day = date.fromordinal(ordinal)
            midnight = datetime(day.year, day.month, day.day)
            flat: list[int] = []
            for start, end in self.hours_on(day):
                lo = self._wall_to_us(midnight + timedelta(seconds=start))
                hi = self._wall_to_us(midnight + timedelta(seconds=end))
                if hi > lo:  # 02:30-03:15 on the spring day reads as 03:30-03:15 CEST: empty
                    flat += (lo, hi)
            cached = self._days[ordinal] = tuple(flat)
        return cached

    def _wall_to_us(self, wall: datetime) -> int:
        # fold=0: the gap is read with the pre-switch offset, the overlap as its first occurrence.
        return (wall.replace(tzinfo=self.zone) - _EPOCH) // _US

    # ---- the year index ------------------------------------------------------------------------
    #
    # Each local calendar year is laid out once: its open intervals in UTC microseconds, the business
    # time before each interval, and its working days. Measuring is then two binary searches and
    # adding one, whole years are skipped by their totals, and nothing walks day by day.

    def _year(self, year: int) -> _Year:
        index = self._years.get(year)
        if index is None:
            index = self._years[year] = self._build_year(year)
        return index

    def _build_year(self, year: int) -> _Year:
        starts: list[int] = []
        ends: list[int] = []
        cum: list[int] = []
        cum_end: list[int] = []
        working: list[int] = []
        total = 0
        for ordinal in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()):
            day = self._day(ordinal)
            if day:
                working.append(ordinal)
            for i in range(0, len(day), 2):
                starts.append(day[i])
                ends.append(day[i + 1])
                cum.append(total)
                total += day[i + 1] - day[i]
                cum_end.append(total)
        first = self._wall_to_us(datetime(year, 1, 1))
        return _Year(
            year, first, self._wall_to_us(datetime(year + 1, 1, 1)), starts, ends, cum, cum_end, working, total
        )

    def _year_of(self, us: int) -> _Year:
        """The index of the local year that contains instant ``us``."""
        index = self._year(1970 + us // _US_PER_YEAR)  # a guess within a day of the truth
        while us < index.first:
            index = self._year(index.year - 1)
        while us >= index.after:
            index = self._year(index.year + 1)
        return index

    def _nonempty(self, index: _Year) -> None:
        if not index.total:
            raise CalendarError(f"calendar {self.name!r} has no opening hours in all of {index.year}")

    # ---- business time, in microseconds ------------------------------------------------------

    def business_us(self, start: int, end: int) -> int:
        """Business microseconds in ``[start, end)``; 0 for an empty or reversed span."""
        if end <= start:
            return 0
        if self.always_open:
            return end - start
        first, last = self._year_of(start), self._year_of(end)
        if first.year == last.year:
            return first.before(end) - first.before(start)
        middle = sum(self._year(y).total for y in range(first.year + 1, last.year))
        return first.total - first.before(start) + middle + last.before(end)

    def add_us(self, start: int, duration: int) -> int:
        """The earliest instant at which ``duration`` business microseconds have passed since ``start``."""
        if duration < 0:
            raise ValueError("a business duration cannot be negative")
        if duration == 0:
            return start
        if self.always_open:
            return start + duration
        index = self._year_of(start)
        wanted = index.before(start) + duration  # business time since the start of that year
        while wanted > index.total:
            self._nonempty(index)
            wanted -= index.total
            index = self._year(index.year + 1)
        i = bisect_left(index.cum_end, wanted)  # the first interval that gets there
        return index.starts[i] + wanted - index.cum[i]

    def next_open_us(self, at: int) -> int:
        """``at`` if open, else the next opening instant."""
        if self.always_open:
            return at
        index = self._year_of(at)
        i = bisect_right(index.ends, at)
        while i == len(index.ends):
            index = self._year(index.year + 1)
            self._nonempty(index)
            i = 0
        return max(index.starts[i], at)

    def is_open_us(self, at: int) -> bool:
        if self.always_open:
            return True
        index = self._year_of(at)
        i = bisect_right(index.starts, at) - 1
        return i >= 0 and at < index.ends[i]

    def _nth_working_day_after(self, ordinal: int, days: int) -> int:
        """The ``days``-th working day strictly after local day ``ordinal`` (days >= 1)."""
        index = self._year(date.fromordinal(ordinal).year)
        position = bisect_right(index.working, ordinal) + days - 1
        while position >= len(index.working):
            self._nonempty(index)
            position -= len(index.working)
            index = self._year(index.year + 1)
        return index.working[position]

    # ---- public datetime API -----------------------------------------------------------------

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``, exact to the microsecond; zero if ``end <= start``."""
        return timedelta(microseconds=self.business_us(to_microseconds(start), to_microseconds(end)))

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """:meth:`business_time_between` in seconds."""
        return self.business_time_between(start, end).total_seconds()

    def add_business_time(self, start: datetime, duration: timedelta | float) -> datetime:
        """The due instant (UTC): the earliest point where ``duration`` of business time has passed.

        ``duration`` is a timedelta or seconds. A budget that runs out exactly at closing time is due
        at closing time (Friday 16:00), not at the next opening (Monday 08:00).
        """
        if not isinstance(duration, timedelta):
            duration = timedelta(seconds=duration)
        return from_microseconds(self.add_us(to_microseconds(start), duration // _US))

    def is_open(self, at: datetime) -> bool:
        """Whether the clock runs at ``at`` (intervals are half-open: closed at 16:00 sharp)."""
        return self.is_open_us(to_microseconds(at))

    def next_open(self, at: datetime) -> datetime:
        """``at`` (in UTC) if open, else the next opening instant."""
        return from_microseconds(self.next_open_us(to_microseconds(at)))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline ``days`` working days after ``start`` (for "2 virkedager" and auto-close).

        Counting starts at the next opening (a case filed Friday evening starts Monday 08:00); the
        deadline is the same local wall time on the ``days``-th following working day, clamped into
        that day's hours (a reduced 24 December closing at 12:00 caps it at 12:00). Like
        :meth:`add_business_time`, the result is the earliest instant with that much business time,
        so "one working day from Friday evening" is Monday 16:00, not Tuesday 08:00. Zero days is
        ``start`` itself.
        """
        start_us = to_microseconds(start)
        return from_microseconds(self.add_us(start_us, self.working_days_us(start_us, days)))

    def working_days_us(self, start: int, days: int) -> int:
        """The business microseconds that ``days`` working days from ``start`` amount to."""
        if days < 0:
            raise ValueError("a number of working days cannot be negative")
        if days == 0:
            return 0
        origin = self.next_open_us(start)
        local = datetime.fromtimestamp(origin // _US_PER_S, self.zone).replace(tzinfo=None)
        time_of_day = local - datetime(local.year, local.month, local.day) + timedelta(microseconds=origin % _US_PER_S)
        ordinal = self._nth_working_day_after(local.toordinal(), days)
        target = date.fromordinal(ordinal)
        wall = datetime(target.year, target.month, target.day) + time_of_day
        deadline = _clamp(self._wall_to_us(wall), self._day(ordinal))
        return self.business_us(start, deadline)


def _clamp(instant: int, day: tuple[int, ...]) -> int:
    """Move ``instant`` into the day's open intervals: before opening to the opening, after or between
    intervals to the previous closing."""
    if instant <= day[0]:
        return day[0]
    for i in range(0, len(day), 2):
        if instant < day[i]:
            return day[i - 1]
        if instant <= day[i + 1]:
            return instant
    return day[-1]


#: Ordinary business hours of domain.md §4: 08:00–16:00 Monday to Friday, Europe/Oslo, statutory
#: holidays closed, no reduced days.
OSLO_OFFICE_HOURS = BusinessCalendar(name="oslo-office-hours", weekly=weekdays("08:00-16:00"))

#: Around the clock, holidays included (P1/P2): business time is real elapsed time, across DST too.
TWENTY_FOUR_SEVEN = BusinessCalendar(name="24x7", weekly=every_day("00:00-24:00"), statutory_holidays=False)
