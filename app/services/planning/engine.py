"""Recompute the plant's plan inside the current transaction (DOMAIN.md §12).

``replan()``: take the plan lock (``lock_plan``), read the plant's queues and open tasks (snapshot.py),
bring the queues in line with the tasks (completed or cancelled tasks leave, arrivals are placed, tasks
whose workstation can no longer run them are placed again), plan every queue (planner.plan) and write
only the rows that changed; then refresh the projections of the 施工单 whose rows changed
(projection.py) and publish ``planning.updated`` for the departments whose plan changed.

The whole plant is planned, whatever change asked for it: a task waits for earlier steps in other
departments, and when queues contradict step order the heads planned first decide the rest, so only the
plant's plan as a whole is "same inputs, same plan". Except after changes of remaining quantities alone
within the stored plan's minute (a report from the floor), or a queue's head that waits for nothing
completed or cancelled: partial.py then computes again only the times they move — the same plan, as
tests/planning/test_planning_partial.py checks against planning it whole.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import bindparam, delete, insert, select, text, update

from app.extensions import db
from app.metrics import PLAN_LOCK_WAIT, PLAN_REPLAN
from app.models import PlanEntry, PlanState, Workstation
from app.realtime import events
from app.services.core import settings
from app.services.planning import calendar as plant_calendar
from app.services.planning import partial, projection, snapshot
from app.services.planning.planner import (
    Capability,
    Lane,
    PlanTask,
    Schedule,
    duration_seconds,
    earlier_steps,
    plan_step_by_step,
    schedule,
    working_seconds,
)
from app.services.planning.queues import Candidate, QueueItem, choose_workstation, heads_first, insertion_index
from app.services.planning.snapshot import COLUMNS, Entry, OpenTask, Snapshot, array_literal
from app.utils.timeutil import plant_zone, utcnow

EVENT = "planning.updated"
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class Result:
    changed_department_ids: set[int] = field(default_factory=set)  # whose plan changed
    work_order_ids: set[int] = field(default_factory=set)  # whose projection was refreshed
    partial: bool = False  # only the times changed quantities move were computed again (partial.py)


def enabled() -> bool:
    return bool(settings.get("planning_enabled"))


# One plan for the plant: a replan reads every queue, so two replans at once would write over each
# other. A transaction-scoped advisory lock serializes them instead (PostgreSQL; SQLite writes one
# transaction at a time anyway) and never meets a row lock.
PLAN_LOCK_KEY = 23_012_012


def lock_plan() -> None:
    """Wait for any other transaction's replan or move to commit; held until this transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        started = time.perf_counter()
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK_KEY})
        PLAN_LOCK_WAIT.observe(time.perf_counter() - started)


def any_workstation() -> bool:
    """False until the first workstation is made: a plant without any plans nothing (cheaply)."""
    return db.session.scalar(select(Workstation.id).limit(1)) is not None


def replan(work_order_ids=(), now: datetime | None = None, task_ids: set[int] | None = None) -> Result:
    """Replan the plant and refresh the projections of the 施工单 whose plan changed and of
    ``work_order_ids``. ``task_ids``: when given, the only planning inputs this transaction changed are
    these tasks (triggers.py), and where they only changed remaining quantities, within the minute of the
    stored plan, only the times those move are computed again (partial.py). Does nothing while planning
    is switched off."""
    result = Result()
    if not enabled():
        return result
    # Whole minutes: replans within the same minute leave unchanged tasks' rows alone (the plan's
    # head starts "now"; a second's drift would otherwise rewrite every queued row on every report).
    now = (now or utcnow()).replace(second=0, microsecond=0)
    lock_plan()
    started = time.perf_counter()
    db.session.flush()
    cal, clock = plant_calendar.load(), _Clock.of(plant_zone(), now)
    stored = db.session.execute(_PLAN_STATE).first()
    found = None
    if task_ids is not None and stored is not None and stored.planned_at == now:
        found = partial.replan(task_ids, stored.version, cal, clock, now)
    if found is None:
        state = snapshot.load()
        original = {task_id: entry.values() for task_id, entry in state.entries.items()}
        entries, order = _plan_plant(state, now, cal, clock)
        version = secrets.randbits(62) if stored is None or _queues_changed(original, entries) else stored.version
        if stored is None or (stored.planned_at, stored.version) != (now, version):
            _remember(now, version, first=stored is None)
        if order is not None:
            partial.remember_order(version, order)
    else:
        state, original, entries = found
        result.partial = True
    changed_work_orders = _write_changes(state, original, entries, result)
    result.work_order_ids = _finish_moved(changed_work_orders, original, entries, state.leaving) | set(work_order_ids)
    projection.refresh(result.work_order_ids, now, _latest_finishes(entries) if result.partial else None)
    if result.changed_department_ids:
        # On plan:<dept>, not dept:<dept>: the kiosks, TV boards and task lists of a department show no plan.
        events.publish(EVENT, plan_department_ids=sorted(result.changed_department_ids))
    PLAN_REPLAN.labels("partial" if result.partial else "whole").observe(time.perf_counter() - started)
    return result


