"""Property tests (hypothesis) of the SLA engine over 2026–2028, DST nights and holidays included.

Instants are drawn either to the microsecond or on quarter hours, so both arbitrary moments and the
exact opening, closing and DST boundaries are hit often.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kompass.cases.sla import (
    DEFAULT_PROFILE,
    OSLO_OFFICE_HOURS,
    TWENTY_FOUR_SEVEN,
    BusinessCalendar,
    Clock,
    ClockKind,
    ClockState,
    every_day,
    norwegian_holidays,
    oslo_reduced_days,
    weekdays,
)
from kompass.cases.tests import reference

LOW = datetime(2026, 1, 1, tzinfo=UTC)
HIGH = datetime(2028, 12, 31, tzinfo=UTC)
SPAN_US = int((HIGH - LOW) / timedelta(microseconds=1))
QUARTER_US = 15 * 60 * 1_000_000
# The DST nights of 2026–2028 (Sundays), where the interesting instants cluster.
DST_DAYS = [
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2028, 3, 26),
    date(2028, 10, 29),
]

CALENDARS = [
    OSLO_OFFICE_HOURS,
    TWENTY_FOUR_SEVEN,
    OSLO_OFFICE_HOURS.replace(name="reduced", reduced_day_rules=(oslo_reduced_days,)),
    BusinessCalendar(name="extended", weekly=every_day("07:00-22:00")),
    BusinessCalendar(name="lunch", weekly=weekdays("08:00-11:30", "12:00-16:00")),
    BusinessCalendar(name="night", weekly=every_day("01:00-04:00"), statutory_holidays=False),
    BusinessCalendar(
        name="24x7-walked", weekly=every_day("00:00-24:00"), statutory_holidays=False, extra_closed={date(2026, 6, 1)}
    ),
]
calendars = st.sampled_from(CALENDARS)


@st.composite
def instants(draw) -> datetime:
    kind = draw(st.sampled_from(["any", "quarter", "dst"]))
    if kind == "dst":
        day = draw(st.sampled_from(DST_DAYS))
        base = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
        return base + timedelta(minutes=15 * draw(st.integers(0, 4 * 72)))
    offset = draw(st.integers(0, SPAN_US))
    if kind == "quarter":
        offset -= offset % QUARTER_US
    return LOW + timedelta(microseconds=offset)


def spans(max_days: float = 40):
    """Pairs (a, b), a <= b, at most ``max_days`` apart."""
    return st.tuples(instants(), st.integers(0, int(max_days * 86_400_000_000))).map(
        lambda p: (p[0], min(p[0] + timedelta(microseconds=p[1]), HIGH + timedelta(days=40)))
    )


durations = st.one_of(
    st.integers(0, 300 * 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(0, 300 * 3600 * 1_000_000).map(lambda us: timedelta(microseconds=us)),
)
working_days = st.integers(0, 15)
dates = st.dates(date(2026, 1, 1), date(2028, 12, 31))


@given(calendars, spans())
def test_elapsed_equals_the_sum_over_open_intervals(cal, span):
    assert cal.business_time_between(*span) == reference.between(cal, *span)


@given(calendars, instants(), durations)
def test_due_date_equals_walking_the_open_intervals(cal, start, duration):
    assert cal.add_business_time(start, duration) == reference.add(cal, start, duration)


@given(calendars, instants(), instants(), instants())
def test_elapsed_is_monotone_and_additive(cal, x, y, z):
    a, b, c = sorted((x, y, z))
    ab, bc, ac = (cal.business_time_between(*p) for p in ((a, b), (b, c), (a, c)))
    assert timedelta(0) <= ab <= ac
    assert ab + bc == ac
    assert ac <= c - a


@settings(max_examples=60)
@given(calendars, instants(), st.integers(0, 3 * 24 * 4))
def test_elapsed_is_the_sum_of_open_minutes(cal, start, quarters):
    # Minute-aligned spans: elapsed equals the count of minutes at which the calendar is open.
    a = start.replace(second=0, microsecond=0)
    b = a + timedelta(minutes=15 * quarters)
    minutes = int((b - a).total_seconds()) // 60
    open_minutes = sum(cal.is_open(a + timedelta(minutes=m)) for m in range(minutes))
    assert cal.business_time_between(a, b) == timedelta(minutes=open_minutes)


@given(dates)
def test_holidays_are_never_counted(day):
    # Checked against holidays.Norway directly, not through the calendar's own cache.
    midnight = datetime(day.year, day.month, day.day, tzinfo=OSLO_OFFICE_HOURS.zone)
    whole_day = OSLO_OFFICE_HOURS.business_time_between(midnight, midnight + timedelta(days=1))
    expected_closed = day in norwegian_holidays(day.year) or day.weekday() >= 5
    assert (whole_day == timedelta(0)) is expected_closed
    if not expected_closed:
        assert whole_day == timedelta(hours=8)


@given(calendars, spans(), dates)
def test_closing_a_date_only_removes_that_dates_time(cal, span, day):
    closed = cal.replace(extra_closed=cal.extra_closed | {day})
    before, after = cal.business_time_between(*span), closed.business_time_between(*span)
    assert after <= before
    zone = cal.zone
    d0 = datetime(day.year, day.month, day.day, tzinfo=zone)
    d1 = d0 + timedelta(days=1)
    d1 = datetime(d1.year, d1.month, d1.day, tzinfo=zone)  # local midnight, whatever the DST day
    lo, hi = max(span[0], d0), min(span[1], d1)
    assert before - after == cal.business_time_between(lo, hi)


@given(calendars, instants(), durations, dates)
def test_adding_a_holiday_never_makes_a_due_time_earlier(cal, start, duration, day):
    closed = cal.replace(extra_closed=cal.extra_closed | {day})
    assert closed.add_business_time(start, duration) >= cal.add_business_time(start, duration)


@given(calendars, instants(), working_days, dates)
def test_adding_a_holiday_never_makes_a_working_day_deadline_earlier(cal, start, days, day):
    closed = cal.replace(extra_closed=cal.extra_closed | {day})
    assert closed.add_working_days(start, days) >= cal.add_working_days(start, days)


@given(calendars, instants(), durations)
def test_due_date_round_trips_exactly(cal, start, duration):
    due = cal.add_business_time(start, duration)
    assert cal.business_time_between(start, due) == duration
    assert cal.business_seconds_between(start, due) == duration.total_seconds()
    assert due.tzinfo is UTC
    if duration:  # the earliest such instant: just before it, not enough time has passed
        assert cal.business_time_between(start, due - timedelta(microseconds=1)) < duration


@given(calendars, spans())
def test_add_inverts_between(cal, span):
    a, b = span
    due = cal.add_business_time(a, cal.business_time_between(a, b))
    assert due <= b
    assert cal.business_time_between(due, b) == timedelta(0)


@given(calendars, instants(), working_days)
def test_working_days_are_business_time_from_the_start(cal, start, days):
    deadline = cal.add_working_days(start, days)
    assert deadline >= start
    one_more = cal.add_working_days(start, days + 1)
    assert one_more > deadline


@given(calendars, instants())
def test_next_open_skips_only_closed_time(cal, at):
    opening = cal.next_open(at)
    assert opening >= at
    assert cal.is_open(opening)
    assert cal.business_time_between(at, opening) == timedelta(0)
    assert (opening == at) is cal.is_open(at)


@given(spans(max_days=400))
def test_24x7_is_wall_clock_elapsed_across_dst(span):
    a, b = span
    assert TWENTY_FOUR_SEVEN.business_time_between(a, b) == b - a
    walked = CALENDARS[-1]  # same hours without the fast path, but closed on 1 June 2026
    if not (a.date() <= date(2026, 6, 2) and b.date() >= date(2026, 5, 31)):
        assert walked.business_time_between(a, b) == b - a
    assert TWENTY_FOUR_SEVEN.add_business_time(a, b - a) == b


# ---- clocks --------------------------------------------------------------------------------------


@st.composite
def clocks(draw) -> tuple[Clock, list[tuple[datetime, datetime | None]], datetime]:
    """A clock with random pauses, resumes and priority changes; its running spans; a 'now' after it."""
    kind = draw(st.sampled_from(list(ClockKind)))
    at = draw(instants())
    clock = Clock(kind, DEFAULT_PROFILE).start(at, draw(st.integers(1, 4)))
    running, span_start, spans_ = True, at, []
    for _ in range(draw(st.integers(0, 6))):
        at += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        action = draw(st.sampled_from(["toggle", "toggle", "priority"]))
        if action == "priority":
            clock = clock.priority_change(at, draw(st.integers(1, 4)))
        elif running:
            clock, running = clock.pause(at), False
            spans_.append((span_start, at))
        else:
            clock, running, span_start = clock.resume(at), True, at
    if draw(st.booleans()):  # resolved (or cancelled) before now
        at += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        clock = clock.stop(at, cancelled=draw(st.booleans()))
        if running:
            spans_.append((span_start, at))
    elif running:
        spans_.append((span_start, None))
    now = at + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    return clock, spans_, now


@given(clocks())
def test_clock_never_counts_paused_time(case):
    clock, spans_, now = case
    status = clock.status(now)
    calendar = DEFAULT_PROFILE.target(status.priority).calendar
    expected = sum((calendar.business_time_between(a, b or now) for a, b in spans_), timedelta(0))
    assert status.elapsed == expected
    assert status.remaining == status.target - status.elapsed
    assert status.elapsed <= calendar.business_time_between(status.started_at, now)


@given(clocks(), st.integers(0, 5 * 24 * 60))
def test_clock_elapsed_is_monotone_while_the_priority_holds(case, minutes):
    clock, _, now = case
    earlier, later = clock.status(now), clock.status(now + timedelta(minutes=minutes))
    assert later.elapsed >= earlier.elapsed
    assert later.warning >= earlier.warning
    assert later.breached >= earlier.breached
    if earlier.breached:
        assert later.breached_at == earlier.breached_at


@given(clocks())
def test_clock_flags_agree_with_due_and_elapsed(case):
    clock, _, now = case
    status = clock.status(now)
    end = status.stopped_at or now
    if status.due_at is not None:
        assert status.breached is (status.due_at < end)
    if status.breached:
        assert status.elapsed >= status.target
        assert status.breached_at is not None and status.breached_at <= end
    assert status.warning is (status.elapsed >= status.target * DEFAULT_PROFILE.warning_share) or status.breached
    if status.projected_due_at is not None and not status.breached:
        calendar = DEFAULT_PROFILE.target(status.priority).calendar
        assert calendar.business_time_between(now, status.projected_due_at) == status.remaining
    if status.stopped_at is not None:
        assert status.state in (ClockState.MET, ClockState.BREACHED, ClockState.STOPPED)
        assert clock.status(now + timedelta(days=30)) == replace(status, as_of=status.as_of + timedelta(days=30))


@given(clocks())
def test_clock_survives_its_own_serialisation(case):
    clock, _, now = case
    again = Clock.from_dict(clock.to_dict(), DEFAULT_PROFILE)
    assert again == clock
    assert again.status(now) == clock.status(now)


def _with_closed_date(profile, day):
    """The profile with ``day`` closed on every calendar that observes holidays."""
    targets = {}
    for priority, target in profile.targets.items():
        cal = target.calendar
        if cal.statutory_holidays:
            cal = cal.replace(extra_closed=cal.extra_closed | {day})
        targets[priority] = replace(target, calendar=cal)
    return replace(profile, targets=targets)


@given(clocks(), st.integers(-1, 25))
def test_adding_a_holiday_never_makes_a_clock_due_earlier(case, offset):
    clock, _, now = case
    status = clock.status(now)
    day = status.started_at.astimezone(OSLO_OFFICE_HOURS.zone).date() + timedelta(days=offset)
    other = Clock.from_dict(clock.to_dict(), _with_closed_date(DEFAULT_PROFILE, day)).status(now)
    assert other.elapsed <= status.elapsed
    if status.due_at is not None and other.due_at is not None:
        assert other.due_at >= status.due_at
    if status.projected_due_at is not None and other.projected_due_at is not None:
        assert other.projected_due_at >= status.projected_due_at
