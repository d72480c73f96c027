"""A supervisor's hand on tasks (DOMAIN.md §7): assign, reassign, unassign, move, bulk, and
dispatching from the 待分派 pool.

Every path checks everything first (a refusal writes nothing), counts the cap under the
operator's lock (capacity.ensure_below_cap), writes the task with ONE compare-and-set on
``Task.version`` (the helper of app.services.tasks.actions), and writes one audit row named
assign / reassign / unassign / move / dispatch — the 分派历史 reads those names. Nothing here
commits: the caller commits once.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import policy
from app.enums import OPEN_TASK_STATUSES, TaskStatus
from app.extensions import db
from app.models import Department, Task, User, department_processes
from app.realtime import events
from app.services.core import audit, work_periods
from app.services.core.errors import Conflict, DomainError, Forbidden, Invalid
from app.services.dispatch import capacity
from app.services.notifications import inbox as notifications
from app.services.tasks import progress as task_progress
from app.services.tasks import reading as task_reading
from app.utils.timeutil import utcnow

STARTED_STATUSES = ("in_progress", "paused")


@dataclass(frozen=True)
class TaskResult:
    """One task's outcome in a bulk action: what happened, or why it was refused."""

    task_id: int
    number: str
    ok: bool
    message: str


# ---------------------------------------------------------------- single-task actions

def assign(task_id: int, operator_id: int, actor: User, version: int, reason: str | None = None) -> Task:
    """Give the task to ``operator_id`` (改派 when someone else holds it)."""
    task = task_reading.get_task(task_id)
    _ensure_supervises(actor, task)
    _ensure_open(task)
    _ensure_version(task, version)
    operator = _operator_for(task, operator_id)
    previous_id = task.operator_id
    if previous_id == operator.id:
        return task
    reason = (reason or "").strip()
    if previous_id is not None and task.status in STARTED_STATUSES and not reason:
        raise Invalid(_l("改派已开始的任务需要填写原因"), code="reason_required",
                      fields={"reason": _l("请填写改派原因")})
    capacity.ensure_below_cap(operator.id)
    _write(task, version, operator_id=operator.id)
    if task.status == "in_progress":
        # The open work period belonged to the old operator; the new one's starts now.
        work_periods.close([task.id], utcnow())
        task_progress._open_time_log(task)
    action = "assign" if previous_id is None else "reassign"
    _record(actor, task, action, task.status, reason=reason,
            detail={"from_operator_id": previous_id, "to_operator_id": operator.id})
    if previous_id is None:
        notifications.notify_task_assigned(task, actor)
    else:
        notifications.notify_task_reassigned(task, previous_id, actor, reason)
    # Only the operator changed: nothing the planner reads (its status and queue place stay).
    events.publish("task.updated", task=task, user_ids=[previous_id], moves_plan=False)
    return task


def unassign(task_id: int, actor: User, version: int, reason: str | None = None) -> Task:
    """Take the operator off: the task is claimable again (a started one goes back to 待开始)."""
    task = task_reading.get_task(task_id)
    _ensure_supervises(actor, task)
    _ensure_open(task)
    _ensure_version(task, version)
    previous_id = task.operator_id
    if previous_id is None:
        raise Conflict(_l("任务尚未分配操作员"), code="not_assigned")
    reason = _started_reason(task, reason, _l("取消已开始任务的分配需要填写原因"))
    previous_status = task.status
    _write(task, version, operator_id=None, status="pending")
    work_periods.close([task.id], utcnow())
    _record(actor, task, "unassign", previous_status, reason=reason, detail={"from_operator_id": previous_id})
    events.publish("task.updated", task=task, user_ids=[previous_id])
    return task


def move(task_id: int, department_id: int, actor: User, version: int, reason: str) -> Task:
    """Send the task to another department that handles its process; the operator is cleared."""
    task = task_reading.get_task(task_id)
    _ensure_supervises(actor, task)
    _ensure_open(task)
    _ensure_version(task, version)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("转移部门需要填写原因"), code="reason_required", fields={"reason": _l("请填写转移原因")})
    department = _department_for(task, department_id)
    if department.id == task.department_id:
        raise Invalid(_l("任务已在该部门"), code="same_department", fields={"department_id": _l("任务已在该部门")})
    previous_department, previous_operator, previous_status = task.department_id, task.operator_id, task.status
    _write(task, version, department_id=department.id, operator_id=None, status="pending")
    work_periods.close([task.id], utcnow())
    _record(actor, task, "move", previous_status, reason=reason,
            detail={"from_department_id": previous_department, "to_department_id": department.id,
                    "from_operator_id": previous_operator})
    events.publish("task.updated", task=task, department_ids=[previous_department], user_ids=[previous_operator])
    return task


# ---------------------------------------------------------------- many tasks at once

def bulk_assign(task_ids: Iterable[int], operator_id: int, actor: User) -> list[TaskResult]:
    """Assign each task on its own: one refusal does not undo the others."""
    return _each(task_ids, lambda task: assign(task.id, operator_id, actor, task.version),
                 lambda task: _("已分配给 %(name)s", name=task.operator.name))


