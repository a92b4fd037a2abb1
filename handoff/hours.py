"""Office hours, Finnish public holidays and working-day arithmetic for the handoff teams.

A team is only worth offering to a citizen while a person is there to answer, and a message left outside
office hours needs an honest promise ("we answer by Wednesday 8 April"). This module answers three questions
for the handoff service: is the team open now, when does it open next, and which date is *n* working days
away. It is pure standard library so that it can be tested exhaustively and reused anywhere.

Hours are wall-clock times in the team's time zone, kept as minutes since midnight (``(480, 960)`` is
08:00-16:00; an end of 1440 is 24:00). Whether a moment is open is decided by its local wall-clock time, so
daylight saving time needs no special cases in configuration: on the spring-forward night a period that
starts at a time that does not exist (03:30 in Helsinki) opens at the first moment after the jump, and on
the fall-back night the repeated hour is open in both of its passes if its wall time is.
"""

from __future__ import annotations

import functools
import heapq
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, Final, NamedTuple, TypeAlias
from zoneinfo import ZoneInfo

from nlu.errors import NeuvoError

#: One opening period of a day: minutes since local midnight, start inclusive, end exclusive (end may be 1440).
Interval: TypeAlias = tuple[int, int]
#: A day's opening periods, sorted and not overlapping; ``()`` is a closed day.
Intervals: TypeAlias = tuple[Interval, ...]

MINUTES_PER_DAY: Final = 1440
#: How far ahead the searches look before they conclude "never": a year and a few days, so that a team
#: that is open once a year (or only on one special date) is still found.
HORIZON_DAYS: Final = 370
#: Accepted values of ``OfficeHours.holidays``.
HOLIDAY_CALENDARS: Final = ("finland", "none")
DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_ALWAYS: Final[Intervals] = ((0, MINUTES_PER_DAY),)
_FULL_DAY_NAMES: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS: Final[Mapping[str, int]] = MappingProxyType(
    {name: number for names in (DAY_NAMES, _FULL_DAY_NAMES) for number, name in enumerate(names)}
)
_TIME_RANGE: Final = re.compile(r"(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})", re.ASCII)
_DAY_RANGE_SEPARATOR: Final = re.compile(r"\s*[-\u2013]\s*")
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_CONFIG_KEYS: Final = ("weekly", "holidays", "closed_dates", "special_hours")
_MICROSECONDS_PER_MINUTE: Final = 60_000_000
_UTC: Final = UTC


class HoursError(NeuvoError, ValueError):
    """Office hours in the configuration cannot be used; the message says where and what is wrong.

    It is a ``ValueError`` (bad value) and a ``NeuvoError`` (so callers can catch every deliberate Neuvo error).
    """


# --------------------------------------------------------------------------------------------------------------
# Parsing


def parse_intervals(text: str) -> Intervals:
    """Parse one day's hours: ``"08:00-16:00"``, ``"08:00-12:00, 13:00-16:00"``, ``"closed"`` or ``"always"``.

    Overnight periods are refused rather than guessed: "22:00-06:00" belongs to two days, so it is written as
    "22:00-24:00" on one day and "00:00-06:00" on the next (``OfficeHours.closing`` treats them as one period).
    Periods that touch ("08:00-12:00, 12:00-16:00") are merged into one.

    Args:
        text: The hours as written in the configuration; case and surrounding spaces do not matter, and an
            en dash may stand for the hyphen.

    Returns:
        Sorted, non-overlapping ``(start, end)`` minutes since midnight; ``()`` for "closed".

    Raises:
        HoursError: The text is not in this form, a time does not exist (hour above 24, minute above 59,
            past 24:00), a period is empty or reversed, or two periods overlap.

    """
    if not isinstance(text, str):
        raise HoursError(f"expected text such as '08:00-16:00', got {type(text).__name__} {text!r}")
    word = text.strip().lower()
    if word == "closed":
        return ()
    if word == "always":
        return _ALWAYS
    if not word:
        raise HoursError("no hours given; write 'closed' for a closed day")
    periods: list[tuple[int, int, str]] = []
    for raw_part in text.split(","):
        part = raw_part.strip()
        if not part:
            raise HoursError(f"{text.strip()!r} has an empty part between commas")
        match = _TIME_RANGE.fullmatch(part)
        if match is None:
            raise HoursError(f"{part!r} is not HH:MM-HH:MM")
        start = _minutes(part, match.group(1), match.group(2))
        end = _minutes(part, match.group(3), match.group(4))
        if end == start:
            raise HoursError(f"{part!r} is empty: it ends when it starts")
        if end < start:
            raise HoursError(
                f"{part!r} ends before it starts; split hours past midnight at 24:00 "
                "(e.g. '22:00-24:00' on one day and '00:00-06:00' on the next)"
            )
        periods.append((start, end, part))
    periods.sort()
    merged: list[Interval] = []
    previous = ""
    for start, end, part in periods:
        if merged and start < merged[-1][1]:
            raise HoursError(f"{previous!r} and {part!r} overlap")
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
        previous = part
    return tuple(merged)


