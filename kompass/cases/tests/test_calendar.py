"""Business calendars, checked by hand around Easter, 17 May, Christmas and both DST switches.

Every expectation is written out literally and the comment says how it was counted. Office hours
are 08:00–16:00 Monday to Friday in Oslo; CET is UTC+1, CEST (summer) UTC+2.
"""

from datetime import date, time, timedelta

import pytest

from kompass.cases.sla import (
    OSLO_OFFICE_HOURS,
    TWENTY_FOUR_SEVEN,
    BusinessCalendar,
    CalendarError,
    easter_sunday,
    every_day,
    norwegian_holidays,
    oslo_reduced_days,
    parse_hours,
    weekdays,
)
from kompass.cases.tests.conftest import OSLO, oslo, utc

H = timedelta(hours=1)
OFFICE = OSLO_OFFICE_HOURS
REDUCED = OSLO_OFFICE_HOURS.replace(name="oslo-office-reduced", reduced_day_rules=(oslo_reduced_days,))


# ---- Easter 2027: Skjærtorsdag 25 March, Langfredag 26 March, 2. påskedag 29 March ------------


def test_easter_2027_holidays_are_closed():
    names = [OFFICE.holiday_names(date(2027, 3, d)) for d in (25, 26, 28, 29)]
    assert names == [("Skjærtorsdag",), ("Langfredag",), ("Første påskedag",), ("Andre påskedag",)]
    assert not OFFICE.is_open(oslo(2027, 3, 25, 10))
    assert not OFFICE.is_working_day(date(2027, 3, 29))


def test_easter_2027_business_time_is_wednesday_and_tuesday_only():
    # Wed 24 March 08–16 (8 h); Thu 25 to Mon 29 all closed (holidays, weekend); Tue 30 08–16 (8 h).
    assert OFFICE.business_time_between(oslo(2027, 3, 24, 8), oslo(2027, 3, 30, 16)) == 16 * H


def test_easter_2027_due_date_jumps_the_whole_easter():
    # Wed 15:00 + 2 h: one hour on Wednesday, the next on Tuesday 08–09 CEST (after the DST switch
    # on Easter Sunday) = 07:00 UTC.
    assert OFFICE.add_business_time(oslo(2027, 3, 24, 15), 2 * H) == utc(2027, 3, 30, 7)


def test_easter_2027_next_open_after_maundy_thursday():
    # Tue 30 March 08:00 CEST = 06:00 UTC.
    assert OFFICE.next_open(oslo(2027, 3, 25, 10)) == utc(2027, 3, 30, 6)


def test_easter_2027_one_working_day_from_wednesday_is_tuesday():
    # The next working day after Wed 24 March is Tue 30 March: same wall time 10:00 CEST = 08:00 UTC.
    assert OFFICE.add_working_days(oslo(2027, 3, 24, 10), 1) == utc(2027, 3, 30, 8)


def test_easter_reduced_days_only_with_the_preset():
    # Wednesday before Maundy Thursday: 8 h statutory, 08–12 = 4 h with the opt-in preset.
    day = (oslo(2027, 3, 24), oslo(2027, 3, 25))
    assert OFFICE.business_time_between(*day) == 8 * H
    assert REDUCED.business_time_between(*day) == 4 * H
    # Easter Saturday is in the preset, but the preset can only shorten a day: still closed.
    assert REDUCED.hours_on(date(2027, 3, 27)) == ()


def test_reduced_days_cap_open_days_and_combine():
    # An extended calendar (07–22 daily) is open on Easter Saturday: the preset caps it at 12:00.
    extended = BusinessCalendar(
        name="extended", weekly=every_day("07:00-22:00"), reduced_day_rules=(oslo_reduced_days,)
    )
    assert extended.hours_on(date(2027, 3, 27)) == ((7 * 3600, 12 * 3600),)
    # A one-off reduced day from configuration (a dict is accepted), intersected with the preset.
    one_off = REDUCED.replace(
        reduced_days={date(2026, 12, 24): parse_hours("10:00-24:00"), date(2026, 12, 7): parse_hours("00:00-10:00")}
    )
    assert one_off.hours_on(date(2026, 12, 24)) == ((10 * 3600, 12 * 3600),)
    assert one_off.business_time_between(oslo(2026, 12, 7), oslo(2026, 12, 8)) == 2 * H


def test_preset_days_follow_easter():
    assert sorted(oslo_reduced_days(2027)) == [
        date(2027, 3, 24),
        date(2027, 3, 27),
        date(2027, 12, 24),
        date(2027, 12, 31),
    ]
    assert easter_sunday(2027) == date(2027, 3, 28)
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2024) == date(2024, 3, 31)  # domain.md's sanity check


