"""Recompute the plan of some departments inside the current transaction (DOMAIN.md §12).

``replan(department_ids)``: take the plan lock (``lock_plan``), bring the departments' queues in line with
the tasks (completed or cancelled tasks leave, arrivals are placed, tasks whose workstation can no
longer run them are placed again), plan them (planner.plan) and write only what changed; then the
departments whose tasks wait for a changed finish (later steps of the same 施工单) are replanned
too, and the projections of every 施工单 touched are refreshed (projection.py). Publishes
``planning.updated`` for the departments whose plan changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import bindparam, delete, insert, select, text, update

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import (
    PlanEntry,
    Task,
    WorkOrder,
    WorkOrderStep,
    Workstation,
    WorkstationProcess,
)
from app.realtime import events
from app.services.core import settings
from app.services.planning import calendar as plant_calendar
from app.services.planning import projection
from app.services.planning.planner import (
    Capability,
    Lane,
    PlanTask,
    duration_seconds,
    plan,
)
from app.services.planning.queues import (
    Candidate,
    QueueItem,
    choose_workstation,
    heads_first,
    insertion_index,
)
from app.utils.timeutil import plant_zone, utcnow

EVENT = "planning.updated"


@dataclass
class Result:
    department_ids: set[int] = field(default_factory=set)  # replanned
    changed_department_ids: set[int] = field(default_factory=set)  # whose plan changed
    work_order_ids: set[int] = field(default_factory=set)  # whose projection was refreshed


def enabled() -> bool:
    return bool(settings.get("planning_enabled"))


# One plan for the plant: a replan reads queues of several departments (later steps elsewhere), so two
# replans locking departments one by one could deadlock. A transaction-scoped advisory lock serializes
# them instead (PostgreSQL; SQLite writes one transaction at a time anyway) and never meets a row lock.
PLAN_LOCK_KEY = 23_012_012


def lock_plan() -> None:
    """Wait for any other transaction's replan or move to commit; held until this transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK_KEY})


def any_workstation() -> bool:
    """False until the first workstation is made: a plant without any plans nothing (cheaply)."""
    return db.session.scalar(select(Workstation.id).limit(1)) is not None


def planned_department_ids() -> set[int]:
    return set(db.session.scalars(select(Workstation.department_id).where(Workstation.is_active).distinct()))


def replan(department_ids=None, work_order_ids=(), now: datetime | None = None) -> Result:
    """Replan ``department_ids`` (None: the whole plant) and refresh the projections of their
    施工单 and of ``work_order_ids``. Does nothing while planning is switched off.

    Everything the plan needs is read once, set-wise (the workstations with their capabilities, the
    plan entries with their tasks' status and step, the open tasks of the planned departments); the
    rounds (the departments asked for, then those holding later steps whose earlier finish moved) run
    in memory on that snapshot, and only the rows that differ from it are written at the end."""
    result = Result()
    if not enabled():
        return result
    # Whole minutes: replans within the same minute leave unchanged tasks' rows alone (the plan's
    # head starts "now"; a second's drift would otherwise rewrite every queued row on every report).
    now = (now or utcnow()).replace(second=0, microsecond=0)
    lock_plan()
    state = _State.load(department_ids)
    cal, zone = plant_calendar.load(), _Clock.of(plant_zone(), now)
    if department_ids is None:
        department_ids = {w.department_id for w in state.stations}
    pending = {d for d in department_ids if d is not None}
    touched_work_orders = set(work_order_ids)
    for _ in range(8):  # later steps in other departments, a few rounds deep at most
        if not pending:
            break
        changed_work_orders = _replan_round(state, pending, now, result, cal, zone)
        result.department_ids |= pending
        pending = state.waiting_departments(changed_work_orders) - result.department_ids
    # Projections move only with the 施工单 whose entries changed (or that the caller names).
    touched_work_orders |= state.write()
    result.work_order_ids = touched_work_orders
    projection.refresh(touched_work_orders, now)
    if result.changed_department_ids:
        events.publish(EVENT, department_ids=sorted(result.changed_department_ids))
    return result


