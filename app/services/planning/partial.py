"""A partial replan: only the planned times that changed remaining quantities move (DOMAIN.md §12).

Most replans follow a report from the floor: one task's remaining quantity changed, nothing else. The
planner's order — which queue's head it places next, and which head it places as 顺序冲突 before some
of its earlier steps — depends on the queues, their order and the step order alone, never on a duration
or a time (planner.schedule). With those unchanged, a task's times follow from its queue's previous task
and the earlier steps placed before it (schedule's ``place``). So the tasks downstream of a changed one
are computed again in the planner's order, and the walk stops wherever a task's times come out as
stored: the same plan as planning the whole plant, for a fraction of the work.

The planner's order is that of the whole-plant replan that wrote the queues (PlanState.version): kept by
the process that made it, read back from the stored queues by any other (``_planner_order``).

A task completed or cancelled at its queue's head, waiting for no queued earlier step, leaves the same way:
the planner placed it before any 顺序冲突 was decided (nothing held it back), so without it the planner
makes the same choices, in the same order less that task. Its times become "now" to "now" — which holds
back neither its queue's next task nor its later steps, both of which start "now" at the earliest — and
the walk goes on from there; then it leaves its queue and the queue is numbered again.

``replan`` declines (None: engine.py then plans the whole plant) whenever that argument does not hold:
- the stored plan is of another minute (every head starts "now"), or there is none (PlanState);
- a changed task arrived, moved to another department or can no longer run on its workstation, or left
  its queue from anywhere but its head, or while an earlier step of its 施工单 was still queued;
- a queue of a changed task no longer has its started tasks at its head (heads_first would reorder it);
- a task downstream is unplanned, or a time falls past the calendar's precomputed windows.
Tasks not named by this transaction's events are as the stored plan was made from: every change of a
planning input replans in its own transaction (triggers.py), and replans run one at a time (the plan lock).
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from datetime import datetime

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.services.planning import calendar as plant_calendar
from app.services.planning import planner, snapshot
from app.services.planning.snapshot import Entry, Snapshot


class _Declined(Exception):
    """The stored plan cannot be brought up to date in part: plan the whole plant."""


# The planner's order of the plan last seen by this process: (its PlanState.version, task id → place),
# replaced as one value. Each version is a random token written by the whole-plant replan that made the
# plan (a rolled-back one never comes back), and only such a replan changes queues: the order holds as
# long as the version.
_known_order: tuple[int | None, dict[int, int]] = (None, {})


def remember_order(version: int, order: list[int]) -> dict[int, int]:
    """What a whole-plant replan found (planner.schedule's placements, in order) for the plan it writes."""
    global _known_order
    rank = {task_id: place for place, task_id in enumerate(order)}
    _known_order = (version, rank)
    return rank


def replan(task_ids: set[int], version: int, cal: plant_calendar.PlantCalendar, clock, now: datetime) \
        -> tuple[Snapshot, dict[int, tuple], list[Entry]] | None:
    """With the times ``task_ids``' remaining quantities move: (the plan's workstations, the values as
    read of the entries of every 施工单 with a moved entry, those entries as they now stand), or None.
    The caller checked that the stored plan (``version``) is of ``now``'s minute and that only these
    tasks changed."""
    try:
        return _replan(task_ids, version, cal, clock, now)
    except _Declined:
        return None


def _replan(task_ids, version, cal, clock, now):
    connection = db.session.connection()  # engine.replan flushed this transaction's changes
    stations, capabilities = snapshot.workstations(connection)
    entries = snapshot.stored_entries(connection)
    lanes: dict[int, list[Entry]] = {}
    for entry in sorted(entries.values(), key=lambda e: (e.workstation_id, e.position)):
        lane = lanes.setdefault(entry.workstation_id, [])
        if entry.position != len(lane):
            raise _Declined  # every replan numbers each queue from 0; a queue otherwise is not the plan's
        lane.append(entry)
    changed = [entries[task_id] for task_id in sorted(task_ids) if task_id in entries]
    rows = snapshot.task_rows(connection, set(task_ids) | {e.task_id for c in changed for e in lanes[c.workstation_id]})
    by_work_order: dict[int, list[Entry]] = {}
    for entry in entries.values():
        by_work_order.setdefault(entry.work_order_id, []).append(entry)
    leaving = _leaving_heads(changed, rows, by_work_order)
    _check_unchanged_structure(task_ids, entries, lanes, changed, rows, stations, capabilities, leaving)

    now_local = clock.local(now)
    timeline = cal.timeline(now_local)
    now_worked = None if timeline is None else timeline.worked_at(now_local)
    if now_worked is None:
        raise _Declined
    known_version, rank = _known_order
    if known_version != version:
        rank = remember_order(version, _planner_order(entries, lanes, now_local, cal, clock))
    durations = {entry.task_id: 0 if entry.task_id in leaving else planner.working_seconds(
        snapshot.remaining(rows[entry.task_id]), capabilities[entry.workstation_id][rows[entry.task_id][2]])
        for entry in changed}
    before = _retime(changed, durations, entries, lanes, by_work_order, rank, timeline, now_worked, clock)
    for task_id in leaving:
        entry = entries[task_id]
        before.pop(task_id, None)
        by_work_order[entry.work_order_id].remove(entry)
        lane = lanes[entry.workstation_id]
        del lane[0]
        for member in lane:  # every replan numbers each queue from 0
            before.setdefault(member.task_id, member.values())
            member.position -= 1
    # What engine.py compares and writes: the entries of the 施工单 whose rows moved (the projection of each
    # takes all of its rows), as they were read and as they now stand; the rows that leave.
    kept = [entry for work_order_id in sorted({entries[task_id].work_order_id for task_id in before})
            for entry in by_work_order[work_order_id]]
    original = {entry.task_id: before.get(entry.task_id) or entry.values() for entry in kept}
    gone = [(task_id, entries[task_id].workstation_id, entries[task_id].work_order_id) for task_id in sorted(leaving)]
    return Snapshot(stations, capabilities, {}, {}, gone), original, kept


def _planner_order(entries: dict[int, Entry], lanes, now_local: datetime, cal, clock) -> list[int]:
    """The order in which planner.schedule places the stored queues: it depends on the queues, the step
    order and which tasks cannot be planned, never on durations, so zero durations give it."""
    durations = {task_id: None if entry.planned_start is None else 0 for task_id, entry in entries.items()}
    waits_for = planner.earlier_steps([(task_id, entries[task_id].work_order_id, entries[task_id].step_sequence)
                                       for task_id in sorted(entries)])
    queued_at = {task_id: clock.local(entry.queued_at) for task_id, entry in entries.items()}
    found = planner.schedule([[entry.task_id for entry in lanes[station_id]] for station_id in sorted(lanes)],
                             durations, waits_for, queued_at, now_local, cal)
    if found is None:
        raise _Declined
    return list(found.times)


def _leaving_heads(changed: list[Entry], rows, by_work_order) -> set[int]:
    """The changed tasks that were completed or cancelled: each must be its queue's head and wait for no
    queued earlier step of its 施工单 (see the module's doc), one per queue."""
    leaving: dict[int, int] = {}  # workstation id → task id
    for entry in changed:
        row = rows.get(entry.task_id)
        if row is None or row[3] in OPEN_TASK_STATUSES:
            continue
        if row[3] not in ("completed", "cancelled") or entry.position or entry.workstation_id in leaving \
                or any(other.step_sequence < entry.step_sequence for other in by_work_order[entry.work_order_id]):
            raise _Declined
        leaving[entry.workstation_id] = entry.task_id
    return set(leaving.values())


def _check_unchanged_structure(task_ids, entries, lanes, changed, rows, stations, capabilities, leaving) -> None:
    """Decline unless every named task only changed its remaining quantity, or left as ``_leaving_heads``
    allows (see the module's doc)."""
    by_id = {station.id: station for station in stations}
    planned = set(snapshot.planned_departments(stations))
    for task_id in task_ids:
        row = rows.get(task_id)
        if task_id not in entries:
            if row is not None and row[3] in OPEN_TASK_STATUSES and row[6] in planned:
                raise _Declined  # an arrival: it must be placed
            continue
        if task_id in leaving:
            continue
        station = by_id[entries[task_id].workstation_id]
        if row is None or row[3] not in OPEN_TASK_STATUSES or not station.is_active \
                or station.department_id != row[6] or row[2] not in capabilities[station.id]:
            raise _Declined  # it leaves its queue, or must be placed again
    for entry in changed:
        started_after_waiting = False
        waiting = False
        for member in lanes[entry.workstation_id]:
            if member.task_id in leaving:
                continue
            row = rows.get(member.task_id)
            if row is None or row[3] not in OPEN_TASK_STATUSES:
                raise _Declined
            if row[3] == "in_progress":
                started_after_waiting = started_after_waiting or waiting
            else:
                waiting = True
        if started_after_waiting:
            raise _Declined  # heads_first would bring a started task to the head


def _previous_in_lane(entry: Entry, lanes) -> Entry | None:
    return lanes[entry.workstation_id][entry.position - 1] if entry.position else None


def _waited_for(entry: Entry, by_work_order, rank: dict[int, int]) -> list[Entry]:
    """Its earlier steps that the planner placed before it: all of them, but for a 顺序冲突."""
    return [other for other in by_work_order[entry.work_order_id]
            if other.step_sequence < entry.step_sequence and rank[other.task_id] < rank[entry.task_id]]


def _retime(changed: list[Entry], durations: dict[int, int], entries: dict[int, Entry], lanes, by_work_order,
            rank: dict[int, int], timeline, now_worked: int, clock) -> dict[int, tuple]:
    """Compute the times again as planner.schedule's ``place`` does, from the changed entries on through
    every entry after one that moved — its queue's next task, and the later steps of its 施工单 placed
    after it — in the planner's order (so that whatever an entry waits for is final before it is
    computed); write the new times on the entries. Returns the moved entries' values as they were."""
    starts, worked_before, worked_through, total = (timeline.starts, timeline.worked_before,
                                                    timeline.worked_through, timeline.total)
    moment = clock.moment_from(timeline.origin)
    worked: dict[int, int] = {}  # task id → the working time of its planned finish

    def finish_of(entry: Entry) -> int | None:
        found = worked.get(entry.task_id)
        if found is None and entry.planned_finish is not None:
            found = timeline.worked_at(clock.local(entry.planned_finish))
            if found is None:
                raise _Declined
            worked[entry.task_id] = found
        return found

    due = [(rank[entry.task_id], entry.task_id) for entry in changed]
    heapq.heapify(due)
    seen = {entry.task_id for entry in changed}
    before: dict[int, tuple] = {}
    while due:
        entry = entries[heapq.heappop(due)[1]]
        if entry.planned_start is None:
            raise _Declined  # unplanned: whether it stays so may depend on the times
        seconds = durations.get(entry.task_id)
        if seconds is None:  # unchanged: its planned working time, as stored
            seconds = (finish_of(entry) - timeline.worked_at(clock.local(entry.planned_start))) // 1_000_000
        previous = _previous_in_lane(entry, lanes)
        ready = now_worked if previous is None else finish_of(previous)
        for other in _waited_for(entry, by_work_order, rank):
            finish = finish_of(other)
            if finish is not None and finish > ready:
                ready = finish
        finish = ready + seconds * 1_000_000
        if ready >= total or finish > total:
            raise _Declined
        window = bisect_right(worked_through, ready)
        start_at = moment(starts[window] + ready - worked_before[window])
        if seconds:
            window = bisect_left(worked_through, finish)
            finish_at = moment(starts[window] + finish - worked_before[window])
        else:
            finish_at = start_at
        worked[entry.task_id] = finish
        if (start_at, finish_at) == (entry.planned_start, entry.planned_finish):
            continue
        before[entry.task_id] = entry.values()
        entry.planned_start, entry.planned_finish = start_at, finish_at
        later = [other for other in by_work_order[entry.work_order_id]
                 if other.step_sequence > entry.step_sequence and rank[other.task_id] > rank[entry.task_id]]
        for other in later + lanes[entry.workstation_id][entry.position + 1:entry.position + 2]:
            if other.task_id not in seen:
                seen.add(other.task_id)
                heapq.heappush(due, (rank[other.task_id], other.task_id))
    return before
