"""One task as its pages read it: the task, why it is blocked, its history and its work periods."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AuditLog, Task, TimeLog, User, WorkOrderStep
from app.services.core import audit_text
from app.services.core.errors import NotFound
from app.services.core.loading import name_only

# ---------------------------------------------------------------- reading

def get_task(task_id: int) -> Task:
    task = db.session.scalar(
        select(Task)
        .options(joinedload(Task.work_order), joinedload(Task.step).joinedload(WorkOrderStep.process),
                 name_only(joinedload(Task.operator)),
                 joinedload(Task.department))
        .where(Task.id == task_id)
    )
    if task is None:
        raise NotFound(_l("任务不存在"), code="task_not_found")
    return task


def work_order_stop(work_order_status: str) -> str | None:
    """Why a task of a 施工单 in this production status cannot be acted on, or None."""
    return {"paused": _("施工单已暂停"), "cancelled": _("施工单已取消"), "completed": _("施工单已完成")} \
        .get(work_order_status)


def blocker(task: Task) -> str | None:
    """Why nobody can act on this task right now, or None. Cards show the same text."""
    work_order = task.work_order
    if task.status == "draft" or work_order.approval_status != "approved":
        return _("等待审核：施工单尚未审核通过")
    stopped = work_order_stop(work_order.status)
    if stopped:
        return stopped
    if task.status == "cancelled":
        return _("任务已取消")
    return None


def claimed_by_message(holder: User) -> str:
    return _("该任务已被 %(name)s 认领", name=holder.name)


def history(task: Task) -> list[audit_text.Entry]:
    """Every audit row of the task, oldest first, with who did it, in words."""
    return audit_text.describe_all(db.session.scalars(
        select(AuditLog).options(joinedload(AuditLog.user)).where(AuditLog.task_id == task.id)
        .order_by(AuditLog.at, AuditLog.id)
    ).all())


def time_logs(task: Task) -> list[TimeLog]:
    return list(db.session.scalars(
        select(TimeLog).options(joinedload(TimeLog.operator)).where(TimeLog.task_id == task.id)
        .order_by(TimeLog.started_at, TimeLog.id)
    ))