class _Clock:
    """UTC ⇄ plant wall clock for the times a plan holds, fast: the plant's zone has one UTC offset over
    the months around ``now`` (checked day by day), so a conversion is an addition; outside that
    span, or around a change of offset, the zone converts as before (calendar.to_local / to_utc)."""

    _cache: ClassVar[dict] = {}
    SPAN_DAYS = (-120, 420)

    def __init__(self, zone, now: datetime):
        self.zone = zone
        offsets = {zone.utcoffset(now.replace(tzinfo=None) + timedelta(days=day))
                   for day in range(self.SPAN_DAYS[0], self.SPAN_DAYS[1] + 1)}
        self.offset = offsets.pop() if len(offsets) == 1 else None
        self.low = now + timedelta(days=self.SPAN_DAYS[0] + 2)
        self.high = now + timedelta(days=self.SPAN_DAYS[1] - 2)

    @classmethod
    def of(cls, zone, now: datetime) -> _Clock:
        key = (str(zone), now.date())
        clock = cls._cache.get(key)
        if clock is None or clock.zone is not zone:
            cls._cache.clear()
            clock = cls._cache[key] = cls(zone, now)
        return clock

    def local(self, moment: datetime) -> datetime:
        if self.offset is not None and self.low <= moment <= self.high:
            return moment + self.offset
        return plant_calendar.to_local(moment, self.zone)

    def utc(self, moment: datetime) -> datetime:
        if self.offset is not None and self.low <= moment <= self.high:
            return moment - self.offset
        return plant_calendar.to_utc(moment, self.zone)


@dataclass
class _Entry:
    """A plan_entries row as plain data: read and written set-wise, never through the unit of work
    (one UPDATE for the whole plan instead of one per row)."""

    task_id: int
    workstation_id: int
    work_order_id: int
    position: int
    queued_at: datetime
    planned_start: datetime | None
    planned_finish: datetime | None
    conflict: bool
    new: bool = False
    dirty: bool = False

    def values(self) -> tuple:
        return (self.task_id, self.workstation_id, self.work_order_id, self.position, self.queued_at,
                self.planned_start, self.planned_finish, self.conflict)


_COLUMNS = ("task_id", "workstation_id", "work_order_id", "position", "queued_at", "planned_start", "planned_finish",
            "conflict")


@dataclass(frozen=True)
class _Station:
    id: int
    code: str
    department_id: int
    is_active: bool


