"""Hand-checked computation: every expected figure below was worked out on paper (the comments show how)."""

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from kompass.cases.services import business_calendar
from kompass.reports import compute
from kompass.reports.compute import CaseFacts, Miss, Tier

OSLO = ZoneInfo("Europe/Oslo")
TIERS = (Tier(D("99.5"), D(5)), Tier(D(99), D(10)), Tier(D(98), D(20)))  # domain.md §3
FEE = D(400_000)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OSLO)


def month(year, m):
    start = at(year, m, 1)
    end = at(year + (m == 12), m % 12 + 1, 1)
    return start, end


# ---- the worked example of domain.md §3 ---------------------------------------------------------------


def test_worked_example_comes_to_exactly_28000():
    start, end = month(2026, 6)  # 30 days, no DST change: 720 h
    outage = (at(2026, 6, 10, 8), at(2026, 6, 10, 14))  # 6 h
    result = compute.availability(business_calendar("24x7"), start, end, [outage], target_pct=D("99.5"))
    assert result.service_seconds == 720 * 3600
    assert result.downtime_seconds == 6 * 3600
    assert result.allowed_downtime_seconds == D("3.6") * 3600
    assert compute.pct(result.available_pct) == D("99.17")  # (720 − 6) / 720
    assert result.missed
    p1 = Miss("P1 95 % within 4 h", measured=D(18) * 100 / 20, target=D(95), credit_pct=D(2))
    availability = Miss("Availability 99.5 %", measured=result.available_pct, target=D("99.5"), tiers=TIERS)
    comp = compute.compensation(FEE, [availability, p1], monthly_cap_pct=D(15))
    assert [line.amount for line in comp.lines] == [D("20000.00"), D("8000.00")]
    assert comp.uncapped == comp.total == D("28000.00")
    assert comp.monthly_cap == D("60000.00") and not comp.capped
    assert comp.percent_of_fee == D(7)


# ---- tiers, caps, accumulation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measured", "credit"),
    [("99.6", 0), ("99.5", 0), ("99.49", 5), ("99.0", 5), ("98.99", 10), ("98", 10), ("97.99", 20), ("0", 20)],
)
def test_tiers(measured, credit):
    assert compute.tier_credit(D(measured), TIERS) == D(credit)


def test_monthly_cap_pays_the_capped_amount_and_reports_the_uncapped_one():
    misses = [
        Miss("availability", D(97), D("99.5"), tiers=TIERS),  # 20 % = 80 000
        Miss("P1", D(90), D(95), credit_pct=D(2)),  # 2 % = 8 000
    ]
    comp = compute.compensation(FEE, misses, monthly_cap_pct=D(15))
    assert comp.uncapped == D("88000.00")
    assert comp.after_monthly_cap == comp.total == D("60000.00")  # 15 % of 400 000
    assert comp.capped


def test_yearly_cap_counts_what_earlier_months_came_to():
    misses = [Miss("availability", D("98.5"), D("99.5"), tiers=TIERS)]  # 10 % = 40 000
    # yearly cap 10 % of 12 × 400 000 = 480 000; 450 000 already owed this year: 30 000 left
    comp = compute.compensation(FEE, misses, yearly_cap_pct=D(10), earlier_this_year=D(450_000))
    assert comp.yearly_cap == D("480000.00")
    assert comp.after_monthly_cap == D("40000.00")
    assert comp.total == D("30000.00")
    full = compute.compensation(FEE, misses, yearly_cap_pct=D(10), earlier_this_year=D(480_000))
    assert full.total == D("0.00") and full.uncapped == D("40000.00")


def test_accumulation_max_owes_only_the_largest_credit_and_adjustments_come_after_the_caps():
    misses = [Miss("a", D("98.5"), D("99.5"), tiers=TIERS), Miss("b", D(90), D(95), credit_pct=D(2))]
    comp = compute.compensation(FEE, misses, accumulation="max", monthly_cap_pct=D(15), adjustments=[D("-1500")])
    assert comp.uncapped == D("40000.00")  # max(10 % = 40 000, 2 % = 8 000)
    assert comp.total == D("38500.00")
    with pytest.raises(ValueError, match="accumulation"):
        compute.compensation(FEE, misses, accumulation="avg")


