"""Queues and placement (DOMAIN.md §12, "Queues").

- A task arriving in a planned department joins the capable active workstation whose queue finishes
  first (ties: fewer tasks, then lower code), after the last queued task of equal or higher priority
  (紧急 > 高 > 普通 > 低; first come, first served within a priority). In-progress tasks stay at the head.
- Supervisors of the department reorder and move tasks between capable workstations; each move is
  audited (``move_task``).
- A completed or cancelled task leaves its queue (``engine.replan`` drops it).

The placement helpers are pure (lists of ``QueueItem``); ``engine.py`` feeds them from the database.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.enums import OPEN_TASK_STATUSES, PRIORITY_RANK
from app.extensions import db
from app.models import PlanEntry, Task, Workstation
from app.policy import can, refusal
from app.services.core import audit
from app.services.core.errors import Conflict, Forbidden, Invalid, NotFound

T = TypeVar("T")


@dataclass
class QueueItem:
    """What placement needs to know of a queued task."""

    task_id: int
    priority: str
    in_progress: bool
    queued_at: datetime


@dataclass
class Candidate:
    """A capable active workstation: when its queue is expected to finish, and how long it is."""

    workstation_id: int
    code: str
    finish: datetime
    length: int


def choose_workstation(candidates: list[Candidate]) -> Candidate | None:
    """The queue that finishes first; ties: fewer tasks, then lower code."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.finish, c.length, c.code))


def insertion_index(queue: list[QueueItem], priority: str) -> int:
    """After the last queued task of equal or higher priority, and never before an in-progress one."""
    rank = PRIORITY_RANK.get(priority, 1)
    index = 0
    for position, item in enumerate(queue):
        if item.in_progress or PRIORITY_RANK.get(item.priority, 1) >= rank:
            index = position + 1
    return index


def heads_first(queue: list[T], in_progress: Callable[[T], bool]) -> list[T]:
    """In-progress tasks stay at the head (in their queue order); the rest keep their order."""
    return [item for item in queue if in_progress(item)] + [item for item in queue if not in_progress(item)]


# ---------------------------------------------------------------- supervisors' moves

MOVE_FORBIDDEN = refusal("planning.edit")


def may_edit(user, department_id: int) -> bool:
    return can(user, "planning.edit", department_id)


def move_task(actor, task_id: int, workstation_id: int, position: int) -> PlanEntry:
    """Put a queued task at ``position`` (0 = head) of ``workstation_id``'s queue — the same
    workstation (reorder) or another capable one of the department. Audited; replanned before commit."""
    from app.services.planning import engine, triggers

    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound(_l("任务不存在"))
    if task.department_id is None or not may_edit(actor, task.department_id):
        raise Forbidden(MOVE_FORBIDDEN, code="forbidden")
    if task.status not in OPEN_TASK_STATUSES:
        raise Conflict(_l("只有未完成的任务可以排产"), code="not_open")
    target = db.session.get(Workstation, workstation_id)
    if target is None or target.department_id != task.department_id:
        raise Invalid(_l("请选择本部门的机台"), fields={"workstation_id": _l("请选择本部门的机台")})
    if not target.is_active:
        raise Conflict(_l("机台 %(code)s 已停用", code=target.code), code="inactive")
    if task.process_id not in {c.process_id for c in target.capabilities}:
        message = _l("机台 %(code)s 不能做工序 %(process)s", code=target.code, process=task.process.name)
        raise Conflict(message, code="incapable")
    try:
        position = int(position)
    except (TypeError, ValueError):
        raise Invalid(_l("位置必须是整数"), fields={"position": _l("位置必须是整数")}) from None
    if position < 0:
        raise Invalid(_l("位置不能小于 0"), fields={"position": _l("位置不能小于 0")})

    engine.lock_plan()
    entry = db.session.get(PlanEntry, task.id)
    if entry is None:
        raise Conflict(_l("该任务尚未排入队列"), code="not_queued")
    source_id = entry.workstation_id
    queue = list(db.session.scalars(
        select(PlanEntry).where(PlanEntry.workstation_id == target.id, PlanEntry.task_id != task.id)
        .order_by(PlanEntry.position, PlanEntry.task_id)))
    position = min(position, len(queue))
    queue.insert(position, entry)
    entry.workstation_id = target.id
    for index, item in enumerate(queue):
        if item.position != index:
            item.position = index
    audit.record(actor, "task", task.id, "plan_move", work_order_id=task.work_order_id, task_id=task.id,
                 department_id=task.department_id, from_status=task.status, to_status=task.status,
                 detail={"from_workstation": source_id, "to_workstation": target.id, "position": position})
    triggers.mark_plan_changed()
    return entry


def queue_of(workstation_id: int) -> list[PlanEntry]:
    return list(db.session.scalars(
        select(PlanEntry).where(PlanEntry.workstation_id == workstation_id)
        .order_by(PlanEntry.position, PlanEntry.task_id)))

