"""What the 主管看板 shows for one department: counts, operators against the cap, task columns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import load_only

from app import policy
from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import Department, Process, Task, User, WorkOrder
from app.services.core import settings
from app.services.dispatch.capacity import cap_message
from app.services.dispatch.operator_selection import department_operators, operator_loads
from app.services.tasks.reading import work_order_stop
from app.utils.timeutil import utcnow


class BoardCard(NamedTuple):
    """What a card of the board shows of a task (plain rows: hundreds of ORM tasks with their 施工单,
    process and operator took most of the page's time)."""
    id: int
    version: int
    status: str
    number: str
    content: str
    operator_id: int | None
    operator_name: str | None
    completed_quantity: int
    target_quantity: int
    process_name: str
    work_order_number: str
    work_order_status: str

    @property
    def blocked(self) -> str | None:
        """Why no supervisor can assign this task now (its 施工单 is paused, cancelled, finished)."""
        return work_order_stop(self.work_order_status)


@dataclass
class Column:
    operator: User | None
    load: int = 0
    tasks: list[BoardCard] = field(default_factory=list)
    total: int = 0  # the unassigned column shows only the first UNASSIGNED_SHOWN of them
    cap: int = 0
    gone: bool = False  # asked for alone, this person is no column of the board (any more): shown hidden, empty
    gone_id: int | None = None

    @property
    def refusal(self) -> str:
        """Why no task can be dropped on this operator now: at the cap (DOMAIN.md §7), or ''."""
        if self.operator is None or self.load < self.cap:
            return ""
        return cap_message(self.load, self.cap)

    @property
    def part(self) -> str:
        """Its name among the board's live parts (app/realtime/events.board_parts): the operator's id, or none."""
        if self.operator is not None:
            return str(self.operator.id)
        return str(self.gone_id) if self.gone else "none"


@dataclass
class Board:
    """The whole board, or the part of it one live region shows (build_summary, build_column): the counts and
    the operators' columns without their tasks, or one column."""
    department: Department
    cap: int
    counts: dict[str, int] = field(default_factory=dict)
    completion_rate: int = 0
    unassigned: Column | None = None
    operators: list[Column] = field(default_factory=list)

    def card_key(self, card: BoardCard) -> tuple:
        """Everything a card of this board shows: its HTML is reused while this is unchanged
        (app.templating.cached_fragment); the operators' <option>s are not in the card (board.js)."""
        return ("board", self.department.id, *card)

    def part(self, name: str) -> str:
        """A live part of this board: ``<department id>:head|none|<operator id>`` (docs/LIVE.md §6)."""
        return f"{self.department.id}:{name}"

    @property
    def parts(self) -> list[str]:
        """Every live part the whole board holds: an event naming another one brings a new column."""
        return [self.part("head"), self.part("none")] + [self.part(column.part) for column in self.operators]


def board_departments(user) -> list[Department]:
    """Departments the viewer may open: an admin any active one, a supervisor those they lead."""
    statement = select(Department).where(Department.is_active.is_(True)).order_by(Department.sort_order, Department.id)
    if not user.is_admin:
        statement = statement.where(Department.id.in_(policy.led_department_ids(user)))
    return list(db.session.scalars(statement))


# A big plant's backlog has hundreds of unassigned tasks per department: the board shows the oldest
# and links to the task centre for the rest (with all of them the page ran to megabytes: docs/PERFORMANCE.md).
UNASSIGNED_SHOWN = 50
BOARD_CARD_COLUMNS = (Task.id, Task.version, Task.status, Task.number, Task.content, Task.operator_id,
                      User.name.label("operator_name"), Task.completed_quantity, Task.target_quantity,
                      Process.name.label("process_name"), WorkOrder.number.label("work_order_number"),
                      WorkOrder.status.label("work_order_status"))


def _in_department(department: Department) -> tuple:
    return (Task.department_id == department.id, Task.status.in_(OPEN_TASK_STATUSES),
            WorkOrder.approval_status == "approved")


def _cards(department: Department):
    return (select(*BOARD_CARD_COLUMNS).select_from(Task).join(WorkOrder, WorkOrder.id == Task.work_order_id)
            .join(Process, Process.id == Task.process_id).outerjoin(User, User.id == Task.operator_id)
            .where(*_in_department(department)).order_by(Task.id))


def _waiting(department: Department) -> list[BoardCard]:
    return [BoardCard(*row) for row in db.session.execute(_cards(department).where(Task.operator_id.is_(None))
                                                          .limit(UNASSIGNED_SHOWN))]


def _operator_columns(department: Department, holders: set[int], cap: int) -> dict[int, Column]:
    """A column per operator of the department, then one per person of another department holding its tasks."""
    operators = department_operators(department.id)
    others = holders - {operator.id for operator in operators}
    if others:
        operators += db.session.scalars(select(User).options(load_only(User.name)).where(User.id.in_(others))
                                        .order_by(User.id))
    loads = operator_loads(operator.id for operator in operators)
    return {operator.id: Column(operator, loads.get(operator.id, 0), cap=cap) for operator in operators}


def _counts(department: Department, counted) -> tuple[dict[str, int], int]:
    counts = {status: sum(n for s, _, n in counted if s == status) for status in OPEN_TASK_STATUSES}
    start_of_day = datetime.combine(utcnow().date(), time.min)
    counts["completed_today"] = db.session.scalar(select(func.count(Task.id)).where(
        Task.department_id == department.id, Task.status == "completed", Task.completed_at >= start_of_day)) or 0
    total = sum(n for _, _, n in counted) + counts["completed_today"]
    return counts, round(counts["completed_today"] * 100 / total) if total else 0


def _counted(department: Department):
    return db.session.execute(
        select(Task.status, Task.operator_id.is_(None), func.count(Task.id))
        .join(WorkOrder, WorkOrder.id == Task.work_order_id).where(*_in_department(department))
        .group_by(Task.status, Task.operator_id.is_(None))
    ).all()


def build_board(department: Department) -> Board:
    assigned = [BoardCard(*row) for row in db.session.execute(_cards(department).where(Task.operator_id.is_not(None)))]
    counted = _counted(department)
    cap = settings.get("operator_task_cap")
    columns = _operator_columns(department, {card.operator_id for card in assigned}, cap)
    for task in assigned:
        columns[task.operator_id].tasks.append(task)
    unassigned = Column(None, tasks=_waiting(department),
                        total=sum(n for _, without_operator, n in counted if without_operator))
    counts, rate = _counts(department, counted)
    return Board(department, cap, counts, rate, unassigned, list(columns.values()))


def build_summary(department: Department) -> Board:
    """The board's head alone: the counts, and every operator's column without its tasks (their loads against
    the cap give the cards' operator choices)."""
    counted = _counted(department)
    holders = set(db.session.scalars(select(Task.operator_id).distinct().join(WorkOrder, WorkOrder.id == Task.work_order_id)
                                     .where(*_in_department(department), Task.operator_id.is_not(None))))
    cap = settings.get("operator_task_cap")
    counts, rate = _counts(department, counted)
    return Board(department, cap, counts, rate, None, list(_operator_columns(department, holders, cap).values()))


def build_column(department: Department, operator_id: int | None) -> tuple[Board, Column]:
    """One column alone: 未分配 (operator_id None) or an operator's. An operator who is neither an operator of the
    department nor holds one of its open tasks is no column of the board (any more): the column says so (gone)."""
    cap = settings.get("operator_task_cap")
    board = Board(department, cap)
    if operator_id is None:
        total = db.session.scalar(select(func.count(Task.id)).join(WorkOrder, WorkOrder.id == Task.work_order_id)
                                  .where(*_in_department(department), Task.operator_id.is_(None))) or 0
        return board, Column(None, tasks=_waiting(department), total=total)
    tasks = [BoardCard(*row) for row in db.session.execute(_cards(department).where(Task.operator_id == operator_id))]
    if not tasks and not any(o.id == operator_id for o in department_operators(department.id)):
        return board, Column(None, gone=True, gone_id=operator_id)
    operator = db.session.scalar(select(User).options(load_only(User.name)).where(User.id == operator_id))
    load = operator_loads([operator_id]).get(operator_id, 0)
    return board, Column(operator, load, tasks, cap=cap)
