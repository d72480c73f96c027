"""Submit, approve (with dispatch), reject, resubmit and withdraw a 施工单 (DOMAIN.md §4)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import joinedload

from app.enums import TaskStatus
from app.extensions import db
from app.models import (
    ApprovalLog,
    Task,
    WorkOrder,
    WorkOrderStep,
)
from app.realtime import events
from app.services.core import audit
from app.services.core.errors import Conflict, Invalid
from app.services.dispatch import auto_dispatch as dispatch_service
from app.services.notifications import inbox as notifications
from app.services.workorders import approval_check
from app.services.workorders import task_generation as generation
from app.services.workorders.common import (
    _advance_version,
    _announce,
    _lock,
    _open_tasks,
    _wrong_approval,
    _wrong_status,
)
from app.services.workorders.production import _settle_steps
from app.services.workorders.resolve import _shape_of, _step_ids
from app.utils.timeutil import utcnow

# ---------------------------------------------------------------- approval

def submit(actor, work_order_id: int, version: int) -> WorkOrder:
    """草稿 → 待审核 once the approval check passes; the approvers are told."""
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.submit")
    if work_order.approval_status != "draft":
        raise _wrong_approval(_l("只有草稿状态的施工单可以提交审核"), work_order)
    _advance_version(work_order, version)
    _submit(actor, work_order, resubmitting=False)
    _announce(work_order, "submitted", moves_plan=False)
    return work_order


def resubmit(actor, work_order_id: int, version: int) -> WorkOrder:
    """已拒绝 → 待审核; a step left without any task gets its drafts again (DOMAIN.md §4)."""
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.submit")
    if work_order.approval_status != "rejected":
        raise _wrong_approval(_l("只有被拒绝的施工单才能重新提交审核"), work_order)
    _advance_version(work_order, version)
    _submit(actor, work_order, resubmitting=True)
    _announce(work_order, "resubmitted", moves_plan=False)
    return work_order


def approve(actor, work_order_id: int, version: int, comment: str = "") -> WorkOrder:
    """待审核 → 已通过 in one transaction: drafts become 待开始 and go to their departments."""
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.approve")
    if work_order.approval_status != "pending":
        raise _wrong_approval(_l("只有待审核的施工单可以审核"), work_order)
    approval_check.check(work_order)
    _advance_version(work_order, version)
    drafts = list(db.session.scalars(
        select(Task).where(Task.work_order_id == work_order.id, Task.status == "draft")
        .options(joinedload(Task.step).joinedload(WorkOrderStep.process), joinedload(Task.plate))
        .order_by(Task.id)
    ))
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="release", work_order_id=work_order.id, task_id=task.id,
             from_status="draft", to_status="pending")
        for task in drafts
    ])
    if drafts:
        db.session.execute(
            update_rows(Task).where(Task.id.in_([task.id for task in drafts]))
            .values(status="pending", version=Task.version + 1).execution_options(synchronize_session="evaluate")
        )
    chosen = dispatch_service.dispatch_tasks(drafts, actor)
    now = utcnow()
    previous_status = work_order.status
    work_order.approval_status = "approved"
    work_order.approved_by_id, work_order.approved_at = actor.id, now
    work_order.approval_comment = (comment or "").strip()
    if work_order.status == "pending":
        work_order.status = "in_progress"
    db.session.add(ApprovalLog(work_order_id=work_order.id, action="approve", user_id=actor.id,
                               comment=work_order.approval_comment, created_at=now))
    audit.record(actor, "work_order", work_order.id, "approve", work_order_id=work_order.id,
                 from_status="pending", to_status="approved", reason=work_order.approval_comment,
                 detail={"tasks": len(drafts), "status": [previous_status, work_order.status]})
    _complete_confirmed_plate_tasks(actor, work_order, drafts)
    notifications.notify_approved(work_order, len(drafts), actor)
    departments = sorted({d for d in chosen.values() if d is not None})
    # On each department's 主管看板 the new tasks join 未分配 and its head's counts, and the column of any
    # operator a rule chose for one of them (app/services/dispatch/operator_selection.py).
    parts = {f"{d}:{part}" for d in departments for part in ("head", "none")}
    parts.update(f"{task.department_id}:{task.operator_id}" for task in drafts if task.operator_id is not None)
    _announce(work_order, "approved", department_ids=departments,
              user_ids=[task.operator_id for task in drafts],
              claimable_arrived=events.claimable_arrivals(work_order, drafts), board_parts=sorted(parts))
    return work_order


def approval_message(work_order_id: int) -> str:
    """What approving did, truthfully: how many tasks went to departments and how many wait in
    the 待分派 pool (auto-dispatch off, or no rule fits) for a supervisor to dispatch."""
    dispatched, pooled = db.session.execute(
        select(func.count(Task.department_id),
               func.count(Task.id).filter(Task.department_id.is_(None), Task.status == "pending"))
        .where(Task.work_order_id == work_order_id, Task.status != "draft")
    ).one()
    if dispatched and pooled:
        return _("审核通过：%(dispatched)s 个任务已分派到部门，%(pooled)s 个任务进入待分派，等待主管分派",
                 dispatched=dispatched, pooled=pooled)
    if pooled:
        return _("审核通过：%(count)s 个任务进入待分派，等待主管分派", count=pooled)
    if dispatched:
        return _("审核通过：%(count)s 个任务已分派到部门", count=dispatched)
    return _("审核通过")


def reject(actor, work_order_id: int, version: int, reason: str) -> WorkOrder:
    """待审核 → 已拒绝 with a reason. The drafts and every manual edit stay (DOMAIN.md §3): the
    maker fixes what the reason names and resubmits, without redoing the rest."""
    reason = (reason or "").strip()

    def reason_given():
        if not reason:
            raise Invalid(_l("审核拒绝时，必须填写拒绝原因"), fields={"reason": _l("请填写拒绝原因")},
                          code="reason_required")

    work_order = _lock(work_order_id, version, actor=actor, action="workorder.approve", check=reason_given)
    if work_order.approval_status != "pending":
        raise _wrong_approval(_l("只有待审核的施工单可以审核"), work_order)
    _advance_version(work_order, version)
    now = utcnow()
    work_order.approval_status = "rejected"
    work_order.approved_by_id, work_order.approved_at, work_order.approval_comment = actor.id, now, reason
    db.session.add(ApprovalLog(work_order_id=work_order.id, action="reject", user_id=actor.id, comment=reason,
                               created_at=now))
    audit.record(actor, "work_order", work_order.id, "reject", work_order_id=work_order.id, from_status="pending",
                 to_status="rejected", reason=reason)
    notifications.notify_rejected(work_order, reason, actor)
    _announce(work_order, "rejected", moves_plan=False)
    return work_order


def withdraw(actor, work_order_id: int, version: int, reason: str = "") -> WorkOrder:
    """已通过 → 草稿 while no task has started: every task back to an unassigned draft."""
    reason = (reason or "").strip()
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.withdraw")
    if work_order.approval_status != "approved":
        raise _wrong_approval(_l("只有已通过审核的施工单可以撤回审核"), work_order)
    if work_order.status in ("completed", "cancelled"):
        raise _wrong_status(_l("施工单已结束，不能撤回审核"), work_order)
    started = started_task_count(work_order)
    if started:
        raise Conflict(_l("已有 %(count)s 个任务开始生产，不能撤回审核", count=started), code="started")
    _advance_version(work_order, version)
    tasks = _open_tasks(work_order, TaskStatus.values())
    holders, departments = {t.operator_id for t in tasks if t.operator_id}, {t.department_id for t in tasks}
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="withdraw", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status=task.status, to_status="draft", reason=reason)
        for task in tasks
    ])
    db.session.execute(
        update_rows(Task).where(Task.work_order_id == work_order.id).values(
            status="draft", department_id=None, operator_id=None, dispatched_at=None, completed_at=None,
            started_at=None, completed_quantity=0, defective_quantity=0, cancel_reason="", completion_reason="",
            pause_reason=None, pause_note="", status_before_pause=None, version=Task.version + 1,
        ).execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update_rows(WorkOrderStep).where(WorkOrderStep.work_order_id == work_order.id)
        .values(status="pending", started_at=None, completed_at=None).execution_options(synchronize_session="fetch")
    )
    previous_status = work_order.status
    work_order.approval_status, work_order.status = "draft", "pending"
    work_order.approved_by_id, work_order.approved_at, work_order.approval_comment = None, None, ""
    db.session.add(ApprovalLog(work_order_id=work_order.id, action="withdraw", user_id=actor.id, comment=reason,
                               created_at=utcnow()))
    audit.record(actor, "work_order", work_order.id, "withdraw", work_order_id=work_order.id,
                 from_status="approved", to_status="draft", reason=reason,
                 detail={"status": [previous_status, "pending"], "tasks": len(tasks)})
    notifications.notify(
        holders - {actor.id}, "system", _("施工单 %(number)s 已撤回审核", number=work_order.number),
        _("施工单 %(number)s 已撤回审核，您在该施工单上的任务已退回草稿，请等待重新审核。", number=work_order.number),
        work_order=work_order,
    )
    _announce(work_order, "withdrawn", departments, holders)
    return work_order


def task_was_started():
    """A task someone has worked on, as SQL. A plate-making task completed by confirming its plate was
    not *worked*: withdrawn, it returns to a draft and completes again at the next approval."""
    return or_(Task.started_at.is_not(None), Task.status.in_(("in_progress", "paused")),
               (Task.status == "completed") & Task.auto_complete.is_(False))


def started_task_count(work_order: WorkOrder) -> int:
    """Tasks someone has worked on (``task_was_started``): withdrawing is refused while there are any."""
    return db.session.scalar(
        select(func.count()).select_from(Task).where(
            Task.work_order_id == work_order.id, task_was_started(),
        )
    )



def _submit(actor, work_order: WorkOrder, *, resubmitting: bool) -> None:
    """→ 待审核, after restoring missing drafts and passing the approval check; approvers are told."""
    if resubmitting:
        generation.insert_drafts(work_order, _drafts_of_empty_steps(work_order), _step_ids(work_order))
    approval_check.check(work_order)
    previous = work_order.approval_status
    now = utcnow()
    work_order.approval_status, work_order.submitted_at, work_order.approval_comment = "pending", now, ""
    action = "resubmit" if resubmitting else "submit"
    db.session.add(ApprovalLog(work_order_id=work_order.id, action=action, user_id=actor.id, created_at=now))
    audit.record(actor, "work_order", work_order.id, action, work_order_id=work_order.id,
                 from_status=previous, to_status="pending")
    notifications.notify_approval_requested(work_order, actor)


def _empty_step_ids(work_order: WorkOrder) -> set[int]:
    with_tasks = set(db.session.scalars(select(Task.step_id).where(Task.work_order_id == work_order.id).distinct()))
    return {step.id for step in work_order.steps if step.id not in with_tasks}


def _drafts_of_empty_steps(work_order: WorkOrder) -> list[generation.TaskSpec]:
    """What a resubmission adds: the generated drafts of each step that has no task at all.

    Drafts kept through the rejection — edited, added or deleted by hand — are the maker's work
    and stay as they are; only a step left empty (e.g. rejected before drafts were kept) is filled.
    """
    empty_ids = _empty_step_ids(work_order)
    empty = {step.process_id for step in work_order.steps if step.id in empty_ids}
    if not empty:
        return []
    return [spec for spec in generation.generate(_shape_of(work_order)) if spec.process_id in empty]


def _complete_confirmed_plate_tasks(actor, work_order: WorkOrder, released: list[Task]) -> None:
    """A plate confirmed before approval has already been made: its 制版 task completes now
    (reference §13 #43), and its step with it when nothing else is left."""
    done = [task for task in released
            if task.task_type == "plate_making" and task.plate is not None and task.plate.confirmed]
    if not done:
        return
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="auto_complete", work_order_id=work_order.id,
             task_id=task.id, department_id=task.department_id, from_status="pending", to_status="completed",
             quantity_delta=task.target_quantity, reason=_("版已确认：%(code)s", code=task.plate.code))
        for task in done
    ])
    db.session.execute(
        update_rows(Task).where(Task.id.in_([task.id for task in done])).values(
            status="completed", completed_quantity=Task.target_quantity, completed_at=utcnow(),
            version=Task.version + 1,
        ).execution_options(synchronize_session="evaluate")
    )
    _settle_steps(work_order, actor, notify=True)