def _minutes(part: str, hours_text: str, minutes_text: str) -> int:
    """Minutes since midnight of one ``HH:MM``, refusing times that do not exist on a clock."""
    hours, minutes = int(hours_text), int(minutes_text)
    if hours > 24:
        raise HoursError(f"{part!r}: hour {hours_text} is past 24")
    if minutes > 59:
        raise HoursError(f"{part!r}: minute {minutes_text} is past 59")
    if hours == 24 and minutes:
        raise HoursError(f"{part!r}: {hours_text}:{minutes_text} is past 24:00")
    return hours * 60 + minutes


def parse_weekly(spec: str | Mapping[str, str]) -> dict[int, Intervals]:
    """Parse a week of hours: ``{"mon-fri": "08:00-16:00", "sat": "10:00-14:00"}``, ``"always"`` or ``"closed"``.

    A key is a day (``mon`` ... ``sun``, or the full English name), a range (``mon-fri``) or a comma-separated
    list of both (``"mon, wed-fri"``). Ranges do not wrap past Sunday, and a day may be given only once, so
    that a typo cannot silently override another line. Days not given are closed. A value may also be a list
    of period strings, which YAML authors sometimes prefer to a comma-separated string.

    Args:
        spec: The ``weekly`` value of a team's hours.

    Returns:
        Hours for all seven days, keyed by weekday number (0 is Monday, as ``date.weekday()``).

    Raises:
        HoursError: Naming the key at fault, e.g. ``"mon-fri: '8-16' is not HH:MM-HH:MM"``.

    """
    return _parse_weekly(spec, "")


def _parse_weekly(spec: object, where: str) -> dict[int, Intervals]:
    """Parse a week of hours; ``where`` is the location prefixed to messages (empty at the top level)."""
    if isinstance(spec, str):
        word = spec.strip().lower()
        if word == "always":
            return dict.fromkeys(range(7), _ALWAYS)
        if word == "closed":
            return dict.fromkeys(range(7), ())
        raise HoursError(
            f"{_at(where)}{spec!r} is not 'always' or 'closed'; give days with hours such as {{mon-fri: 08:00-16:00}}"
        )
    if not isinstance(spec, Mapping):
        raise HoursError(
            f"{_at(where)}expected days with hours such as {{mon-fri: 08:00-16:00}}, or 'always', "
            f"got {type(spec).__name__}"
        )
    week: dict[int, Intervals] = {}
    given_by: dict[int, str] = {}
    for key, value in spec.items():
        if not isinstance(key, str):
            raise HoursError(f"{_at(where)}{key!r}: a day must be written as text such as 'mon' or 'mon-fri'")
        location = f"{where}.{key}" if where else key
        days = _parse_days(key, location)
        intervals = _intervals_from(value, location)
        for day in days:
            if day in given_by:
                earlier = "twice" if given_by[day] == key else f"again (already in {given_by[day]!r})"
                raise HoursError(f"{location}: {DAY_NAMES[day]} is given {earlier}")
            given_by[day] = key
            week[day] = intervals
    return {day: week.get(day, ()) for day in range(7)}


def _at(where: str) -> str:
    """The message prefix for a location, or nothing at the top level."""
    return f"{where}: " if where else ""


