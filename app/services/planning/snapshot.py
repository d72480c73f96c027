"""What a replan reads: the plant's plan and the open tasks it plans, as plain rows in three queries.

Plain tuples straight from the connection (no ORM objects, no per-row dicts): a replan reads every
queue of the plant on every change from the floor (engine.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select

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
    step_sequence: int  # the task's (OpenTask.sequence), copied at placement: never rewritten

    def values(self) -> tuple:
        return (self.task_id, self.workstation_id, self.work_order_id, self.position, self.queued_at,
                self.planned_start, self.planned_finish, self.conflict, self.step_sequence)


COLUMNS = ("task_id", "workstation_id", "work_order_id", "position", "queued_at", "planned_start", "planned_finish",
           "conflict", "step_sequence")


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
    stations, capabilities = workstations(connection)
    planned = planned_departments(stations)
    stored = {row[0]: row for row in _rows(connection, _ENTRIES, {})}
    rows = _rows(connection, _OPEN_TASKS, {"planned": planned, "statuses": list(OPEN_TASK_STATUSES)}) if planned else []
    # A queued task's step place is on its entry; only the others' (arrivals) are read from the steps.
    sequences = {row[0]: stored[row[0]][8] for row in rows if row[0] in stored}
    if len(sequences) < len(rows):
        arrivals = sorted(row[0] for row in rows if row[0] not in stored)
        sequences.update(_rows(connection, _SEQUENCES, {"tasks": arrivals}))
    tasks = {}
    for row in rows:
        tasks[row[0]] = OpenTask(row[0], row[1], row[2], row[3], remaining(row), row[6], row[7], sequences[row[0]])
    # Every queued task, open or not: those of the open tasks are the plan, the others leave.
    entries, leaving = {}, []
    for task_id, row in stored.items():
        if task_id in tasks:
            entries[task_id] = Entry(*row)
        else:
            leaving.append((row[0], row[1], row[2]))
    return Snapshot(stations, capabilities, tasks, entries, leaving)


def workstations(connection) -> tuple[list[Station], dict[int, dict[int, Capability]]]:
    """Every workstation by id, and what each runs: process id → rate and setup."""
    stations = [Station(*row) for row in _rows(connection, _STATIONS, {})]
    capabilities: dict[int, dict[int, Capability]] = {station.id: {} for station in stations}
    for station_id, process_id, rate, setup in _rows(connection, _CAPABILITIES, {}):
        capabilities.setdefault(station_id, {})[process_id] = Capability(float(rate), setup)
    return stations, capabilities


def planned_departments(stations: list[Station]) -> list[int]:
    """The departments planned: those with an active workstation."""
    return sorted({station.department_id for station in stations if station.is_active})


def stored_entries(connection) -> dict[int, Entry]:
    """Every stored queue entry by task id."""
    return {row[0]: Entry(*row) for row in _rows(connection, _ENTRIES, {})}


def task_rows(connection, task_ids) -> dict[int, tuple]:
    """Task id → (id, 施工单 id, process id, status, target, good, department id, dispatched at) of these tasks."""
    return {row[0]: row for row in _rows(connection, _TASKS_BY_ID, {"tasks": sorted(task_ids)})}


def remaining(row: tuple) -> int:
    """target − good of a task row (``task_rows``, the open tasks' read), never below 0."""
    target, good = row[4] or 0, row[5] or 0
    return target - good if target > good else 0


def priorities(work_order_ids) -> dict[int, str]:
    """施工单 id → priority: only placing an arrival needs them (not read with every replan: the join
    with every 施工单 was a fifth of the read)."""
    ids = sorted(set(work_order_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(WorkOrder.id, WorkOrder.priority).where(WorkOrder.id.in_(ids))).all())


def _rows(connection, statement, parameters: dict) -> list[tuple]:
    """Plain tuples; on PostgreSQL straight from the driver's cursor with the same query written out
    (SQLAlchemy's result rows were half the CPU of the whole read; these columns need no conversion), in
    binary format: the driver reads the thousands of timestamps faster than it parses their text."""
    if connection.dialect.name != "postgresql":
        return connection.execute(statement, parameters).all()
    cursor = connection.connection.dbapi_connection.cursor(binary=True)
    try:
        cursor.execute(_POSTGRESQL[statement], parameters)
        return cursor.fetchall()
    finally:
        cursor.close()


_plan = PlanEntry.__table__.c
_cap = WorkstationProcess.__table__.c
_STATIONS = select(Workstation.id, Workstation.code, Workstation.department_id, Workstation.is_active) \
    .order_by(Workstation.id)
_CAPABILITIES = select(_cap.workstation_id, _cap.process_id, _cap.rate_per_hour, _cap.setup_minutes)
# A task row as the planner reads it (``remaining``, OpenTask): the same columns in both reads.
_TASK_COLUMNS = ("id", "work_order_id", "process_id", "status", "target_quantity", "completed_quantity",
                 "department_id", "dispatched_at")
_task = Task.__table__.c
_OPEN_TASKS = select(*[_task[name] for name in _TASK_COLUMNS]) \
    .where(Task.department_id.in_(bindparam("planned", expanding=True)), Task.status.in_(OPEN_TASK_STATUSES))
_TASKS_BY_ID = select(*[_task[name] for name in _TASK_COLUMNS]).where(Task.id.in_(bindparam("tasks", expanding=True)))
_SEQUENCES = select(Task.id, WorkOrderStep.sequence).join(WorkOrderStep, Task.step_id == WorkOrderStep.id) \
    .where(Task.id.in_(bindparam("tasks", expanding=True)))
_ENTRIES = select(*[_plan[name] for name in COLUMNS])
_POSTGRESQL = {
    _STATIONS: "SELECT id, code, department_id, is_active FROM workstations ORDER BY id",
    _CAPABILITIES: "SELECT workstation_id, process_id, rate_per_hour, setup_minutes FROM workstation_processes",
    _OPEN_TASKS: f"SELECT {', '.join(_TASK_COLUMNS)} FROM tasks"
                 " WHERE department_id = ANY(%(planned)s) AND status = ANY(%(statuses)s)",
    _TASKS_BY_ID: f"SELECT {', '.join(_TASK_COLUMNS)} FROM tasks WHERE id = ANY(%(tasks)s)",
    _SEQUENCES: "SELECT t.id, s.sequence FROM tasks AS t JOIN work_order_steps AS s ON s.id = t.step_id"
                " WHERE t.id = ANY(%(tasks)s)",
    _ENTRIES: f"SELECT {', '.join(COLUMNS)} FROM plan_entries",
}


def array_literal(values) -> str:
    """``{1,2}`` / ``{"2026-12-07 08:00:00",NULL}`` / ``{t,f}``: integers, naive datetimes, booleans or None
    (one kind per column: the first value that is not None says which). The set-wise UPDATEs (engine,
    projection) pass their new values as PostgreSQL array literals built here, one text parameter per
    column: psycopg's own list dumping cost more than the UPDATE itself."""
    kind = next((value for value in values if value is not None), None)
    if isinstance(kind, bool):
        items = ["NULL" if value is None else "t" if value else "f" for value in values]
    elif isinstance(kind, datetime):
        items = ["NULL" if value is None else f'"{value.isoformat(" ")}"' for value in values]
    else:
        items = ["NULL" if value is None else str(int(value)) for value in values]
    return "{" + ",".join(items) + "}"
