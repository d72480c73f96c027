"""数据统计 and 协作统计. The definitions below hold for every figure in app/services/reports/ (工作台, 分派历史,
the department report and the exports too).

Definitions (DOMAIN.md §10, issue 8), each computed in exactly one place below:
- a task is completed on the plant-time date of its ``completed_at`` (the working date);
- defect rate = defective ÷ (good + defective), good being the completed quantity;
- working time of a completed task = the sum of its closed time logs; the average is taken over
  the completed tasks that have at least one closed time log (a task completed by an outside
  event, e.g. a confirmed plate, was never timed and is left out rather than counted as 0);
- lead time = 施工单 approval (``approved_at``) → completion (``completed_at``), averaged over the
  施工单 completed in the period; on-time delivery rate = those whose completion date (plant
  time) ≤ delivery date ÷ those completed;
- completion rate (协作统计, department report) = completed in the period ÷ (completed in the
  period + open now).
Every task figure starts from ``tasks.visibility.visibility`` (what the viewer may see); every 施工单
figure from ``visible_workorders_clause`` (both in app/rules/).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, lazyload

from app.enums import OPEN_TASK_STATUSES, TaskStatus
from app.extensions import db
from app.models import (
    Department,
    Task,
    TimeLog,
    User,
    WorkOrder,
)
from app.rules.task_visibility import visible_tasks_where
from app.rules.where import Where
from app.rules.workorder_visibility import visible_workorders_clause
from app.services.core.work_periods import whole_seconds_between
from app.services.reports.periods import Period, StatsFilters, _as_date, _completed_in, plant_date, rate
from app.services.tasks import filtering as task_filtering

# ---------------------------------------------------------------- completions over time

@dataclass(frozen=True)
class Bucket:
    start: date
    label: str
    tasks: int
    quantity: int


def completions_over_time(user, filters: StatsFilters) -> list[Bucket]:
    """Completed tasks and quantity per day, week (from Monday) or month of the period, zeros included."""
    day = plant_date(Task.completed_at)
    rows = db.session.execute(
        task_filtering.select_tasks(_completed_in(filters, user), day.label("day"), func.count(),
                                  func.coalesce(func.sum(Task.completed_quantity), 0))
        .group_by(day)
    ).all()
    per_day = {_as_date(d): (count, int(quantity)) for d, count, quantity in rows}
    buckets: dict[date, list[int]] = {}
    for d in filters.period.days():
        start = _bucket_start(d, filters.granularity)
        totals = buckets.setdefault(start, [0, 0])
        count, quantity = per_day.get(d, (0, 0))
        totals[0] += count
        totals[1] += quantity
    return [Bucket(start, _bucket_label(start, filters.granularity, filters.period), count, quantity)
            for start, (count, quantity) in buckets.items()]


def _bucket_start(d: date, granularity: str) -> date:
    if granularity == "week":
        return d - timedelta(days=d.weekday())
    if granularity == "month":
        return d.replace(day=1)
    return d


def _bucket_label(start: date, granularity: str, period: Period) -> str:
    if granularity == "month":
        return start.strftime("%Y-%m")
    if granularity == "week":
        end = min(start + timedelta(days=6), period.last)
        return f"{max(start, period.first):%m-%d}~{end:%m-%d}"
    return start.isoformat()


# ---------------------------------------------------------------- tasks by department and status

@dataclass
class DepartmentStatusRow:
    department: Department | None  # None: not dispatched yet (待分派)
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def name(self) -> str:
        return self.department.name if self.department else _("未分派")


def tasks_by_department(user, filters: StatsFilters) -> list[DepartmentStatusRow]:
    """Tasks created in the period (drafts left out), per department and status."""
    where = (visible_tasks_where(user) + filters.department_where()
             + Where.on_tasks(Task.status != "draft", *filters.period.within(Task.created_at)))
    rows = db.session.execute(
        task_filtering.select_tasks(where, Task.department_id, Task.status, func.count())
        .group_by(Task.department_id, Task.status)
    ).all()
    counts: dict[int | None, dict[str, int]] = {}
    for department_id, status, count in rows:
        counts.setdefault(department_id, dict.fromkeys(TaskStatus.values()[1:], 0))[status] = count
    departments = _departments()
    ordered = sorted(counts, key=lambda d: (d is None, _department_order(departments.get(d))))
    return [DepartmentStatusRow(departments.get(d), counts[d]) for d in ordered]


def _departments() -> dict[int, Department]:
    return {d.id: d for d in db.session.scalars(select(Department))}


def _department_order(department: Department | None) -> tuple:
    return (department.sort_order, department.id) if department else (0, 0)


# ---------------------------------------------------------------- operators

@dataclass
class OperatorRow:
    operator: User
    completed_tasks: int = 0
    completed_quantity: int = 0
    defective_quantity: int = 0
    timed_tasks: int = 0
    average_work_seconds: float | None = None
    open_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPEN_TASK_STATUSES, 0))
    # Closed work periods of this operator that began in the period, on any task they worked on.
    work_seconds: float = 0

    @property
    def defect_rate(self) -> float | None:
        return rate(self.defective_quantity, self.completed_quantity + self.defective_quantity)

    @property
    def open_tasks(self) -> int:
        return sum(self.open_counts.values())

    @property
    def completion_rate(self) -> float | None:
        return rate(self.completed_tasks, self.completed_tasks + self.open_tasks)


@dataclass(frozen=True)
class CompletionTotals:
    tasks: int
    quantity: int
    defective: int
    timed_tasks: int
    average_work_seconds: float | None

    @property
    def defect_rate(self) -> float | None:
        return rate(self.defective, self.quantity + self.defective)


def _completions_by_operator(user, filters: StatsFilters) -> list:
    """Tasks completed in the period per operator (None: tasks nobody held): how many, their quantity
    and defective quantity, how many have closed work periods and those periods' seconds.

    One query serves both the totals and the ranking; the seconds are each task's own sum of its
    closed periods (app.services.core.work_periods).
    """
    return db.session.execute(
        task_filtering.select_tasks(_completed_in(filters, user), Task.operator_id, func.count().label("tasks"),
                                  func.coalesce(func.sum(Task.completed_quantity), 0).label("quantity"),
                                  func.coalesce(func.sum(Task.defective_quantity), 0).label("defective"),
                                  func.count(Task.worked_seconds).label("timed"),
                                  func.sum(Task.worked_seconds).label("seconds"))
        .group_by(Task.operator_id)
    ).all()


def _average(seconds, timed: int) -> float | None:
    return float(seconds) / timed if timed else None


def completion_totals(user, filters: StatsFilters, completed: list | None = None) -> CompletionTotals:
    completed = _completions_by_operator(user, filters) if completed is None else completed
    timed = sum(row.timed for row in completed)
    return CompletionTotals(sum(row.tasks for row in completed), sum(int(row.quantity) for row in completed),
                            sum(int(row.defective) for row in completed), timed,
                            _average(sum(row.seconds or 0 for row in completed), timed))


def operator_rows(user, filters: StatsFilters, *, with_workload: bool = False,
                  completed: list | None = None) -> list[OperatorRow]:
    """Operators ranked by completed quantity in the period (then by tasks, then name).

    With ``with_workload`` (协作统计) also their open tasks now and their working time in the
    period, and operators who completed nothing but hold or worked on tasks appear too.
    ``completed`` is what ``_completions_by_operator`` gave, when the caller already has it.
    """
    completed = _completions_by_operator(user, filters) if completed is None else completed
    rows: dict[int, dict] = {}
    for operator_id, tasks, quantity, defective, timed, seconds in completed:
        if operator_id is None or (filters.operator_id and operator_id != filters.operator_id):
            continue
        rows[operator_id] = dict(completed_tasks=tasks, completed_quantity=int(quantity),
                                 defective_quantity=int(defective), timed_tasks=timed,
                                 average_work_seconds=_average(seconds, timed))
    if with_workload:
        held = Where.on_tasks(Task.operator_id == filters.operator_id) if filters.operator_id else Where()
        scope = visible_tasks_where(user) + filters.department_where()
        _add_open_tasks(rows, scope + held)
        _add_work_periods(rows, scope, filters)
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(rows)).options(lazyload(User.roles), joinedload(User.departments)))
        .unique()}
    result = [OperatorRow(users[operator_id], **values) for operator_id, values in rows.items()]
    result.sort(key=lambda r: (-r.completed_quantity, -r.completed_tasks, r.operator.name, r.operator.id))
    return result


def _add_open_tasks(rows: dict[int, dict], where: Where) -> None:
    open_rows = db.session.execute(
        task_filtering.select_tasks(where + Where.on_tasks(Task.status.in_(OPEN_TASK_STATUSES),
                                                         Task.operator_id.is_not(None)),
                                  Task.operator_id, Task.status, func.count())
        .group_by(Task.operator_id, Task.status)
    ).all()
    for operator_id, status, count in open_rows:
        values = rows.setdefault(operator_id, {})
        values.setdefault("open_counts", dict.fromkeys(OPEN_TASK_STATUSES, 0))[status] = count


def _add_work_periods(rows: dict[int, dict], scope: Where, filters: StatsFilters) -> None:
    """Closed work periods begun in the period, per operator who worked them (whoever holds the task now)."""
    logged = db.session.execute(
        task_filtering.select_tasks(scope, TimeLog.operator_id,
                                  func.sum(whole_seconds_between(TimeLog.started_at, TimeLog.ended_at)))
        .join(TimeLog, TimeLog.task_id == Task.id)
        .where(TimeLog.ended_at.is_not(None), *filters.period.within(TimeLog.started_at),
               *([TimeLog.operator_id == filters.operator_id] if filters.operator_id else []))
        .group_by(TimeLog.operator_id)
    ).all()
    for operator_id, seconds in logged:
        rows.setdefault(operator_id, {})["work_seconds"] = float(seconds or 0)


@dataclass(frozen=True)
class TeamSummary:
    """The cards above 协作统计's table, summed from its rows."""

    operators: int
    tasks: int
    completed_tasks: int
    quantity: int
    defective: int

    @property
    def defect_rate(self) -> float | None:
        return rate(self.defective, self.quantity + self.defective)


