"""Every task action of the shop floor: claim, start, pause, resume, report, complete, cancel.

DOMAIN.md §3 (life cycles), §7 (claim, cap), §8 (shop floor); reference §7.1–§7.5.

Each action checks policy and everything else first (a refusal writes nothing), then writes the task with
ONE compare-and-set on ``Task.version``, and every consequence (time log, step, 施工单, audit row,
notification, event) goes through ``progress._transition``. Actions never commit: the caller commits
once, and the events are delivered after that commit.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import policy
from app.enums import OPEN_TASK_STATUSES, PauseReason
from app.extensions import db
from app.models import Task, User
from app.rules.task_claiming import open_for_claiming
from app.services.core import settings
from app.services.core.errors import Conflict, Forbidden, Invalid
from app.services.dispatch import capacity
from app.services.notifications import inbox as notifications
from app.services.tasks.progress import (
    STALE_MESSAGE,
    _compare_and_set,
    _ensure_actionable,
    _ensure_version,
    _ensure_worker,
    _join,
    _record,
    _transition,
)
from app.services.tasks.reading import blocker, claimed_by_message


@dataclass
class Outcome:
    """What an action did: the task as it is now, a message for the toast, and whether the
    task changed status or holder (the kiosk then regroups its lists)."""

    task: Task
    message: str
    moved: bool = False



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
    _record(actor, task, "claim", task.status, moves_plan=False, detail={"operator": actor.name})
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
        if open_for_claiming(task) and policy.can(user, "task.claim", task):  # app.rules.task_claiming
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


# ---------------------------------------------------------------- the actions by name (the pages and the API)

# action → the service call, each ``(task, actor, version, **fields)``; the call checks policy itself.
ACTIONS = {
    "claim": claim,
    "start": start,
    "pause": pause,
    "resume": resume,
    "report": report,
    "complete": complete,
    "cancel": cancel,
}
# The fields each action reads besides the version; numbers are parsed, text is stripped.
ACTION_FIELDS = {
    "claim": {},
    "start": {},
    "resume": {},
    "pause": {"reason": str, "note": str},
    "report": {"good": int, "defective": int, "defect_reason": str, "note": str},
    "complete": {"reason": str},
    "cancel": {"reason": str},
}