def test_easter_algorithm_agrees_with_holidays_package():
    for year in range(2000, 2100):
        assert easter_sunday(year) - timedelta(days=3) in norwegian_holidays(year), year


# ---- 17 May 2027: Grunnlovsdag and 2. pinsedag on the same Monday ----------------------------------


def test_17_may_2027_holds_two_holidays_in_one_date():
    assert OFFICE.holiday_names(date(2027, 5, 17)) == ("Andre pinsedag", "Grunnlovsdag")
    # Twelve holidays, eleven dates: the double day is one date (2026 has twelve).
    assert len(norwegian_holidays(2027)) == 11
    assert len(norwegian_holidays(2026)) == 12


def test_17_may_2027_closes_one_day_once():
    # Mon 17 closed, Tue 18 to Fri 21 open: 4 × 8 h. Counting it twice could never give more than one
    # closed day, but a naive "subtract 8 h per holiday" would give 24 h.
    assert OFFICE.business_time_between(oslo(2027, 5, 17), oslo(2027, 5, 22)) == 32 * H


def test_17_may_2027_due_date():
    # Fri 14 May 15:00 + 2 h: 1 h Friday, weekend, Monday closed, Tue 18 08–09 CEST = 07:00 UTC.
    assert OFFICE.add_business_time(oslo(2027, 5, 14, 15), 2 * H) == utc(2027, 5, 18, 7)


def test_sundays_are_not_closed_as_holidays_by_themselves():
    # A calendar with Sunday hours is open on an ordinary Sunday, closed on a holiday Sunday.
    extended = BusinessCalendar(name="extended", weekly=every_day("07:00-22:00"))
    assert extended.is_open(oslo(2027, 3, 21, 12))  # Palm Sunday: an ordinary Sunday
    assert not extended.is_open(oslo(2027, 3, 28, 12))  # Easter Sunday
    assert not extended.is_open(oslo(2027, 5, 16, 12))  # 1. pinsedag
    assert date(2027, 3, 21) not in norwegian_holidays(2027)


# ---- Christmas 2026: 24 December a Thursday, 25 and 26 holidays (Fri, Sat) ----------------------------


def test_christmas_2026_statutory():
    # Thu 24 Dec is an ordinary working day by law: 8 h; 25 (Fri), 26 (Sat), 27 (Sun) closed; Mon 28 8 h.
    assert OFFICE.business_time_between(oslo(2026, 12, 24), oslo(2026, 12, 29)) == 16 * H
    assert OFFICE.holiday_names(date(2026, 12, 24)) == ()
    # Wed 23 Dec 14:00 + 8 h: 2 h Wednesday, 6 h Thursday → 24 Dec 14:00 CET = 13:00 UTC.
    assert OFFICE.add_business_time(oslo(2026, 12, 23, 14), 8 * H) == utc(2026, 12, 24, 13)


def test_christmas_2026_with_reduced_24_december():
    # With the preset 24 Dec is 08–12: 4 h + Mon 28 8 h.
    assert REDUCED.business_time_between(oslo(2026, 12, 24), oslo(2026, 12, 29)) == 12 * H
    # Wed 14:00 + 8 h: 2 h Wed, 4 h Thu (08–12), then Mon 28 08–10 CET = 09:00 UTC.
    assert REDUCED.add_business_time(oslo(2026, 12, 23, 14), 8 * H) == utc(2026, 12, 28, 9)


def test_christmas_2026_working_days():
    # From Wed 23 Dec 10:00, three working days: 24 (1), 28 (2), 29 (3) → 29 Dec 10:00 CET = 09:00 UTC.
    assert OFFICE.add_working_days(oslo(2026, 12, 23, 10), 3) == utc(2026, 12, 29, 9)
    # A reduced 24 Dec is still a working day, but the deadline is capped at its 12:00 close.
    assert OFFICE.add_working_days(oslo(2026, 12, 23, 14), 1) == utc(2026, 12, 24, 13)
    assert REDUCED.add_working_days(oslo(2026, 12, 23, 14), 1) == utc(2026, 12, 24, 11)


