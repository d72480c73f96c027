"""Which tasks a viewer sees, and the task centre's filters, search, sort, pages and counts.

Visibility (DOMAIN.md §1) is written as SQL once, in ``visibility``: the twin of the policy rule
``task.view``. The task centre, its status counts, the exports, the statistics and the JSON API
all start from it, so a list can never show what the detail page would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, literal_column, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.enums import OPEN_TASK_STATUSES, TaskStatus
from app.extensions import db
from app.models.workorder import PRIORITY_RANK_SQL
from app.models import Department, Process, Role, Task, User, WorkOrder, user_departments, user_roles
from app.policy import with_descendants
from app.services import reference
from app.services import workorders as workorder_queries
from app.services.loading import name_only
from app.utils.timeutil import plant_today, plant_zone
from app.utils.fields import lenient_int

PAGE_SIZES = (20, 50, 100)
# Filter value meaning "no department / no operator" (the 待分派 pool, the claimable tasks).
NONE = "none"
# Status filter value: every open task (待开始 + 进行中 + 已暂停), what an operator's load counts.
OPEN = "open"
STATUS_LABELS = {OPEN: _l("未完成（待开始/进行中/已暂停）")}


@dataclass(frozen=True)
class Where:
    """WHERE conditions on tasks, and whether they read the 施工单 (so it must be joined)."""

    conditions: tuple = ()
    needs_work_order: bool = False

    def __add__(self, other: Where) -> Where:
        return Where(self.conditions + other.conditions, self.needs_work_order or other.needs_work_order)

    @classmethod
    def on_tasks(cls, *conditions) -> Where:
        return cls(tuple(conditions), False)

    @classmethod
    def on_work_orders(cls, *conditions) -> Where:
        return cls(tuple(conditions), True)


def visibility(user) -> Where:
    """The tasks ``user`` may see: admins and supervisors all; operators their own tasks and the
    non-draft tasks of their departments (claimable ones included); makers and salespeople the
    tasks of the 施工单 they see. Roles add up."""
    if user.has_role("admin", "supervisor"):
        return Where()
    task_rules, work_order_rules = [], []
    if user.has_role("operator"):
        task_rules.append(Task.operator_id == user.id)
        if user.department_ids:
            task_rules.append(Task.department_id.in_(sorted(user.department_ids)) & (Task.status != "draft"))
    if user.has_role("maker", "salesperson"):
        seen = workorder_queries.visible_to(user)
        if seen is True:
            return Where()
        if seen is not False:
            work_order_rules.append(seen)
    rules = task_rules + work_order_rules
    if not rules:
        return Where.on_tasks(false())
    return Where((or_(*rules),), bool(work_order_rules))


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
        (walking read ~18,000 tasks for a page of them at 50,000). A search matches task numbers (together) and task texts (spread all over): walking
        finds a page of spread matches after a few rows, so only a few matches are collected.
        """
        if self.work_order.strip() or self.date_from or self.date_to or self.overdue:
            return 5_000
        return 1_000 if self.q.strip() else 0


