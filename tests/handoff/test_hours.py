"""Office hours: Finnish holidays, parsing the config form, open/next opening/closing across DST, working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.hours import (
    HORIZON_DAYS,
    HoursError,
    Intervals,
    OfficeHours,
    easter_sunday,
    finnish_public_holidays,
    parse_intervals,
    parse_office_hours,
    parse_weekly,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
#: The spring-forward (03:00 EET -> 04:00 EEST) and fall-back (04:00 EEST -> 03:00 EET) instants of 2026.
SPRING_FORWARD_2026 = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
FALL_BACK_2026 = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def helsinki(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> datetime:
    """A Helsinki wall-clock moment (fold 0 where the wall time repeats)."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=HELSINKI)


def utc(moment: datetime | None) -> datetime | None:
    """The same moment in UTC. Python compares and subtracts datetimes sharing a tzinfo by wall time, and never
    finds a repeated wall time equal to a moment in another zone, so DST checks are made in UTC."""
    return None if moment is None else moment.astimezone(UTC)


def office(weekly: str | dict[str, str] = "08:00-16:00", **config: object) -> OfficeHours:
    """Office hours from the config form; a bare string is Monday-to-Friday hours."""
    raw: dict[str, object] = {"weekly": {"mon-fri": weekly} if isinstance(weekly, str) else weekly, **config}
    return parse_office_hours(raw, HELSINKI)


WEEKDAY_OFFICE = office()


# --------------------------------------------------------------------------------------------------------------
# Finnish public holidays


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2024, 3, 29), "Good Friday"),
        (date(2024, 4, 1), "Easter Monday"),
        (date(2024, 5, 9), "Ascension Day"),
        (date(2024, 6, 22), "Midsummer Day"),
        (date(2024, 11, 2), "All Saints' Day"),
        (date(2025, 4, 20), "Easter Sunday"),
        (date(2025, 5, 29), "Ascension Day"),
        (date(2025, 6, 20), "Midsummer Eve"),
        (date(2025, 11, 1), "All Saints' Day"),
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 5, 14), "Ascension Day"),
        (date(2026, 5, 24), "Whit Sunday"),
        (date(2026, 6, 20), "Midsummer Day"),
        (date(2026, 10, 31), "All Saints' Day"),
        (date(2027, 3, 28), "Easter Sunday"),
    ],
)
def test_known_holiday_dates(day: date, name: str) -> None:
    assert finnish_public_holidays(day.year)[day] == name


def test_the_whole_of_2026_in_date_order() -> None:
    assert finnish_public_holidays(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 6): "Epiphany",
        date(2026, 4, 3): "Good Friday",
        date(2026, 4, 5): "Easter Sunday",
        date(2026, 4, 6): "Easter Monday",
        date(2026, 5, 1): "May Day",
        date(2026, 5, 14): "Ascension Day",
        date(2026, 5, 24): "Whit Sunday",
        date(2026, 6, 19): "Midsummer Eve",
        date(2026, 6, 20): "Midsummer Day",
        date(2026, 10, 31): "All Saints' Day",
        date(2026, 12, 6): "Independence Day",
        date(2026, 12, 24): "Christmas Eve",
        date(2026, 12, 25): "Christmas Day",
        date(2026, 12, 26): "St Stephen's Day",
    }
    assert list(finnish_public_holidays(2026)) == sorted(finnish_public_holidays(2026))


def test_eves_are_customary_days_off_and_can_be_left_out() -> None:
    with_eves = finnish_public_holidays(2026)
    without = finnish_public_holidays(2026, include_eves=False)
    assert set(with_eves) - set(without) == {date(2026, 6, 19), date(2026, 12, 24)}
    assert len(without) == 13


def test_two_holidays_on_one_date_keep_both_names() -> None:
    # Easter 2008 was 23 March, so Ascension Day (+39) fell on May Day.
    holidays = finnish_public_holidays(2008)
    assert holidays[date(2008, 5, 1)] == "May Day, Ascension Day"
    assert len(holidays) == 14