def _parse_days(key: str, location: str) -> list[int]:
    """The weekday numbers a key such as ``"mon"``, ``"mon-fri"`` or ``"mon, wed-fri"`` stands for."""
    days: list[int] = []
    for raw_part in key.split(","):
        part = raw_part.strip().lower()
        ends = _DAY_RANGE_SEPARATOR.split(part)
        if not part or len(ends) > 2 or any(end not in _DAY_NUMBERS for end in ends):
            raise HoursError(
                f"{location}: {raw_part.strip()!r} is not a day; use mon, tue, wed, thu, fri, sat, sun "
                "or a range such as mon-fri"
            )
        first, last = _DAY_NUMBERS[ends[0]], _DAY_NUMBERS[ends[-1]]
        if last < first:
            raise HoursError(
                f"{location}: {raw_part.strip()!r} wraps past Sunday; "
                f"write it as '{DAY_NAMES[first]}-sun' and '{'mon' if last == 0 else 'mon-' + DAY_NAMES[last]}'"
            )
        days.extend(range(first, last + 1))
    return days


def _intervals_from(value: object, location: str) -> Intervals:
    """Parse one day's hours given as a string or a list of strings, prefixing errors with ``location``."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value or not all(isinstance(item, str) for item in value):
            raise HoursError(f"{location}: expected hours such as '08:00-16:00' or a list of them, got {value!r}")
        value = ", ".join(value)
    if not isinstance(value, str):
        raise HoursError(f"{location}: expected hours such as '08:00-16:00' or 'closed', got {value!r}")
    try:
        return parse_intervals(value)
    except HoursError as error:
        raise HoursError(f"{location}: {error}") from None


def _checked_intervals(value: object, location: str) -> Intervals:
    """Validate hours given directly as minute pairs, so a hand-built ``OfficeHours`` cannot be inconsistent."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise HoursError(f"{location}: expected (start, end) minute pairs, got {value!r}")
    result: list[Interval] = []
    for pair in value:
        if (
            not isinstance(pair, Sequence)
            or len(pair) != 2
            or not all(isinstance(number, int) and not isinstance(number, bool) for number in pair)
        ):
            raise HoursError(f"{location}: {pair!r} is not a (start, end) pair of minutes")
        start, end = pair
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise HoursError(f"{location}: {pair!r} is not within 0 <= start < end <= {MINUTES_PER_DAY}")
        if result and start < result[-1][1]:
            raise HoursError(f"{location}: {pair!r} overlaps or precedes {result[-1]!r}; sort the periods")
        result.append((start, end))
    return tuple(result)


# --------------------------------------------------------------------------------------------------------------
# Finnish public holidays


