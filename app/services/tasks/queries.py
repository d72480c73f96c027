"""The task centre's lists: sort, pages, status counts and rows, always within ``visibility``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import contains_eager, joinedload

from app.enums import OPEN_TASK_STATUSES, TaskStatus
from app.extensions import db
from app.models import Department, Process, Task, User, WorkOrder
from app.models.workorder import PRIORITY_RANK_SQL
from app.rules.task_visibility import visible_tasks_where
from app.rules.where import Where
from app.services.core.loading import name_only
from app.services.tasks.filtering import TaskFilters, filter_conditions, select_tasks, status_condition, tasks_where
from app.services.tasks.visibility import OPEN, PAGE_SIZES

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
    return _status_counts(visible_tasks_where(user) + filter_conditions(filters), filters)


def _status_counts(where: Where, filters: TaskFilters) -> dict[str, int]:
    """Tasks per status under ``where``, in one query.

    When every condition has an index with the status (department, operator, process, creation
    or completion date, drafts), one index-only count per status is cheaper than grouping the rows.
    A task type (one range of ix_tasks_task_type_status) and any other condition (text search,
    施工单 fields) are cheaper as one grouped pass. The figures: docs/PERFORMANCE.md.
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
    """The page's rows as plain tuples: ORM tasks with four related objects cost much of a page's CPU
    (docs/PERFORMANCE.md)."""
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


def sees_every_task(user) -> bool:
    """Whether ``user`` sees every task: then their status counts under some filters are everyone's who does."""
    return not visible_tasks_where(user).conditions


def list_task_rows(user, filters: TaskFilters, page: int = 1, per_page: int = PAGE_SIZES[0],
                   counts: dict[str, int] | None = None) -> TaskPage:
    """``list_tasks`` with the page as ``TaskRow`` tuples (the task centre's list); ``counts``: the
    ``status_counts`` of ``user`` and ``filters`` when the caller has them."""
    return _list(user, filters, page, per_page,
                 lambda statement: [TaskRow(*row) for row in db.session.execute(statement)], _task_rows, counts)


def _list(user, filters: TaskFilters, page: int, per_page: int, fetch, statement_for,
          counts: dict[str, int] | None = None) -> TaskPage:
    """The database would read a page in sort order (newest first: backwards along the primary key)
    until it has found enough matches, assuming they are spread evenly. The matches of a 施工单号,
    a number search or a period lie together in creation order, possibly at the far end: when
    the counts say they are few (``TaskFilters.collect_limit``), they are collected first (a
    materialized CTE) and then sorted.
    """
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    where = visible_tasks_where(user) + filter_conditions(filters)
    counts = dict(counts) if counts is not None else _status_counts(where, filters)
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
    where = visible_tasks_where(user) + Where.on_tasks(Task.id.in_(task_ids))
    return set(db.session.scalars(select_tasks(where, Task.id)))
