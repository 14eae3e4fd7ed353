"""SLA clocks, checked by hand: pauses, priority changes, warning, breach, DST, persistence.

Default profile: P1 resolution 2 h (24×7), P2 response 1 h (24×7), P3 resolution 2 working days
(08–16), P4 resolution 10 working days (08–16). December 2026 is CET (UTC+1).
"""

import json
from datetime import datetime, timedelta

import pytest

from kompass.cases.sla import DEFAULT_PROFILE, Clock, ClockError, ClockKind, ClockState
from kompass.cases.tests.conftest import oslo, utc

H = timedelta(hours=1)
MON = (2026, 12, 7)  # Monday 7 December 2026
TUE = (2026, 12, 8)
WED = (2026, 12, 9)
THU = (2026, 12, 10)


def resolution(start: datetime, priority: int) -> Clock:
    return Clock(ClockKind.RESOLUTION, DEFAULT_PROFILE).start(start, priority)


@pytest.fixture
def paused_p3() -> Clock:
    # Mon 10:00 start, 4 h run, paused Mon 14:00 to Tue 12:00 (2 h Mon + 4 h Tue of business time).
    return resolution(oslo(*MON, 10), 3).pause(oslo(*MON, 14)).resume(oslo(*TUE, 12))


def test_p3_without_pause_is_due_after_two_working_days():
    # Mon 10:00 + 2 working days = Wed 10:00 CET = 09:00 UTC (budget 6 + 8 + 2 = 16 h).
    status = resolution(oslo(*MON, 10), 3).status(oslo(*MON, 11))
    assert (status.state, status.target, status.elapsed, status.due_at) == (ClockState.RUNNING, 16 * H, H, utc(*WED, 9))
    # 75 % of 16 h = 12 h: Mon 6 h + Tue 6 h → Tue 14:00 CET.
    assert status.warning_at == utc(*TUE, 13)
    assert status.next_change_at == utc(*TUE, 13)


def test_paused_time_moves_the_due_date(paused_p3):
    # Paused business time is 6 h, so Wed 10:00 + 6 h = Wed 16:00 CET = 15:00 UTC.
    status = paused_p3.status(oslo(*WED, 15))
    assert status.state is ClockState.RUNNING
    assert status.elapsed == 15 * H  # 4 (Mon) + 4 (Tue 12–16) + 7 (Wed 08–15)
    assert status.due_at == utc(*WED, 15)
    # 12 h reached at Wed 12:00 CET: 4 + 4 + 4.
    assert (status.warning, status.warning_at, status.breached) == (True, utc(*WED, 11), False)


def test_while_paused_due_is_unknown_but_projected(paused_p3):
    status = paused_p3.status(oslo(*TUE, 10))
    assert (status.state, status.due_at, status.paused_since) == (ClockState.PAUSED, None, utc(*MON, 13))
    assert (status.elapsed, status.remaining) == (4 * H, 12 * H)
    # Resumed at Tue 10:00, the 12 h left would run Tue 10–16 and Wed 08–14 → Wed 14:00 CET.
    assert status.projected_due_at == utc(*WED, 13)
    assert status.next_change_at is None


def test_running_past_due_breaches_and_stop_gives_the_verdict(paused_p3):
    late = paused_p3.status(oslo(*THU, 9))
    assert (late.state, late.breached, late.breached_at) == (ClockState.RUNNING, True, utc(*WED, 15))
    assert late.remaining == -H  # Thu 08–09 is one business hour past due
    assert paused_p3.stop(oslo(*THU, 9)).status(oslo(*THU, 12)).state is ClockState.BREACHED
    on_time = paused_p3.stop(oslo(*WED, 15)).status(oslo(*THU, 12))
    assert (on_time.state, on_time.due_at, on_time.stopped_at, on_time.elapsed) == (
        ClockState.MET,
        utc(*WED, 15),
        utc(*WED, 14),
        15 * H,
    )


def test_still_open_after_closing_on_due_day_is_breached():
    # Due Wed 10:00; at Wed 18:00 no business time is left to count, but the due time has passed.
    clock = resolution(oslo(*MON, 10), 3)
    status = clock.status(oslo(*WED, 18))
    assert (status.breached, status.breached_at, status.remaining) == (True, utc(*WED, 9), -6 * H)


def test_stopping_exactly_at_due_is_met():
    clock = resolution(oslo(*MON, 10), 3).stop(oslo(*WED, 10))
    assert clock.status(oslo(*WED, 12)).state is ClockState.MET


def test_pause_exactly_at_due_defers_the_breach_to_the_resume():
    # P2 response 1 h on 24×7: start 10:00, paused at 11:00 exactly when it falls due.
    clock = Clock(ClockKind.RESPONSE, DEFAULT_PROFILE).start(oslo(*MON, 10), 2).pause(oslo(*MON, 11))
    assert clock.status(oslo(*MON, 12)).breached is False
    resumed = clock.resume(oslo(*MON, 13))
    assert resumed.status(oslo(*MON, 13)).breached is False
    status = resumed.status(oslo(*MON, 13, 1))
    assert (status.breached, status.breached_at, status.due_at) == (True, utc(*MON, 12), utc(*MON, 12))


def test_raising_to_p1_recomputes_from_start_on_24x7():
    # P3 from Mon 10:00, raised to P1 (2 h, 24×7) at 13:00: 3 h have run, so it is overdue at once.
    clock = resolution(oslo(*MON, 10), 3).priority_change(oslo(*MON, 13), 1)
    status = clock.status(oslo(*MON, 13))
    assert (status.priority, status.target, status.elapsed) == (1, 2 * H, 3 * H)
    assert status.due_at == utc(*MON, 11)  # start + 2 h
    assert (status.breached, status.breached_at) == (True, utc(*MON, 12))  # never before the change
    # Before the change the clock was a P3 one: events after `now` are ignored.
    assert clock.status(oslo(*MON, 12)).priority == 3