def dispatch_from_pool(task_ids: Iterable[int], department_id: int, actor: User) -> list[TaskResult]:
    """Send pool tasks (pending, no department, approved 施工单) to a department, each on its own."""
    policy.require(actor, "dispatch.pool")
    department = db.session.get(Department, department_id)
    if department is None or not department.is_active:
        raise Invalid(_l("请选择有效的部门"), code="department_invalid", fields={"department_id": _l("请选择有效的部门")})
    return _each(task_ids, lambda task: _dispatch_one(task, department, actor),
                 lambda task: _("已分派到 %(dept)s", dept=department.name))


def _dispatch_one(task: Task, department: Department, actor: User) -> Task:
    if task.department_id is not None:
        raise Conflict(_l("任务已分派到 %(dept)s", dept=task.department.name), code="already_dispatched")
    _ensure_open(task)
    if task.status != "pending":
        raise Conflict(_l("只有待开始的任务可以分派"), code="not_pending")
    _ensure_handles(department, task)
    if not task_progress._compare_and_set(task, task.version, Task.department_id.is_(None),
                                         department_id=department.id, dispatched_at=utcnow()):
        raise Conflict(task_progress.STALE_MESSAGE, code="stale")
    _record(actor, task, "dispatch", task.status, detail={"to_department_id": department.id, "manual": True})
    return task


def _each(task_ids, action, success_message) -> list[TaskResult]:
    results = []
    for task_id in dict.fromkeys(task_ids):
        task = db.session.get(Task, task_id)
        if task is None:
            results.append(TaskResult(task_id, "", False, str(_l("任务不存在"))))
            continue
        results.append(attempt(task, lambda task: success_message(action(task))))
    return results


def attempt(task: Task, act) -> TaskResult:
    """``act(task)`` (which returns the success message) in a savepoint: a refusal undoes only
    this task's change and becomes its result, so the other tasks of a bulk action go on."""
    number = task.number
    try:
        with db.session.begin_nested():
            message = act(task)
    except DomainError as error:
        db.session.expire(task)
        return TaskResult(task.id, number, False, str(error.message))
    return TaskResult(task.id, number, True, str(message))


# ---------------------------------------------------------------- checks

def _ensure_supervises(actor: User, task: Task) -> None:
    if not policy.can(actor, "task.supervise", task):
        raise Forbidden(policy.refusal("task.supervise"), code="outside_department")


def _ensure_open(task: Task) -> None:
    blocked = task_reading.blocker(task)
    if blocked:
        raise Conflict(blocked, code="blocked")
    if task.status not in OPEN_TASK_STATUSES:
        raise Conflict(_l("任务状态为%(status)s，不能分配", status=TaskStatus.label_of(task.status)), code="not_open")


def _ensure_version(task: Task, version: int) -> None:
    if task.version != version:
        raise Conflict(task_progress.STALE_MESSAGE, code="stale")


def _started_reason(task: Task, reason: str | None, message) -> str:
    reason = (reason or "").strip()
    if task.status in STARTED_STATUSES and not reason:
        raise Invalid(message, code="reason_required", fields={"reason": message})
    return reason


def _operator_for(task: Task, operator_id: int) -> User:
    operator = db.session.get(User, operator_id) if operator_id else None
    if operator is None:
        raise Invalid(_l("请选择操作员"), code="operator_missing", fields={"operator_id": _l("请选择操作员")})
    if not operator.is_active:
        raise Invalid(_l("操作员 %(name)s 已停用", name=operator.name), code="operator_inactive")
    if not operator.has_role("operator") or task.department_id not in operator.department_ids:
        raise Invalid(_l("操作员 %(name)s 不属于部门 %(dept)s，无法分配该部门的任务",
                         name=operator.name, dept=task.department.name if task.department else "—"),
                      code="operator_outside_department")
    return operator


def _department_for(task: Task, department_id: int) -> Department:
    department = db.session.get(Department, department_id) if department_id else None
    if department is None or not department.is_active:
        raise Invalid(_l("请选择有效的部门"), code="department_invalid", fields={"department_id": _l("请选择有效的部门")})
    _ensure_handles(department, task)
    return department


def _ensure_handles(department: Department, task: Task) -> None:
    handles = db.session.scalar(select(department_processes.c.department_id).where(
        department_processes.c.department_id == department.id,
        department_processes.c.process_id == task.step.process_id))
    if handles is None:
        raise Invalid(_l("该部门不处理此工序"), code="department_not_handling",
                      fields={"department_id": _l("该部门不处理此工序")})


def _write(task: Task, version: int, **values) -> None:
    if not task_progress._compare_and_set(task, version, **values):
        raise Conflict(task_progress.STALE_MESSAGE, code="stale")


def _record(actor, task: Task, action: str, previous_status: str, reason: str = "", detail: dict | None = None):
    audit.record(actor, "task", task.id, action, work_order_id=task.work_order_id, task_id=task.id,
                 department_id=task.department_id, from_status=previous_status, to_status=task.status,
                 reason=reason, detail=detail)