def test_the_returned_dict_is_the_callers_own() -> None:
    finnish_public_holidays(2026).clear()
    assert len(finnish_public_holidays(2026)) == 15


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (1818, date(1818, 3, 22)),  # the earliest possible date
        (1943, date(1943, 4, 25)),  # the latest possible date
        (2000, date(2000, 4, 23)),
        (2019, date(2019, 4, 21)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_by_the_gregorian_computus(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


YEARS = st.integers(min_value=1583, max_value=9998)


@given(year=YEARS)
def test_easter_is_a_sunday_between_22_march_and_25_april(year: int) -> None:
    easter = easter_sunday(year)
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)
    holidays = finnish_public_holidays(year)
    assert holidays[easter] == "Easter Sunday"
    assert "Good Friday" in holidays[easter - timedelta(days=2)]
    assert holidays[easter + timedelta(days=1)] == "Easter Monday"
    ascension = easter + timedelta(days=39)
    assert ascension.weekday() == 3
    assert "Ascension Day" in holidays[ascension]
    assert holidays[easter + timedelta(days=49)] == "Whit Sunday"


@given(year=YEARS)
def test_midsummer_and_all_saints_fall_on_the_right_saturdays(year: int) -> None:
    by_name = {name: day for day, name in finnish_public_holidays(year).items()}
    midsummer = by_name["Midsummer Day"]
    assert midsummer.weekday() == 5
    assert date(year, 6, 20) <= midsummer <= date(year, 6, 26)
    assert by_name["Midsummer Eve"] == midsummer - timedelta(days=1)
    all_saints = by_name["All Saints' Day"]
    assert all_saints.weekday() == 5
    assert date(year, 10, 31) <= all_saints <= date(year, 11, 6)
    assert all(day.year == year for day in finnish_public_holidays(year))


# --------------------------------------------------------------------------------------------------------------
# parse_intervals


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("08:00-16:00", ((480, 960),)),
        ("08:00-12:00, 13:00-16:00", ((480, 720), (780, 960))),
        ("13:00-16:00,08:00-12:00", ((480, 720), (780, 960))),
        ("08:00-12:00, 12:00-16:00", ((480, 960),)),  # touching periods are one period
        ("  8:15 \u2013 16:45 ", ((495, 1005),)),
        ("20:00-24:00", ((1200, 1440),)),
        ("00:00-24:00", ((0, 1440),)),
        ("closed", ()),
        (" Closed ", ()),
        ("always", ((0, 1440),)),
        ("ALWAYS", ((0, 1440),)),
    ],
)
def test_parse_intervals(text: str, intervals: Intervals) -> None:
    assert parse_intervals(text) == intervals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8-16", "'8-16' is not HH:MM-HH:MM"),
        ("08:00", "'08:00' is not HH:MM-HH:MM"),
        ("08.00-16.00", "'08.00-16.00' is not HH:MM-HH:MM"),
        ("08:00-12:00, noon-16:00", "'noon-16:00' is not HH:MM-HH:MM"),
        ("08:00-25:00", "'08:00-25:00': hour 25 is past 24"),
        ("08:00-16:60", "'08:00-16:60': minute 60 is past 59"),
        ("20:00-24:30", "'20:00-24:30': 24:30 is past 24:00"),
        ("08:00-08:00", "'08:00-08:00' is empty: it ends when it starts"),
        ("22:00-06:00", "'22:00-06:00' ends before it starts; split hours past midnight at 24:00"),
        ("08:00-12:00, 11:00-16:00", "'08:00-12:00' and '11:00-16:00' overlap"),
        ("08:00-16:00,", "'08:00-16:00,' has an empty part between commas"),
        ("", "no hours given; write 'closed' for a closed day"),
        ("   ", "no hours given; write 'closed' for a closed day"),
    ],
)
def test_parse_intervals_refuses_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(HoursError) as raised:
        parse_intervals(text)
    assert str(raised.value).startswith(message)


def test_parse_intervals_refuses_non_text() -> None:
    with pytest.raises(HoursError, match="expected text such as '08:00-16:00', got int"):
        parse_intervals(8)  # type: ignore[arg-type]


def test_hours_error_is_a_value_error() -> None:
    assert issubclass(HoursError, ValueError)


NEAR_MISSES = st.lists(
    st.sampled_from(["0", "1", "2", "4", "5", "6", "9", ":", "-", "\u2013", ",", " ", "closed", "always", "\u0663"]),
    max_size=25,
).map("".join)


@settings(max_examples=500)
@given(text=st.one_of(st.text(max_size=40), NEAR_MISSES))
def test_parse_intervals_raises_nothing_but_hours_error(text: str) -> None:
    try:
        intervals = parse_intervals(text)
    except HoursError:
        return
    assert list(intervals) == sorted(intervals)
    for start, end in intervals:
        assert 0 <= start < end <= 1440
    for (_, end), (start, _) in pairwise(intervals):
        assert end < start


