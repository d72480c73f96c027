"""What the 主管看板 shows for one department: counts, operators against the cap, task columns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cache
from typing import NamedTuple

from sqlalchemy import Integer, and_, bindparam, func, literal, or_, select, union_all

from app import policy
from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import Department, Process, Role, Task, User, WorkOrder
from app.models.org import user_departments, user_roles
from app.services.core import reference, settings
from app.services.dispatch.capacity import cap_message
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


class BoardOperator(NamedTuple):
    """Whom a column is for (two values: loading the users with their roles and departments cost more than the column)."""
    id: int
    name: str


@dataclass
class Column:
    operator: BoardOperator | None
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


class BoardDepartment(NamedTuple):
    """The department a part of the board is asked for: its id is all a part shows of it."""
    id: int


def _active_department_ids() -> list[int]:
    return list(db.session.scalars(select(Department.id).where(Department.is_active.is_(True))
                                   .order_by(Department.sort_order, Department.id)))


def board_department_ids(user) -> list[int]:
    """The ids of board_departments(user), in the same order, without a query while the departments are unchanged
    (app.services.core.reference): what a live part of the board checks."""
    ids = reference.cached("board_department_ids", _active_department_ids)
    if user.is_admin:
        return list(ids)
    led = policy.led_department_ids(user)
    return [department_id for department_id in ids if department_id in led]


# A big plant's backlog has hundreds of unassigned tasks per department: the board shows the oldest
# and links to the task centre for the rest (with all of them the page ran to megabytes: docs/PERFORMANCE.md).
UNASSIGNED_SHOWN = 50
BOARD_CARD_COLUMNS = (Task.id, Task.version, Task.status, Task.number, Task.content, Task.operator_id,
                      User.name.label("operator_name"), Task.completed_quantity, Task.target_quantity,
                      Process.name.label("process_name"), WorkOrder.number.label("work_order_number"),
                      WorkOrder.status.label("work_order_status"))


# The statements are built once, with the department (and the operator, the day) as parameters: building the
# SQLAlchemy expressions anew cost a column as much CPU as running them.
_DEPARTMENT = bindparam("department_id")
_OPERATOR = bindparam("operator_id")


def _in_department() -> tuple:
    return (Task.department_id == _DEPARTMENT, Task.status.in_(OPEN_TASK_STATUSES),
            WorkOrder.approval_status == "approved")


def _cards(*columns):
    return (select(*BOARD_CARD_COLUMNS, *columns).select_from(Task)
            .join(WorkOrder, WorkOrder.id == Task.work_order_id)
            .join(Process, Process.id == Task.process_id).outerjoin(User, User.id == Task.operator_id)
            .where(*_in_department()).order_by(Task.id))


def _is_operator_of():
    """An active operator who is a member of the department (app.services.dispatch.operator_selection); one
    IN over the members, not an EXISTS per user (the head's query took 10 ms with those at the scaled plant)."""
    members = (select(user_departments.c.user_id)
               .join(user_roles, user_roles.c.user_id == user_departments.c.user_id)
               .join(Role, Role.id == user_roles.c.role_id)
               .where(user_departments.c.department_id == _DEPARTMENT, Role.code == "operator"))
    return and_(User.is_active.is_(True), User.id.in_(members))


def _load():
    """Open tasks (待开始 + 进行中 + 已暂停) of the row's user, in every department (DOMAIN.md §7)."""
    return (select(func.count(Task.id)).where(Task.operator_id == User.id, Task.status.in_(OPEN_TASK_STATUSES))
            .correlate(User).scalar_subquery())


@cache
def _statements() -> dict:
    member = _is_operator_of()
    holders = (select(Task.operator_id).join(WorkOrder, WorkOrder.id == Task.work_order_id)
               .where(*_in_department(), Task.operator_id.is_not(None)))
    operator_load = (select(func.count(Task.id)).where(Task.operator_id == _OPERATOR,
                                                       Task.status.in_(OPEN_TASK_STATUSES)).scalar_subquery())
    open_tasks = (select(Task.status, Task.operator_id.is_(None), func.count(Task.id))
                  .join(WorkOrder, WorkOrder.id == Task.work_order_id).where(*_in_department())
                  .group_by(Task.status, Task.operator_id.is_(None)))
    done_today = select(literal("completed_today"), literal(False), func.count(Task.id)).where(
        Task.department_id == _DEPARTMENT, Task.status == "completed", Task.completed_at >= bindparam("start_of_day"))
    return {
        # The oldest UNASSIGNED_SHOWN tasks without an operator, and how many there are.
        "waiting": _cards(func.count().over()).where(Task.operator_id.is_(None))
                   .limit(bindparam("shown", type_=Integer)),
        "assigned": _cards().where(Task.operator_id.is_not(None)),
        # An operator's cards, each with the operator's load.
        "operator_cards": _cards(operator_load).where(Task.operator_id == _OPERATOR),
        # A column per operator of the department, then one per person of another department holding its open
        # tasks (each by id), with their loads.
        "operators": select(User.id, User.name, _load()).where(or_(member, User.id.in_(holders)))
                     .order_by(member.desc(), User.id),
        "operator": select(User.name, member, _load()).where(User.id == _OPERATOR),
        # (status, without an operator, how many) of the department's open tasks, and ("completed_today", False, n).
        "counted": union_all(open_tasks, done_today),
    }


def _run(name: str, department, **params):
    return db.session.execute(_statements()[name], {"department_id": department.id, **params}).all()


def _waiting(department) -> tuple[list[BoardCard], int]:
    rows = _run("waiting", department, shown=UNASSIGNED_SHOWN)
    return [BoardCard(*row[:-1]) for row in rows], (rows[0][-1] if rows else 0)


def _operator_columns(department, cap: int) -> list[Column]:
    return [Column(BoardOperator(user_id, name), load or 0, cap=cap)
            for user_id, name, load in _run("operators", department)]


def _counts(department) -> tuple[dict[str, int], int]:
    counted = _run("counted", department, start_of_day=datetime.combine(utcnow().date(), time.min))
    counts = {status: sum(n for s, _, n in counted if s == status)
              for status in (*OPEN_TASK_STATUSES, "completed_today")}
    total = sum(n for _, _, n in counted)
    return counts, round(counts["completed_today"] * 100 / total) if total else 0


def build_board(department) -> Board:
    cap = settings.get("operator_task_cap")
    assigned = [BoardCard(*row) for row in _run("assigned", department)]
    columns = {column.operator.id: column for column in _operator_columns(department, cap)}
    for task in assigned:
        columns[task.operator_id].tasks.append(task)
    waiting, total = _waiting(department)
    counts, rate = _counts(department)
    return Board(department, cap, counts, rate, Column(None, tasks=waiting, total=total), list(columns.values()))


def build_summary(department) -> Board:
    """The board's head alone: the counts, and every operator's column without its tasks (their loads against
    the cap give the cards' operator choices)."""
    cap = settings.get("operator_task_cap")
    counts, rate = _counts(department)
    return Board(department, cap, counts, rate, None, _operator_columns(department, cap))


def build_column(department, operator_id: int | None) -> tuple[Board, Column]:
    """One column alone: 未分配 (operator_id None) or an operator's. A person who is neither an operator of the
    department nor holds one of its open tasks is no column of the board (any more): the column says so (gone)."""
    cap = settings.get("operator_task_cap")
    board = Board(department, cap)
    if operator_id is None:
        waiting, total = _waiting(department)
        return board, Column(None, tasks=waiting, total=total)
    rows = _run("operator_cards", department, operator_id=operator_id)
    if rows:  # the operator's load came with the cards
        tasks = [BoardCard(*row[:-1]) for row in rows]
        return board, Column(BoardOperator(operator_id, tasks[0].operator_name), rows[0][-1], tasks, cap=cap)
    row = next(iter(_run("operator", department, operator_id=operator_id)), None)
    if row is None or not row[1]:
        return board, Column(None, gone=True, gone_id=operator_id)
    return board, Column(BoardOperator(operator_id, row[0]), row[2] or 0, cap=cap)
