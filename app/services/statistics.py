"""Figures of the plant: the 工作台, the statistics page, 协作统计, 分派历史 and the department report.

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
Every task figure starts from ``visible_tasks_where`` (what the viewer may see); every 施工单
figure from ``visible_workorders_clause`` (both in app/rules/).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, case, cast, func, literal_column, or_, select, union
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app import policy
from app.enums import DUE_SOON_DAYS, OPEN_TASK_STATUSES, ApprovalStatus, TaskAction, TaskStatus, WorkOrderStatus
from app.extensions import db
from app.models import (
    AuditLog, Department, Role, Task, TimeLog, User, WorkOrder, user_departments, user_roles,
)
from app.rules.task_visibility import visible_tasks_where
from app.rules.where import Where
from app.rules.workorder_approvers import approvable_workorders_clause
from app.rules.workorder_visibility import visible_workorders_clause
from app.services import settings, task_queries
from app.services.loading import name_only
from app.services.operator_selection import operator_loads
from app.services.work_periods import whole_seconds_between
from app.utils.timeutil import plant_now, plant_today, plant_zone

DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 366
GRANULARITIES = {"day": _l("按日"), "week": _l("按周"), "month": _l("按月")}
# The audit actions that place a task with a department or an operator (分派历史), as the
# services write them: dispatch (app.services.dispatch at approval; assignment.dispatch_from_pool),
# assign / reassign / unassign / move (app.services.assignment; automatic assign by
# app.services.operator_selection), claim (app.services.tasks).
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
        return task_queries.within_days(column, self.first, self.last)


@dataclass(frozen=True)
class StatsFilters:
    period: Period
    department_id: int | None = None
    operator_id: int | None = None
    granularity: str = "day"

    def department_where(self) -> Where:
        if not self.department_id:
            return Where()
        return Where.on_tasks(Task.department_id.in_(task_queries.department_scope(self.department_id)))


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
        task_queries.select_tasks(_completed_in(filters, user), day.label("day"), func.count(),
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
        task_queries.select_tasks(where, Task.department_id, Task.status, func.count())
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
    closed periods (app.services.work_periods).
    """
    return db.session.execute(
        task_queries.select_tasks(_completed_in(filters, user), Task.operator_id, func.count().label("tasks"),
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
        task_queries.select_tasks(where + Where.on_tasks(Task.status.in_(OPEN_TASK_STATUSES),
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
        task_queries.select_tasks(scope, TimeLog.operator_id,
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
        scope = task_queries.department_scope(filters.department_id)
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
        task_queries.select_tasks(_completed_in(filters, user), day.label("day"), Task.department_id,
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


# ---------------------------------------------------------------- 分派历史

@dataclass
class HistoryRow:
    entry: AuditLog
    task: Task | None
    change: str

    @property
    def action_label(self) -> str:
        return TaskAction.label_of(self.entry.action)


@dataclass
class History:
    rows: list[HistoryRow]
    total: int
    tasks: int
    departments: int
    operators: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _detail_id(name: str):
    return AuditLog.detail[name].as_integer()


def assignment_history(filters: StatsFilters, page: int = 1, per_page: int = 20) -> History:
    """Every assignment event in the period: newest first, with who and what changed."""
    conditions = [AuditLog.object_type == "task", AuditLog.action.in_(ASSIGNMENT_ACTIONS),
                  *filters.period.within(AuditLog.at)]
    if filters.department_id:
        scope = task_queries.department_scope(filters.department_id)
        conditions.append(or_(AuditLog.department_id.in_(scope), _detail_id("from_department_id").in_(scope)))
    if filters.operator_id:
        conditions.append(or_(and_(AuditLog.action == "claim", AuditLog.user_id == filters.operator_id),
                              _detail_id("to_operator_id") == filters.operator_id,
                              _detail_id("from_operator_id") == filters.operator_id))
    total, tasks, departments = db.session.execute(
        select(func.count(), func.count(AuditLog.task_id.distinct()), func.count(AuditLog.department_id.distinct()))
        .where(*conditions)
    ).one()
    involved = union(
        select(AuditLog.user_id.label("operator_id")).where(*conditions, AuditLog.action == "claim"),
        select(_detail_id("to_operator_id")).where(*conditions, _detail_id("to_operator_id").is_not(None)),
        select(_detail_id("from_operator_id")).where(*conditions,
                                                         _detail_id("from_operator_id").is_not(None)),
    ).subquery()
    operators = db.session.scalar(select(func.count()).select_from(involved).where(
        involved.c.operator_id.is_not(None))) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    entries = list(db.session.scalars(
        select(AuditLog).where(*conditions).options(name_only(joinedload(AuditLog.user)))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ))
    return History(_history_rows(entries), total, tasks, departments, operators, page, per_page)


def _history_rows(entries: list[AuditLog]) -> list[HistoryRow]:
    task_ids = {e.task_id for e in entries if e.task_id}
    tasks = {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_(task_ids)).options(
            joinedload(Task.work_order).load_only(WorkOrder.number), joinedload(Task.department),
            name_only(joinedload(Task.operator))))}
    user_ids = {e.detail.get(key) for e in entries for key in ("from_operator_id", "to_operator_id")}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids - {None}))).all())
    departments = {d.id: d.name for d in _departments().values()}
    return [HistoryRow(e, tasks.get(e.task_id), _describe(e, names, departments)) for e in entries]