class _State:
    """The plant's plan as read at the start of a replan, and as the rounds change it (in memory)."""

    def __init__(self, stations, capabilities, entries, task_info, tasks):
        self.stations: list[_Station] = stations  # every workstation, by id
        self.station_by_id = {w.id: w for w in stations}
        self.capabilities: dict[int, dict[int, Capability]] = capabilities
        self.entries: dict[int, _Entry] = entries  # task id → entry (the current plan)
        self.original = {task_id: e.values() for task_id, e in entries.items()}
        self.task_info: dict[int, tuple[str, int]] = task_info  # task id → (status, step sequence), queued tasks
        self.tasks: dict[int, dict] = tasks  # open tasks of the departments replanned, by id
        self.tasks_by_department: dict[int, dict[int, dict]] = {}
        for task in tasks.values():
            self.tasks_by_department.setdefault(task["department_id"], {})[task["id"]] = task

    @classmethod
    def load(cls, department_ids) -> _State:
        # Plain rows straight from the connection (no ORM loading); pending changes go first.
        db.session.flush()
        session = db.session.connection()
        stations = [_Station(*row) for row in session.execute(
            select(Workstation.id, Workstation.code, Workstation.department_id, Workstation.is_active)
            .order_by(Workstation.id))]
        capabilities: dict[int, dict[int, Capability]] = {w.id: {} for w in stations}
        cap = WorkstationProcess.__table__.c
        for ws_id, process_id, rate, setup in session.execute(
                select(cap.workstation_id, cap.process_id, cap.rate_per_hour, cap.setup_minutes)):
            capabilities.setdefault(ws_id, {})[process_id] = Capability(float(rate), setup)
        table = PlanEntry.__table__
        entries, task_info = {}, {}
        for row in session.execute(
                select(*[table.c[name] for name in _COLUMNS], Task.status, WorkOrderStep.sequence)
                .join(Task, Task.id == table.c.task_id).join(WorkOrderStep, Task.step_id == WorkOrderStep.id)):
            entries[row[0]] = _Entry(*row[:8])
            task_info[row[0]] = (row[8], row[9])
        departments = {w.department_id for w in stations}
        if department_ids is not None:
            departments |= {d for d in department_ids if d is not None}
        return cls(stations, capabilities, entries, task_info, _open_tasks(departments))

    def open_tasks(self, department_ids: set[int]) -> dict[int, dict]:
        tasks: dict[int, dict] = {}
        for department_id in sorted(department_ids):
            tasks.update(self.tasks_by_department.get(department_id, {}))
        return tasks

    def outside_finishes(self, work_order_ids: set[int], station_ids: set[int], zone) -> dict[int, list]:
        """(step sequence, planned finish) of the open queued tasks of these 施工单 on other departments' workstations."""
        outside: dict[int, list] = {}
        if not work_order_ids:
            return outside
        for task_id in sorted(self.entries):
            entry = self.entries[task_id]
            if entry.work_order_id not in work_order_ids or entry.workstation_id in station_ids \
                    or entry.planned_finish is None:
                continue
            status, sequence = self.info(task_id)
            if status in OPEN_TASK_STATUSES:
                outside.setdefault(entry.work_order_id, []).append(
                    (sequence, zone.local(entry.planned_finish)))
        return outside

    def info(self, task_id: int) -> tuple[str, int]:
        task = self.tasks.get(task_id)
        if task is not None:
            return task["status"], task["sequence"]
        return self.task_info[task_id]

    def waiting_departments(self, changed: dict[int, int]) -> set[int]:
        """Departments holding queued later steps of these 施工单 (施工单 → the earliest step whose
        finish changed): those tasks wait for the changed finish."""
        if not changed:
            return set()
        departments = set()
        for task_id, entry in self.entries.items():
            if entry.work_order_id in changed and self.info(task_id)[1] > changed[entry.work_order_id]:
                station = self.station_by_id.get(entry.workstation_id)
                if station is not None:
                    departments.add(station.department_id)
        return departments

    def write(self) -> set[int]:
        """Write the rows that differ from what was read; returns the 施工单 of those rows."""
        removed = [task_id for task_id in self.original if task_id not in self.entries]
        inserted, updated = [], []
        for task_id, entry in self.entries.items():
            before = self.original.get(task_id)
            if before is None:
                inserted.append(entry)
            elif before != entry.values():
                updated.append(entry)
        _write(removed, inserted, updated)
        work_orders = {self.original[task_id][2] for task_id in removed}
        work_orders |= {e.work_order_id for e in inserted} | {self.original[e.task_id][2] for e in updated}
        work_orders |= {e.work_order_id for e in updated}
        return work_orders


