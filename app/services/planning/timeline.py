"""The 排产 page's time axis: working time only (nights, breaks and closed dates take no room).

Pure apart from ``for_today()`` (which reads the plant calendar): the page lays each lane's blocks
out in queue order, each block's gap before it and its length measured in working minutes from the
start of the first day shown, scaled to pixels.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.services.planning import calendar as plant_calendar
from app.utils.timeutil import plant_today, plant_zone

DAYS_SHOWN = 5
PX_PER_HOUR = 60
MIN_BLOCK_PX = 112


@dataclass(frozen=True)
class Day:
    day: date
    working_minutes: int
    width: int  # px


@dataclass(frozen=True)
class Placement:
    gap: int  # px between the previous block's end (or the axis start) and this block
    width: int  # px
    beyond: bool  # starts after the last day shown


class Axis:
    def __init__(self, calendar: plant_calendar.PlantCalendar, first_day: date, count: int = DAYS_SHOWN, zone=None):
        self.calendar = calendar
        self.zone = zone
        found = calendar.working_days(first_day, count) if calendar.has_working_time() else []
        self.days = [Day(d, _day_minutes(calendar, d), round(_day_minutes(calendar, d) * PX_PER_HOUR / 60))
                     for d in found]
        self.start = self.days[0].day if self.days else first_day
        self.end = self.days[-1].day if self.days else first_day
        self.width = sum(d.width for d in self.days)

    def _local(self, moment: datetime) -> datetime:
        if self.zone is None:
            return moment
        return moment.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def offset(self, moment: datetime | None) -> float:
        """Working minutes from the axis start to ``moment`` (naive UTC); 0 before the axis."""
        if moment is None or not self.days:
            return 0.0
        local = self._local(moment)
        total, current = 0.0, self.start
        if local.date() < current:
            return 0.0
        while current < local.date():
            total += _day_minutes(self.calendar, current)
            current += timedelta(days=1)
        minute = local.hour * 60 + local.minute + local.second / 60
        total += sum(max(0.0, min(minute, end) - start) for start, end in self.calendar.windows_on(current))
        return total

    def place(self, blocks) -> list[Placement]:
        """One placement per block (with ``planned_start`` / ``planned_finish``), in their order."""
        placements, cursor = [], 0.0
        for block in blocks:
            start, finish = self.offset(block.planned_start), self.offset(block.planned_finish)
            if block.planned_start is None:
                start = finish = cursor
            gap = max(0.0, start - cursor)
            width = max(MIN_BLOCK_PX, round((finish - start) * PX_PER_HOUR / 60))
            placements.append(Placement(round(gap * PX_PER_HOUR / 60), width,
                                        block.planned_start is not None and self._local(block.planned_start).date() > self.end))
            cursor = max(cursor, finish, start + width * 60 / PX_PER_HOUR)
        return placements


def _day_minutes(calendar, day: date) -> int:
    return sum(end - start for start, end in calendar.windows_on(day))


def for_today(count: int = DAYS_SHOWN) -> Axis:
    """Today and the next working days of the plant calendar, in the plant's time zone."""
    return Axis(plant_calendar.load(), plant_today(), count, plant_zone())
