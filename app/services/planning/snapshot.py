"""What a replan reads: the plant's plan and the open tasks it plans, as plain rows in three queries.

Plain tuples straight from the connection (no ORM objects, no per-row dicts): a replan reads every
queue of the plant on every change from the floor (engine.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, not_, or_, select

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import PlanEntry, Task, WorkOrder, WorkOrderStep, Workstation, WorkstationProcess
from app.services.planning.planner import Capability


class Station(NamedTuple):
    id: int
    code: str
    department_id: int
    is_active: bool


class OpenTask(NamedTuple):
    """An open task of a planned department: what placement and the planner need of it."""

    id: int
    work_order_id: int
    process_id: int
    status: str
    remaining: int  # target − good, never below 0
    department_id: int
    dispatched_at: datetime | None
    sequence: int  # its step's place in the 施工单
    priority: str


@dataclass
class Entry:
    """A plan_entries row as plain data, changed in memory and written set-wise (engine.write)."""

    task_id: int
    workstation_id: int
    work_order_id: int
    position: int
    queued_at: datetime
    planned_start: datetime | None
    planned_finish: datetime | None
    conflict: bool

    def values(self) -> tuple:
        return (self.task_id, self.workstation_id, self.work_order_id, self.position, self.queued_at,
                self.planned_start, self.planned_finish, self.conflict)


COLUMNS = ("task_id", "workstation_id", "work_order_id", "position", "queued_at", "planned_start", "planned_finish",
           "conflict")


@dataclass
class Snapshot:
    stations: list[Station]  # every workstation, by id
    capabilities: dict[int, dict[int, Capability]]  # workstation id → process id → rate and setup
    tasks: dict[int, OpenTask]  # the open tasks of the planned departments
    entries: dict[int, Entry]  # task id → its queue entry, for those tasks
    # (task id, workstation id, 施工单 id) of queued tasks no longer open in a planned department: they leave.
    leaving: list[tuple[int, int, int]]


def load() -> Snapshot:
    """The plant's plan as stored, with the pending changes of this transaction flushed first."""
    db.session.flush()
    connection = db.session.connection()
    stations = [Station(*row) for row in connection.execute(
        select(Workstation.id, Workstation.code, Workstation.department_id, Workstation.is_active)
        .order_by(Workstation.id)).all()]
    capabilities: dict[int, dict[int, Capability]] = {station.id: {} for station in stations}
    cap = WorkstationProcess.__table__.c
    for station_id, process_id, rate, setup in connection.execute(
            select(cap.workstation_id, cap.process_id, cap.rate_per_hour, cap.setup_minutes)).all():
        capabilities.setdefault(station_id, {})[process_id] = Capability(float(rate), setup)
    planned = sorted({station.department_id for station in stations if station.is_active})
    in_plan = and_(Task.department_id.in_(planned), Task.status.in_(OPEN_TASK_STATUSES))
    plan = PlanEntry.__table__.c
    tasks, entries = {}, {}
    for row in connection.execute(
            select(Task.id, Task.work_order_id, Task.process_id, Task.status, Task.target_quantity,
                   Task.completed_quantity, Task.department_id, Task.dispatched_at, WorkOrderStep.sequence,
                   WorkOrder.priority, *[plan[name] for name in COLUMNS[1:]])
            .join(WorkOrderStep, Task.step_id == WorkOrderStep.id)
            .join(WorkOrder, Task.work_order_id == WorkOrder.id)
            .outerjoin(PlanEntry, plan.task_id == Task.id)
            .where(in_plan)).all():
        task = OpenTask(row[0], row[1], row[2], row[3], max(0, (row[4] or 0) - (row[5] or 0)), *row[6:10])
        tasks[task.id] = task
        if row[10] is not None:
            entries[task.id] = Entry(task.id, *row[10:])
    leaving = [tuple(row) for row in connection.execute(
        select(plan.task_id, plan.workstation_id, plan.work_order_id).join(Task, Task.id == plan.task_id)
        .where(or_(not_(Task.status.in_(OPEN_TASK_STATUSES)), Task.department_id.is_(None),
                   Task.department_id.not_in(planned or [0])))).all()]
    return Snapshot(stations, capabilities, tasks, entries, leaving)
