"""工作台: the figures of the role-aware dashboard."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from app import policy
from app.enums import DUE_SOON_DAYS, OPEN_TASK_STATUSES, ApprovalStatus, TaskStatus, WorkOrderStatus
from app.extensions import db
from app.models import (
    Department,
    Role,
    Task,
    User,
    WorkOrder,
    user_departments,
    user_roles,
)
from app.rules.workorder_approvers import approvable_workorders_clause
from app.rules.workorder_visibility import visible_workorders_clause
from app.services.core import settings
from app.services.dispatch.operator_selection import operator_loads
from app.services.reports.statistics import _department_order, _departments
from app.services.tasks import filtering as task_filtering
from app.services.tasks import visibility as task_visibility
from app.utils.timeutil import plant_today

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


_DEPARTMENT_FIGURES = (*OPEN_TASK_STATUSES, "completed_today", "overdue")


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


def task_sections(user, per_department: dict | None = None) -> Dashboard:
    """Only what the 全厂任务 and 部门任务队列 sections show: what their live re-fetch needs.
    ``per_department``: ``tasks_per_department()`` of today, when the caller has it."""
    board = Dashboard(cap=settings.get("operator_task_cap"), today=plant_today())
    if user.is_admin or user.has_role("supervisor"):
        _task_figures(user, board, with_operators=False, per_department=per_department)
    return board


def tasks_per_department(today: date) -> dict:
    """Per department id (None: the pool), its open tasks by status, those completed today and the overdue
    ones: the same for every viewer, who are shown the departments they may see."""
    start_of_today = task_filtering.utc_bounds(today, None)[0]
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
    return {row[0]: dict(zip(_DEPARTMENT_FIGURES, (int(v or 0) for v in row[1:]))) for row in rows}


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


def _task_figures(user, board: Dashboard, with_operators: bool = True, per_department: dict | None = None) -> None:
    today = board.today
    start_of_today = task_filtering.utc_bounds(today, None)[0]
    if per_department is None:
        per_department = tasks_per_department(today)
    keys = _DEPARTMENT_FIGURES

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
        week = task_filtering.within_days(Task.completed_at, today - timedelta(days=today.weekday()), today)
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
            Figure("pool", _("待分派"), pool, "tasks.index", {"department": task_visibility.NONE, "status": "pending"}, "warn"),
        ]
    if with_operators:
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