def _replan_round(state: _State, department_ids: set[int], now: datetime, result: Result,
                  cal: plant_calendar.PlantCalendar, zone: _Clock) -> dict[int, int]:
    now_local = zone.local(now)
    stations = [w for w in state.stations if w.department_id in department_ids]
    by_id = {w.id: w for w in stations}
    capabilities = {w.id: state.capabilities.get(w.id, {}) for w in stations}
    tasks = state.open_tasks(department_ids)
    entries = [e for e in state.entries.values() if e.workstation_id in by_id]
    seen = {e.task_id for e in entries}
    entries += [state.entries[task_id] for task_id in tasks if task_id not in seen and task_id in state.entries]

    lanes: dict[int, list[_Entry]] = {w.id: [] for w in stations if w.is_active}
    removed, replace = [], []
    for entry in sorted(entries, key=lambda e: (e.workstation_id, e.position, e.task_id)):
        task = tasks.get(entry.task_id)
        station = by_id.get(entry.workstation_id)
        if task is None:
            if station is not None:  # completed, cancelled, or gone to another department
                removed.append(entry.task_id)
            continue
        if station is None or not station.is_active or station.department_id != task["department_id"] \
                or task["process_id"] not in capabilities[station.id]:
            replace.append(entry)
        else:
            lanes[station.id].append(entry)
    queued = {e.task_id for lane in lanes.values() for e in lane}
    arrivals = sorted((t for t in tasks.values() if t["id"] not in queued),
                      key=lambda t: (t["dispatched_at"] or datetime.min, t["id"]))
    replaced = {e.task_id: e for e in replace}

    finish = {ws_id: max([now_local] + [zone.local(e.planned_finish) for e in lane
                                         if e.planned_finish is not None]) for ws_id, lane in lanes.items()}
    for task in arrivals:
        candidates = [Candidate(w.id, w.code, finish[w.id], len(lanes[w.id])) for w in stations
                      if w.is_active and w.department_id == task["department_id"]
                      and task["process_id"] in capabilities[w.id]]
        chosen = choose_workstation(candidates)
        entry = replaced.pop(task["id"], None)
        if chosen is None:
            if entry is not None:
                removed.append(entry.task_id)
            continue
        lane = lanes[chosen.workstation_id]
        index = insertion_index([_item(e, tasks) for e in lane], task["priority"])
        if entry is None:
            entry = _Entry(task["id"], chosen.workstation_id, task["work_order_id"], index, now, None, None, False,
                           new=True)
        entry.workstation_id, entry.queued_at, entry.dirty = chosen.workstation_id, now, True
        lane.insert(index, entry)
        spent = duration_seconds(_plan_task(task, now_local), capabilities[chosen.workstation_id][task["process_id"]])
        finish[chosen.workstation_id] = cal.add_working(finish[chosen.workstation_id], spent) \
            or finish[chosen.workstation_id]

    # In-progress tasks stay at the head.
    for lane in lanes.values():
        items = heads_first([_item(e, tasks) for e in lane])
        order = {item.task_id: index for index, item in enumerate(items)}
        lane.sort(key=lambda e: order[e.task_id])

    plan_tasks = {e.task_id: _plan_task(tasks[e.task_id], zone.local(e.queued_at))
                  for lane in lanes.values() for e in lane}
    plan_lanes = [Lane(ws_id, capabilities[ws_id], [e.task_id for e in lane]) for ws_id, lane in lanes.items()]
    outside = state.outside_finishes({t.work_order_id for t in plan_tasks.values()}, set(by_id), zone)
    placements = plan(plan_lanes, plan_tasks, now_local, cal, outside)

    changed_work_orders: dict[int, int] = {}  # 施工单 → the earliest step whose finish changed
    for lane in lanes.values():
        for index, entry in enumerate(lane):
            placement = placements[entry.task_id]
            start = zone.utc(placement.start) if placement.start else None
            end = zone.utc(placement.finish) if placement.finish else None
            if entry.planned_finish != end or entry.new:
                sequence = plan_tasks[entry.task_id].step_sequence
                changed_work_orders[entry.work_order_id] = min(sequence, changed_work_orders.get(entry.work_order_id,
                                                                                                 sequence))
            if (entry.position, entry.planned_start, entry.planned_finish, entry.conflict) != \
                    (index, start, end, placement.conflict):
                entry.position, entry.planned_start, entry.planned_finish = index, start, end
                entry.conflict, entry.dirty = placement.conflict, True
    written = [e for lane in lanes.values() for e in lane if e.dirty]
    # The round's changes go to the in-memory plan; the rows are written once, at the end (_State.write).
    for task_id in removed:
        state.entries.pop(task_id, None)
    for entry in written:
        state.entries[entry.task_id] = entry
        entry.new = entry.dirty = False
    if removed or written:
        result.changed_department_ids |= {w.department_id for w in stations}
    return changed_work_orders


