"""The period and filters every statistic is computed over, and the SQL helpers they share."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, cast, func, literal_column

from app.extensions import db
from app.models import (
    Task,
)
from app.rules.task_visibility import visible_tasks_where
from app.rules.where import Where
from app.services.tasks import filtering as task_filtering
from app.utils.timeutil import plant_now, plant_today, plant_zone

DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 366
GRANULARITIES = {"day": _l("按日"), "week": _l("按周"), "month": _l("按月")}
# The audit actions that place a task with a department or an operator (分派历史), as the
# services write them: dispatch (app.services.dispatch.auto_dispatch at approval; assignment.dispatch_from_pool),
# assign / reassign / unassign / move (app.services.dispatch.assignment; automatic assign by
# app.services.dispatch.operator_selection), claim (app.services.tasks.actions).
ASSIGNMENT_ACTIONS = ("dispatch", "assign", "reassign", "unassign", "move", "claim")
TOP_OPERATORS = 10


# ---------------------------------------------------------------- periods and SQL helpers

@dataclass(frozen=True)
class Period:
    """Plant-time days ``first`` … ``last``, both included."""

    first: date
    last: date

    @classmethod
    def last_days(cls, days: int = DEFAULT_PERIOD_DAYS, today: date | None = None) -> Period:
        today = today or plant_today()
        return cls(today - timedelta(days=days - 1), today)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def within(self, column) -> list:
        return task_filtering.within_days(column, self.first, self.last)


@dataclass(frozen=True)
class StatsFilters:
    period: Period
    department_id: int | None = None
    operator_id: int | None = None
    granularity: str = "day"

    def department_where(self) -> Where:
        if not self.department_id:
            return Where()
        return Where.on_tasks(Task.department_id.in_(task_filtering.department_scope(self.department_id)))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def plant_date(column):
    """SQL: the plant-time date of a naive-UTC timestamp column (a literal, so GROUP BY matches)."""
    if _dialect() == "postgresql":
        zone = plant_zone().key
        if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", zone):
            raise ValueError(f"unexpected time zone name {zone!r}")
        local = func.timezone(literal_column(f"'{zone}'"), func.timezone(literal_column("'UTC'"), column))
        return cast(local, Date)
    minutes = int(plant_now().utcoffset().total_seconds() // 60)
    return func.date(column, literal_column(f"'{minutes:+d} minutes'"))


def _as_date(value) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def rate(part: float, whole: float) -> float | None:
    """part ÷ whole, or None when there is nothing to divide (shown as —, never as 0 %)."""
    return part / whole if whole else None


def _completed_in(filters: StatsFilters, user) -> Where:
    return (visible_tasks_where(user) + filters.department_where()
            + Where.on_tasks(Task.status == "completed", *filters.period.within(Task.completed_at)))