@st.composite
def day_hours(draw: st.DrawFn) -> Intervals:
    """Valid hours of one day: sorted periods with a gap between each."""
    edges = sorted(draw(st.lists(st.integers(0, 1440), unique=True, max_size=6)))
    edges = edges[: len(edges) // 2 * 2]
    return tuple(zip(edges[::2], edges[1::2], strict=True))


@given(hours=day_hours(), data=st.data())
def test_parse_intervals_reads_what_it_describes(hours: Intervals, data: st.DataObject) -> None:
    written = [f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}" for start, end in hours]
    text = ", ".join(data.draw(st.permutations(written))) or "closed"
    assert parse_intervals(text) == hours


# --------------------------------------------------------------------------------------------------------------
# parse_weekly


def test_weekly_ranges_single_days_and_missing_days() -> None:
    week = parse_weekly({"mon-thu": "08:00-16:00", "fri": "08:00-15:00", "sat": "10:00-14:00"})
    assert week == {
        0: ((480, 960),),
        1: ((480, 960),),
        2: ((480, 960),),
        3: ((480, 960),),
        4: ((480, 900),),
        5: ((600, 840),),
        6: (),
    }


def test_weekly_keys_may_list_days_and_ranges_and_use_full_names() -> None:
    week = parse_weekly({"Mon, wed-fri": "09:00-15:00", "Saturday \u2013 Sunday": "closed", "tue": "12:00-16:00"})
    assert week[0] == week[2] == week[3] == week[4] == ((540, 900),)
    assert week[1] == ((720, 960),)
    assert week[5] == week[6] == ()


def test_weekly_values_may_be_lists_of_periods() -> None:
    week = parse_weekly({"mon-fri": ["08:00-12:00", "13:00-16:00"]})  # type: ignore[dict-item]
    assert week[0] == ((480, 720), (780, 960))


def test_weekly_periods_may_end_at_24() -> None:
    assert parse_weekly({"fri": "20:00-24:00", "sat": "00:00-02:00"})[4] == ((1200, 1440),)


@pytest.mark.parametrize(
    ("spec", "hours"),
    [("always", ((0, 1440),)), (" Always ", ((0, 1440),)), ("closed", ())],
)
def test_the_whole_week_in_one_word(spec: str, hours: Intervals) -> None:
    assert parse_weekly(spec) == dict.fromkeys(range(7), hours)


def test_an_empty_week_is_closed() -> None:
    assert parse_weekly({}) == dict.fromkeys(range(7), ())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"mon-fri": "8-16"}, "mon-fri: '8-16' is not HH:MM-HH:MM"),
        ({"sat": "10:00-25:00"}, "sat: '10:00-25:00': hour 25 is past 24"),
        ({"mon-fri": "08:00-16:00", "tue": "10:00-12:00"}, "tue: tue is given again (already in 'mon-fri')"),
        ({"mon": "08:00-16:00", "Mon": "closed"}, "Mon: mon is given again (already in 'mon')"),
        ({"mon, mon": "08:00-16:00"}, "mon, mon: mon is given twice"),
        ({"fri-mon": "08:00-16:00"}, "fri-mon: 'fri-mon' wraps past Sunday; write it as 'fri-sun' and 'mon'"),
        ({"sat-tue": "08:00-16:00"}, "sat-tue: 'sat-tue' wraps past Sunday; write it as 'sat-sun' and 'mon-tue'"),
        ({"funday": "08:00-16:00"}, "funday: 'funday' is not a day"),
        ({"ma-pe": "08:00-16:00"}, "ma-pe: 'ma-pe' is not a day"),
        ({"mon-wed-fri": "08:00-16:00"}, "mon-wed-fri: 'mon-wed-fri' is not a day"),
        ({"mon,": "08:00-16:00"}, "mon,: '' is not a day"),
        ({"mon": 8}, "mon: expected hours such as '08:00-16:00' or 'closed', got 8"),
        ({"mon": None}, "mon: expected hours such as '08:00-16:00' or 'closed', got None"),
        ({"mon": []}, "mon: expected hours such as '08:00-16:00' or a list of them, got []"),
        ({1: "08:00-16:00"}, "1: a day must be written as text"),
        ("sometimes", "'sometimes' is not 'always' or 'closed'"),
        (["mon"], "expected days with hours such as {mon-fri: 08:00-16:00}, or 'always', got list"),
    ],
)
def test_weekly_refuses_with_the_key_at_fault(spec: object, message: str) -> None:
    with pytest.raises(HoursError) as raised:
        parse_weekly(spec)  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)


# --------------------------------------------------------------------------------------------------------------
# OfficeHours: days


def test_a_public_holiday_on_a_weekday_is_closed() -> None:
    epiphany = date(2026, 1, 6)  # a Tuesday
    assert WEEKDAY_OFFICE.intervals_on(epiphany) == ()
    assert not WEEKDAY_OFFICE.is_working_day(epiphany)
    assert not WEEKDAY_OFFICE.is_open(helsinki(2026, 1, 6, 10, 0))
    assert WEEKDAY_OFFICE.is_open(helsinki(2026, 1, 7, 10, 0))
    assert WEEKDAY_OFFICE.next_opening(helsinki(2026, 1, 6, 10, 0)) == helsinki(2026, 1, 7, 8, 0)


def test_may_day_friday_closes_a_long_weekend() -> None:
    assert not WEEKDAY_OFFICE.is_open(helsinki(2026, 5, 1, 9, 0))
    assert WEEKDAY_OFFICE.next_opening(helsinki(2026, 4, 30, 16, 0)) == helsinki(2026, 5, 4, 8, 0)


def test_eves_are_closed_with_the_finnish_calendar() -> None:
    assert not WEEKDAY_OFFICE.is_working_day(date(2026, 6, 19))  # Midsummer Eve, a Friday
    assert not WEEKDAY_OFFICE.is_working_day(date(2026, 12, 24))  # Christmas Eve, a Thursday


def test_holidays_none_ignores_the_calendar() -> None:
    hours = office(holidays="none")
    assert hours.is_open(helsinki(2026, 1, 6, 10, 0))
    assert hours.is_working_day(date(2026, 12, 24))