def test_priority_change_keeps_paused_time_excluded():
    # P4 from Mon 10:00, paused 12:00 to Tue 09:00, raised to P3 at Tue 10:00.
    clock = resolution(oslo(*MON, 10), 4).pause(oslo(*MON, 12)).resume(oslo(*TUE, 9)).priority_change(oslo(*TUE, 10), 3)
    status = clock.status(oslo(*TUE, 10))
    # P3 budget from Mon 10:00 is 16 h; 2 + 1 h elapsed; 13 h left: Tue 10–16 and Wed 08–15.
    assert (status.target, status.elapsed, status.due_at) == (16 * H, 3 * H, utc(*WED, 14))


def test_downgrade_can_clear_a_breach():
    clock = resolution(oslo(*MON, 10), 1)
    assert clock.status(oslo(*MON, 13)).breached is True
    assert clock.priority_change(oslo(*MON, 13), 4).status(oslo(*MON, 13)).breached is False


def test_p1_over_the_autumn_night_2027():
    # Sun 31 Oct 2027 has 25 hours. Started 01:30 CEST (30 Oct 23:30 UTC), 2 real hours later is
    # 01:30 UTC, which is the *second* 02:30 of the night (CET): one wall hour, two real ones.
    clock = resolution(oslo(2027, 10, 31, 1, 30), 1)
    status = clock.status(oslo(2027, 10, 31, 2, 0, fold=1))
    assert status.due_at == utc(2027, 10, 31, 1, 30)
    local = status.due_at.astimezone(oslo(2027, 1, 1).tzinfo)
    assert (local.hour, local.minute, local.fold, local.utcoffset()) == (2, 30, 1, H)
    assert status.elapsed == 1.5 * H  # 01:30 CEST to 02:00 CET is 1.5 real hours


def test_response_over_the_spring_night_2027():
    # P2 response 1 h from 01:30 CET on 28 March 2027: due 03:30 CEST (02:xx does not exist).
    clock = Clock(ClockKind.RESPONSE, DEFAULT_PROFILE).start(oslo(2027, 3, 28, 1, 30), 2)
    assert clock.status(oslo(2027, 3, 28, 1, 45)).due_at == utc(2027, 3, 28, 1, 30)


def test_cancelled_clock_is_stopped_without_verdict():
    status = resolution(oslo(*MON, 10), 1).stop(oslo(*MON, 13), cancelled=True).status(oslo(*MON, 14))
    assert status.state is ClockState.STOPPED
    assert status.breached is True  # still visible, but reports leave stopped clocks out


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda c: c.pause(oslo(*MON, 11)).pause(oslo(*MON, 12)), "already paused"),
        (lambda c: c.resume(oslo(*MON, 11)), "resume while running"),
        (lambda c: c.start(oslo(*MON, 11), 3), "already started"),
        (lambda c: c.pause(oslo(*MON, 9)), "out of time order"),
        (lambda c: c.stop(oslo(*MON, 11)).resume(oslo(*MON, 12)), "after the clock has stopped"),
        (lambda c: c.priority_change(oslo(*MON, 11), 5), "no priority 5"),
        (lambda c: c.pause(datetime(2026, 12, 7, 11)), "aware"),
        (lambda c: c.status(oslo(*MON, 9)), "not started by then"),
    ],
)
def test_illegal_sequences_raise_clock_error(build, message):
    with pytest.raises(ClockError, match=message):
        build(resolution(oslo(*MON, 10), 3))


def test_events_before_start_raise_clock_error():
    empty = Clock(ClockKind.RESOLUTION, DEFAULT_PROFILE)
    for attempt in (lambda: empty.pause(oslo(*MON, 10)), lambda: empty.status(oslo(*MON, 10))):
        with pytest.raises(ClockError, match="not started|before the clock has started"):
            attempt()


def test_round_trip_through_json(paused_p3):
    clock = paused_p3.priority_change(oslo(*WED, 9), 2).stop(oslo(*WED, 10))
    data = json.loads(json.dumps(clock.to_dict()))
    assert data["events"][0] == {"type": "start", "at": "2026-12-07T09:00:00+00:00", "priority": 3}
    again = Clock.from_dict(data, {"default": DEFAULT_PROFILE})
    assert again == clock
    assert again.status(oslo(*THU, 10)) == clock.status(oslo(*THU, 10))
    assert json.loads(json.dumps(clock.status(oslo(*THU, 10)).to_dict()))["state"] == "breached"


def test_unreadable_or_illegal_data_raise_clock_error():
    with pytest.raises(ClockError, match="unreadable"):
        Clock.from_dict({"kind": "resolution", "events": [{"type": "start"}]}, DEFAULT_PROFILE)
    with pytest.raises(ClockError, match="unreadable"):
        Clock.from_dict({"kind": "resolution", "profile": "gone", "events": []}, {})
    events = [
        {"type": "start", "at": "2026-12-07T09:00:00+00:00", "priority": 3},
        {"type": "resume", "at": "2026-12-07T10:00:00+00:00"},
    ]
    with pytest.raises(ClockError, match="resume while running"):
        Clock.from_dict({"kind": "resolution", "profile": "default", "events": events}, DEFAULT_PROFILE)
