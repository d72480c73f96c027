"""Every task action of the shop floor and the roll-up from task to step to 施工单.

DOMAIN.md §3 (life cycles), §7 (claim, cap), §8 (shop floor); reference §7.1–§7.5.

Each action checks everything first (a refusal writes nothing), then writes the task with ONE
compare-and-set on ``Task.version``, and every consequence (time log, step, 施工单, audit row,
notification, event) goes through ``_transition``. Actions never commit: the caller commits
once, and the events are delivered after that commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import policy
from app.enums import OPEN_TASK_STATUSES, PauseReason, PurchaseStatus
from app.extensions import db
from app.models import AuditLog, Task, TimeLog, User, WorkOrder, WorkOrderMaterial, WorkOrderStep
from app.realtime import events
from app.services import audit, audit_text, capacity, notifications, settings, work_periods
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.loading import name_only
from app.services.locking import for_update
from app.utils.timeutil import utcnow

STALE_MESSAGE = _l("任务已被其他人更新，请刷新后重试")
FINISHED_STEP_STATUSES = ("completed", "skipped")


@dataclass
class Outcome:
    """What an action did: the task as it is now, a message for the toast, and whether the
    task changed status or holder (the kiosk then regroups its lists)."""

    task: Task
    message: str
    moved: bool = False


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


# ---------------------------------------------------------------- shop-floor actions

def claim(task: Task, actor: User, version: int) -> Outcome:
    _ensure_actionable(task)
    if task.operator_id == actor.id:
        return Outcome(task, _("您已认领该任务"))
    if task.operator_id is not None:
        raise Conflict(claimed_by_message(task.operator), code="claimed")
    if not policy.can(actor, "task.claim", task):
        raise Forbidden(policy.refusal("task.claim"), code="not_your_department")
    if task.status != "pending":
        raise Conflict(_l("只能认领待开始的任务"), code="not_claimable")
    _ensure_version(task, version)
    capacity.ensure_below_cap(actor.id)
    # Exactly one winner: the row still has no operator only for the first UPDATE to reach it.
    won = _compare_and_set(task, version, Task.operator_id.is_(None), Task.status == "pending", operator_id=actor.id)
    if not won:
        holder = db.session.scalar(select(User).join(Task, Task.operator_id == User.id).where(Task.id == task.id))
        raise Conflict(claimed_by_message(holder) if holder else STALE_MESSAGE, code="claimed" if holder else "stale")
    _record(actor, task, "claim", task.status, detail={"operator": actor.name})
    return Outcome(task, _("认领成功"), moved=True)


def start(task: Task, actor: User, version: int) -> Outcome:
    _ensure_worker(task, actor)
    if task.status == "in_progress":
        return Outcome(task, _("任务已开始"))
    if task.status == "paused":
        raise Conflict(_l("任务已暂停，请点击“继续”"), code="paused")
    if task.status != "pending":
        raise Conflict(_l("任务已完成"), code="completed")
    _ensure_version(task, version)
    _transition(task, version, actor, "start", status="in_progress")
    return Outcome(task, _("已开始"), moved=True)


def pause(task: Task, actor: User, version: int, reason: str, note: str = "") -> Outcome:
    _ensure_worker(task, actor)
    if task.status == "paused":
        return Outcome(task, _("任务已暂停"))
    if task.status == "pending":
        raise Conflict(_l("任务尚未开始，不能暂停"), code="not_started")
    if task.status != "in_progress":
        raise Conflict(_l("任务已完成"), code="completed")
    if reason not in PauseReason.values():
        message = _l("请选择暂停原因")
        raise Invalid(message, fields={"reason": message})
    _ensure_version(task, version)
    note = note.strip()[:255]
    _transition(task, version, actor, "pause", status="paused", pause_reason=reason, pause_note=note,
                reason=_join(PauseReason.label_of(reason), note), detail={"pause_reason": reason, "note": note})
    return Outcome(task, _("已暂停"), moved=True)


def resume(task: Task, actor: User, version: int) -> Outcome:
    _ensure_worker(task, actor)
    if task.status == "in_progress":
        return Outcome(task, _("任务已在进行中"))
    if task.status != "paused":
        raise Conflict(_l("任务未暂停，不能继续"), code="not_paused")
    _ensure_version(task, version)
    _transition(task, version, actor, "resume", status="in_progress", pause_reason=None, pause_note="")
    return Outcome(task, _("已继续"), moved=True)


def report(task: Task, actor: User, version: int, good: int, defective: int = 0, defect_reason: str = "",
           note: str = "") -> Outcome:
    """报工: add good and defective quantities; a negative amount is a correction and needs a reason.

    The note goes to the audit row only: it never overwrites the planner's 生产要求 (reference §13 #42).
    """
    _ensure_worker(task, actor)
    if task.status == "paused":
        raise Conflict(_l("任务已暂停，请先点击“继续”"), code="paused")
    _ensure_version(task, version)
    defect_reason, note = defect_reason.strip(), note.strip()
    new_good = task.completed_quantity + good
    new_defective = task.defective_quantity + defective
    errors = {}
    if good == 0 and defective == 0:
        errors["good"] = _l("请填写本次完成数量或不良品数量")
    elif task.status == "completed" and good > 0:
        errors["good"] = _l("任务已完成，只能填写负数更正")
    elif new_good < 0:
        errors["good"] = _l("报工后完成数量不能小于 0")
    elif new_good > task.target_quantity:
        errors["good"] = _l("报工后完成数量不能超过目标数量（%(target)s）", target=task.target_quantity)
    if new_defective < 0:
        errors["defective"] = _l("报工后不良品数量不能小于 0")
    elif defective > task.target_quantity:
        # A typo of a few extra digits would otherwise pile up defects no plant could make.
        errors["defective"] = _l("单次报工的不良品数量不能超过目标数量（%(target)s）", target=task.target_quantity)
    if defective > 0 and not defect_reason:
        errors["defect_reason"] = _l("有不良品时请填写不良原因")
    if (good < 0 or defective < 0) and not note:
        errors["note"] = _l("更正（负数）需要在备注中填写原因")
    if errors:
        raise Invalid(next(iter(errors.values())), fields=errors)

    previous = task.status
    reaches_target = task.target_quantity > 0 and new_good >= task.target_quantity
    if reaches_target:
        status = "completed"
    elif task.status == "completed":
        status = "in_progress" if good < 0 else "completed"
    else:
        status = "in_progress"
    _transition(
        task, version, actor, "report", status=status, completed_quantity=new_good,
        defective_quantity=new_defective, quantity_delta=good, defective_delta=defective,
        reason=_join(defect_reason, note),
        detail={"completed_before": task.completed_quantity, "completed_after": new_good,
                "defect_reason": defect_reason, "note": note},
    )
    if status == "completed" and reaches_target:
        message = _("报工成功，任务已完成")
    else:
        message = _("报工成功：%(done)s / %(target)s", done=task.completed_quantity, target=task.target_quantity)
    return Outcome(task, message, moved=status != previous)


def complete(task: Task, actor: User, version: int, reason: str = "") -> Outcome:
    _ensure_worker(task, actor)
    if task.status == "completed":
        return Outcome(task, _("任务已完成"))
    reason = reason.strip()
    if task.completed_quantity < task.target_quantity and not reason:
        message = _l("完成数量未达到目标数量，请填写提前完成的原因")
        raise Invalid(message, fields={"reason": message})
    _ensure_version(task, version)
    _transition(task, version, actor, "complete", status="completed", completion_reason=reason, reason=reason)
    return Outcome(task, _("任务已完成"), moved=True)


def cancel(task: Task, actor: User, version: int, reason: str) -> Outcome:
    if task.status == "cancelled":
        return Outcome(task, _("任务已取消"))
    _ensure_actionable(task)
    if not policy.can(actor, "task.supervise", task):
        raise Forbidden(policy.refusal("task.supervise"), code="forbidden")
    if task.status == "completed":
        raise Conflict(_l("已完成的任务不能取消"), code="completed")
    reason = reason.strip()
    if not reason:
        message = _l("请填写取消原因")
        raise Invalid(message, fields={"reason": message})
    _ensure_version(task, version)
    _transition(task, version, actor, "cancel", status="cancelled", cancel_reason=reason, reason=reason)
    notifications.notify_task_cancelled(task, reason, actor)
    return Outcome(task, _("任务已取消"), moved=True)


# ---------------------------------------------------------------- automatic completion

def complete_plate_tasks(plate, actor) -> list[Task]:
    """Confirming a plate completes (quantity 1) the open plate-making tasks linked to it.

    Only tasks of approved 施工单: drafts are evaluated by the 施工单 service at approval time.
    """
    tasks = db.session.scalars(for_update(
        select(Task).join(WorkOrder, Task.work_order_id == WorkOrder.id)
        .where(Task.plate_id == plate.id, Task.task_type == "plate_making", Task.status.in_(OPEN_TASK_STATUSES),
               WorkOrder.approval_status == "approved")
        .order_by(Task.id), of=Task).execution_options(populate_existing=True)
    ).all()
    for task in tasks:
        _transition(task, task.version, actor, "auto_complete", status="completed",
                    completed_quantity=1, quantity_delta=1 - task.completed_quantity,
                    reason=_("版已确认：%(code)s", code=plate.code), detail={"plate": plate.code})
    return tasks


def mark_material(line: WorkOrderMaterial, status: str, actor) -> list[Task]:
    """Move a material line's purchase status forward (待采购 → 已下单 → 已回料 → 已开料).

    已开料 sets its cutting tasks' completed quantity to the first number in 用量 and completes
    those that reach their target. Returns the tasks it changed.
    """
    order = PurchaseStatus.values()
    if status not in order:
        raise Invalid(_l("采购状态无效"), fields={"purchase_status": _l("采购状态无效")})
    line = db.session.scalar(for_update(
        select(WorkOrderMaterial).options(joinedload(WorkOrderMaterial.work_order))
        .where(WorkOrderMaterial.id == line.id), of=WorkOrderMaterial)
        .execution_options(populate_existing=True)
    )
    if line.work_order.status == "cancelled":
        raise Conflict(_l("施工单已取消"), code="blocked")
    previous = line.purchase_status
    if status == previous:
        return []
    if order.index(status) < order.index(previous):
        raise Conflict(_l("采购状态只能向前推进：%(before)s → %(after)s 不允许",
                          before=PurchaseStatus.label_of(previous), after=PurchaseStatus.label_of(status)),
                       code="backwards")
    now = utcnow()
    for stage, column in (("ordered", "ordered_at"), ("received", "received_at"), ("cut", "cut_at")):
        if order.index(stage) <= order.index(status) and getattr(line, column) is None:
            setattr(line, column, now)
    line.purchase_status = status
    audit.record(actor, "material_line", line.id, "purchase_status", work_order_id=line.work_order_id,
                 from_status=previous, to_status=status, detail={"material_id": line.material_id})
    events.publish("work_order.updated", work_order=line.work_order)
    return _apply_cut_quantity(line, actor) if status == "cut" else []


def _apply_cut_quantity(line: WorkOrderMaterial, actor) -> list[Task]:
    match = re.search(r"\d+", line.usage or "")
    tasks = db.session.scalars(for_update(
        select(Task).join(WorkOrder, Task.work_order_id == WorkOrder.id)
        .where(Task.material_line_id == line.id, Task.task_type == "cutting", Task.status.in_(OPEN_TASK_STATUSES),
               WorkOrder.approval_status == "approved")
        .order_by(Task.id), of=Task).execution_options(populate_existing=True)
    ).all()
    for task in tasks:
        quantity = int(match.group()) if match else task.completed_quantity
        if task.target_quantity > 0:
            quantity = min(quantity, task.target_quantity)
        status = "completed" if quantity >= task.target_quantity else task.status
        _transition(task, task.version, actor, "auto_complete" if status == "completed" else "auto_report",
                    status=status, completed_quantity=quantity, quantity_delta=quantity - task.completed_quantity,
                    reason=_("物料已开料，用量：%(usage)s", usage=line.usage), detail={"usage": line.usage})
    return tasks


# ---------------------------------------------------------------- roll-up

def refresh_step_and_work_order(step: WorkOrderStep, actor) -> None:
    """A step is 已完成 when all its tasks are completed or cancelled and one is completed,
    已跳过 when all were cancelled; the 施工单 is 已完成 when every step is.

    The step row is locked first so two tasks finishing at once cannot both miss each other.
    """
    step = db.session.scalar(for_update(
        select(WorkOrderStep).options(joinedload(WorkOrderStep.process), joinedload(WorkOrderStep.work_order))
        .where(WorkOrderStep.id == step.id), of=WorkOrderStep)
        .execution_options(populate_existing=True)
    )
    statuses = set(db.session.scalars(select(Task.status).where(Task.step_id == step.id, Task.status != "draft")))
    if statuses and statuses <= {"completed", "cancelled"}:
        new_status = "completed" if "completed" in statuses else "skipped"
    elif step.status in FINISHED_STEP_STATUSES:
        new_status = "in_progress"  # a correction reopened one of its tasks
    else:
        return
    if new_status == step.status:
        return
    previous, now = step.status, utcnow()
    step.status = new_status
    step.completed_at = now if new_status in FINISHED_STEP_STATUSES else None
    step.started_at = step.started_at or now
    work_order = step.work_order
    audit.record(actor, "step", step.id, {"completed": "complete", "skipped": "skip"}.get(new_status, "reopen"),
                 work_order_id=work_order.id, from_status=previous, to_status=new_status)
    if new_status == "completed":
        notifications.notify_step_completed(step, actor)
    _refresh_work_order(work_order, actor)


def _refresh_work_order(work_order: WorkOrder, actor) -> None:
    work_order = db.session.scalar(
        for_update(select(WorkOrder).where(WorkOrder.id == work_order.id))
        .execution_options(populate_existing=True)
    )
    if work_order.status not in ("pending", "in_progress"):
        return
    step_statuses = set(db.session.scalars(
        select(WorkOrderStep.status).where(WorkOrderStep.work_order_id == work_order.id)
    ))
    if step_statuses and step_statuses <= set(FINISHED_STEP_STATUSES):
        _complete_work_order(work_order, actor)
    events.publish("work_order.updated", work_order=work_order)


def _complete_work_order(work_order: WorkOrder, actor) -> None:
    previous = work_order.status
    work_order.status = "completed"
    work_order.completed_at = utcnow()
    work_order.version += 1
    audit.record(actor, "work_order", work_order.id, "complete", work_order_id=work_order.id,
                 from_status=previous, to_status="completed")
    notifications.notify_work_order_completed(work_order, actor)


# ---------------------------------------------------------------- the one write path

def _ensure_actionable(task: Task) -> None:
    reason = blocker(task)
    if reason:
        raise Conflict(reason, code="blocked")


def _ensure_worker(task: Task, actor: User) -> None:
    """Work actions: the task's operator, or a supervisor of its department (or an admin)."""
    _ensure_actionable(task)
    if task.operator_id is None:
        raise Conflict(_l("任务尚未认领，请先认领"), code="unclaimed")
    if not policy.can(actor, "task.work", task):
        raise Forbidden(policy.refusal("task.work"), code="not_your_task")