def _describe(entry: AuditLog, names: dict, departments: dict) -> str:
    detail = entry.detail or {}

    def person(key):
        return names.get(detail.get(key), _("未指定"))

    def place(key):
        return departments.get(detail.get(key), _("未分派"))

    if entry.action == "dispatch":
        text = _("分派到 %(dept)s", dept=departments.get(entry.department_id, _("未分派")))
    elif entry.action == "claim":
        text = _("%(name)s 认领", name=entry.user.name if entry.user else detail.get("operator", ""))
    elif entry.action == "assign":
        text = _("指派给 %(name)s", name=person("to_operator_id"))
        if detail.get("auto"):
            text = _("%(text)s（自动）", text=text)
    elif entry.action == "reassign":
        text = _("%(old)s → %(new)s", old=person("from_operator_id"), new=person("to_operator_id"))
    elif entry.action == "unassign":
        text = _("取消 %(name)s 的分配", name=person("from_operator_id"))
    else:  # move
        text = _("%(old)s → %(new)s", old=place("from_department_id"), new=place("to_department_id"))
    if entry.reason:
        text = _("%(text)s；原因：%(reason)s", text=text, reason=entry.reason)
    return text


# ---------------------------------------------------------------- 工作台

@dataclass(frozen=True)
class Figure:
    """A number on the 工作台 and the list it comes from (endpoint + query parameters)."""

    key: str
    label: str
    value: int
    endpoint: str
    params: dict
    tone: str = ""


@dataclass
class DepartmentQueue:
    department: Department
    counts: dict[str, int]  # pending / in_progress / paused / completed_today / overdue

    def params(self, **extra) -> dict:
        return {"department": self.department.id, **extra}


@dataclass
class OperatorLoad:
    operator: User
    load: int
    completed_today: int


@dataclass
class Dashboard:
    work_orders: list[Figure] = field(default_factory=list)
    production: list[Figure] = field(default_factory=list)
    attention: list[Figure] = field(default_factory=list)
    plant_tasks: list[Figure] = field(default_factory=list)
    departments: list[DepartmentQueue] = field(default_factory=list)
    operators: list[OperatorLoad] = field(default_factory=list)
    cap: int = 0
    today: date | None = None


def dashboard(user) -> Dashboard:
    """What the 工作台 shows ``user``: each role adds its blocks (DOMAIN.md §10)."""
    board = Dashboard(cap=settings.get("operator_task_cap"), today=plant_today())
    if user.has_role("admin", "maker", "salesperson", "designer"):
        _work_order_figures(user, board)
    if user.has_role("admin", "supervisor", "salesperson"):
        board.attention.insert(0, _pending_approvals(user))
    if user.is_admin or user.has_role("supervisor"):
        _task_figures(user, board)
    return board


