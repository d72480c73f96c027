"""What the 主管看板 shows for one department: counts, operators against the cap, task columns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property

from markupsafe import Markup
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
    total: int = 0  # the unassigned column shows only the first UNASSIGNED_SHOWN of them


@dataclass
class Board:
    department: Department
    counts: dict[str, int]
    completion_rate: int
    cap: int
    unassigned: Column
    operators: list[Column]

    @cached_property
    def _option_tags(self) -> dict[int, tuple[str, Markup]]:
        return {column.operator.id: (column.operator.name, Markup('<option value="{}">{}</option>').format(
            column.operator.id, column.operator.name)) for column in self.operators}

    def operator_options(self, selected: int | None) -> Markup:
        """The <option>s of a card's operator <select>, escaped once per board rather than once per card
        (hundreds of cards × dozens of operators made escaping the bulk of the page's time)."""
        return Markup("").join(
            Markup('<option value="{}" selected>{}</option>').format(operator_id, name) if operator_id == selected
            else option for operator_id, (name, option) in self._option_tags.items())


def board_departments(user) -> list[Department]:
    """Departments the viewer may open: an admin any active one, a supervisor those they lead."""
    statement = select(Department).where(Department.is_active.is_(True)).order_by(Department.sort_order, Department.id)
    if not user.is_admin:
        statement = statement.where(Department.id.in_(policy.led_department_ids(user)))
    return list(db.session.scalars(statement))


# A big plant's backlog has hundreds of unassigned tasks per department: the board shows the oldest
# and links to the task centre for the rest (at 5,000 施工单 the page was 1.1–1.7 MB and took over a
# second to render with all of them).
UNASSIGNED_SHOWN = 50


def build_board(department: Department) -> Board:
    in_department = (Task.department_id == department.id, Task.status.in_(OPEN_TASK_STATUSES),
                     WorkOrder.approval_status == "approved")
    cards = (select(Task).join(WorkOrder, WorkOrder.id == Task.work_order_id)
             .options(joinedload(Task.work_order), joinedload(Task.step).joinedload(WorkOrderStep.process),
                      joinedload(Task.operator))
             .where(*in_department).order_by(Task.id))
    assigned = list(db.session.scalars(cards.where(Task.operator_id.is_not(None))))
    waiting = list(db.session.scalars(cards.where(Task.operator_id.is_(None)).limit(UNASSIGNED_SHOWN)))
    counted = db.session.execute(
        select(Task.status, Task.operator_id.is_(None), func.count(Task.id))
        .join(WorkOrder, WorkOrder.id == Task.work_order_id).where(*in_department)
        .group_by(Task.status, Task.operator_id.is_(None))
    ).all()
    operators = department_operators(department.id)
    known = {operator.id for operator in operators}
    operators += sorted({t.operator for t in assigned if t.operator_id not in known}, key=lambda user: user.id)
    loads = operator_loads(operator.id for operator in operators)
    columns = {operator.id: Column(operator, loads.get(operator.id, 0)) for operator in operators}
    for task in assigned:
        columns[task.operator_id].tasks.append(task)
    unassigned = Column(None, tasks=waiting, total=sum(n for _, without_operator, n in counted if without_operator))

    counts = {status: sum(n for s, _, n in counted if s == status) for status in OPEN_TASK_STATUSES}
    start_of_day = datetime.combine(utcnow().date(), time.min)
    counts["completed_today"] = db.session.scalar(select(func.count(Task.id)).where(
        Task.department_id == department.id, Task.status == "completed", Task.completed_at >= start_of_day)) or 0
    total = sum(n for _, _, n in counted) + counts["completed_today"]
    rate = round(counts["completed_today"] * 100 / total) if total else 0
    return Board(department, counts, rate, settings.get("operator_task_cap"), unassigned, list(columns.values()))