def test_new_year_2026_2027():
    # Thu 31 Dec 15:00 + 2 h: 1 h on 31 Dec, 1 Jan holiday (Fri), weekend, Mon 4 Jan 08–09 = 08:00 UTC.
    assert OFFICE.add_business_time(oslo(2026, 12, 31, 15), 2 * H) == utc(2027, 1, 4, 8)
    # With the preset 31 Dec closes at 12:00, so 15:00 is closed: Mon 4 Jan 08–10 = 09:00 UTC.
    assert REDUCED.add_business_time(oslo(2026, 12, 31, 15), 2 * H) == utc(2027, 1, 4, 9)


def test_working_days_from_friday_evening_end_monday_evening():
    # Fri 4 Dec 2026 18:00: counting starts Mon 7 Dec 08:00; one working day is all of Monday, due
    # Monday 16:00 CET (15:00 UTC), the earliest instant with that business time (not Tue 08:00).
    assert OFFICE.add_working_days(oslo(2026, 12, 4, 18), 1) == utc(2026, 12, 7, 15)
    assert OFFICE.add_working_days(oslo(2026, 12, 4, 18), 0) == utc(2026, 12, 4, 17)


# ---- DST 2027: spring forward Sun 28 March, fall back Sun 31 October --------------------------------


def test_24x7_spring_2027_day_has_23_hours():
    assert TWENTY_FOUR_SEVEN.business_time_between(oslo(2027, 3, 28), oslo(2027, 3, 29)) == 23 * H
    # 01:30 CET + 1 h of real time = 03:30 CEST (02:30 does not exist).
    assert TWENTY_FOUR_SEVEN.add_business_time(oslo(2027, 3, 28, 1, 30), H) == utc(2027, 3, 28, 1, 30)
    assert utc(2027, 3, 28, 1, 30).astimezone(OSLO).hour == 3


def test_24x7_autumn_2027_day_has_25_hours():
    assert TWENTY_FOUR_SEVEN.business_time_between(oslo(2027, 10, 31), oslo(2027, 11, 1)) == 25 * H


def test_24x7_as_a_calendar_of_day_intervals_agrees_with_the_fast_path():
    # The same hours but with a closed date elsewhere take the day-by-day path: days of 23 and 25 h.
    walked = TWENTY_FOUR_SEVEN.replace(extra_closed={date(2027, 1, 1)})
    assert not walked.always_open
    assert walked.business_time_between(oslo(2027, 3, 28), oslo(2027, 3, 29)) == 23 * H
    assert walked.business_time_between(oslo(2027, 10, 31), oslo(2027, 11, 1)) == 25 * H
    assert walked.add_business_time(oslo(2027, 10, 31), 25 * H) == utc(2027, 10, 31, 23)


def test_office_hours_across_both_2027_switches():
    # Each office day is 8 real hours whatever the offset: Mon 22 – Wed 24 March (24 h) + Tue 30 and
    # Wed 31 March (16 h); Easter closes the days around the switch.
    assert OFFICE.business_time_between(oslo(2027, 3, 22, 8), oslo(2027, 3, 31, 16)) == 40 * H
    # Fri 29 Oct 15:00 CEST + 2 h: 1 h Friday, Mon 1 Nov 08–09 CET = 08:00 UTC.
    assert OFFICE.add_business_time(oslo(2027, 10, 29, 15), 2 * H) == utc(2027, 11, 1, 8)


def test_intervals_inside_the_gap_and_overlap_have_their_real_length():
    # Documented choice: 02:30 on the spring day reads as 03:30 CEST (fold=0, pre-switch offset);
    # on the autumn day as the first 02:30 (CEST). So 02:30–04:00 lasts 0.5 h and 2.5 h.
    night = BusinessCalendar(name="night", weekly=every_day("02:30-04:00"), statutory_holidays=False)
    assert night.business_time_between(oslo(2027, 3, 28), oslo(2027, 3, 29)) == H / 2
    assert night.business_time_between(oslo(2027, 10, 31), oslo(2027, 11, 1)) == 2.5 * H
    assert night.business_time_between(oslo(2027, 10, 30), oslo(2027, 10, 31)) == 1.5 * H


# ---- DST 2026: spring forward Sun 29 March, fall back Sun 25 October --------------------------------


def test_dst_2026_24x7():
    assert TWENTY_FOUR_SEVEN.business_time_between(oslo(2026, 3, 29), oslo(2026, 3, 30)) == 23 * H
    assert TWENTY_FOUR_SEVEN.business_time_between(oslo(2026, 10, 25), oslo(2026, 10, 26)) == 25 * H
    # Saturday noon to Sunday noon over the spring switch: 23 real hours.
    assert TWENTY_FOUR_SEVEN.business_time_between(oslo(2026, 3, 28, 12), oslo(2026, 3, 29, 12)) == 23 * H


