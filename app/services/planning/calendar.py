"""The plant calendar (DOMAIN.md §12): working hours per weekday (with breaks such as lunch) and
non-working dates. Every planned time falls inside working hours.

Stored as one settings row (``plant_calendar``, JSON); times are the plant's local wall clock
(app.utils.timeutil.plant_zone). ``PlantCalendar`` is a pure value: the planner and its unit tests
use it without a database.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from flask_babel import lazy_gettext as _l

from app.services.core.errors import Invalid

CALENDAR_KEY = "plant_calendar"
WEEKDAY_LABELS = (_l("星期一"), _l("星期二"), _l("星期三"), _l("星期四"), _l("星期五"), _l("星期六"), _l("星期日"))
# Mon–Sat 08:00–12:00 and 13:00–17:00 (DOMAIN.md §12).
DEFAULT_HOURS = {day: [("08:00", "12:00"), ("13:00", "17:00")] if day < 6 else [] for day in range(7)}
# How far ahead a working minute is looked for before a calendar counts as having none.
MAX_LOOKAHEAD_DAYS = 400
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


@dataclass(frozen=True)
class PlantCalendar:
    """``windows[weekday]``: sorted, non-overlapping (start, end) minutes since midnight; Monday is 0."""

    windows: tuple[tuple[tuple[int, int], ...], ...]
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_hours(cls, hours: dict, closed_dates=()) -> PlantCalendar:
        windows = []
        for day in range(7):
            spans = sorted((_minutes(a), _minutes(b)) for a, b in hours.get(day, hours.get(str(day), [])))
            windows.append(tuple(spans))
        return cls(tuple(windows), frozenset(closed_dates))

    def windows_on(self, day: date) -> tuple[tuple[int, int], ...]:
        if day in self.closed_dates:
            return ()
        return self.windows[day.weekday()]

    def has_working_time(self) -> bool:
        return any(self.windows)

    def next_working(self, moment: datetime) -> datetime | None:
        """The first working instant at or after ``moment`` (the end of a window is not inside it)."""
        found = self._timeline(moment).next_working(moment)
        return self._next_working_day_by_day(moment) if found is _BEYOND else found

    def add_working(self, moment: datetime, seconds: float) -> datetime | None:
        """``moment`` plus ``seconds`` of working time; a span ending exactly at a window's end ends there."""
        found = self._timeline(moment).add_working(moment, seconds)
        return self._add_working_window_by_window(moment, seconds) if found is _BEYOND else found

    def _timeline(self, moment: datetime) -> _Timeline:
        """The working windows from the earliest day asked for on (kept: the planner asks thousands
        of times per plan; and kept for the next replan of an equal calendar, which ``load`` reads
        anew each time — a timeline took 3 ms to build)."""
        timeline = self.__dict__.get("_timeline_cache")
        if timeline is None or moment < timeline.origin:
            key = (self.windows, self.closed_dates)
            timeline = _TIMELINES.get(key)
            if timeline is None or moment < timeline.origin or moment - timeline.origin > _TIMELINE_REUSE:
                if len(_TIMELINES) >= 8:
                    _TIMELINES.clear()
                timeline = _TIMELINES[key] = _Timeline(self, moment.date())
            object.__setattr__(self, "_timeline_cache", timeline)
        return timeline

    def timeline(self, moment: datetime) -> _Timeline | None:
        """The working windows from ``moment``'s day on at least, as working time since an origin
        (the planner's fast path, planner.schedule); None without any working time."""
        timeline = self._timeline(moment)
        return timeline if timeline.starts else None

    def _next_working_day_by_day(self, moment: datetime) -> datetime | None:
        day = moment.date()
        for offset in range(MAX_LOOKAHEAD_DAYS):
            spans = self._spans(day + timedelta(days=offset) if offset else day)
            for start, end in spans:
                if offset == 0:
                    if moment >= end:
                        continue
                    if moment >= start:
                        return moment
                return start
        return None

    def _spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        midnight = datetime.combine(day, time())
        return tuple((midnight + timedelta(minutes=start), midnight + timedelta(minutes=end))
                     for start, end in self.windows_on(day))

    def _add_working_window_by_window(self, moment: datetime, seconds: float) -> datetime | None:
        current = self._next_working_day_by_day(moment)
        if current is None:
            return None
        remaining = seconds
        while True:
            end = self._window_end(current)
            available = (end - current).total_seconds()
            if remaining <= available:
                return current + timedelta(seconds=remaining)
            remaining -= available
            current = self._next_working_day_by_day(end)
            if current is None:
                return None

    def working_days(self, start: date, count: int) -> list[date]:
        """``count`` working days from ``start`` (included when it is one)."""
        days, current = [], start
        for _ in range(MAX_LOOKAHEAD_DAYS):
            if len(days) >= count:
                break
            if self.windows_on(current):
                days.append(current)
            current += timedelta(days=1)
        return days

    def _window_end(self, moment: datetime) -> datetime:
        for start, end in self._spans(moment.date()):
            if start <= moment < end:
                return end
        raise ValueError("not a working instant")  # pragma: no cover - next_working() returned it


