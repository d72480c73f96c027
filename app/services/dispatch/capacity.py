"""The operator task cap (DOMAIN.md §7): at most N open tasks per operator, N from the settings.

Every path that sets an operator on a task (claim, supervisor assignment, auto-dispatch) calls
``ensure_below_cap`` inside its transaction, before writing.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import Task, User
from app.services.core import settings
from app.services.core.errors import Conflict
from app.services.core.locking import for_update


def cap_message(count: int, cap: int) -> str:
    return str(_l("已达任务上限 %(count)s/%(cap)s", count=count, cap=cap))


def open_task_count(operator_id: int) -> int:
    statement = select(func.count(Task.id)).where(
        Task.operator_id == operator_id, Task.status.in_(OPEN_TASK_STATUSES)
    )
    return db.session.scalar(statement) or 0


def ensure_below_cap(operator_id: int, adding: int = 1) -> int:
    """Refuse when ``adding`` more tasks would put the operator over the cap; return the count.

    On PostgreSQL the operator's users row is locked first, so two transactions giving a task
    to the same operator run this check one after the other and cannot both slip under the cap.
    SQLite ignores FOR UPDATE, so there the check is best effort (the accepted fallback).
    """
    db.session.execute(for_update(select(User.id).where(User.id == operator_id)))
    count = open_task_count(operator_id)
    cap = settings.get("operator_task_cap")
    if count + adding > cap:
        raise Conflict(cap_message(count, cap), code="cap_reached")
    return count