def test_a_level_met_or_without_measurement_earns_nothing():
    comp = compute.compensation(
        FEE, [Miss("met", D(96), D(95), credit_pct=D(2)), Miss("none", None, D(95), credit_pct=D(2))]
    )
    assert comp.total == D("0.00") and not any(line.missed for line in comp.lines)


# ---- availability inside service hours --------------------------------------------------------------


def test_availability_across_spring_dst():
    start, end = month(2026, 3)  # 29 March 2026: 02:00 → 03:00, the month has 743 h
    outage = (at(2026, 3, 29, 1), at(2026, 3, 29, 4))  # 01:00 CET → 04:00 CEST: 2 real hours
    result = compute.availability(business_calendar("24x7"), start, end, [outage], target_pct=D("99.5"))
    assert result.service_seconds == 743 * 3600
    assert result.downtime_seconds == 2 * 3600
    assert result.available_pct == D(741) * 100 / D(743)


def test_availability_across_autumn_dst():
    start, end = month(2026, 10)  # 25 October 2026: 03:00 → 02:00, the month has 745 h
    outage = (at(2026, 10, 25, 1), at(2026, 10, 25, 4))  # 01:00 CEST → 04:00 CET: 4 real hours
    result = compute.availability(business_calendar("24x7"), start, end, [outage])
    assert result.service_seconds == 745 * 3600
    assert result.downtime_seconds == 4 * 3600


def test_availability_in_business_hours_skips_holidays_and_nights():
    start, end = month(2026, 5)  # 21 weekdays, 3 of them holidays (1, 14, 25 May): 18 × 8 h = 144 h
    on_holiday = (at(2026, 5, 14, 9), at(2026, 5, 14, 12))  # Kristi himmelfartsdag: closed, counts nothing
    overnight = (at(2026, 5, 13, 15), at(2026, 5, 15, 9))  # 13 May 15–16 + 15 May 08–09 (14 May closed) = 2 h
    result = compute.availability(business_calendar("office"), start, end, [on_holiday, overnight], target_pct=D(99))
    assert result.service_seconds == 144 * 3600
    assert result.downtime_seconds == 2 * 3600
    assert compute.pct(result.available_pct) == D("98.61")  # 142 / 144
    assert result.missed


def test_exclusions_leave_both_the_downtime_and_the_service_time():
    start, end = month(2026, 6)
    outage = (at(2026, 6, 10, 8), at(2026, 6, 10, 14))
    maintenance = (at(2026, 6, 10, 12), at(2026, 6, 10, 16))  # agreed window overlaps the last 2 h
    result = compute.availability(business_calendar("24x7"), start, end, [outage, outage], [maintenance])
    assert result.excluded_seconds == 4 * 3600
    assert result.service_seconds == 716 * 3600
    assert result.downtime_seconds == 4 * 3600  # the duplicate outage counted once, 12–14 excluded


# ---- attainment -------------------------------------------------------------------------------------


def _fact(pk, hours, *, resolved=True, vendor=None, excluded=False, priority=2, created=None, response=None):
    created = created or at(2026, 6, 2, 9)
    return CaseFacts(
        case_id=pk,
        service_id=1,
        priority=priority,
        agency_id=10 + pk % 2,
        created=created,
        resolved_at=created + dt.timedelta(hours=hours) if resolved else None,
        response_hours=response,
        resolution_hours=hours if resolved else None,
        vendor_resolution_hours=vendor,
        excluded=excluded,
    )