_BEYOND = object()  # past the end of a _Timeline: the day-by-day walk answers
# Timelines of the calendars last used (by windows and non-working dates), each reused while its origin
# is at most this far back (the look-ahead from a later day shrinks by as much; past its end the
# day-by-day walk answers, the same but slower).
_TIMELINES: dict[tuple, _Timeline] = {}
_TIMELINE_REUSE = timedelta(days=14)
_MICROSECOND = timedelta(microseconds=1)


class _Timeline:
    """A calendar's working windows over MAX_LOOKAHEAD_DAYS from ``first``, in whole microseconds since
    its midnight, with the working time before each window: the first working instant and a working
    span's end are then a binary search each, exactly as the day-by-day walk finds them."""

    def __init__(self, calendar: PlantCalendar, first: date):
        self.origin = datetime.combine(first, time())
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.worked_before: list[int] = []  # working time before each window
        self.worked_through: list[int] = []  # … and up to its end
        worked = 0
        for offset in range(MAX_LOOKAHEAD_DAYS):
            midnight = offset * 86_400_000_000
            for start, end in calendar.windows_on(first + timedelta(days=offset)):
                self.starts.append(midnight + start * 60_000_000)
                self.ends.append(midnight + end * 60_000_000)
                self.worked_before.append(worked)
                worked += (end - start) * 60_000_000
                self.worked_through.append(worked)
        self.total = worked  # the working time of every window

    def worked_at(self, moment: datetime) -> int | None:
        """The working time (µs) from the origin to ``moment``; None at or past the last window's end."""
        at = (moment - self.origin) // _MICROSECOND
        index = bisect_right(self.ends, at)
        if index == len(self.ends):
            return None
        return self.worked_before[index] + max(0, at - self.starts[index])

    def _window_at_or_after(self, moment: datetime) -> tuple[int, int] | None:
        """(index of the first window ending after ``moment``, the first working instant) or None past the end."""
        at = (moment - self.origin) // _MICROSECOND
        index = bisect_right(self.ends, at)
        if index == len(self.ends):
            return None
        return index, max(at, self.starts[index])

    def next_working(self, moment: datetime):
        found = self._window_at_or_after(moment)
        if found is None:
            return _BEYOND
        return moment if found[1] == (moment - self.origin) // _MICROSECOND else self.origin + found[1] * _MICROSECOND

    def add_working(self, moment: datetime, seconds: float):
        found = self._window_at_or_after(moment)
        if found is None:
            return _BEYOND
        index, current = found
        span = round(seconds * 1_000_000)
        if span < 0:
            return _BEYOND
        if span == 0:
            return self.origin + current * _MICROSECOND
        target = self.worked_before[index] + (current - self.starts[index]) + span
        # The first window whose working time reaches the target (one ending exactly there: that one).
        last = bisect_left(self.worked_through, target)
        if last == len(self.worked_through):
            return _BEYOND
        return self.origin + (self.starts[last] + target - self.worked_before[last]) * _MICROSECOND


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---------------------------------------------------------------- stored calendar

def load() -> PlantCalendar:
    """The plant's calendar as stored (the default when never saved), read once per request."""
    from flask import g, has_request_context

    if has_request_context() and "plant_calendar" in g:
        return g.plant_calendar
    calendar = from_stored(_stored_value())
    if has_request_context():
        g.plant_calendar = calendar
    return calendar


