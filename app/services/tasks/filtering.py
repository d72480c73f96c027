"""The task centre's filters as SQL conditions, and the choices its filter form offers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import Department, Process, Role, Task, User, WorkOrder, user_departments, user_roles
from app.policy import with_descendants
from app.rules.task_visibility import visible_tasks_where
from app.rules.where import Where
from app.services.core import reference
from app.services.tasks.visibility import NONE, OPEN
from app.utils.fields import lenient_int
from app.utils.timeutil import plant_today, plant_zone

# ---------------------------------------------------------------- filters

DATE_FIELDS = {"created": _l("创建日期"), "completed": _l("完成日期"), "delivery": _l("交货日期")}
DRAFT_CHOICES = {"": _l("不显示草稿"), "include": _l("包含草稿"), "only": _l("仅看草稿")}


@dataclass
class TaskFilters:
    q: str = ""
    department: str = ""  # a department id (its sub-departments included) or NONE
    status: str = ""
    operator: str = ""  # an operator id or NONE
    priority: str = ""
    task_type: str = ""
    process_id: int | None = None
    work_order: str = ""  # 施工单号, or its beginning
    date_by: str = "created"
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    drafts: str = ""
    sort: str = "-created"

    @property
    def shows_drafts(self) -> bool:
        return self.status == "draft" or self.drafts in ("include", "only")

    @property
    def collect_limit(self) -> int:
        """Up to how many matches are collected first and then sorted, rather than found by walking
        the list in sort order (see ``list_tasks``).

        A 施工单号 or a period matches tasks that lie together in creation order, possibly at the
        far end, so walking may read most of the table: collecting is cheaper unless the matches are
        very many. So do overdue tasks: open tasks of 施工单 due before today, far from the newest
        (docs/PERFORMANCE.md). A search matches task numbers (together) and task texts (spread all
        over): walking finds a page of spread matches after a few rows, so only a few are collected.
        """
        if self.work_order.strip() or self.date_from or self.date_to or self.overdue:
            return 5_000
        return 1_000 if self.q.strip() else 0


def utc_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The plant-time days ``first`` … ``last`` (inclusive) as naive-UTC [start, end) bounds."""
    zone = plant_zone()

    def to_utc(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    return (to_utc(first) if first else None, to_utc(last + timedelta(days=1)) if last else None)


def department_scope(department_id: int) -> list[int]:
    """A department and every department below it (a parent includes its children)."""
    return sorted(with_descendants([department_id]))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_conditions(filters: TaskFilters) -> Where:
    """Every filter but the status one (the status counts are taken under these)."""
    where = Where()
    if filters.drafts == "only":
        where += Where.on_tasks(Task.status == "draft")
    elif not filters.shows_drafts:
        where += Where.on_tasks(Task.status != "draft")
    if filters.department == NONE:
        where += Where.on_tasks(Task.department_id.is_(None))
    elif lenient_int(filters.department) is not None:
        where += Where.on_tasks(Task.department_id.in_(department_scope(lenient_int(filters.department))))
    if filters.operator == NONE:
        where += Where.on_tasks(Task.operator_id.is_(None))
    elif lenient_int(filters.operator) is not None:
        where += Where.on_tasks(Task.operator_id == lenient_int(filters.operator))
    if filters.task_type:
        where += Where.on_tasks(Task.task_type == filters.task_type)
    if filters.process_id:
        where += Where.on_tasks(Task.process_id == filters.process_id)
    if filters.priority:
        where += Where.on_work_orders(WorkOrder.priority == filters.priority)
    if filters.work_order.strip():
        prefix = _like(filters.work_order.strip().upper())[1:]
        where += Where.on_work_orders(WorkOrder.number.like(prefix, escape="\\"))
    if filters.q.strip():
        where += _search(filters.q.strip())
    where += _date_range(filters)
    if filters.overdue:
        where += Where.on_work_orders(Task.status.in_(OPEN_TASK_STATUSES), WorkOrder.delivery_date < plant_today())
    return where


def status_condition(filters: TaskFilters) -> Where:
    if filters.status == OPEN:
        return Where.on_tasks(Task.status.in_(OPEN_TASK_STATUSES))
    return Where.on_tasks(Task.status == filters.status) if filters.status else Where()


def _search(text: str) -> Where:
    """Task number, 施工单号 or task text containing ``text``.

    A task number is ``T`` + its 施工单号 + ``-NN`` (app.services.workorders.task_generation), so matching the
    task number covers the 施工单号 too, without joining the 施工单. Numbers are upper-case ASCII,
    matched on the upper-cased text. The task text is matched as typed, upper-cased and
    lower-cased (codes such as CTP, UV are written in capitals) with LIKE rather than ILIKE:
    ILIKE lower-cases every character of every row, which costs far more on the full scan a
    search needs (docs/PERFORMANCE.md).
    """
    variants = dict.fromkeys((text, text.upper(), text.lower()))
    content = [Task.content.like(_like(variant), escape="\\") for variant in variants]
    return Where.on_tasks(or_(Task.number.like(_like(text.upper()), escape="\\"), *content))


def _date_range(filters: TaskFilters) -> Where:
    if filters.date_by == "delivery":
        conditions = []
        if filters.date_from:
            conditions.append(WorkOrder.delivery_date >= filters.date_from)
        if filters.date_to:
            conditions.append(WorkOrder.delivery_date <= filters.date_to)
        return Where.on_work_orders(*conditions) if conditions else Where()
    column = Task.completed_at if filters.date_by == "completed" else Task.created_at
    return Where.on_tasks(*within_days(column, filters.date_from, filters.date_to))


def within_days(column, first: date | None, last: date | None) -> list:
    """Conditions: the naive-UTC ``column`` falls on the plant-time days ``first`` … ``last``."""
    start, end = utc_bounds(first, last)
    return ([column >= start] if start else []) + ([column < end] if end else [])


def tasks_where(user, filters: TaskFilters | None = None) -> Where:
    """What ``user`` sees under ``filters``: the one starting point of every task list."""
    where = visible_tasks_where(user)
    if filters is not None:
        where += filter_conditions(filters) + status_condition(filters)
    return where


def select_tasks(where: Where, *columns):
    """``SELECT columns FROM tasks [JOIN work_orders] WHERE …`` — joined only when needed."""
    statement = select(*columns).select_from(Task)
    if where.needs_work_order:
        statement = statement.join(WorkOrder, Task.work_order_id == WorkOrder.id)
    return statement.where(*where.conditions)



# ---------------------------------------------------------------- filter choices

@dataclass(frozen=True)
class Choice:
    id: int
    name: str


@dataclass(frozen=True)
class OperatorChoice:
    id: int
    name: str
    department_ids: frozenset
    department_names: tuple[str, ...]  # joined in the page's language


@dataclass
class FilterOptions:
    departments: list[Choice]  # with the parent's name, e.g. 生产部 - 印刷车间
    processes: list[Choice]
    operators: list[OperatorChoice]


def filter_options() -> FilterOptions:
    """The choices of the task centre's filters, kept while the reference data is unchanged (the
    caller must not change them)."""
    return reference.cached("task_filter_options", _filter_options)


def _filter_options() -> FilterOptions:
    """Three narrow queries, no ORM objects to build."""
    rows = db.session.execute(select(Department.id, Department.name, Department.parent_id)
                              .where(Department.is_active.is_(True)).order_by(Department.sort_order, Department.id)).all()
    names = {row.id: row.name for row in rows}
    departments = [Choice(row.id, f"{names[row.parent_id]} - {row.name}" if row.parent_id in names else row.name)
                   for row in rows]
    processes = [Choice(*row) for row in db.session.execute(
        select(Process.id, Process.name).where(Process.is_active.is_(True)).order_by(Process.sort_order, Process.id))]
    members: dict[int, list] = {}
    for user_id, name, department_id in db.session.execute(
        select(User.id, User.name, user_departments.c.department_id)
        .join(user_roles, user_roles.c.user_id == User.id).join(Role, Role.id == user_roles.c.role_id)
        .outerjoin(user_departments, user_departments.c.user_id == User.id)
        .where(Role.code == "operator", User.is_active.is_(True)).order_by(User.name, User.id)
    ):
        members.setdefault((user_id, name), []).append(department_id)
    operators = [OperatorChoice(user_id, name, frozenset(d for d in ids if d is not None),
                                tuple(names[d] for d in ids if d in names))
                 for (user_id, name), ids in members.items()]
    return FilterOptions(departments, processes, operators)