def test_special_hours_reopen_a_holiday_and_override_a_normal_day() -> None:
    hours = office(special_hours={date(2026, 1, 6): "10:00-14:00", "2026-01-07": "closed", "2026-01-10": "09:00-12:00"})
    assert hours.intervals_on(date(2026, 1, 6)) == ((600, 840),)
    assert hours.is_open(helsinki(2026, 1, 6, 13, 59))
    assert not hours.is_open(helsinki(2026, 1, 6, 14, 0))
    assert not hours.is_working_day(date(2026, 1, 7))  # a Wednesday closed by its own hours
    assert hours.is_open(helsinki(2026, 1, 10, 9, 30))  # a Saturday opened by its own hours


def test_special_hours_win_over_closed_dates() -> None:
    hours = office(closed_dates=[date(2026, 1, 8)], special_hours={date(2026, 1, 8): "12:00-13:00"})
    assert hours.intervals_on(date(2026, 1, 8)) == ((720, 780),)


def test_closed_dates_close_a_working_day() -> None:
    hours = office(closed_dates=[date(2026, 12, 23), "2026-12-30"])
    assert not hours.is_working_day(date(2026, 12, 23))
    assert not hours.is_open(helsinki(2026, 12, 30, 9, 0))
    assert hours.is_open(helsinki(2026, 12, 29, 9, 0))
    assert hours.next_opening(helsinki(2026, 12, 22, 17, 0)) == helsinki(2026, 12, 28, 8, 0)


def test_days_must_be_dates_not_datetimes() -> None:
    with pytest.raises(TypeError, match="expected a date"):
        WEEKDAY_OFFICE.intervals_on(datetime(2026, 1, 6, 10, 0))


# --------------------------------------------------------------------------------------------------------------
# OfficeHours: working days


def test_one_working_day_after_the_day_before_christmas_eve_is_the_monday_after() -> None:
    # Thu 24 Dec 2026 Christmas Eve, Fri 25 Christmas Day, Sat 26 St Stephen's Day, Sun 27.
    assert WEEKDAY_OFFICE.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    assert WEEKDAY_OFFICE.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert WEEKDAY_OFFICE.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)  # skips New Year's Day


def test_working_days_over_easter_2026() -> None:
    # Fri 3 Apr Good Friday, Sun 5 Easter Sunday, Mon 6 Easter Monday.
    assert WEEKDAY_OFFICE.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    # "Answered within five working days" from Monday 30 March: 31, 1, 2, 7, 8 April.
    assert WEEKDAY_OFFICE.add_working_days(date(2026, 3, 30), 5) == date(2026, 4, 8)


def test_zero_working_days_is_the_start_even_on_a_holiday() -> None:
    assert WEEKDAY_OFFICE.add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 25)


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        WEEKDAY_OFFICE.add_working_days(date(2026, 1, 5), -1)


def test_no_working_day_ever_is_an_error_not_a_hang() -> None:
    with pytest.raises(ValueError, match=f"no working day within {HORIZON_DAYS} days"):
        parse_office_hours("closed", HELSINKI).add_working_days(date(2026, 1, 5), 1)


def test_a_single_special_date_is_a_working_day_in_closed_weeks() -> None:
    hours = office({}, special_hours={"2026-06-01": "10:00-11:00"})
    assert hours.add_working_days(date(2026, 1, 1), 1) == date(2026, 6, 1)


# --------------------------------------------------------------------------------------------------------------
# OfficeHours: moments


def test_open_from_the_first_minute_until_before_the_last() -> None:
    assert not WEEKDAY_OFFICE.is_open(helsinki(2026, 1, 5, 7, 59, 59, 999999))
    assert WEEKDAY_OFFICE.is_open(helsinki(2026, 1, 5, 8, 0))
    assert WEEKDAY_OFFICE.is_open(helsinki(2026, 1, 5, 15, 59, 59, 999999))
    assert not WEEKDAY_OFFICE.is_open(helsinki(2026, 1, 5, 16, 0))


def test_moments_in_other_zones_are_converted() -> None:
    assert WEEKDAY_OFFICE.is_open(datetime(2026, 1, 5, 6, 0, tzinfo=UTC))  # 08:00 in Helsinki (EET)
    assert not WEEKDAY_OFFICE.is_open(datetime(2026, 1, 5, 5, 59, tzinfo=UTC))
    opening = WEEKDAY_OFFICE.next_opening(datetime(2026, 1, 5, 4, 0, tzinfo=UTC))
    assert opening == helsinki(2026, 1, 5, 8, 0)
    assert opening is not None
    assert opening.tzinfo is HELSINKI


def test_naive_moments_are_refused() -> None:
    naive = datetime(2026, 1, 5, 10, 0)
    for method in (WEEKDAY_OFFICE.is_open, WEEKDAY_OFFICE.next_opening, WEEKDAY_OFFICE.closing):
        with pytest.raises(ValueError, match="must be timezone-aware"):
            method(naive)


def test_next_opening_is_now_when_open() -> None:
    now = datetime(2026, 1, 5, 10, 17, 3, 5, tzinfo=UTC)
    assert WEEKDAY_OFFICE.next_opening(now) == now
    assert WEEKDAY_OFFICE.next_opening(now).tzinfo is HELSINKI  # type: ignore[union-attr]