def easter_sunday(year: int) -> date:
    """Easter Sunday of a year by the Gregorian computus (the "anonymous Gregorian algorithm", Meeus/Jones/Butcher).

    Finland's movable holidays (Good Friday, Easter Monday, Ascension Day, Whit Sunday) all hang on this date.
    """
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century - (century + 8) // 25 + 1) // 3
    epact = (19 * golden + century - leap_centuries - moon_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday_offset = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    correction = (golden + 11 * epact + 22 * weekday_offset) // 451
    month, day = divmod(epact + weekday_offset - 7 * correction + 114, 31)
    return date(year, month, day + 1)


def _saturday_from(first: date) -> date:
    """The first Saturday on or after ``first``: Midsummer Day and All Saints' Day are defined this way."""
    return first + timedelta(days=(5 - first.weekday()) % 7)


@functools.lru_cache(maxsize=64)
def _holiday_table(year: int) -> tuple[tuple[date, str, bool], ...]:
    """Every day off of a year as (date, name, is_eve), computed once per year because lookups are frequent."""
    easter = easter_sunday(year)
    midsummer = _saturday_from(date(year, 6, 20))
    return (
        (date(year, 1, 1), "New Year's Day", False),
        (date(year, 1, 6), "Epiphany", False),
        (easter - timedelta(days=2), "Good Friday", False),
        (easter, "Easter Sunday", False),
        (easter + timedelta(days=1), "Easter Monday", False),
        (date(year, 5, 1), "May Day", False),
        (easter + timedelta(days=39), "Ascension Day", False),
        (easter + timedelta(days=49), "Whit Sunday", False),
        (midsummer - timedelta(days=1), "Midsummer Eve", True),
        (midsummer, "Midsummer Day", False),
        (_saturday_from(date(year, 10, 31)), "All Saints' Day", False),
        (date(year, 12, 6), "Independence Day", False),
        (date(year, 12, 24), "Christmas Eve", True),
        (date(year, 12, 25), "Christmas Day", False),
        (date(year, 12, 26), "St Stephen's Day", False),
    )


def finnish_public_holidays(year: int, *, include_eves: bool = True) -> dict[date, str]:
    """Finland's public holidays of a year, in date order, with English names.

    The rules are those in force since 1992 (Epiphany and Ascension Day on their own dates again); they are
    applied to every year, so dates before 1992 (and before 1955 for Midsummer and All Saints) are not historical.
    Midsummer Eve and Christmas Eve are not public holidays in law, but offices are closed on them, so they are
    included unless ``include_eves`` is false. When two holidays fall on one date (May Day and Ascension Day in
    2008) the value names both, separated by a comma.

    Args:
        year: The calendar year (1-9999; the Gregorian calendar is used throughout).
        include_eves: Also list Midsummer Eve and Christmas Eve.

    Returns:
        Date to holiday name.

    """
    holidays: dict[date, str] = {}
    for day, name, is_eve in _holiday_table(year):
        if is_eve and not include_eves:
            continue
        holidays[day] = f"{holidays[day]}, {name}" if day in holidays else name
    return dict(sorted(holidays.items()))


@functools.lru_cache(maxsize=64)
def _days_off(year: int) -> frozenset[date]:
    """The dates an office following the Finnish calendar is closed, eves included."""
    return frozenset(day for day, _name, _is_eve in _holiday_table(year))


# --------------------------------------------------------------------------------------------------------------
# Office hours


def _empty_special_hours() -> Mapping[date, Intervals]:
    """The default of ``OfficeHours.special_hours``: no date has hours of its own."""
    return MappingProxyType({})


@dataclass(frozen=True)
class OfficeHours:
    """When a team answers: weekly hours, minus holidays and closed dates, with per-date exceptions.

    The precedence for a date is: its ``special_hours`` entry (which may reopen a holiday or close a day with
    ``()``), then ``closed_dates`` and the holiday calendar (closed), then the weekly hours. The constructor
    validates and freezes its arguments, so an instance can be shared freely between tasks.

    Attributes:
        weekly: Weekday (0 is Monday) to that day's intervals; a missing weekday is closed.
        zone: The time zone the hours are wall-clock times in.
        holidays: ``"finland"`` closes on ``finnish_public_holidays`` (eves included); ``"none"`` ignores them.
        closed_dates: Extra dates the team is closed (e.g. a training day).
        special_hours: Dates with hours of their own, overriding everything else for that date.

    """

    weekly: Mapping[int, Intervals]
    zone: ZoneInfo
    holidays: str = "finland"
    closed_dates: frozenset[date] = frozenset()
    special_hours: Mapping[date, Intervals] = field(default_factory=_empty_special_hours)
    #: Derived: open at every moment, so ``closing`` need not search a year to find no end.
    _always_open: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        if not isinstance(self.zone, tzinfo):
            raise HoursError(f"zone: expected a ZoneInfo, got {type(self.zone).__name__}")
        if self.holidays not in HOLIDAY_CALENDARS:
            raise HoursError(f"holidays: {self.holidays!r} is not one of {', '.join(HOLIDAY_CALENDARS)}")
        if not isinstance(self.weekly, Mapping):
            raise HoursError(f"weekly: expected weekday numbers to intervals, got {type(self.weekly).__name__}")
        for key in self.weekly:
            if key not in range(7) or isinstance(key, bool):
                raise HoursError(f"weekly: {key!r} is not a weekday number 0-6 (0 is Monday)")
        weekly = {day: _checked_intervals(self.weekly.get(day, ()), f"weekly.{DAY_NAMES[day]}") for day in range(7)}
        closed_dates = frozenset(self.closed_dates)
        for day in closed_dates:
            _require_date(day, "closed_dates")
        special: dict[date, Intervals] = {}
        for day, intervals in self.special_hours.items():
            _require_date(day, "special_hours")
            special[day] = _checked_intervals(intervals, f"special_hours.{day.isoformat()}")
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "closed_dates", closed_dates)
        object.__setattr__(self, "special_hours", MappingProxyType(dict(sorted(special.items()))))
        object.__setattr__(
            self,
            "_always_open",
            all(hours == _ALWAYS for hours in weekly.values())
            and self.holidays == "none"
            and not closed_dates
            and all(hours == _ALWAYS for hours in special.values()),
        )

    def __hash__(self) -> int:
        return hash(
            (
                tuple(self.weekly.items()),
                self.zone,
                self.holidays,
                self.closed_dates,
                tuple(self.special_hours.items()),
            )
        )

    @classmethod
    def always(cls, zone: ZoneInfo) -> OfficeHours:
        """Open around the clock every day of the year, holidays included (e.g. a crisis line)."""
        return cls(weekly=dict.fromkeys(range(7), _ALWAYS), zone=zone, holidays="none")

    # -- days ---------------------------------------------------------------------------------------------------

    def intervals_on(self, day: date) -> Intervals:
        """The local hours of one date after special hours, closed dates and holidays are applied.

        Raises:
            TypeError: ``day`` is a ``datetime``; it would silently miss every holiday and closed date.

        """
        _require_date(day, "day", error=TypeError)
        special = self.special_hours.get(day)
        if special is not None:
            return special
        if day in self.closed_dates or (self.holidays == "finland" and day in _days_off(day.year)):
            return ()
        return self.weekly[day.weekday()]

    def is_working_day(self, day: date) -> bool:
        """Whether the team has any opening hours on ``day``: the unit of "answered within n working days"."""
        return bool(self.intervals_on(day))

    def add_working_days(self, start: date, days: int) -> date:
        """The date that is ``days`` working days after ``start``; ``start`` itself is not counted.

        This is how a promise such as "answered within five working days" becomes a date: a message left on
        Wednesday 23 December 2026 with one working day is due on Monday 28 December.

        Args:
            start: The day the clock starts (usually the day the message was left).
            days: How many working days to count; 0 returns ``start`` unchanged.

        Raises:
            ValueError: ``days`` is negative, or a stretch of more than ``HORIZON_DAYS`` days has no working
                day (the hours are never open, so no promise can be made).

        """
        _require_date(start, "start", error=TypeError)
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        current = start
        idle = 0
        while days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                days -= 1
                idle = 0
            else:
                idle += 1
                if idle > HORIZON_DAYS:
                    raise ValueError(f"no working day within {HORIZON_DAYS} days after {current - timedelta(idle)}")
        return current

    # -- moments ------------------------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether the team is open at the moment ``at`` (any time zone; compared as local wall-clock time).

        Raises:
            ValueError: ``at`` is naive; a moment without a zone is ambiguous by up to a day.

        """
        local = _aware(at, "at").astimezone(self.zone)
        moment = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
        return any(
            start * _MICROSECONDS_PER_MINUTE <= moment < end * _MICROSECONDS_PER_MINUTE
            for start, end in self.intervals_on(local.date())
        )

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment at or after ``at`` when the team is open, in the team's zone.

        If the team is open at ``at``, that is ``at`` itself (converted). On the spring-forward night an opening
        at a wall time that does not exist happens at the jump (03:30 on 29 March 2026 in Helsinki opens at
        04:00 EEST).

        Returns:
            An aware datetime in ``self.zone``, or ``None`` if the team does not open within ``HORIZON_DAYS``.
            Compare or subtract it in UTC (``.astimezone(UTC)``): Python does arithmetic between datetimes
            sharing a tzinfo in wall time, and never finds a repeated (fall-back) wall time equal to a moment
            in another zone.

        Raises:
            ValueError: ``at`` is naive.

        """
        moment = _aware(at, "at").astimezone(_UTC)
        if self.is_open(moment):
            return moment.astimezone(self.zone)
        return self._first_change(moment, to_open=True)

    def closing(self, at: datetime) -> datetime | None:
        """When the open period around ``at`` ends, in the team's zone.

        A period ending at 24:00 continues into a period starting at 00:00 the next day ("fri 20:00-24:00" and
        "sat 00:00-02:00" close at 02:00 on Saturday).

        Returns:
            An aware datetime in ``self.zone``; ``None`` if the team is closed at ``at``, and also if it stays
            open for the whole ``HORIZON_DAYS`` ahead (24/7 hours never close) - use ``is_open`` to tell the two
            apart. As with ``next_opening``, compare or subtract it in UTC.

        Raises:
            ValueError: ``at`` is naive.

        """
        moment = _aware(at, "at").astimezone(_UTC)
        if not self.is_open(moment) or self._always_open:
            return None
        return self._first_change(moment, to_open=False)

    def _first_change(self, moment: datetime, *, to_open: bool) -> datetime | None:
        """The first moment after ``moment`` (UTC, in the other state) whose open state is ``to_open``.

        The open state of a moment depends only on its local wall time, which changes state only where the wall
        clock crosses a period's edge or jumps at a zone transition. So the candidates are the instants of
        every period start (or end) - both passes of a repeated wall time, the jump for a skipped one - plus
        every transition instant, checked in time order. A candidate from a later day is never earlier than
        that day's first instant, so candidates before the next day's first instant can be settled while
        scanning day by day.
        """
        limit = moment + timedelta(days=HORIZON_DAYS)
        day = moment.astimezone(self.zone).date()
        if day > date.min:
            day -= timedelta(days=1)  # a fall-back across midnight can take the wall clock to yesterday
        last_day = min(day + timedelta(days=HORIZON_DAYS + 2), date.max - timedelta(days=1))
        pending: list[datetime] = []
        day_start = self._instants(day, 0)[0]
        while day <= last_day:
            next_day_start = self._instants(day + timedelta(days=1), 0)[0]
            for start, end in self.intervals_on(day):
                for instant in self._instants(day, start if to_open else end):
                    heapq.heappush(pending, instant)
            if self._offset(day_start) != self._offset(next_day_start):
                heapq.heappush(pending, self._transition(day_start, next_day_start))
            while pending and pending[0] < next_day_start:
                candidate = heapq.heappop(pending)
                if candidate > limit:
                    return None
                if candidate > moment and self.is_open(candidate) is to_open:
                    return candidate.astimezone(self.zone)
            day += timedelta(days=1)
            day_start = next_day_start
        return None

    def _instants(self, day: date, minute: int) -> list[datetime]:
        """The UTC instants whose local wall time is ``minute`` on ``day``, earliest first.

        Usually one; two for a repeated wall time on the fall-back night; for a wall time skipped on the
        spring-forward night, the instant of the jump, the first moment whose wall time is later.
        """
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        wall = datetime.combine(day, time(minute // 60, minute % 60))
        first = wall.replace(tzinfo=self.zone, fold=0).astimezone(_UTC)
        second = wall.replace(tzinfo=self.zone, fold=1).astimezone(_UTC)
        if first == second:
            return [first]
        if first < second:
            return [first, second]
        # Skipped: fold=0 reads the wall time with the offset before the jump (too late), fold=1 with the one
        # after it (too early); the jump lies between them.
        return [self._transition(second, first)]

    def _offset(self, instant: datetime) -> timedelta | None:
        """The zone's UTC offset at a UTC instant."""
        return instant.astimezone(self.zone).utcoffset()

    def _transition(self, before: datetime, after: datetime) -> datetime:
        """The first whole second after ``before`` with the UTC offset in force at ``after`` (binary search)."""
        target = self._offset(after)
        low, high = 0, int((after - before).total_seconds()) + 1
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(before + timedelta(seconds=middle)) == target:
                high = middle
            else:
                low = middle
        return before + timedelta(seconds=high)

    # -- text ---------------------------------------------------------------------------------------------------

    @property
    def has_weekly_hours(self) -> bool:
        """Whether any weekday has opening hours.

        A team configured ``hours: closed`` has none: it never staffs the chat (``describe`` says just "closed")
        and its advisors only answer left messages. Special hours are exceptions, as in ``describe``.
        """
        return any(self.weekly.values())

    def describe(self, language: str) -> str:
        """The weekly hours as a short phrase for citizens, e.g. "ma-pe 8.00-16.00" or "Mon-Fri 8:00-16:00".

        Ranges are written with en dashes, as each language's style guides ask. Consecutive days with identical
        hours are grouped and closed days are left out. Holidays, closed dates and special hours are not
        described: they are exceptions the service announces separately.

        Args:
            language: ``"fi"``, ``"sv"`` or ``"en"``.

        Raises:
            ValueError: Another language.

        """
        words = _WORDS.get(language)
        if words is None:
            raise ValueError(f"cannot describe hours in {language!r}; use one of {', '.join(_WORDS)}")
        week = [self.weekly[day] for day in range(7)]
        if all(hours == _ALWAYS for hours in week):
            return words.always
        if not any(week):
            return words.closed
        if all(hours == week[0] for hours in week):
            return f"{words.every_day} {_describe_day(week[0], words)}"
        phrases = []
        for first, last, hours in _runs(week):
            days = words.days[first] if first == last else f"{words.days[first]}\u2013{words.days[last]}"
            phrases.append(f"{days} {_describe_day(hours, words)}")
        return ", ".join(phrases)


class _Words(NamedTuple):
    """The vocabulary of ``OfficeHours.describe`` in one language."""

    days: tuple[str, ...]
    time_separator: str
    conjunction: str
    around_the_clock: str
    every_day: str
    always: str
    closed: str


_WORDS: Final[Mapping[str, _Words]] = MappingProxyType(
    {
        "fi": _Words(
            days=("ma", "ti", "ke", "to", "pe", "la", "su"),
            time_separator=".",
            conjunction="ja",
            around_the_clock="ympäri vuorokauden",
            every_day="joka päivä",
            always="joka päivä ympäri vuorokauden",
            closed="suljettu",
        ),
        "sv": _Words(
            days=("mån", "tis", "ons", "tor", "fre", "lör", "sön"),
            time_separator=".",
            conjunction="och",
            around_the_clock="dygnet runt",
            every_day="alla dagar",
            always="alla dagar dygnet runt",
            closed="stängt",
        ),
        "en": _Words(
            days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
            time_separator=":",
            conjunction="and",
            around_the_clock="around the clock",
            every_day="every day",
            always="every day, around the clock",
            closed="closed",
        ),
    }
)


def _runs(week: list[Intervals]) -> Iterator[tuple[int, int, Intervals]]:
    """(first day, last day, hours) for each run of consecutive open days with identical hours."""
    day = 0
    while day < 7:
        if not week[day]:
            day += 1
            continue
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        yield day, last, week[day]
        day = last + 1


def _describe_day(hours: Intervals, words: _Words) -> str:
    """One day's periods in words: "8.00-12.00 ja 13.00-16.00" (with en dashes)."""
    if hours == _ALWAYS:
        return words.around_the_clock
    periods = [f"{_clock(start, words)}\u2013{_clock(end, words)}" for start, end in hours]
    if len(periods) == 1:
        return periods[0]
    return f"{', '.join(periods[:-1])} {words.conjunction} {periods[-1]}"


def _clock(minute: int, words: _Words) -> str:
    """A time of day the way the language writes it: 8.00 in Finnish and Swedish, 8:00 in English."""
    hours, minutes = divmod(minute, 60)
    return f"{hours}{words.time_separator}{minutes:02d}"


def _aware(at: datetime, name: str) -> datetime:
    """Refuse naive datetimes: without a zone the same wall time can be two different moments."""
    if not isinstance(at, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at.isoformat()}")
    return at


def _require_date(day: object, location: str, *, error: type[TypeError] | type[HoursError] = HoursError) -> None:
    """Refuse anything but a plain date; a datetime would never equal the dates it is compared with."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise error(f"{location}: expected a date, got {type(day).__name__} {day!r}")


# --------------------------------------------------------------------------------------------------------------
# Configuration


def parse_office_hours(
    raw: Mapping[str, Any] | str | None, zone: ZoneInfo, *, defaults: OfficeHours | None = None
) -> OfficeHours:
    """Build a team's ``OfficeHours`` from its ``hours:`` value in config.yml.

    The form is::

        hours:
          weekly: {mon-fri: "08:00-16:00"}     # or "always" / "closed"
          holidays: finland                    # or none
          closed_dates: [2026-12-23]           # dates or "YYYY-MM-DD" strings
          special_hours: {2026-12-31: "08:00-12:00"}

    or the single word ``always`` (24/7, holidays included) or ``closed``. ``holidays`` defaults to ``finland``,
    except with ``weekly: always``, where it defaults to ``none``: a 24/7 service does not close for Christmas
    unless it says so.

    Args:
        raw: The parsed YAML value; ``None`` when the team has no ``hours:``.
        zone: The county's time zone.
        defaults: Returned when ``raw`` is ``None``.

    Raises:
        HoursError: Naming the bad key, e.g. ``"hours.weekly.mon-fri: '8-16' is not HH:MM-HH:MM"``.

    """
    if raw is None:
        if defaults is None:
            raise HoursError("hours: missing")
        return defaults
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word == "always":
            return OfficeHours.always(zone)
        if word == "closed":
            return OfficeHours(weekly={}, zone=zone, holidays="none")
        raise HoursError(f"hours: {raw!r} is not 'always' or 'closed'; give a mapping with weekly: and so on")
    if not isinstance(raw, Mapping):
        raise HoursError(f"hours: expected a mapping (weekly: ...) or 'always', got {type(raw).__name__}")
    for key in raw:
        if key not in _CONFIG_KEYS:
            raise HoursError(f"hours.{key}: unknown key; expected {', '.join(_CONFIG_KEYS)}")
    if "weekly" not in raw:
        raise HoursError("hours.weekly: missing; e.g. weekly: {mon-fri: 08:00-16:00}")
    weekly_spec = raw["weekly"]
    weekly = _parse_weekly(weekly_spec, "hours.weekly")
    always_weekly = isinstance(weekly_spec, str) and weekly_spec.strip().lower() == "always"
    holidays = _parse_holiday_calendar(raw.get("holidays", "none" if always_weekly else "finland"))
    closed_dates = frozenset(
        _parse_date(item, f"hours.closed_dates[{index}]")
        for index, item in enumerate(_date_list(raw.get("closed_dates", [])))
    )
    special_hours = _parse_special_hours(raw.get("special_hours", {}))
    return OfficeHours(
        weekly=weekly, zone=zone, holidays=holidays, closed_dates=closed_dates, special_hours=special_hours
    )


def _parse_holiday_calendar(value: object) -> str:
    """``finland`` or ``none``; YAML's null and ``no`` (false) also mean none."""
    if value is None or value is False:
        return "none"
    if isinstance(value, str) and value.strip().lower() in HOLIDAY_CALENDARS:
        return value.strip().lower()
    raise HoursError(f"hours.holidays: {value!r} is not one of {', '.join(HOLIDAY_CALENDARS)}")


def _date_list(value: object) -> Sequence[object]:
    """The ``closed_dates`` list, refusing a lone date so that the list form is the only one to learn."""
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise HoursError(f"hours.closed_dates: expected a list of dates such as [2026-12-23], got {value!r}")
    return value


def _parse_date(value: object, location: str) -> date:
    """A date from YAML: a ``date`` object (unquoted) or a ``"YYYY-MM-DD"`` string (quoted)."""
    if isinstance(value, datetime):
        raise HoursError(f"{location}: {value.isoformat()} has a time of day; give only the date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise HoursError(f"{location}: {value!r} is not a date (YYYY-MM-DD)")


def _parse_special_hours(value: object) -> dict[date, Intervals]:
    """The ``special_hours`` mapping of dates to that date's hours."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise HoursError(
            f"hours.special_hours: expected dates with hours such as {{2026-12-31: 08:00-12:00}}, got {value!r}"
        )
    special: dict[date, Intervals] = {}
    for key, hours in value.items():
        day = _parse_date(key, f"hours.special_hours.{key}")
        location = f"hours.special_hours.{day.isoformat()}"
        if day in special:
            raise HoursError(f"{location}: given twice")
        special[day] = _intervals_from(hours, location)
    return special