def utc_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The plant-time days ``first`` … ``last`` (inclusive) as naive-UTC [start, end) bounds."""
    zone = plant_zone()

    def to_utc(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)

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

    A task number is ``T`` + its 施工单号 + ``-NN`` (app.services.task_generation), so matching the
    task number covers the 施工单号 too, without joining the 施工单. Numbers are upper-case ASCII,
    matched on the upper-cased text. The task text is matched as typed, upper-cased and
    lower-cased (codes such as CTP, UV are written in capitals) with LIKE rather than ILIKE:
    ILIKE lower-cases every character of every row and costs about five times as much on the
    full scan a search needs (measured at 50,000 tasks).
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
    where = visibility(user)
    if filters is not None:
        where += filter_conditions(filters) + status_condition(filters)
    return where


def select_tasks(where: Where, *columns):
    """``SELECT columns FROM tasks [JOIN work_orders] WHERE …`` — joined only when needed."""
    statement = select(*columns).select_from(Task)
    if where.needs_work_order:
        statement = statement.join(WorkOrder, Task.work_order_id == WorkOrder.id)
    return statement.where(*where.conditions)


# ---------------------------------------------------------------- sorting and pages

PRIORITY_ORDER = literal_column(f"({PRIORITY_RANK_SQL.format(column='work_orders.priority')})")
# Every order ends on unique columns, so pages never overlap; the 施工单 ones follow the indexes
# (ix_work_orders_priority_rank, ix_work_orders_delivery_date_status) down to the tasks.
SORTS = {
    "-created": (Task.id.desc(),),
    "created": (Task.id.asc(),),
    "number": (Task.number.asc(),),
    "-number": (Task.number.desc(),),
    "delivery": (WorkOrder.delivery_date.asc(), WorkOrder.id.asc(), Task.id.asc()),
    "-delivery": (WorkOrder.delivery_date.desc(), WorkOrder.id.desc(), Task.id.desc()),
    "priority": (PRIORITY_ORDER.desc(), WorkOrder.delivery_date.asc(), WorkOrder.id.asc(), Task.id.asc()),
    "-updated": (Task.updated_at.desc(), Task.id.desc()),
}
# The orders that read the 施工单 (its delivery date or priority), so it must be joined.
SORTS_BY_WORK_ORDER = frozenset({"delivery", "-delivery", "priority"})
SORT_LABELS = {
    "-created": _l("最新创建"), "created": _l("最早创建"), "number": _l("任务编号 从小到大"),
    "-number": _l("任务编号 从大到小"), "delivery": _l("交货日期 从早到晚"), "-delivery": _l("交货日期 从晚到早"),
    "priority": _l("优先级 从高到低"), "-updated": _l("最近更新"),
}


@dataclass
class TaskPage:
    items: list  # Task, or TaskRow from list_task_rows
    total: int
    page: int
    per_page: int
    # Tasks per status under every filter but the status one (what each status tab would show).
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def status_counts(user, filters: TaskFilters) -> dict[str, int]:
    return _status_counts(visibility(user) + filter_conditions(filters), filters)


def _status_counts(where: Where, filters: TaskFilters) -> dict[str, int]:
    """Tasks per status under ``where``, in one query.

    When every condition has an index with the status (department, operator, process, creation
    or completion date, drafts), one index-only count per status is about three times cheaper
    than grouping the rows (measured at 50,000 tasks). A task type is one range of
    ix_tasks_task_type_status, which a single grouped pass reads faster than one count per status
    (1.4 against 1.5 ms for an admin, 1.3 against 8.5 ms for an operator). Any other condition
    (text search, 施工单 fields) has to visit the rows anyway, and then too one grouped pass is cheaper.
    """
    counts = dict.fromkeys(TaskStatus.values(), 0)
    if _indexed_with_status(where, filters):
        statuses = [s for s in TaskStatus.values() if filters.shows_drafts or s != "draft"]
        if filters.drafts == "only":
            statuses = ["draft"]
        per_status = [select_tasks(where + Where.on_tasks(Task.status == status), func.count()).scalar_subquery()
                      for status in statuses]
        counts.update(zip(statuses, db.session.execute(select(*per_status)).one()))
    else:
        rows = db.session.execute(select_tasks(where, Task.status, func.count()).group_by(Task.status)).all()
        counts.update({status: count for status, count in rows})
    return counts


def _indexed_with_status(where: Where, filters: TaskFilters) -> bool:
    unindexed = (filters.q.strip(), filters.work_order.strip(), filters.priority, filters.task_type, filters.overdue)
    return not where.needs_work_order and not any(unindexed)


def _page_of_ids(where: Where, sort: str, limit: int, offset: int, collect_first: bool):
    """The ids of one page, in order, as a subquery.

    They are chosen on the tasks (and the 施工单 when the filters or the order read it) alone;
    only those rows are then joined to what they show. Joining before the OFFSET would build
    every skipped row too: page 100 joined 2,000 rows to show 20.
    """
    order = SORTS.get(sort, SORTS["-created"])
    ordered_by = Where(needs_work_order=sort in SORTS_BY_WORK_ORDER)
    if collect_first:
        matching = (select_tasks(where, Task.id).cte("matching")
                    .prefix_with("MATERIALIZED", dialect="postgresql"))
        rows = select_tasks(ordered_by, Task.id).join(matching, matching.c.id == Task.id)
    else:
        rows = select_tasks(where + ordered_by, Task.id)
    return rows.order_by(*order).limit(limit).offset(offset).subquery("page")


def _loaded_tasks(where: Where, sort: str, limit: int, offset: int = 0, *, collect_first: bool = False):
    """Tasks with their 施工单, process, department and operator, in one query."""
    page = _page_of_ids(where, sort, limit, offset, collect_first)
    return select(Task).join(page, page.c.id == Task.id).join(WorkOrder, Task.work_order_id == WorkOrder.id).options(
        contains_eager(Task.work_order), joinedload(Task.process),
        joinedload(Task.department),
        name_only(joinedload(Task.operator)),
    ).order_by(*SORTS.get(sort, SORTS["-created"]))


class TaskRow(NamedTuple):
    """What a row of the task centre shows of a task: every value, so it is also the row's cache key."""

    id: int
    number: str
    status: str
    task_type: str
    content: str
    process_name: str
    department_name: str | None
    operator_name: str | None
    completed_quantity: int
    target_quantity: int
    defective_quantity: int
    work_order_id: int
    work_order_number: str
    priority: str
    delivery_date: date