def test_attainment_median_p90_backlog_and_exclusions():
    start, end = month(2026, 6)
    facts = [
        _fact(1, 1, response=0.5),
        _fact(2, 5, response=2),
        _fact(3, 9),
        _fact(4, 20),
        _fact(5, 0, resolved=False),  # open at the end of the month: backlog
        _fact(6, 30, excluded=True),  # customer-caused: counted, measures nothing
        _fact(7, 1, priority=3),  # no level for P3 here
        _fact(8, 2, created=at(2026, 5, 1, 9)),  # resolved in May: not June's
    ]
    result = compute.attainment(facts, {(1, 2): (1.0, 8.0, D(95))}, month_start=start, month_end=end)[(1, 2)]
    assert (result.cases, result.excluded, result.backlog) == (5, 1, 1)
    assert (result.resolution_met, result.resolution_missed) == (2, 2)
    assert result.attainment_pct == D(50)
    assert (result.response_met, result.response_missed) == (1, 1)
    assert result.median_resolution_hours == 7.0  # (5 + 9) / 2
    assert result.p90_resolution_hours == 20.0  # nearest rank: ceil(0.9 × 4) = 4th
    assert result.missed and sorted(result.missed_case_ids) == [3, 4]


def test_vendor_timestamps_are_shown_beside_and_count_only_when_the_contract_says_so():
    start, end = month(2026, 6)
    facts = [_fact(1, 9, vendor=7), _fact(2, 3, vendor=3)]
    levels = {(1, 2): (None, 8.0, D(95))}
    own = compute.attainment(facts, levels, month_start=start, month_end=end)[(1, 2)]
    assert own.attainment_pct == D(50) and own.vendor_attainment_pct == D(100)
    vendor = compute.attainment(facts, levels, month_start=start, month_end=end, counts="vendor")[(1, 2)]
    assert vendor.attainment_pct == D(100) and not vendor.missed


def test_a_month_with_no_cases_misses_nothing_and_owes_nothing():
    start, end = month(2026, 7)
    result = compute.attainment([], {(1, 1): (0.25, 4.0, D(95))}, month_start=start, month_end=end)[(1, 1)]
    assert result.cases == 0 and result.attainment_pct is None and not result.missed
    assert result.median_resolution_hours is None and result.p90_resolution_hours is None
    comp = compute.compensation(FEE, [Miss("P1", result.attainment_pct, D(95), credit_pct=D(2))], monthly_cap_pct=D(15))
    assert comp.total == D("0.00")


def test_merge_and_p90_edges():
    a, b, c = at(2026, 1, 1, 1), at(2026, 1, 1, 2), at(2026, 1, 1, 3)
    assert compute.merge([(b, c), (a, b), (c, a)]) == [(a, c)]
    assert compute.p90([]) is None and compute.p90([4.0]) == 4.0
    assert compute.p90([float(i) for i in range(1, 11)]) == 9.0


# ---- time waiting for the requester (SSA-D: the clock pauses) -----------------------------------------


def test_time_waiting_for_the_requester_is_taken_off_in_business_hours():
    office = business_calendar("office")
    created, resolved = at(2026, 6, 8, 8), at(2026, 6, 9, 12)  # Monday 08:00 → Tuesday 12:00: 8 + 4 = 12 h
    assert compute.net_seconds(office, created, resolved) == 12 * 3600
    overnight = (at(2026, 6, 8, 15), at(2026, 6, 9, 10))  # Monday 15–16 and Tuesday 08–10: 3 business hours
    assert compute.net_seconds(office, created, resolved, [overnight]) == 9 * 3600
    # overlapping pauses count once; a pause outside the case is clipped; a pause not ended runs to the end
    twice = [overnight, (at(2026, 6, 9, 9), at(2026, 6, 9, 10)), (at(2026, 6, 5, 8), at(2026, 6, 8, 9))]
    assert compute.net_seconds(office, created, resolved, twice) == 8 * 3600  # 12 − 3 − 1 (Monday 08–09)
    assert compute.net_seconds(office, created, resolved, [(at(2026, 6, 9, 11), None)]) == 11 * 3600