def from_stored(value: dict | None) -> PlantCalendar:
    if not value:
        return PlantCalendar.from_hours(DEFAULT_HOURS)
    closed = [date.fromisoformat(text) for text in value.get("closed_dates", [])]
    return PlantCalendar.from_hours({int(day): spans for day, spans in value.get("hours", {}).items()}, closed)


def to_stored(calendar: PlantCalendar) -> dict:
    return {
        "hours": {str(day): [[_text(a), _text(b)] for a, b in spans] for day, spans in enumerate(calendar.windows)},
        "closed_dates": sorted(day.isoformat() for day in calendar.closed_dates),
    }


def _stored_value() -> dict | None:
    from app.extensions import db
    from app.models import Setting

    row = db.session.get(Setting, CALENDAR_KEY)
    return row.value if row is not None else None


def parse(hours_text: dict[int, str], closed_text: str) -> PlantCalendar:
    """A calendar from the form: per weekday "08:00-12:00, 13:00-17:00" (empty: closed), and the
    non-working dates one per line or separated by commas (YYYY-MM-DD). Every mistake at once."""
    errors: dict[str, object] = {}
    hours: dict[int, list[tuple[str, str]]] = {}
    for day in range(7):
        spans, problem = _parse_spans(hours_text.get(day, ""))
        if problem:
            errors[f"day_{day}"] = _l("%(day)s：%(problem)s", day=WEEKDAY_LABELS[day], problem=problem)
        hours[day] = spans
    closed = set()
    for item in re.split(r"[\s,，]+", closed_text or ""):
        if not item:
            continue
        try:
            closed.add(date.fromisoformat(item))
        except ValueError:
            errors["closed_dates"] = _l("非工作日 %(value)s 不是有效日期（格式：2026-10-01）", value=item)
    if not errors and not any(hours.values()):
        errors["day_0"] = _l("每周至少需要一个工作时段")
    if errors:
        raise Invalid(next(iter(errors.values())), fields=errors)
    return PlantCalendar.from_hours(hours, closed)


def _parse_spans(text: str):
    spans = []
    for part in re.split(r"[,，;；\s]+", (text or "").strip()):
        if not part:
            continue
        bounds = re.split(r"\s*[-–~～]\s*", part)
        if len(bounds) != 2 or not all(_HHMM.match(b) for b in bounds):
            return [], _l("时段 %(value)s 格式应为 08:00-12:00", value=part)
        if _minutes(bounds[0]) >= _minutes(bounds[1]):
            return [], _l("时段 %(value)s 的结束时间必须晚于开始时间", value=part)
        spans.append((bounds[0], bounds[1]))
    spans.sort(key=lambda span: _minutes(span[0]))
    for (_, end), (start, _) in pairwise(spans):
        if _minutes(start) < _minutes(end):
            return [], _l("时段不能重叠")
    return spans, None


def form_values(calendar: PlantCalendar) -> tuple[dict[int, str], str]:
    hours = {day: ", ".join(f"{_text(a)}-{_text(b)}" for a, b in spans) for day, spans in enumerate(calendar.windows)}
    return hours, "\n".join(sorted(day.isoformat() for day in calendar.closed_dates))


def save(actor, calendar: PlantCalendar) -> None:
    """Store the calendar (audited) and replan the whole plant in the same transaction."""
    from flask import g, has_request_context

    from app.extensions import db
    from app.models import Setting
    from app.services.core import audit
    from app.services.planning import triggers

    before = _stored_value()
    value = to_stored(calendar)
    row = db.session.get(Setting, CALENDAR_KEY)
    if row is None:
        db.session.add(Setting(key=CALENDAR_KEY, value=value))
    else:
        row.value = value
    if before != value:
        audit.record(actor, "setting", None, "update", detail={"key": CALENDAR_KEY, "before": before, "after": value})
    if has_request_context():
        g.pop("plant_calendar", None)
    triggers.mark_plan_changed()


# ---------------------------------------------------------------- plant-local time

def to_local(moment: datetime, zone) -> datetime:
    """Naive UTC (as stored) → naive plant wall clock."""
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def to_utc(moment: datetime, zone) -> datetime:
    return moment.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