def test_next_opening_after_hours_and_over_the_weekend() -> None:
    assert WEEKDAY_OFFICE.next_opening(helsinki(2026, 1, 5, 16, 0)) == helsinki(2026, 1, 7, 8, 0)  # Tue is Epiphany
    assert WEEKDAY_OFFICE.next_opening(helsinki(2026, 1, 9, 17, 0)) == helsinki(2026, 1, 12, 8, 0)
    lunch = office("08:00-12:00, 13:00-16:00")
    assert lunch.next_opening(helsinki(2026, 1, 5, 12, 30)) == helsinki(2026, 1, 5, 13, 0)


def test_next_opening_is_none_when_never_open_within_the_horizon() -> None:
    assert parse_office_hours("closed", HELSINKI).next_opening(helsinki(2026, 1, 5, 10, 0)) is None
    far = office({}, special_hours={"2027-03-01": "10:00-11:00"})
    assert far.next_opening(helsinki(2026, 1, 5, 10, 0)) is None  # 420 days ahead
    assert far.next_opening(helsinki(2026, 3, 1, 10, 0)) == helsinki(2027, 3, 1, 10, 0)


def test_closing_ends_the_current_period() -> None:
    assert WEEKDAY_OFFICE.closing(helsinki(2026, 1, 5, 10, 0)) == helsinki(2026, 1, 5, 16, 0)
    assert WEEKDAY_OFFICE.closing(helsinki(2026, 1, 5, 16, 0)) is None
    lunch = office("08:00-12:00, 13:00-16:00")
    assert lunch.closing(helsinki(2026, 1, 5, 8, 0)) == helsinki(2026, 1, 5, 12, 0)


def test_closing_follows_a_24_00_end_into_the_next_morning() -> None:
    night = office({"fri": "20:00-24:00", "sat": "00:00-02:00"})
    assert night.closing(helsinki(2026, 1, 9, 21, 0)) == helsinki(2026, 1, 10, 2, 0)
    round_the_clock_weekdays = office("00:00-24:00")
    assert round_the_clock_weekdays.closing(helsinki(2026, 1, 7, 3, 0)) == helsinki(2026, 1, 10, 0, 0)


def test_closing_of_24_7_hours_is_none_because_they_never_close() -> None:
    always = OfficeHours.always(HELSINKI)
    assert always.is_open(helsinki(2026, 12, 24, 23, 0))
    assert always.closing(helsinki(2026, 12, 24, 23, 0)) is None


# --------------------------------------------------------------------------------------------------------------
# Daylight saving time (Europe/Helsinki: last Sunday of March and October at 03:00 local)


def test_sunday_morning_of_the_spring_change_is_in_summer_time() -> None:
    sunday = office({"sun": "08:00-16:00"}, holidays="none")
    assert sunday.is_open(helsinki(2026, 3, 29, 8, 30))
    assert sunday.is_open(datetime(2026, 3, 29, 5, 0, tzinfo=UTC))  # 08:00 EEST
    assert not sunday.is_open(datetime(2026, 3, 29, 4, 59, tzinfo=UTC))  # 07:59 EEST, 06:59 by winter time
    assert sunday.next_opening(helsinki(2026, 3, 29, 1, 0)) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert sunday.closing(helsinki(2026, 3, 29, 8, 30)) == datetime(2026, 3, 29, 13, 0, tzinfo=UTC)


def test_always_open_stays_open_through_the_spring_forward_night() -> None:
    always = parse_office_hours({"weekly": "always"}, HELSINKI)
    assert always.is_open(helsinki(2026, 3, 29, 8, 30))
    moment = SPRING_FORWARD_2026 - timedelta(hours=3)
    while moment < SPRING_FORWARD_2026 + timedelta(hours=3):
        assert always.is_open(moment)
        assert always.next_opening(moment) == moment
        moment += MINUTE


def test_an_opening_at_a_skipped_wall_time_happens_at_the_jump() -> None:
    # 03:30 does not exist on 29 March 2026: the clock goes from 02:59:59 EET to 04:00:00 EEST.
    hours = office({"sun": "03:30-05:00"})
    assert not hours.is_open(SPRING_FORWARD_2026 - timedelta(microseconds=1))
    assert hours.is_open(SPRING_FORWARD_2026)
    opening = hours.next_opening(helsinki(2026, 3, 29, 2, 0))
    assert opening == SPRING_FORWARD_2026
    assert opening is not None
    assert (opening.hour, opening.minute, opening.utcoffset()) == (4, 0, timedelta(hours=3))
    assert hours.closing(opening) == helsinki(2026, 3, 29, 5, 0)


def test_overnight_hours_across_the_spring_forward_night() -> None:
    night = office({"sat": "22:00-24:00", "sun": "00:00-06:00"}, holidays="none")
    closing = night.closing(helsinki(2026, 3, 28, 23, 0))
    assert closing == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # 06:00 EEST: seven hours later, not eight
    assert closing is not None
    assert closing.hour == 6


