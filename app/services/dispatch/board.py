"""The TV board of a department (/board/<code>): its queue at a glance, and its token link.

A wall screen needs no login when an admin has issued the department a board token: the link
``/board/<code>?token=…`` shows that board (and only it) read-only. Only the token's SHA-256 lives
in the settings table, under ``board_token:<code>`` (the token is 24 random bytes: nothing to
guess, so no salt is needed); the link is shown once, when issued. Issuing a new one revokes the old.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, Integer, bindparam, case, func, literal, select

from app.enums import OPEN_TASK_STATUSES, PRIORITY_RANK, TaskStatus
from app.extensions import db
from app.models import Department, Setting, Task, User, WorkOrder
from app.models.task import progress_percent
from app.policy import with_descendants
from app.services.core import audit
from app.services.core.errors import NotFound
from app.utils.timeutil import plant_today, plant_zone

TOKEN_KEY = "board_token:{code}"
# Tasks listed per column; the column header always shows the full count.
COLUMN_LIMIT = 30


@dataclass
class Column:
    key: str
    label: str
    total: int = 0
    tasks: list = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return max(0, self.total - len(self.tasks))


@dataclass
class Board:
    department: Department
    department_ids: list[int]
    columns: list[Column]
    generated_at: datetime

    @property
    def topics(self) -> str:
        return " ".join(f"dept:{d}" for d in self.department_ids)


def department_by_code(code: str) -> Department:
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None or not department.is_active:
        raise NotFound(_l("部门不存在"))
    return department


def _setting_key(department: Department) -> str:
    return TOKEN_KEY.format(code=department.code)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _stored_digest(department: Department) -> str | None:
    row = db.session.get(Setting, _setting_key(department))
    return str(row.value) if row is not None else None


def has_token(department: Department) -> bool:
    return _stored_digest(department) is not None


def token_matches(department: Department, token: str | None) -> bool:
    stored = _stored_digest(department)
    return bool(stored and token) and hmac.compare_digest(stored, _digest(str(token)))


def department_for_token(code: str, token: str) -> Department | None:
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None or not department.is_active or not token_matches(department, token):
        return None
    return department


def issue_token(actor, department: Department) -> str:
    """A new token for the board's link, returned this once; only its hash is kept."""
    token = secrets.token_urlsafe(24)
    row = db.session.get(Setting, _setting_key(department))
    if row is None:
        db.session.add(Setting(key=_setting_key(department), value=_digest(token)))
    else:
        row.value = _digest(token)
    audit.record(actor, "department", department.id, "board_token_issue", department_id=department.id)
    return token


def revoke_token(actor, department: Department) -> bool:
    row = db.session.get(Setting, _setting_key(department))
    if row is None:
        return False
    db.session.delete(row)
    audit.record(actor, "department", department.id, "board_token_revoke", department_id=department.id)
    return True


def _start_of_plant_day_utc(today) -> datetime:
    local_midnight = datetime.combine(today, time.min, tzinfo=plant_zone())
    return local_midnight.astimezone(UTC).replace(tzinfo=None)


class BoardTask(NamedTuple):
    """What a card of the TV board shows of a task, read as plain values (no ORM task, 施工单 and operator)."""
    id: int
    number: str
    status: str
    content: str
    completed_quantity: int
    target_quantity: int
    pause_reason: str | None
    pause_note: str | None
    work_order_number: str
    priority: str
    delivery_date: date
    operator_name: str | None

    @property
    def progress_percent(self) -> int:
        return progress_percent(self.status, self.completed_quantity, self.target_quantity)


def _board_statements():
    """The open columns' and 今日完成's first ``shown`` tasks each, with each column's total (a window
    count), built once with the departments, the day and its start as parameters."""
    shown = (Task.id, Task.number, Task.status, Task.content, Task.completed_quantity, Task.target_quantity,
             Task.pause_reason, Task.pause_note, WorkOrder.number, WorkOrder.priority, WorkOrder.delivery_date,
             User.name)
    in_department = Task.department_id.in_(bindparam("department_ids", expanding=True))

    def first_of_each(where, column, order):
        ranked = (select(*shown, column.label("column"),
                         func.row_number().over(partition_by=column, order_by=order).label("place"),
                         func.count().over(partition_by=column).label("total"))
                  .join(WorkOrder, Task.work_order_id == WorkOrder.id)
                  .outerjoin(User, User.id == Task.operator_id)
                  .where(in_department, *where).subquery())
        return (select(ranked).where(ranked.c.place <= bindparam("shown", type_=Integer))
                .order_by(ranked.c.column, ranked.c.place))

    # A late task (its 施工单 is past its delivery date) is listed under 逾期 only.
    open_column = case((WorkOrder.delivery_date < bindparam("today", type_=Date), "overdue"), else_=Task.status)
    priority_first = (case(PRIORITY_RANK, value=WorkOrder.priority, else_=1).desc(), WorkOrder.delivery_date, Task.id)
    done_today = (Task.status == "completed", Task.completed_at >= bindparam("since", type_=DateTime))
    return (first_of_each((Task.status.in_(OPEN_TASK_STATUSES),), open_column, priority_first),
            first_of_each(done_today, literal("completed"), (Task.completed_at.desc(), Task.id.desc())))


_OPEN_COLUMNS, _COMPLETED_TODAY = _board_statements()


def snapshot(department: Department, today=None, now: datetime | None = None) -> Board:
    """进行中 / 已暂停 / 待开始 / 逾期 / 今日完成 for the department and the ones below it, as read at ``now``:
    each column's first COLUMN_LIMIT tasks (open ones by priority, then delivery date; 今日完成 latest first)
    and its total. Every open task appears exactly once."""
    today = today or plant_today()
    department_ids = sorted(with_descendants([department.id]))
    columns = {
        "in_progress": Column("in_progress", TaskStatus.label_of("in_progress")),
        "paused": Column("paused", TaskStatus.label_of("paused")),
        "pending": Column("pending", TaskStatus.label_of("pending")),
        "overdue": Column("overdue", str(_l("逾期"))),
        "completed": Column("completed", str(_l("今日完成"))),
    }
    parameters = {"shown": COLUMN_LIMIT, "department_ids": department_ids, "today": today, "since": _start_of_plant_day_utc(today)}
    for statement in (_OPEN_COLUMNS, _COMPLETED_TODAY):
        for row in db.session.execute(statement, parameters):
            column = columns[row.column]
            column.total = row.total
            column.tasks.append(BoardTask(*row[:len(BoardTask._fields)]))
    ordered = [columns[key] for key in ("in_progress", "paused", "pending", "overdue", "completed")]
    return Board(department, department_ids, ordered, now or datetime.now(plant_zone()))
