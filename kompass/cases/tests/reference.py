"""A deliberately naive reference for the property tests: walk local days, convert each opening
interval with zoneinfo, add up. Shares only ``hours_on`` (the day's local hours) with the engine,
not its year index, binary searches or microsecond caches."""

from datetime import UTC, datetime, timedelta

from kompass.cases.sla import BusinessCalendar


def open_intervals(cal: BusinessCalendar, start: datetime, end: datetime):
    """Real (UTC) open intervals of every local day touching ``[start, end]``, in order."""
    day = start.astimezone(cal.zone).date() - timedelta(days=1)
    while day <= end.astimezone(cal.zone).date():
        midnight = datetime(day.year, day.month, day.day)
        for lo, hi in cal.hours_on(day):
            a = (midnight + timedelta(seconds=lo)).replace(tzinfo=cal.zone).astimezone(UTC)
            b = (midnight + timedelta(seconds=hi)).replace(tzinfo=cal.zone).astimezone(UTC)
            if b > a:
                yield a, b
        day += timedelta(days=1)


def between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    for a, b in open_intervals(cal, start, end):
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += hi - lo
    return total


def add(cal: BusinessCalendar, start: datetime, duration: timedelta, horizon_days: int = 800) -> datetime:
    if not duration:
        return start.astimezone(UTC)
    for a, b in open_intervals(cal, start, start + timedelta(days=horizon_days)):
        lo = max(a, start)
        if b <= lo:
            continue
        if duration <= b - lo:
            return lo + duration
        duration -= b - lo
    raise AssertionError("horizon too short")