def test_a_repeated_wall_time_is_open_in_both_passes_on_the_fall_back_night() -> None:
    # 25 October 2026: 03:00-04:00 EEST (00:00-01:00 UTC) is followed by 03:00-04:00 EET (01:00-02:00 UTC).
    hours = office({"sun": "03:00-03:30"}, holidays="none")
    first_pass, second_pass = datetime(2026, 10, 25, 0, 0, tzinfo=UTC), FALL_BACK_2026
    assert hours.is_open(first_pass)
    assert utc(hours.closing(first_pass)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert not hours.is_open(datetime(2026, 10, 25, 0, 45, tzinfo=UTC))
    opening = hours.next_opening(datetime(2026, 10, 25, 0, 45, tzinfo=UTC))
    assert utc(opening) == second_pass
    assert opening is not None
    assert (opening.hour, opening.minute, opening.fold, opening.utcoffset()) == (3, 0, 1, timedelta(hours=2))
    assert utc(hours.closing(second_pass + timedelta(minutes=10))) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert hours.next_opening(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == helsinki(2026, 11, 1, 3, 0)


def test_a_period_around_the_fall_back_lasts_an_hour_longer() -> None:
    night = office({"sun": "02:00-05:00"}, holidays="none")
    opening = night.next_opening(helsinki(2026, 10, 24, 12, 0))
    closing = night.closing(helsinki(2026, 10, 25, 2, 30))
    assert opening == helsinki(2026, 10, 25, 2, 0)
    assert closing == helsinki(2026, 10, 25, 5, 0)
    assert closing is not None
    assert opening is not None
    assert closing.astimezone(UTC) - opening.astimezone(UTC) == timedelta(hours=4)


# --------------------------------------------------------------------------------------------------------------
# Properties of next_opening, closing and add_working_days

SAMPLE_DATES = [date(2026, 1, 6), date(2026, 3, 29), date(2026, 4, 3), date(2026, 10, 25), date(2026, 12, 24)]


@st.composite
def any_office_hours(draw: st.DrawFn) -> OfficeHours:
    """Random weekly hours with a random calendar, closed dates and special hours around awkward dates."""
    weekly = dict(enumerate(draw(st.lists(day_hours(), min_size=7, max_size=7))))
    closed = draw(st.frozensets(st.sampled_from(SAMPLE_DATES)))
    special = draw(st.dictionaries(st.sampled_from(SAMPLE_DATES), day_hours(), max_size=2))
    holidays = draw(st.sampled_from(["finland", "none"]))
    return OfficeHours(weekly=weekly, zone=HELSINKI, holidays=holidays, closed_dates=closed, special_hours=special)


def _near(instant: datetime) -> st.SearchStrategy[datetime]:
    return st.integers(-30 * 3600, 30 * 3600).map(lambda seconds: instant + timedelta(seconds=seconds))


MOMENTS = st.one_of(
    st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31)).map(
        lambda moment: moment.replace(tzinfo=UTC)
    ),
    _near(SPRING_FORWARD_2026),
    _near(FALL_BACK_2026),
)


def _minutes_between(start: datetime, end: datetime, limit: timedelta) -> list[datetime]:
    """Minute steps from ``start`` up to ``end`` (exclusive): all of them if the span is short, else both ends."""
    if end - start <= limit:
        count = int((end - start) / MINUTE) + 1
        return [start + step * MINUTE for step in range(count) if start + step * MINUTE < end]
    half = int(limit / MINUTE) // 2
    return [start + step * MINUTE for step in range(half)] + [end - (step + 1) * MINUTE for step in range(half)]


@settings(max_examples=150, deadline=None)
@given(hours=any_office_hours(), at=MOMENTS)
def test_next_opening_is_open_and_nothing_earlier_is(hours: OfficeHours, at: datetime) -> None:
    opening = hours.next_opening(at)
    if opening is None:
        assert not any(hours.is_open(at + step * 10 * MINUTE) for step in range(3 * 144))
        # A day whose only hours fall in the hour skipped by the spring change is never open.
        later_days = (at.date() + timedelta(days=offset) for offset in range(2, 360))
        assert not any(hours.is_working_day(day) for day in later_days if day != date(2026, 3, 29))
        return
    assert opening.tzinfo is HELSINKI
    opening = opening.astimezone(UTC)
    assert opening >= at
    assert hours.is_open(opening)
    if opening > at:
        assert not hours.is_open(opening - timedelta(microseconds=1))
    assert not any(hours.is_open(moment) for moment in _minutes_between(at, opening, timedelta(days=2)))


@settings(max_examples=150, deadline=None)
@given(hours=any_office_hours(), at=MOMENTS)
def test_closing_is_the_first_closed_moment(hours: OfficeHours, at: datetime) -> None:
    closing = hours.closing(at)
    if not hours.is_open(at):
        assert closing is None
        return
    if closing is None:  # open for the whole horizon
        assert all(hours.is_open(at + step * 10 * MINUTE) for step in range(3 * 144))
        return
    assert closing.tzinfo is HELSINKI
    closing = closing.astimezone(UTC)
    assert closing > at
    assert not hours.is_open(closing)
    assert hours.is_open(closing - timedelta(microseconds=1))
    assert all(hours.is_open(moment) for moment in _minutes_between(at, closing, timedelta(days=2)))