_PLAN_STATE = select(PlanState.planned_at, PlanState.version).where(PlanState.id == 1)


def _remember(now: datetime, version: int, first: bool) -> None:
    """The plan planned whole is of ``now``'s minute and is ``version`` (PlanState: what partial.py starts from)."""
    table = PlanState.__table__
    if first:
        db.session.execute(insert(table).values(id=1, planned_at=now, version=version))
    else:
        db.session.execute(update(table).where(table.c.id == 1).values(planned_at=now, version=version))


def _queues_changed(original: dict[int, tuple], entries: list[Entry]) -> bool:
    """Whether the planner's order can differ from that of the plan as read: a task came or went, or one's
    queue, place in it, queued time, step place or whether it can be planned changed (planner.schedule
    reads nothing else to choose its order). Unchanged, the stored plan keeps its version (PlanState)."""
    if len(entries) != len(original):
        return True
    for entry in entries:
        before = original.get(entry.task_id)
        if before is None or (before[1], before[3], before[4], before[8], before[5] is None) != (
                entry.workstation_id, entry.position, entry.queued_at, entry.step_sequence, entry.planned_start is None):
            return True
    return False


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

    def moment_from(self, origin: datetime):
        """Microseconds since ``origin`` (local) → naive UTC: ``utc(origin + µs)``, one addition."""
        if self.offset is None:
            return lambda microseconds: self.utc(origin + timedelta(microseconds=microseconds))
        origin_utc = origin - self.offset
        # utc()'s span in microseconds since the origin (timedeltas are whole microseconds: exact).
        low, high = (self.low - origin) // _MICROSECOND, (self.high - origin) // _MICROSECOND
        known: dict[int, datetime] = {}  # a task mostly starts when its lane's previous one finishes

        def moment(microseconds: int) -> datetime:
            found = known.get(microseconds)
            if found is None:
                seconds, rest = divmod(microseconds, 1_000_000)
                if low <= microseconds <= high:
                    found = origin_utc + timedelta(0, seconds, rest)
                else:
                    found = self.utc(origin + timedelta(0, seconds, rest))
                known[microseconds] = found
            return found
        return moment


