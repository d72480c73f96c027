"""Pause, resume, cancel and delete a 施工单 (DOMAIN.md §6)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import joinedload

from app.enums import FINISHED_STEP_STATUSES, OPEN_TASK_STATUSES
from app.extensions import db
from app.models import (
    Notification,
    Task,
    TimeLog,
    WorkOrder,
    WorkOrderStep,
)
from app.realtime import events
from app.services.core import audit, work_periods
from app.services.core.errors import Conflict, Invalid
from app.services.notifications import inbox as notifications
from app.services.workorders.common import (
    _advance_version,
    _announce,
    _lock,
    _open_tasks,
    _reach,
    _require_approved,
    _wrong_status,
)
from app.utils.timeutil import utcnow

# ---------------------------------------------------------------- production

def pause(actor, work_order_id: int, version: int, reason: str = "") -> WorkOrder:
    """进行中 → 已暂停: every 待开始/进行中 task pauses and remembers what it was."""
    reason = (reason or "").strip()
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.control")
    _require_approved(work_order, _l("施工单尚未审核通过，不能暂停"))
    if work_order.status != "in_progress":
        raise _wrong_status(_l("只有进行中的施工单可以暂停"), work_order)
    _advance_version(work_order, version)
    tasks = _open_tasks(work_order, ("pending", "in_progress"))
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="pause", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status=task.status, to_status="paused",
             reason=_("施工单暂停") + (f"：{reason}" if reason else ""))
        for task in tasks
    ])
    work_periods.close([task.id for task in tasks if task.status == "in_progress"], utcnow())
    for status in ("pending", "in_progress"):
        ids = [task.id for task in tasks if task.status == status]
        if ids:
            db.session.execute(
                update_rows(Task).where(Task.id.in_(ids)).values(
                    status="paused", status_before_pause=status, pause_reason="other",
                    pause_note=(reason or _("施工单已暂停"))[:255], version=Task.version + 1,
                ).execution_options(synchronize_session="evaluate")
            )
    work_order.status = "paused"
    audit.record(actor, "work_order", work_order.id, "pause", work_order_id=work_order.id,
                 from_status="in_progress", to_status="paused", reason=reason, detail={"tasks": len(tasks)})
    _announce(work_order, "paused", *_reach(tasks))
    return work_order


def resume(actor, work_order_id: int, version: int) -> WorkOrder:
    """已暂停 → 进行中: the tasks the pause stopped get their status back; tasks an operator had
    paused themselves (with their own reason) stay paused."""
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.control")
    if work_order.status != "paused":
        raise _wrong_status(_l("只有已暂停的施工单可以恢复"), work_order)
    _advance_version(work_order, version)
    tasks = [task for task in _open_tasks(work_order, ("paused",)) if task.status_before_pause]
    restored = {task.id: task.status_before_pause for task in tasks}
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="resume", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status="paused", to_status=restored[task.id],
             reason=_("施工单恢复"))
        for task in tasks
    ])
    for status in ("pending", "in_progress"):
        ids = [task_id for task_id, before in restored.items() if before == status]
        if ids:
            db.session.execute(
                update_rows(Task).where(Task.id.in_(ids)).values(
                    status=status, status_before_pause=None, pause_reason=None, pause_note="",
                    version=Task.version + 1,
                ).execution_options(synchronize_session="evaluate")
            )
    # The operators of running tasks start a new work period, as if each had pressed 继续.
    now = utcnow()
    db.session.add_all([TimeLog(task_id=task.id, operator_id=task.operator_id, started_at=now)
                        for task in tasks if restored[task.id] == "in_progress" and task.operator_id])
    work_order.status = "in_progress"
    audit.record(actor, "work_order", work_order.id, "resume", work_order_id=work_order.id,
                 from_status="paused", to_status="in_progress", detail={"tasks": len(tasks)})
    _announce(work_order, "resumed", *_reach(tasks))
    return work_order


def cancel(actor, work_order_id: int, version: int, reason: str) -> WorkOrder:
    """→ 已取消 with a reason: every open task is cancelled and its operator told."""
    reason = (reason or "").strip()

    def reason_given():
        if not reason:
            raise Invalid(_l("取消施工单必须填写原因"), fields={"reason": _l("请填写取消原因")},
                          code="reason_required")

    work_order = _lock(work_order_id, version, actor=actor, action="workorder.control", check=reason_given)
    _require_approved(work_order, _l("施工单尚未审核通过，不能取消；未审核的施工单可以直接删除"))
    if work_order.status in ("completed", "cancelled"):
        raise _wrong_status(_l("施工单已结束，不能取消"), work_order)
    _advance_version(work_order, version)
    tasks = _open_tasks(work_order, OPEN_TASK_STATUSES)
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="cancel", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status=task.status, to_status="cancelled", reason=reason)
        for task in tasks
    ])
    work_periods.close([task.id for task in tasks], utcnow())
    if tasks:
        db.session.execute(
            update_rows(Task).where(Task.id.in_([task.id for task in tasks])).values(
                status="cancelled", cancel_reason=reason, status_before_pause=None, version=Task.version + 1,
            ).execution_options(synchronize_session="evaluate")
        )
    for task in tasks:
        notifications.notify_task_cancelled(task, reason, actor)
    _settle_steps(work_order)
    previous = work_order.status
    work_order.status, work_order.cancel_reason = "cancelled", reason
    audit.record(actor, "work_order", work_order.id, "cancel", work_order_id=work_order.id, from_status=previous,
                 to_status="cancelled", reason=reason, detail={"tasks": len(tasks)})
    _announce(work_order, "cancelled", *_reach(tasks))
    return work_order


def delete_work_order(actor, work_order_id: int, version: int) -> str:
    """Only before approval; after approval a 施工单 is cancelled, never deleted. Returns its number."""
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.delete")
    if work_order.approval_status == "approved":
        raise Conflict(_l("已审核通过的施工单不能删除，请改为取消"), code="approved")
    _advance_version(work_order, version)
    number, identifier, approval = work_order.number, work_order.id, work_order.approval_status
    events.publish("work_order.deleted", work_order=work_order)
    db.session.execute(delete(Task).where(Task.work_order_id == identifier)
                       .execution_options(synchronize_session="fetch"))
    db.session.execute(delete(Notification).where(Notification.work_order_id == identifier)
                       .execution_options(synchronize_session="fetch"))
    db.session.delete(work_order)
    audit.record(actor, "work_order", identifier, "delete", work_order_id=identifier, from_status=approval,
                 detail={"number": number})
    return number



def _settle_steps(work_order: WorkOrder, actor=None, *, notify: bool = False) -> None:
    """Steps whose tasks are all finished: 已完成 if one completed, else 已跳过 (DOMAIN.md §3)."""
    statuses: dict[int, set[str]] = {}
    for step_id, status in db.session.execute(
        select(Task.step_id, Task.status).where(Task.work_order_id == work_order.id, Task.status != "draft")
    ):
        statuses.setdefault(step_id, set()).add(status)
    now = utcnow()
    for step in db.session.scalars(select(WorkOrderStep).where(WorkOrderStep.work_order_id == work_order.id)
                                   .options(joinedload(WorkOrderStep.process))):
        found = statuses.get(step.id, set())
        if step.status in FINISHED_STEP_STATUSES or not found or not found <= {"completed", "cancelled"}:
            continue
        previous = step.status
        step.status = "completed" if "completed" in found else "skipped"
        step.started_at, step.completed_at = step.started_at or now, now
        audit.record(actor, "step", step.id, "complete" if step.status == "completed" else "skip",
                     work_order_id=work_order.id, from_status=previous, to_status=step.status)
        if notify and step.status == "completed":
            notifications.notify_step_completed(step, actor)