@settings(max_examples=150, deadline=None)
@given(hours=any_office_hours(), start=st.dates(date(2025, 12, 1), date(2027, 1, 31)), days=st.integers(0, 25))
def test_add_working_days_counts_working_days_and_grows_with_n(hours: OfficeHours, start: date, days: int) -> None:
    try:
        result = hours.add_working_days(start, days)
    except ValueError:
        # Fewer than `days` working days before a gap longer than the horizon.
        assert days > 0
        ahead = range(1, days * (HORIZON_DAYS + 1) + 1)
        assert sum(hours.is_working_day(start + timedelta(days=offset)) for offset in ahead) < days
        return
    if days == 0:
        assert result == start
    else:
        assert hours.is_working_day(result)
        assert result > start
    span = range(1, (result - start).days + 1)
    assert sum(hours.is_working_day(start + timedelta(days=offset)) for offset in span) == days
    try:
        following = hours.add_working_days(start, days + 1)
    except ValueError:
        assert not any(hours.is_working_day(result + timedelta(days=offset)) for offset in range(1, HORIZON_DAYS + 1))
    else:
        assert following > result


# --------------------------------------------------------------------------------------------------------------
# describe


@pytest.mark.parametrize(
    ("hours", "fi", "sv", "en"),
    [
        (
            WEEKDAY_OFFICE,
            "ma\u2013pe 8.00\u201316.00",
            "m\u00e5n\u2013fre 8.00\u201316.00",
            "Mon\u2013Fri 8:00\u201316:00",
        ),
        (
            office({"mon-thu": "08:00-16:00", "fri": "08:00-15:00", "sat": "10:00-14:00"}),
            "ma\u2013to 8.00\u201316.00, pe 8.00\u201315.00, la 10.00\u201314.00",
            "m\u00e5n\u2013tor 8.00\u201316.00, fre 8.00\u201315.00, l\u00f6r 10.00\u201314.00",
            "Mon\u2013Thu 8:00\u201316:00, Fri 8:00\u201315:00, Sat 10:00\u201314:00",
        ),
        (
            office("08:30-12:00, 13:00-15:45"),
            "ma\u2013pe 8.30\u201312.00 ja 13.00\u201315.45",
            "m\u00e5n\u2013fre 8.30\u201312.00 och 13.00\u201315.45",
            "Mon\u2013Fri 8:30\u201312:00 and 13:00\u201315:45",
        ),
        (
            office({"mon": "09:00-11:00", "wed": "09:00-11:00"}),
            "ma 9.00\u201311.00, ke 9.00\u201311.00",
            "m\u00e5n 9.00\u201311.00, ons 9.00\u201311.00",
            "Mon 9:00\u201311:00, Wed 9:00\u201311:00",
        ),
        (
            office({"mon-fri": "always", "sat-sun": "10:00-24:00"}),
            "ma\u2013pe ympäri vuorokauden, la\u2013su 10.00\u201324.00",
            "m\u00e5n\u2013fre dygnet runt, l\u00f6r\u2013s\u00f6n 10.00\u201324.00",
            "Mon\u2013Fri around the clock, Sat\u2013Sun 10:00\u201324:00",
        ),
        (
            office({"mon-sun": "07:00-21:00"}),
            "joka päivä 7.00\u201321.00",
            "alla dagar 7.00\u201321.00",
            "every day 7:00\u201321:00",
        ),
        (
            OfficeHours.always(HELSINKI),
            "joka päivä ympäri vuorokauden",
            "alla dagar dygnet runt",
            "every day, around the clock",
        ),
        (parse_office_hours("closed", HELSINKI), "suljettu", "stängt", "closed"),
    ],
)
def test_describe_in_three_languages(hours: OfficeHours, fi: str, sv: str, en: str) -> None:
    assert hours.describe("fi") == fi
    assert hours.describe("sv") == sv
    assert hours.describe("en") == en


def test_describe_refuses_other_languages() -> None:
    with pytest.raises(ValueError, match="cannot describe hours in 'de'"):
        WEEKDAY_OFFICE.describe("de")


def test_only_a_team_that_never_opens_has_no_weekly_hours() -> None:
    assert WEEKDAY_OFFICE.has_weekly_hours
    assert office({"sat": "10:00-14:00"}).has_weekly_hours
    assert OfficeHours.always(HELSINKI).has_weekly_hours
    assert not parse_office_hours("closed", HELSINKI).has_weekly_hours
    # Special hours are exceptions the service announces separately, not a week (as in describe).
    one_date = {"weekly": "closed", "special_hours": {"2026-12-01": "10:00-12:00"}}
    assert not parse_office_hours(one_date, HELSINKI).has_weekly_hours


# --------------------------------------------------------------------------------------------------------------
# parse_office_hours and construction

CONFIG_YAML = """
hours:
  weekly: {mon-fri: "08:00-16:00"}
  holidays: finland
  closed_dates: [2026-12-23, "2026-12-30"]
  special_hours: {2026-12-31: "08:00-12:00", "2026-01-06": "10:00-12:00"}
"""