def _ensure_version(task: Task, version: int) -> None:
    if task.version != version:
        raise Conflict(STALE_MESSAGE, code="stale")


def _compare_and_set(task: Task, version: int, *conditions, **values) -> bool:
    """Write ``values`` only if the task is still at ``version`` (and ``conditions`` hold); the task
    object is refreshed from the UPDATE's RETURNING, not by reading the row again."""
    statement = (
        update(Task).where(Task.id == task.id, Task.version == version, *conditions)
        .values(version=version + 1, **values).returning(Task)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return db.session.scalars(statement).one_or_none() is not None


def _transition(task: Task, version: int, actor, action: str, *, status: str, quantity_delta: int | None = None,
                defective_delta: int | None = None, reason: str = "", detail: dict | None = None, **values) -> None:
    """Write the task (compare-and-set) and everything that follows from its status change."""
    previous = task.status
    now = utcnow()
    if status != previous:
        if status in ("in_progress", "completed") and task.started_at is None:
            values["started_at"] = now
        if status == "completed":
            values["completed_at"] = now
        elif previous == "completed":
            values["completed_at"] = None
    if not _compare_and_set(task, version, status=status, **values):
        raise Conflict(STALE_MESSAGE, code="stale")

    if status != previous:
        if status == "in_progress":
            _open_time_log(task)
        if previous == "in_progress":
            work_periods.close([task.id], now)
        if status in ("in_progress", "completed"):
            _mark_step_started(task, now)
    _record(actor, task, action, previous, quantity_delta=quantity_delta, defective_delta=defective_delta,
            reason=reason, detail=detail)
    if status != previous and ("completed" in (status, previous) or status == "cancelled"):
        if status == "completed":
            notifications.notify_task_completed(task, actor)
        refresh_step_and_work_order(task.step, actor)


def _record(actor, task: Task, action: str, previous: str, **kwargs) -> None:
    audit.record(actor, "task", task.id, action, work_order_id=task.work_order_id, task_id=task.id,
                 department_id=task.department_id, from_status=previous, to_status=task.status, **kwargs)
    events.publish("task.updated", task=task)


def _open_time_log(task: Task) -> None:
    """At most one open period per (task, operator): the partial unique index makes a repeat harmless."""
    if task.operator_id is None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(TimeLog(task_id=task.id, operator_id=task.operator_id, started_at=utcnow()))
    except IntegrityError:
        pass


def _mark_step_started(task: Task, now) -> None:
    db.session.execute(
        update(WorkOrderStep).where(WorkOrderStep.id == task.step_id, WorkOrderStep.status == "pending")
        .values(status="in_progress", started_at=now).execution_options(synchronize_session=False)
    )


def _join(*parts: str) -> str:
    return "；".join(str(part) for part in parts if part)


# ---------------------------------------------------------------- what a viewer may do

WORK_ACTIONS = {
    "pending": ["start", "report"],
    "in_progress": ["report", "pause", "complete"],
    "paused": ["resume"],
    "completed": ["report"],  # a correction
}


def available_actions(task: Task, user: User, held: int | None = None,
                      cap: int | None = None) -> tuple[list[str], str | None]:
    """The actions ``user`` may take on ``task`` now, the primary one first, and why not others.

    Computed from the same rules the actions enforce, so a card never offers a button that
    fails on a rule it could have known. ``held`` and ``cap`` (the user's open task count and
    the cap) are looked up when not given; a list of cards passes them once for all.
    """
    reason = blocker(task)
    if reason:
        return [], reason
    actions: list[str] = []
    if task.operator_id is None:
        if task.status == "pending" and policy.can(user, "task.claim", task):
            held = capacity.open_task_count(user.id) if held is None else held
            cap = settings.get("operator_task_cap") if cap is None else cap
            if held >= cap:
                reason = capacity.cap_message(held, cap)
            else:
                actions.append("claim")
    elif policy.can(user, "task.work", task):
        actions.extend(WORK_ACTIONS.get(task.status, []))
    elif task.status in OPEN_TASK_STATUSES:
        reason = _("由 %(name)s 负责", name=task.operator.name)
    if task.status in OPEN_TASK_STATUSES and policy.can(user, "task.supervise", task):
        actions.append("cancel")
    return actions, reason