def _work_order_figures(user, board: Dashboard) -> None:
    seen = visible_workorders_clause(user)
    visible = [] if seen is True else [seen]
    by_approval = dict(db.session.execute(
        select(WorkOrder.approval_status, func.count()).where(*visible).group_by(WorkOrder.approval_status)).all())
    board.work_orders = [Figure(f"approval_{value}", label, by_approval.get(value, 0), "workorders.index",
                                {"approval_status": value})
                         for value, label in ApprovalStatus.choices()]
    by_status = dict(db.session.execute(
        select(WorkOrder.status, func.count()).where(*visible, WorkOrder.approval_status == "approved")
        .group_by(WorkOrder.status)).all())
    board.production = [Figure(f"production_{value}", label, by_status.get(value, 0), "workorders.index",
                               {"approval_status": "approved", "status": value})
                        for value, label in WorkOrderStatus.choices()]
    today = board.today
    unfinished = WorkOrder.status.not_in(("completed", "cancelled"))
    overdue, due_soon = db.session.execute(select(
        func.coalesce(func.sum(case((and_(unfinished, WorkOrder.delivery_date < today), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(unfinished, WorkOrder.delivery_date >= today,
                                          WorkOrder.delivery_date <= today + timedelta(days=DUE_SOON_DAYS)), 1),
                                    else_=0)), 0),
    ).where(*visible)).one()
    board.attention += [
        Figure("overdue_work_orders", _("逾期施工单"), int(overdue), "workorders.index", {"overdue": 1}, "danger"),
        Figure("due_soon", _("%(n)s天内到期", n=DUE_SOON_DAYS), int(due_soon), "workorders.index", {"due_soon": 1}, "warn"),
    ]


def _pending_approvals(user) -> Figure:
    """待审核 施工单 this user may decide: all for admins and supervisors, their customers' for salespeople."""
    conditions = [WorkOrder.approval_status == "pending"]
    approves = approvable_workorders_clause(user)
    if approves is not True:
        conditions.append(approves)
    count = db.session.scalar(select(func.count()).select_from(WorkOrder).where(*conditions)) or 0
    return Figure("approvals", _("待我审核"), count, "workorders.index", {"approval_status": "pending"}, "warn")


def _task_figures(user, board: Dashboard) -> None:
    today = board.today
    start_of_today = task_queries.utc_bounds(today, None)[0]
    completed_today = and_(Task.status == "completed", Task.completed_at >= start_of_today)
    overdue = and_(Task.status.in_(OPEN_TASK_STATUSES), WorkOrder.delivery_date < today)
    rows = db.session.execute(
        select(Task.department_id,
               *[func.sum(case((Task.status == status, 1), else_=0)) for status in OPEN_TASK_STATUSES],
               func.sum(case((completed_today, 1), else_=0)), func.sum(case((overdue, 1), else_=0)))
        .join(WorkOrder, Task.work_order_id == WorkOrder.id)
        .where(or_(Task.status.in_(OPEN_TASK_STATUSES), completed_today))
        .group_by(Task.department_id)
    ).all()
    keys = (*OPEN_TASK_STATUSES, "completed_today", "overdue")
    per_department = {row[0]: dict(zip(keys, (int(v or 0) for v in row[1:]))) for row in rows}

    departments = _departments()
    children = policy.department_children_map()
    if user.is_admin:
        shown = [d for d in departments.values() if d.is_active]
    else:
        shown = [departments[d] for d in policy.led_department_ids(user) if d in departments]
    shown.sort(key=_department_order)
    for department in shown:
        scope = policy.with_descendants([department.id], children)
        board.departments.append(DepartmentQueue(department, {
            key: sum(per_department.get(d, {}).get(key, 0) for d in scope) for key in keys}))

    if user.is_admin:
        plant = {key: sum(counts[key] for counts in per_department.values()) for key in keys}
        week = task_queries.within_days(Task.completed_at, today - timedelta(days=today.weekday()), today)
        completed_week = db.session.scalar(
            select(func.count()).select_from(Task).where(Task.status == "completed", *week)) or 0
        pool = per_department.get(None, {}).get("pending", 0)
        board.plant_tasks = [
            *[Figure(f"tasks_{status}", TaskStatus.label_of(status), plant[status], "tasks.index", {"status": status})
              for status in OPEN_TASK_STATUSES],
            Figure("completed_today", _("今日完成"), plant["completed_today"], "tasks.index", completed_params(today, today)),
            Figure("completed_week", _("本周完成"), completed_week, "tasks.index",
                   completed_params(today - timedelta(days=today.weekday()), today)),
            Figure("overdue_tasks", _("逾期任务"), plant["overdue"], "tasks.index", {"overdue": 1}, "danger"),
            Figure("pool", _("待分派"), pool, "tasks.index", {"department": task_queries.NONE, "status": "pending"}, "warn"),
        ]
    board.operators = _operator_loads(user, [d.id for d in shown], start_of_today)


