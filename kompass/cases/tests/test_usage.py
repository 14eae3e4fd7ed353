"""The flow in the package docstring, as the cases app will run it, with a stand-in case."""

import json
from types import SimpleNamespace

from kompass.cases.sla import DEFAULT_PROFILE, Clock, ClockKind, ClockState, priority_for
from kompass.cases.tests.conftest import oslo, utc

PROFILES = {DEFAULT_PROFILE.name: DEFAULT_PROFILE}


def test_the_cases_app_flow():
    # Filed Mon 7 Dec 2026 09:00 CET, impact 2 × urgency 2 → P3: 2 working days, due Wed 09:00.
    case = SimpleNamespace(created=oslo(2026, 12, 7, 9), impact=2, urgency=2)
    case.priority = priority_for(case.impact, case.urgency)
    clock = Clock(ClockKind.RESOLUTION, DEFAULT_PROFILE).start(case.created, case.priority)
    case.sla_resolution = json.loads(json.dumps(clock.to_dict()))  # what a JSONField gives back

    # Waiting for the requester Mon 11:00 to Tue 11:00. While paused (Tue 10:00) the projection is
    # 14 h of the 16 h budget from Tue 10:00: Tue 10–16 and Wed 08–16 → Wed 16:00 CET. Then raised to P2.
    clock = Clock.from_dict(case.sla_resolution, PROFILES).pause(oslo(2026, 12, 7, 11))
    waiting = clock.status(oslo(2026, 12, 8, 10))
    assert (waiting.state, waiting.due_at, waiting.projected_due_at) == (ClockState.PAUSED, None, utc(2026, 12, 9, 15))
    clock = clock.resume(oslo(2026, 12, 8, 11)).priority_change(oslo(2026, 12, 8, 11), 2)

    # P2 is 4 h around the clock: 2 h ran before the pause, so 2 h are left from Tue 11:00 CET: due
    # 13:00 CET = 12:00 UTC. At 12:00 CET 3 h have run, 75 % of 4 h: the warning is on.
    status = clock.status(oslo(2026, 12, 8, 12))
    assert (status.priority, status.due_at, status.warning, status.breached) == (2, utc(2026, 12, 8, 12), True, False)
    assert status.next_change_at == utc(2026, 12, 8, 12)
    case.resolution_due, case.resolution_breached = status.due_at, status.breached

    # Resolved 13:30 CET, half an hour late.
    clock = clock.stop(oslo(2026, 12, 8, 13, 30))
    final = clock.status(oslo(2026, 12, 8, 14))
    assert (final.state, final.breached_at) == (ClockState.BREACHED, utc(2026, 12, 8, 12))
    assert json.loads(json.dumps(final.to_dict()))["breached_at"] == "2026-12-08T12:00:00+00:00"