def _write(removed: list[int], inserted: list[_Entry], updated: list[_Entry]) -> None:
    """Deletes, inserts and updates of plan entries, a statement (or a few) each."""
    table = PlanEntry.__table__
    session = db.session
    if removed:
        session.execute(delete(table).where(table.c.task_id.in_(sorted(removed))))
    if inserted:
        session.execute(insert(table), [{name: getattr(e, name) for name in _COLUMNS} for e in inserted])
    if updated:
        rows = [{name: getattr(e, name) for name in _COLUMNS} for e in updated]
        if session.get_bind().dialect.name == "postgresql":
            for start in range(0, len(rows), 2000):
                _update_from_values(rows[start:start + 2000])
        else:
            session.execute(
                update(table).where(table.c.task_id == bindparam("key"))
                .values({name: bindparam(name) for name in _COLUMNS[1:]}),
                [{"key": row["task_id"], **{name: row[name] for name in _COLUMNS[1:]}} for row in rows])
    if removed or inserted or updated:
        # Entries the session loaded before (move_task, a page) would be stale now.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, PlanEntry):
                session.expire(obj)


# The new values travel as PostgreSQL array literals built here (one text parameter per column):
# psycopg's own list dumping costs more than the UPDATE itself for a plan of a thousand rows.
_UPDATE_FROM_ARRAYS = text(
    "UPDATE plan_entries AS p SET workstation_id = v.workstation_id, position = v.position, queued_at = v.queued_at,"
    " planned_start = v.planned_start, planned_finish = v.planned_finish, conflict = v.conflict"
    " FROM unnest(CAST(CAST(:task_id AS text) AS integer[]), CAST(CAST(:workstation_id AS text) AS integer[]),"
    " CAST(CAST(:position AS text) AS integer[]), CAST(CAST(:queued_at AS text) AS timestamp[]),"
    " CAST(CAST(:planned_start AS text) AS timestamp[]), CAST(CAST(:planned_finish AS text) AS timestamp[]),"
    " CAST(CAST(:conflict AS text) AS boolean[]))"
    " AS v(task_id, workstation_id, position, queued_at, planned_start, planned_finish, conflict)"
    " WHERE p.task_id = v.task_id")


def _array_literal(values) -> str:
    """``{1,2}`` / ``{"2026-12-07 08:00:00",NULL}`` / ``{t,f}``: integers, naive datetimes, booleans or None."""
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
        elif isinstance(value, bool):
            items.append("t" if value else "f")
        elif isinstance(value, datetime):
            items.append(f'"{value.isoformat(" ")}"')
        else:
            items.append(str(int(value)))
    return "{" + ",".join(items) + "}"


def _update_from_values(rows: list[dict]) -> None:
    """PostgreSQL: one UPDATE joined to the new values passed as arrays — one round trip, one cached statement."""
    db.session.execute(_UPDATE_FROM_ARRAYS, {name: _array_literal([row[name] for row in rows])
                                             for name in _COLUMNS if name != "work_order_id"})


def _open_tasks(department_ids: set[int]) -> dict[int, dict]:
    rows = db.session.connection().execute(
        select(Task.id, Task.work_order_id, Task.process_id, Task.status, Task.target_quantity,
               Task.completed_quantity, Task.department_id, Task.dispatched_at, WorkOrderStep.sequence,
               WorkOrder.priority)
        .join(WorkOrderStep, Task.step_id == WorkOrderStep.id)
        .join(WorkOrder, Task.work_order_id == WorkOrder.id)
        .where(Task.department_id.in_(sorted(department_ids)), Task.status.in_(OPEN_TASK_STATUSES)))
    return {row[0]: row._asdict() for row in rows}


def _item(entry: PlanEntry, tasks: dict[int, dict]) -> QueueItem:
    task = tasks[entry.task_id]
    return QueueItem(entry.task_id, task["priority"], task["status"] == "in_progress", entry.queued_at)


def _plan_task(task: dict, queued_at: datetime) -> PlanTask:
    remaining = max(0, (task["target_quantity"] or 0) - (task["completed_quantity"] or 0))
    return PlanTask(task["id"], task["work_order_id"], task["sequence"], task["process_id"], remaining, queued_at)
