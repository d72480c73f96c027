"""The one write path of a task (compare-and-set, time log, audit, event) and the roll-up from task
to step to 施工单."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import policy
from app.enums import FINISHED_STEP_STATUSES
from app.extensions import db
from app.models import Task, TimeLog, User, WorkOrder, WorkOrderStep
from app.realtime import events
from app.services.core import audit, work_periods
from app.services.core.errors import Conflict, Forbidden
from app.services.core.locking import for_update
from app.services.notifications import inbox as notifications
from app.services.tasks.reading import blocker
from app.utils.timeutil import utcnow

STALE_MESSAGE = _l("任务已被其他人更新，请刷新后重试")



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
    # The roll-up of a task's change, which that task's own event names to the planner: the status of a
    # step or a 施工单 is nothing it reads (app/services/planning/triggers.py).
    events.publish("work_order.updated", work_order=work_order, moves_plan=False)


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


def _record(actor, task: Task, action: str, previous: str, moves_plan: bool = True, **kwargs) -> None:
    """Audit the change and announce it; ``moves_plan=False`` when only the operator changed (nothing the
    planner reads: app/services/planning/triggers.py then does not replan for it)."""
    audit.record(actor, "task", task.id, action, work_order_id=task.work_order_id, task_id=task.id,
                 department_id=task.department_id, from_status=previous, to_status=task.status, **kwargs)
    events.publish("task.updated", task=task, **({} if moves_plan else {"moves_plan": False}))


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