def team_summary(rows: list[OperatorRow]) -> TeamSummary:
    return TeamSummary(len(rows), sum(r.completed_tasks + r.open_tasks for r in rows),
                       sum(r.completed_tasks for r in rows), sum(r.completed_quantity for r in rows),
                       sum(r.defective_quantity for r in rows))


# ---------------------------------------------------------------- 施工单 lead time

@dataclass(frozen=True)
class LeadTime:
    completed: int
    average_seconds: float | None
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.completed)


def lead_time(user, filters: StatsFilters) -> LeadTime:
    """施工单 completed in the period: average approval → completion, and the on-time share."""
    conditions = [WorkOrder.status == "completed", WorkOrder.approved_at.is_not(None),
                  *filters.period.within(WorkOrder.completed_at)]
    seen = visible_workorders_clause(user)
    if seen is not True:
        conditions.append(seen)
    if filters.department_id:
        scope = task_filtering.department_scope(filters.department_id)
        conditions.append(WorkOrder.id.in_(select(Task.work_order_id).where(Task.department_id.in_(scope))))
    delivered_in_time = case((plant_date(WorkOrder.completed_at) <= WorkOrder.delivery_date, 1), else_=0)
    count, seconds, on_time = db.session.execute(
        select(func.count(), func.sum(whole_seconds_between(WorkOrder.approved_at, WorkOrder.completed_at)),
               func.coalesce(func.sum(delivered_in_time), 0)).where(*conditions)
    ).one()
    return LeadTime(count, seconds / count if count else None, on_time)


