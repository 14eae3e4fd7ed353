"""SLA profiles, targets and the impact × urgency matrix."""

from datetime import timedelta

import pytest

from kompass.cases.sla import (
    DEFAULT_MATRIX,
    DEFAULT_PROFILE,
    OSLO_OFFICE_HOURS,
    TWENTY_FOUR_SEVEN,
    ClockKind,
    SlaProfile,
    SlaTarget,
    TargetDuration,
    priority_for,
)
from kompass.cases.tests.conftest import oslo

H = timedelta(hours=1)


def test_default_profile_follows_domain_table():
    # domain.md §3 (illustrative): P1/P2 around the clock, P3/P4 in office hours.
    p = DEFAULT_PROFILE.targets
    assert [(t.response.describe(), t.resolution.describe(), t.calendar.name) for t in (p[1], p[2], p[3], p[4])] == [
        ("15 min", "2 h", "24x7"),
        ("1 h", "4 h", "24x7"),
        ("4 h", "2 working days", "oslo-office-hours"),
        ("1 working day", "10 working days", "oslo-office-hours"),
    ]
    assert DEFAULT_PROFILE.warning_share == 0.75


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [(1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 2), (2, 2, 3), (2, 3, 4), (3, 1, 3), (3, 2, 4), (3, 3, 4)],
)
def test_default_matrix_is_servicenows_with_planning_folded_into_low(impact, urgency, priority):
    assert priority_for(impact, urgency) == priority
    assert priority_for(str(impact), str(urgency)) == priority  # ServiceNow sends strings


def test_matrix_is_configurable_and_checked():
    strict = {**DEFAULT_MATRIX, (2, 2): 2}
    assert priority_for(2, 2, strict) == 2
    with pytest.raises(ValueError, match="not in the priority matrix"):
        priority_for(4, 1)
    with pytest.raises(ValueError, match="not one of"):
        priority_for(1, 1, {(1, 1): 5})


def test_target_is_time_or_working_days_never_both():
    with pytest.raises(ValueError, match="exactly one"):
        TargetDuration()
    with pytest.raises(ValueError, match="exactly one"):
        TargetDuration(business=H, working_days=1)
    with pytest.raises(ValueError, match="negative"):
        TargetDuration(working_days=-1)


def test_working_day_targets_resolve_from_their_start():
    two_days = TargetDuration.days(2)
    # Mon 7 Dec 2026 10:00 → Wed 9 Dec 10:00: 6 + 8 + 2 h.
    assert two_days.resolve(OSLO_OFFICE_HOURS, oslo(2026, 12, 7, 10)) == 16 * H
    # Wed 23 Dec 10:00 with 24 Dec reduced to 08–12 → Mon 28 Dec 10:00 counts 6 + 4 + 2 h.
    from kompass.cases.sla import oslo_reduced_days

    reduced = OSLO_OFFICE_HOURS.replace(reduced_day_rules=(oslo_reduced_days,))
    assert two_days.resolve(reduced, oslo(2026, 12, 23, 10)) == 12 * H
    assert TargetDuration.hours(4).resolve(reduced, oslo(2026, 12, 23, 10)) == 4 * H


def test_target_round_trips_as_plain_data():
    for target in (TargetDuration.minutes(15), TargetDuration.hours(4), TargetDuration.days(10)):
        assert TargetDuration.from_dict(target.to_dict()) == target


def test_profile_needs_every_priority_and_a_sane_share():
    one = SlaTarget(TargetDuration.hours(1), TargetDuration.hours(2), TWENTY_FOUR_SEVEN)
    with pytest.raises(ValueError, match=r"priorities \[3, 4\]"):
        SlaProfile("partial", {1: one, 2: one})
    with pytest.raises(ValueError, match="share"):
        SlaProfile("odd", dict.fromkeys((1, 2, 3, 4), one), warning_share=1.5)
    with pytest.raises(ValueError, match="no priority 7"):
        DEFAULT_PROFILE.target(7)
    assert DEFAULT_PROFILE.target(3).duration(ClockKind.RESPONSE) == TargetDuration.hours(4)
    assert DEFAULT_PROFILE.target(3).duration("resolution") == TargetDuration.days(2)
    assert hash(DEFAULT_PROFILE) == hash(DEFAULT_PROFILE)
