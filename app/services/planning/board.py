"""What the 排产 page, the API and the kiosk read of the plan (no changes here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Department,
    PlanEntry,
    Task,
    WorkOrder,
    Workstation,
    WorkstationProcess,
)
from app.policy import can, refusal
from app.services.core.errors import Forbidden, NotFound
from app.services.planning import projection


@dataclass
class Block:
    """One queued task on a lane. Times are naive UTC (None: 无法排产)."""

    task: Task
    position: int
    planned_start: datetime | None
    planned_finish: datetime | None
    conflict: bool  # 顺序冲突
    at_risk: bool  # its 施工单 is at 延期风险


@dataclass
class LaneView:
    workstation: Workstation
    blocks: list[Block] = field(default_factory=list)

    @property
    def process_ids(self) -> set[int]:
        return {c.process_id for c in self.workstation.capabilities}


@dataclass
class DepartmentPlan:
    department: Department
    lanes: list[LaneView]
    unplanned: list[Task]  # open tasks of the department in no queue (no capable active workstation)
    editable: bool  # the viewer may reorder and move


def workstations(department_id: int | None = None, *, active_only: bool = False) -> list[Workstation]:
    statement = select(Workstation).options(
        selectinload(Workstation.capabilities).joinedload(WorkstationProcess.process),
        joinedload(Workstation.department)).order_by(Workstation.code)
    if department_id is not None:
        statement = statement.where(Workstation.department_id == department_id)
    if active_only:
        statement = statement.where(Workstation.is_active.is_(True))
    return list(db.session.scalars(statement).unique())


def plan_for_department(department_id: int, viewer=None) -> DepartmentPlan:
    """One lane per active workstation of the department, its blocks in queue order."""
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(_l("部门不存在"))
    if viewer is not None and not can(viewer, "planning.view", department_id):
        raise Forbidden(refusal("planning.view"))
    stations = workstations(department_id, active_only=True)
    lanes = {w.id: LaneView(w) for w in stations}
    entries = list(db.session.scalars(
        select(PlanEntry).where(PlanEntry.workstation_id.in_(list(lanes)))
        .order_by(PlanEntry.workstation_id, PlanEntry.position, PlanEntry.task_id)))
    tasks = _tasks([e.task_id for e in entries])
    at_risk = projection.at_risk_workorder_ids({t.work_order_id for t in tasks.values()})
    for entry in entries:
        task = tasks[entry.task_id]
        lanes[entry.workstation_id].blocks.append(Block(
            task, entry.position, entry.planned_start, entry.planned_finish, bool(entry.conflict),
            task.work_order_id in at_risk))
    queued = {e.task_id for e in entries}
    unplanned = [t for t in db.session.scalars(
        select(Task).where(Task.department_id == department_id, Task.status.in_(("pending", "in_progress", "paused")))
        .options(joinedload(Task.work_order), joinedload(Task.process)).order_by(Task.id)) if t.id not in queued]
    editable = viewer is not None and can(viewer, "planning.edit", department_id)
    return DepartmentPlan(department, list(lanes.values()), unplanned, editable)


def plan_entry(task_id: int) -> PlanEntry | None:
    """A task's place in the plan (workstation, position, planned times) — the job ticket's 计划."""
    return db.session.scalar(
        select(PlanEntry).where(PlanEntry.task_id == task_id).options(joinedload(PlanEntry.workstation)))


def queue_for_workstation(workstation_id: int) -> list[Block]:
    """A workstation's queue in plan order, the next task first (the bound kiosk's 我的任务)."""
    entries = list(db.session.scalars(
        select(PlanEntry).where(PlanEntry.workstation_id == workstation_id)
        .order_by(PlanEntry.position, PlanEntry.task_id)))
    tasks = _tasks([e.task_id for e in entries])
    at_risk = projection.at_risk_workorder_ids({t.work_order_id for t in tasks.values()})
    return [Block(tasks[e.task_id], e.position, e.planned_start, e.planned_finish, bool(e.conflict),
                  tasks[e.task_id].work_order_id in at_risk) for e in entries]


def _tasks(task_ids: list[int]) -> dict[int, Task]:
    if not task_ids:
        return {}
    return {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_(task_ids))
        .options(joinedload(Task.work_order).joinedload(WorkOrder.customer), joinedload(Task.process)))}

