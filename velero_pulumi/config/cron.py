"""Five-field cron expressions as Velero reads them (UTC), and the longest gap between runs.

Fields: minute, hour, day of month, month, day of week (0-7, both 0 and 7 are Sunday; names
like mon or jan are accepted). Each field takes `*`, numbers, ranges `a-b`, steps `*/n` or
`a-b/n`, and lists. As in Vixie cron and Velero's parser, when both day of month and day of
week are restricted, a day matches if either does.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_DAYS = "sun mon tue wed thu fri sat".split()
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: number for number, name in enumerate(_MONTHS, start=1)}),
    ("day of week", 0, 7, {name: number for number, name in enumerate(_DAYS)}),
)
# Four years hold every combination of weekday, month length and leap day.
_HORIZON_DAYS = 4 * 366 + 7
_EPOCH = dt.date(2024, 1, 1)


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    day_of_month_restricted: bool
    day_of_week_restricted: bool

    def runs_on(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days_of_month
        in_week = (day.isoweekday() % 7) in self.days_of_week
        if self.day_of_month_restricted and self.day_of_week_restricted:
            return in_month or in_week
        return in_month and in_week

    def times_of_day(self) -> list[int]:
        """Minutes after midnight at which it runs on a day it runs."""
        return sorted(hour * 60 + minute for hour in self.hours for minute in self.minutes)

    @functools.cached_property
    def run_days(self) -> tuple[int, ...]:
        """The days (offsets into a four-year horizon) on which it runs."""
        return tuple(offset for offset in range(_HORIZON_DAYS) if self.runs_on(_EPOCH + dt.timedelta(days=offset)))

    def runs_in(self, minutes: float) -> int:
        """How many times it runs in a window of that length, on average over the horizon (rounded down)."""
        runs = len(self.run_days) * len(self.times_of_day())
        return math.floor(Fraction(runs, _HORIZON_DAYS * 1440) * Fraction(minutes).limit_denominator())

    def shares_a_minute_with(self, other: "Cron") -> bool:
        """Whether the two ever run in the same minute."""
        if self.minutes.isdisjoint(other.minutes) or self.hours.isdisjoint(other.hours):
            return False
        return not frozenset(self.run_days).isdisjoint(other.run_days)

    def longest_gap_minutes(self) -> Optional[int]:
        """The longest time between two consecutive runs, or None if it never runs."""
        times = self.times_of_day()
        days = self.run_days
        if not days:
            return None
        within_day = max((later - earlier for earlier, later in zip(times, times[1:])), default=0)
        between_days = max(
            ((later - earlier) * 1440 + times[0] - times[-1] for earlier, later in zip(days, days[1:])),
            default=0,
        )
        return max(within_day, between_days) or None


def _parse_value(text: str, field: str, low: int, high: int, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise CronError(f"{field}: {text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{field}: {value} is outside {low}-{high}")
    return value


def _parse_field(text: str, field: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{field}: step {step_text!r} is not a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _parse_value(first, field, low, high, names)
            end = _parse_value(last, field, low, high, names)
            if start > end:
                raise CronError(f"{field}: range {base!r} runs backwards")
        else:
            start = end = _parse_value(base, field, low, high, names)
            if step_text:
                end = high
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_cron(expression: str) -> Cron:
    if not isinstance(expression, str):
        raise CronError("not a string")
    return _parse(expression)


@functools.lru_cache(maxsize=1024)
def _parse(expression: str) -> Cron:
    """Cached: the catalogue, the plan and its warnings ask for the same expressions again."""
    parts = expression.split()
    if len(parts) != 5:
        raise CronError(f"{len(parts)} fields; five are expected (minute hour day-of-month month day-of-week)")
    fields = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS)]
    days_of_week = frozenset(0 if day == 7 else day for day in fields[4])
    return Cron(
        expression=expression,
        minutes=fields[0],
        hours=fields[1],
        days_of_month=fields[2],
        months=fields[3],
        days_of_week=days_of_week,
        day_of_month_restricted=not parts[2].startswith("*"),
        day_of_week_restricted=not parts[4].startswith("*"),
    )
