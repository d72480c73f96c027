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
from datetime import UTC, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.enums import OPEN_TASK_STATUSES, PRIORITY_RANK, TaskStatus
from app.extensions import db
from app.models import Department, Setting, Task, WorkOrder
from app.policy import with_descendants
from app.services.core import audit
from app.services.core.errors import NotFound
from app.utils.timeutil import plant_today, plant_zone

TOKEN_KEY = "board_token:{code}"
# Tasks listed per column; the column header always shows the full count.
COLUMN_LIMIT = 30
OPEN_TASKS_FETCHED = 300


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


def snapshot(department: Department, today=None, now: datetime | None = None) -> Board:
    """进行中 / 已暂停 / 待开始 / 逾期 / 今日完成 for the department and the ones below it, as read at ``now``.

    A late task (its 施工单 is past its delivery date) is listed under 逾期 only, so every open
    task appears exactly once.
    """
    today = today or plant_today()
    department_ids = sorted(with_descendants([department.id]))
    columns = {
        "in_progress": Column("in_progress", TaskStatus.label_of("in_progress")),
        "paused": Column("paused", TaskStatus.label_of("paused")),
        "pending": Column("pending", TaskStatus.label_of("pending")),
        "overdue": Column("overdue", str(_l("逾期"))),
        "completed": Column("completed", str(_l("今日完成"))),
    }
    in_department = Task.department_id.in_(department_ids)
    is_open = Task.status.in_(OPEN_TASK_STATUSES)

    counts = db.session.execute(
        select(Task.status, WorkOrder.delivery_date, func.count())
        .join(WorkOrder, Task.work_order_id == WorkOrder.id)
        .where(in_department, is_open)
        .group_by(Task.status, WorkOrder.delivery_date)
    )
    for status, delivery_date, count in counts:
        columns["overdue" if delivery_date < today else status].total += count

    open_tasks = db.session.scalars(
        select(Task)
        .join(WorkOrder, Task.work_order_id == WorkOrder.id)
        .where(in_department, is_open)
        .options(joinedload(Task.work_order), joinedload(Task.operator))
        .order_by(case(PRIORITY_RANK, value=WorkOrder.priority, else_=1).desc(), WorkOrder.delivery_date, Task.id)
        .limit(OPEN_TASKS_FETCHED)
    )
    for task in open_tasks:
        column = columns["overdue" if task.work_order.delivery_date < today else task.status]
        if len(column.tasks) < COLUMN_LIMIT:
            column.tasks.append(task)

    since = _start_of_plant_day_utc(today)
    done_today = (in_department, Task.status == "completed", Task.completed_at >= since)
    columns["completed"].total = db.session.scalar(select(func.count()).select_from(Task).where(*done_today))
    columns["completed"].tasks = list(db.session.scalars(
        select(Task).where(*done_today)
        .options(joinedload(Task.work_order), joinedload(Task.operator))
        .order_by(Task.completed_at.desc()).limit(COLUMN_LIMIT)
    ))
    ordered = [columns[key] for key in ("in_progress", "paused", "pending", "overdue", "completed")]
    return Board(department, department_ids, ordered, now or datetime.now(plant_zone()))