def completed_params(first: date, last: date, **extra) -> dict:
    """The task centre's filter for tasks completed on these plant-time days."""
    return {"status": "completed", "date_by": "completed", "date_from": first.isoformat(),
            "date_to": last.isoformat(), **extra}


def _operator_loads(user, department_ids: list[int], start_of_today: datetime) -> list[OperatorLoad]:
    statement = (select(User).join(user_roles, user_roles.c.user_id == User.id)
                 .join(Role, Role.id == user_roles.c.role_id)
                 .where(Role.code == "operator", User.is_active.is_(True))
                 # The table lists each operator's departments: one query for all, not one per row.
                 .options(lazyload(User.roles), selectinload(User.departments)))
    if not user.is_admin:
        statement = statement.where(User.id.in_(select(user_departments.c.user_id).where(
            user_departments.c.department_id.in_(department_ids or [-1]))))
    operators = list(db.session.scalars(statement.distinct()))
    ids = [o.id for o in operators]
    loads = operator_loads(ids)
    done = dict(db.session.execute(
        select(Task.operator_id, func.count()).where(Task.operator_id.in_(ids or [-1]), Task.status == "completed",
                                                     Task.completed_at >= start_of_today)
        .group_by(Task.operator_id)).all())
    rows = [OperatorLoad(o, loads.get(o.id, 0), done.get(o.id, 0)) for o in operators]
    rows.sort(key=lambda r: (-r.load, -r.completed_today, r.operator.name, r.operator.id))
    return rows


# ---------------------------------------------------------------- the department report

@dataclass
class DepartmentReport:
    department: Department
    period: Period
    counts: dict[str, int]  # open tasks now, per status
    totals: CompletionTotals
    top_operators: list[OperatorRow]
    overdue: list[Task]
    overdue_total: int

    @property
    def open_tasks(self) -> int:
        return sum(self.counts.values())

    @property
    def completion_rate(self) -> float | None:
        return rate(self.totals.tasks, self.totals.tasks + self.open_tasks)


OVERDUE_LISTED = 50
TOP_IN_REPORT = 5


def department_report(user, department: Department, period: Period) -> DepartmentReport:
    filters = StatsFilters(period, department.id)
    scope = visible_tasks_where(user) + filters.department_where()
    counts = dict.fromkeys(OPEN_TASK_STATUSES, 0)
    counts.update(db.session.execute(
        task_queries.select_tasks(scope + Where.on_tasks(Task.status.in_(OPEN_TASK_STATUSES)), Task.status,
                                  func.count()).group_by(Task.status)).all())
    late = scope + Where.on_work_orders(Task.status.in_(OPEN_TASK_STATUSES), WorkOrder.delivery_date < plant_today())
    overdue_total = db.session.scalar(task_queries.select_tasks(late, func.count())) or 0
    overdue = list(db.session.scalars(
        task_queries.select_tasks(late, Task)
        .options(joinedload(Task.work_order), name_only(joinedload(Task.operator)))
        .order_by(WorkOrder.delivery_date, Task.id).limit(OVERDUE_LISTED)
    ))
    completed = _completions_by_operator(user, filters)
    return DepartmentReport(department, period, counts, completion_totals(user, filters, completed),
                            operator_rows(user, filters, completed=completed)[:TOP_IN_REPORT], overdue, overdue_total)