def test_the_config_form_as_yaml_reads_it() -> None:
    raw = yaml.safe_load(CONFIG_YAML)["hours"]
    hours = parse_office_hours(raw, HELSINKI)
    assert hours.weekly[0] == ((480, 960),)
    assert hours.weekly[5] == ()
    assert hours.holidays == "finland"
    assert hours.closed_dates == frozenset({date(2026, 12, 23), date(2026, 12, 30)})
    assert dict(hours.special_hours) == {date(2026, 1, 6): ((600, 720),), date(2026, 12, 31): ((480, 720),)}
    assert hours.zone is HELSINKI


def test_always_is_24_7_including_holidays() -> None:
    hours = parse_office_hours("always", HELSINKI)
    assert hours == OfficeHours.always(HELSINKI)
    assert hours.is_open(helsinki(2026, 12, 25, 3, 0))
    assert hours.is_working_day(date(2026, 12, 25))


def test_weekly_always_defaults_to_no_holidays_unless_told() -> None:
    assert parse_office_hours({"weekly": "always"}, HELSINKI).holidays == "none"
    assert parse_office_hours({"weekly": "always", "holidays": "finland"}, HELSINKI).holidays == "finland"
    assert parse_office_hours({"weekly": {"mon-fri": "08:00-16:00"}}, HELSINKI).holidays == "finland"


@pytest.mark.parametrize("value", ["none", "None", None, False])
def test_holidays_none_in_its_yaml_spellings(value: object) -> None:
    assert parse_office_hours({"weekly": {}, "holidays": value}, HELSINKI).holidays == "none"


def test_missing_hours_use_the_defaults_or_are_refused() -> None:
    assert parse_office_hours(None, HELSINKI, defaults=WEEKDAY_OFFICE) is WEEKDAY_OFFICE
    with pytest.raises(HoursError, match=r"^hours: missing$"):
        parse_office_hours(None, HELSINKI)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"weekly": {"mon-fri": "8-16"}}, "hours.weekly.mon-fri: '8-16' is not HH:MM-HH:MM"),
        ({"weekly": "sometimes"}, "hours.weekly: 'sometimes' is not 'always' or 'closed'"),
        ({"holidays": "finland"}, "hours.weekly: missing"),
        ({"weekly": {}, "holiday": "finland"}, "hours.holiday: unknown key"),
        ({"weekly": {}, "holidays": "sweden"}, "hours.holidays: 'sweden' is not one of finland, none"),
        ({"weekly": {}, "closed_dates": "2026-12-23"}, "hours.closed_dates: expected a list of dates"),
        ({"weekly": {}, "closed_dates": [date(2026, 1, 2), "23.12.2026"]}, "hours.closed_dates[1]: '23.12.2026' is"),
        ({"weekly": {}, "closed_dates": ["2026-02-30"]}, "hours.closed_dates[0]: '2026-02-30' is not a date"),
        ({"weekly": {}, "closed_dates": [datetime(2026, 12, 23, 8)]}, "hours.closed_dates[0]: 2026-12-23T08:00:00 has"),
        ({"weekly": {}, "special_hours": {"2026-12-31": "8-12"}}, "hours.special_hours.2026-12-31: '8-12' is not"),
        ({"weekly": {}, "special_hours": {"new year": "closed"}}, "hours.special_hours.new year: 'new year' is not"),
        (
            {"weekly": {}, "special_hours": {"2026-12-31": "closed", date(2026, 12, 31): "closed"}},
            "hours.special_hours.2026-12-31: given twice",
        ),
        ({"weekly": {}, "special_hours": ["2026-12-31"]}, "hours.special_hours: expected dates with hours"),
        ("sometimes", "hours: 'sometimes' is not 'always' or 'closed'"),
        (["weekly"], "hours: expected a mapping"),
    ],
)
def test_config_errors_name_the_bad_key(raw: object, message: str) -> None:
    with pytest.raises(HoursError) as raised:
        parse_office_hours(raw, HELSINKI)  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"weekly": {7: ()}}, "weekly: 7 is not a weekday number"),
        ({"weekly": {0: ((960, 480),)}}, "weekly.mon: (960, 480) is not within"),
        ({"weekly": {0: ((480, 720), (700, 960))}}, "weekly.mon: (700, 960) overlaps"),
        ({"weekly": {}, "holidays": "sweden"}, "holidays: 'sweden' is not one of finland, none"),
        ({"weekly": {}, "closed_dates": frozenset({"2026-01-01"})}, "closed_dates: expected a date"),
        ({"weekly": {}, "special_hours": {date(2026, 1, 1): "closed"}}, "special_hours.2026-01-01: expected"),
    ],
)
def test_office_hours_built_by_hand_are_validated(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(HoursError) as raised:
        OfficeHours(zone=HELSINKI, **arguments)  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)


def test_office_hours_are_frozen_values() -> None:
    first = OfficeHours(weekly={0: [(480, 960)]}, zone=HELSINKI)  # type: ignore[dict-item]
    second = office({"mon": "08:00-16:00"})
    assert first == second
    assert hash(first) == hash(second)
    assert first.weekly[6] == ()
    with pytest.raises(TypeError):
        first.weekly[0] = ()  # type: ignore[index]
