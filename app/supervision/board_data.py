"""What the 主管看板 shows for one department: counts, operators against the cap, task columns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import Department, Task, User, WorkOrder, WorkOrderStep
from app.services import settings
from app.services.operator_selection import department_operators, operator_loads
from app.utils.timeutil import utcnow


@dataclass
class Column:
    operator: User | None
    load: int = 0
    tasks: list[Task] = field(default_factory=list)


@dataclass
class Board:
    department: Department
    counts: dict[str, int]
    completion_rate: int
    cap: int
    unassigned: Column
    operators: list[Column]


def board_departments(user) -> list[Department]:
    """Departments the viewer may open: an admin any active one, a supervisor those they lead."""
    statement = select(Department).where(Department.is_active.is_(True)).order_by(Department.sort_order, Department.id)
    if not user.is_admin:
        statement = statement.where(Department.id.in_(policy.led_department_ids(user)))
    return list(db.session.scalars(statement))


def build_board(department: Department) -> Board:
    open_tasks = list(db.session.scalars(
        select(Task).join(WorkOrder, WorkOrder.id == Task.work_order_id)
        .options(joinedload(Task.work_order), joinedload(Task.step).joinedload(WorkOrderStep.process),
                 joinedload(Task.operator))
        .where(Task.department_id == department.id, Task.status.in_(OPEN_TASK_STATUSES),
               WorkOrder.approval_status == "approved")
        .order_by(Task.id)
    ))
    operators = department_operators(department.id)
    known = {operator.id for operator in operators}
    operators += sorted({t.operator for t in open_tasks if t.operator_id and t.operator_id not in known},
                        key=lambda user: user.id)
    loads = operator_loads(operator.id for operator in operators)
    columns = {operator.id: Column(operator, loads.get(operator.id, 0)) for operator in operators}
    unassigned = Column(None)
    for task in open_tasks:
        (columns[task.operator_id] if task.operator_id else unassigned).tasks.append(task)

    counts = {status: sum(1 for t in open_tasks if t.status == status) for status in OPEN_TASK_STATUSES}
    start_of_day = datetime.combine(utcnow().date(), time.min)
    counts["completed_today"] = db.session.scalar(select(func.count(Task.id)).where(
        Task.department_id == department.id, Task.status == "completed", Task.completed_at >= start_of_day)) or 0
    total = len(open_tasks) + counts["completed_today"]
    rate = round(counts["completed_today"] * 100 / total) if total else 0
    return Board(department, counts, rate, settings.get("operator_task_cap"), unassigned, list(columns.values()))