def _task_rows(where: Where, sort: str, limit: int, offset: int = 0, *, collect_first: bool = False):
    """The page's rows as plain tuples: building 100 ORM tasks with four related objects took
    ~7 ms of CPU, a quarter of a 100-row page."""
    page = _page_of_ids(where, sort, limit, offset, collect_first)
    return (select(Task.id, Task.number, Task.status, Task.task_type, Task.content, Process.name,
                   Department.name, User.name, Task.completed_quantity, Task.target_quantity,
                   Task.defective_quantity, WorkOrder.id, WorkOrder.number, WorkOrder.priority,
                   WorkOrder.delivery_date)
            .join(page, page.c.id == Task.id).join(WorkOrder, Task.work_order_id == WorkOrder.id)
            .join(Process, Task.process_id == Process.id)
            .outerjoin(Department, Task.department_id == Department.id)
            .outerjoin(User, Task.operator_id == User.id)
            .order_by(*SORTS.get(sort, SORTS["-created"])))


def list_tasks(user, filters: TaskFilters, page: int = 1, per_page: int = PAGE_SIZES[0]) -> TaskPage:
    """One page of what ``user`` sees under ``filters`` (ORM tasks), with the status counts: two queries."""
    return _list(user, filters, page, per_page,
                 lambda statement: list(db.session.scalars(statement).unique()), _loaded_tasks)


def list_task_rows(user, filters: TaskFilters, page: int = 1, per_page: int = PAGE_SIZES[0]) -> TaskPage:
    """``list_tasks`` with the page as ``TaskRow`` tuples (the task centre's list)."""
    return _list(user, filters, page, per_page,
                 lambda statement: [TaskRow(*row) for row in db.session.execute(statement)], _task_rows)


def _list(user, filters: TaskFilters, page: int, per_page: int, fetch, statement_for) -> TaskPage:
    """The database would read a page in sort order (newest first: backwards along the primary key)
    until it has found enough matches, assuming they are spread evenly. The matches of a 施工单号,
    a number search or a period lie together in creation order, possibly at the far end: when
    the counts say they are few (``TaskFilters.collect_limit``), they are collected first (a
    materialized CTE) and then sorted.
    """
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    where = visibility(user) + filter_conditions(filters)
    counts = _status_counts(where, filters)
    total = _total(counts, filters.status)
    page = min(max(1, page), max(1, -(-total // per_page)))
    items = fetch(statement_for(where + status_condition(filters), filters.sort, per_page, (page - 1) * per_page,
                                collect_first=total <= filters.collect_limit))
    return TaskPage(items, total, page, per_page, counts)


def _total(counts: dict[str, int], status: str) -> int:
    if status == OPEN:
        return sum(counts[s] for s in OPEN_TASK_STATUSES)
    return counts.get(status, 0) if status else sum(counts.values())


def count_tasks(user, filters: TaskFilters) -> int:
    where = tasks_where(user, filters)
    return db.session.scalar(select_tasks(where, func.count())) or 0


def all_tasks(user, filters: TaskFilters, limit: int) -> list[Task]:
    """Every task ``user`` sees under ``filters`` (at most ``limit``), in the list's order."""
    return list(db.session.scalars(_loaded_tasks(tasks_where(user, filters), filters.sort, limit)).unique())


def visible_task_ids(user, task_ids) -> set[int]:
    """Which of ``task_ids`` ``user`` may see (a bulk action treats the others as missing)."""
    task_ids = list(task_ids)
    if not task_ids:
        return set()
    where = visibility(user) + Where.on_tasks(Task.id.in_(task_ids))
    return set(db.session.scalars(select_tasks(where, Task.id)))


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