def _plan_plant(state: Snapshot, now: datetime, cal: plant_calendar.PlantCalendar,
                zone: _Clock) -> tuple[list[Entry], list[int] | None]:
    """Every queue of the plant brought in line with the open tasks and planned: the entries as they now
    stand, and the task ids in the order the planner placed them (None when planned step by step)."""
    now_local = zone.local(now)
    stations = {station.id: station for station in state.stations}
    capabilities = state.capabilities
    tasks = state.tasks

    lanes: dict[int, list[Entry]] = {station.id: [] for station in state.stations if station.is_active}
    replaced: dict[int, Entry] = {}
    for entry in sorted(state.entries.values(), key=lambda e: (e.workstation_id, e.position, e.task_id)):
        task, station = tasks[entry.task_id], stations.get(entry.workstation_id)
        if station is None or not station.is_active or station.department_id != task.department_id \
                or task.process_id not in capabilities[station.id]:
            replaced[entry.task_id] = entry
        else:
            lanes[station.id].append(entry)
    queued = {e.task_id for lane in lanes.values() for e in lane}
    arrivals = sorted((t for t in tasks.values() if t.id not in queued),
                      key=lambda t: (t.dispatched_at or datetime.min, t.id))

    if arrivals:
        priority = snapshot.priorities(task.work_order_id for task in tasks.values())
        finish = {ws_id: max([now_local] + [zone.local(e.planned_finish) for e in lane
                                             if e.planned_finish is not None]) for ws_id, lane in lanes.items()}
    for task in arrivals:
        candidates = [Candidate(w.id, w.code, finish[w.id], len(lanes[w.id])) for w in state.stations
                      if w.is_active and w.department_id == task.department_id
                      and task.process_id in capabilities[w.id]]
        chosen = choose_workstation(candidates)
        entry = replaced.pop(task.id, None)
        if chosen is None:
            continue  # no capable workstation: 未排产 (a replaced entry leaves its queue)
        lane = lanes[chosen.workstation_id]
        index = insertion_index([_item(e, tasks, priority) for e in lane], priority[task.work_order_id])
        if entry is None:
            entry = Entry(task.id, chosen.workstation_id, task.work_order_id, index, now, None, None, False,
                          task.sequence)
        entry.workstation_id, entry.queued_at = chosen.workstation_id, now
        lane.insert(index, entry)
        spent = duration_seconds(_plan_task(task, now_local), capabilities[chosen.workstation_id][task.process_id])
        finish[chosen.workstation_id] = cal.add_working(finish[chosen.workstation_id], spent) \
            or finish[chosen.workstation_id]

    for lane in lanes.values():
        if any(tasks[e.task_id].status == "in_progress" for e in lane):
            lane[:] = heads_first(lane, lambda e: tasks[e.task_id].status == "in_progress")

    order = sorted(lanes)
    found = _schedule(order, lanes, tasks, capabilities, now_local, cal, zone)
    if found is None:  # past the calendar's precomputed windows: the rules as written, step by step
        plan_tasks = {e.task_id: _plan_task(tasks[e.task_id], zone.local(e.queued_at))
                      for lane in lanes.values() for e in lane}
        plan_lanes = [Lane(ws_id, capabilities[ws_id], [e.task_id for e in lane]) for ws_id, lane in lanes.items()]
        placements = plan_step_by_step(plan_lanes, plan_tasks, now_local, cal)
        for lane in lanes.values():
            for index, entry in enumerate(lane):
                placement = placements[entry.task_id]
                entry.position, entry.conflict = index, placement.conflict
                entry.planned_start = zone.utc(placement.start) if placement.start else None
                entry.planned_finish = zone.utc(placement.finish) if placement.finish else None
        return [entry for lane in lanes.values() for entry in lane], None
    times, moment = found.times, zone.moment_from(found.origin)
    for ws_id in order:
        for index, entry in enumerate(lanes[ws_id]):
            start, finish_at, entry.conflict = times[entry.task_id]
            entry.position = index
            entry.planned_start = None if start is None else moment(start)
            entry.planned_finish = None if finish_at is None else moment(finish_at)
    return [entry for lane in lanes.values() for entry in lane], list(times)


def _write_changes(state: Snapshot, original: dict[int, tuple], entries: list[Entry], result: Result) -> set[int]:
    """Write the rows that differ from what was read; returns the 施工单 of those rows."""
    kept = {entry.task_id for entry in entries}
    removed = [(task_id, before[1], before[2]) for task_id, before in original.items() if task_id not in kept]
    removed += state.leaving
    inserted = [entry for entry in entries if entry.task_id not in original]
    updated = [entry for entry in entries if entry.task_id in original and original[entry.task_id] != entry.values()]
    if not (removed or inserted or updated):
        return set()
    _write([task_id for task_id, _, _ in removed], inserted, updated)
    stations = {entry.workstation_id for entry in inserted + updated}
    stations |= {original[entry.task_id][1] for entry in updated} | {station_id for _, station_id, _ in removed}
    department_of = {station.id: station.department_id for station in state.stations}
    result.changed_department_ids = {department_of[station_id] for station_id in stations}
    return {entry.work_order_id for entry in inserted + updated} | {work_order_id for _, _, work_order_id in removed}


def _finish_moved(work_order_ids: set[int], original: dict[int, tuple], entries: list[Entry],
                  leaving: list[tuple[int, int, int]]) -> set[int]:
    """Of the 施工单 whose rows changed, those whose projection can have changed: a row came or went, or
    the latest planned finish of their rows, or whether one of them is unplanned, is not what it was.
    The others keep their stored projection, which the refresh would compute again unchanged (it
    depends on nothing else this replan changes; a change elsewhere names its 施工单: triggers.py)."""
    if not work_order_ids:
        return set()
    moved: set[int] = set()
    summaries: dict[int, list] = {}  # 施工单 → [latest planned finish, one unplanned] of its rows as read
    for values in original.values():
        if values[2] in work_order_ids:
            _summarize(summaries, values[2], values[6])
    kept: dict[int, list] = {}
    for entry in entries:
        if entry.work_order_id in work_order_ids:
            if entry.task_id not in original:
                moved.add(entry.work_order_id)  # a row came
            _summarize(kept, entry.work_order_id, entry.planned_finish)
    for work_order_id in work_order_ids:
        if _projected(summaries.get(work_order_id)) != _projected(kept.get(work_order_id)):
            moved.add(work_order_id)
    # A row went (its task left the plan, or no workstation can take it any more).
    planned = {entry.task_id for entry in entries}
    moved.update(values[2] for task_id, values in original.items() if task_id not in planned)
    moved.update(work_order_id for _, _, work_order_id in leaving)
    return moved