# ---------------------------------------------------------------- the statistics page

@dataclass
class Statistics:
    filters: StatsFilters
    totals: CompletionTotals
    series: list[Bucket]
    departments: list[DepartmentStatusRow]
    ranking: list[OperatorRow]
    lead: LeadTime


def statistics(user, filters: StatsFilters) -> Statistics:
    completed = _completions_by_operator(user, filters)
    return Statistics(filters, completion_totals(user, filters, completed), completions_over_time(user, filters),
                      tasks_by_department(user, filters), operator_rows(user, filters, completed=completed),
                      lead_time(user, filters))


@dataclass(frozen=True)
class CompletionLine:
    """One line of completions.csv: a working date, a department and an operator."""

    day: date
    department: str
    operator: str
    tasks: int
    quantity: int
    defective: int

    @property
    def defect_rate(self) -> float | None:
        return rate(self.defective, self.quantity + self.defective)


def completion_lines(user, filters: StatsFilters) -> list[CompletionLine]:
    day = plant_date(Task.completed_at)
    rows = db.session.execute(
        task_filtering.select_tasks(_completed_in(filters, user), day.label("day"), Task.department_id,
                                  Task.operator_id, func.count(), func.coalesce(func.sum(Task.completed_quantity), 0),
                                  func.coalesce(func.sum(Task.defective_quantity), 0))
        .group_by(day, Task.department_id, Task.operator_id)
    ).all()
    departments = _departments()
    names = dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_({r[2] for r in rows if r[2] is not None}))).all())
    lines = [CompletionLine(_as_date(d), departments[dept].name if dept in departments else _("未分派"),
                            names.get(op, _("未指定")), count, int(qty), int(defective))
             for d, dept, op, count, qty, defective in rows]
    lines.sort(key=lambda line: (line.day, line.department, line.operator))
    return lines