def test_dst_2026_office_hours():
    # Fri 27 March 2026 15:00 CET (14:00 UTC) + 2 h: 1 h Friday, Mon 30 March 08–09 CEST = 07:00 UTC.
    # (Easter 2026 is 5 April, so this is an ordinary weekend.)
    assert OFFICE.add_business_time(oslo(2026, 3, 27, 15), 2 * H) == utc(2026, 3, 30, 7)
    # Fri 23 Oct 2026 15:00 CEST + 2 h: Mon 26 Oct 08–09 CET = 08:00 UTC.
    assert OFFICE.add_business_time(oslo(2026, 10, 23, 15), 2 * H) == utc(2026, 10, 26, 8)


# ---- shape of the API ----------------------------------------------------------------------------


def test_half_open_intervals_and_closing_time_due():
    assert OFFICE.is_open(oslo(2026, 12, 7, 8))
    assert not OFFICE.is_open(oslo(2026, 12, 7, 16))
    # A budget that runs out at closing time is due at 16:00, not next morning.
    assert OFFICE.add_business_time(oslo(2026, 12, 7, 8), 8 * H) == utc(2026, 12, 7, 15)
    assert OFFICE.add_business_time(oslo(2026, 12, 7, 9), 0) == utc(2026, 12, 7, 8)
    assert OFFICE.add_business_time(oslo(2026, 12, 7, 9), 3600.0) == utc(2026, 12, 7, 9)


def test_reversed_span_has_no_business_time():
    assert OFFICE.business_seconds_between(oslo(2026, 12, 8, 12), oslo(2026, 12, 7, 12)) == 0.0
    assert OFFICE.business_seconds_between(oslo(2026, 12, 7, 12), oslo(2026, 12, 8, 12)) == 8 * 3600.0


def test_split_hours_and_parsing():
    lunch = BusinessCalendar(name="lunch", weekly=weekdays("08:00-11:30", "12:00-16:00", (time(11), time(11, 15))))
    assert lunch.hours_on(date(2026, 12, 7)) == ((8 * 3600, 11 * 3600 + 1800), (12 * 3600, 16 * 3600))
    assert not lunch.is_open(oslo(2026, 12, 7, 11, 45))
    assert lunch.next_open(oslo(2026, 12, 7, 11, 45)) == utc(2026, 12, 7, 11)
    assert parse_hours("00:00-24:00") == ((0, 86400),)


@pytest.mark.parametrize(
    "build",
    [
        lambda: parse_hours("8-16"),
        lambda: parse_hours("16:00-08:00"),
        lambda: parse_hours("08:00-25:00"),
        lambda: BusinessCalendar(name="never", weekly=((),) * 7),
        lambda: BusinessCalendar(name="short", weekly=weekdays("08:00-16:00")[:5]),
    ],
)
def test_bad_configuration_is_refused(build):
    with pytest.raises(CalendarError):
        build()


def test_naive_datetimes_and_negative_durations_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError, match="naive"):
        OFFICE.is_open(datetime(2026, 12, 7, 10))
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add_business_time(oslo(2026, 12, 7, 10), -H)
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add_working_days(oslo(2026, 12, 7, 10), -1)


def test_a_calendar_closed_for_a_whole_year_says_so():
    closed = OFFICE.replace(extra_closed={date(2027, 1, 1) + timedelta(days=i) for i in range(365)})
    for attempt in (
        lambda: closed.add_business_time(oslo(2026, 12, 31, 15), 2 * H),
        lambda: closed.next_open(oslo(2026, 12, 31, 17)),
        lambda: closed.add_working_days(oslo(2026, 12, 31, 10), 1),
    ):
        with pytest.raises(CalendarError, match="no opening hours in all of 2027"):
            attempt()
    # Closed 1 June 2027 to 15 May 2028 is odd but possible: 1 h on Mon 31 May 2027, then the next
    # opening is Tue 16 May 2028 08:00 CEST; due 09:00 CEST = 07:00 UTC.
    long = OFFICE.replace(extra_closed={date(2027, 6, 1) + timedelta(days=i) for i in range(350)})
    assert long.add_business_time(oslo(2027, 5, 31, 15), 2 * H) == utc(2028, 5, 16, 7)


def test_calendars_are_immutable_values():
    assert OFFICE == OSLO_OFFICE_HOURS.replace()
    assert hash(OFFICE) == hash(OSLO_OFFICE_HOURS.replace())
    assert REDUCED != OFFICE
    with pytest.raises(AttributeError):
        OFFICE.name = "x"  # type: ignore[misc]