def _latest_finishes(entries: list[Entry]) -> dict[int, datetime]:
    """The latest planned finish of each 施工单's rows, of those whose rows all have times."""
    summaries: dict[int, list] = {}
    for entry in entries:
        _summarize(summaries, entry.work_order_id, entry.planned_finish)
    return {work_order_id: summary[0] for work_order_id, summary in summaries.items() if not summary[1]}


def _projected(summary: list | None):
    """What the projection makes of a summary: with one unplanned, no projected finish (无法预计)."""
    if summary is None:
        return None
    return (None, True) if summary[1] else (summary[0], False)


def _summarize(summaries: dict[int, list], work_order_id: int, finish: datetime | None) -> None:
    summary = summaries.get(work_order_id)
    if summary is None:
        summary = summaries[work_order_id] = [None, False]
    if finish is None:
        summary[1] = True
    elif summary[0] is None or finish > summary[0]:
        summary[0] = finish


def _write(removed: list[int], inserted: list[Entry], updated: list[Entry]) -> None:
    """Deletes, inserts and updates of plan entries, a statement (or a few) each."""
    table = PlanEntry.__table__
    session = db.session
    if removed:
        session.execute(delete(table).where(table.c.task_id.in_(sorted(removed))))
    if inserted:
        session.execute(insert(table), [{name: getattr(e, name) for name in COLUMNS} for e in inserted])
    if updated:
        if session.get_bind().dialect.name == "postgresql":
            for start in range(0, len(updated), 2000):
                _update_from_values(updated[start:start + 2000])
        else:
            session.execute(
                update(table).where(table.c.task_id == bindparam("key"))
                .values({name: bindparam(name) for name in _REWRITTEN[1:]}),
                [{"key": e.task_id, **{name: getattr(e, name) for name in _REWRITTEN[1:]}} for e in updated])
    if removed or inserted or updated:
        # Entries the session loaded before (move_task, a page) would be stale now.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, PlanEntry):
                session.expire(obj)


# The new values travel as PostgreSQL array literals (snapshot.array_literal, one text parameter per column):
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


_REWRITTEN = ("task_id", "workstation_id", "position", "queued_at", "planned_start", "planned_finish", "conflict")


def _update_from_values(entries: list[Entry]) -> None:
    """PostgreSQL: one UPDATE joined to the new values passed as arrays — one round trip, one cached statement."""
    columns = list(zip(*(entry.values() for entry in entries), strict=True))
    db.session.execute(_UPDATE_FROM_ARRAYS, {name: array_literal(columns[index]) for index, name in enumerate(COLUMNS)
                                             if name in _REWRITTEN})


def _schedule(order: list[int], lanes: dict[int, list[Entry]], tasks: dict[int, OpenTask],
              capabilities: dict[int, dict[int, Capability]], now_local: datetime, cal: plant_calendar.PlantCalendar,
              zone: _Clock) -> Schedule | None:
    """planner.schedule fed straight from the entries: durations, earlier steps and queued times
    (local) as plain dicts, no PlanTask per task."""
    durations: dict[int, int | None] = {}
    queued_at: dict[int, datetime] = {}
    local = zone.local
    for ws_id in order:
        rates = capabilities[ws_id]
        for entry in lanes[ws_id]:
            task = tasks[entry.task_id]
            capability = rates.get(task.process_id)
            durations[entry.task_id] = None if capability is None else working_seconds(task.remaining, capability)
            queued_at[entry.task_id] = local(entry.queued_at)
    waits_for = earlier_steps([(task_id, tasks[task_id].work_order_id, tasks[task_id].sequence)
                               for task_id in sorted(durations)])
    return schedule([[entry.task_id for entry in lanes[ws_id]] for ws_id in order], durations, waits_for,
                    queued_at, now_local, cal)


def _item(entry: Entry, tasks: dict[int, OpenTask], priority: dict[int, str]) -> QueueItem:
    task = tasks[entry.task_id]
    return QueueItem(entry.task_id, priority[task.work_order_id], task.status == "in_progress", entry.queued_at)


def _plan_task(task: OpenTask, queued_at: datetime) -> PlanTask:
    return PlanTask(task.id, task.work_order_id, task.sequence, task.process_id, task.remaining, queued_at)
