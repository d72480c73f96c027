"""The planner (DOMAIN.md §12, "Planned times"): a pure function from queues to planned times.

No database here: ``engine.py`` loads the queues, calls ``plan()`` and writes what changed; the
unit tests call ``plan()`` with hand-made queues and a hand-made calendar.

Rules, exactly as decided:
- a task's duration = setup + (target − good) ÷ rate of its workstation for its process, in working time;
- each workstation runs its queue in order, back to back, from ``now``;
- a task also waits for the planned finish of the earlier steps of its 施工单 — only of their open,
  queued tasks (every queue of the plant is planned at once: engine.py);
- the planner goes through the queues' heads and plans whichever head has all its earlier steps
  planned; if no head can be planned, it plans the earliest-queued head as it stands and marks it
  顺序冲突 (conflict);
- same inputs, same plan (no dict or set order decides anything).
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.services.planning.calendar import PlantCalendar


@dataclass(frozen=True)
class PlanTask:
    id: int
    work_order_id: int
    step_sequence: int
    process_id: int
    remaining: int  # target − good, never below 0
    queued_at: datetime


@dataclass(frozen=True)
class Capability:
    rate_per_hour: float
    setup_minutes: int


@dataclass
class Lane:
    workstation_id: int
    capabilities: Mapping[int, Capability]  # process id → rate and setup
    task_ids: list[int] = field(default_factory=list)  # in queue order


@dataclass(frozen=True)
class Placement:
    start: datetime | None  # None: the calendar has no working time left (无法排产)
    finish: datetime | None
    conflict: bool = False


def duration_seconds(task: PlanTask, capability: Capability) -> int:
    """Setup plus the remaining quantity at the standard rate, rounded up to whole seconds."""
    return math.ceil(capability.setup_minutes * 60 + task.remaining * 3600 / capability.rate_per_hour)


def plan(lanes: Iterable[Lane], tasks: Mapping[int, PlanTask], now: datetime,
         calendar: PlantCalendar) -> dict[int, Placement]:
    """Planned start and finish of every queued task (naive local times, like ``now``)."""
    lanes = sorted(lanes, key=lambda lane: lane.workstation_id)
    queued = {task_id for lane in lanes for task_id in lane.task_ids}
    # Per 施工单, the queued tasks in this plan: who waits for whom.
    by_work_order: dict[int, list[PlanTask]] = {}
    for task_id in sorted(queued):
        task = tasks[task_id]
        by_work_order.setdefault(task.work_order_id, []).append(task)

    placements: dict[int, Placement] = {}
    free = {lane.workstation_id: now for lane in lanes}
    heads = {lane.workstation_id: 0 for lane in lanes}

    waits_for = {task_id: [other for other in by_work_order[tasks[task_id].work_order_id]
                           if other.step_sequence < tasks[task_id].step_sequence] for task_id in queued}

    def earlier(task: PlanTask) -> list[PlanTask]:
        return waits_for[task.id]

    def place(lane: Lane, task: PlanTask, conflict: bool) -> None:
        ready = free[lane.workstation_id]
        for other in earlier(task):
            finish = placements[other.id].finish if other.id in placements else None
            if finish is not None and finish > ready:
                ready = finish
        capability = lane.capabilities.get(task.process_id)
        start = calendar.next_working(ready)
        if start is None or capability is None:
            placements[task.id] = Placement(None, None, conflict)
            return
        finish = calendar.add_working(start, duration_seconds(task, capability))
        placements[task.id] = Placement(start, finish, conflict)
        if finish is not None:
            free[lane.workstation_id] = finish
        heads[lane.workstation_id] += 1
        queue_head(lane)

    # The lanes' heads by (queued_at, id), for when the queues contradict step order; an entry whose
    # task is no longer its lane's head is skipped when it comes up.
    waiting_heads: list[tuple[datetime, int, int]] = []
    lane_by_id = {lane.workstation_id: lane for lane in lanes}

    def queue_head(lane: Lane) -> None:
        index = heads[lane.workstation_id]
        if index < len(lane.task_ids):
            head = tasks[lane.task_ids[index]]
            heapq.heappush(waiting_heads, (head.queued_at, head.id, lane.workstation_id))

    def earliest_waiting_head() -> tuple[Lane, PlanTask] | None:
        while waiting_heads:
            _, task_id, workstation_id = heapq.heappop(waiting_heads)
            lane = lane_by_id[workstation_id]
            index = heads[workstation_id]
            if index < len(lane.task_ids) and lane.task_ids[index] == task_id:
                return lane, tasks[task_id]
        return None

    # Which queued tasks wait for which, and how many of their earlier steps are still unplanned.
    # A head is planned as soon as nothing it waits for is missing: its times depend only on its
    # lane's previous task and on its earlier steps, so the order in which ready heads are taken
    # changes nothing, and the heads left when none is ready are the same as going through every
    # queue's head again and again (one pass over the tasks instead of one per round).
    missing = {task_id: len(waits_for[task_id]) for task_id in queued}
    dependents: dict[int, list[int]] = {task_id: [] for task_id in queued}
    for task_id in sorted(queued):
        for other in waits_for[task_id]:
            dependents[other.id].append(task_id)
    lane_of: dict[int, Lane] = {}
    position: dict[int, int] = {}
    for lane in lanes:
        for index, task_id in enumerate(lane.task_ids):
            lane_of[task_id], position[task_id] = lane, index
    ready: list[Lane] = list(reversed(lanes))
    for lane in lanes:
        queue_head(lane)

    def mark(task_id: int) -> None:
        for other in dependents.get(task_id, ()):
            missing[other] -= 1
            if missing[other] == 0:
                lane = lane_of[other]
                if heads[lane.workstation_id] == position[other]:
                    ready.append(lane)

    def stop(lane: Lane, after: int) -> None:
        """Nothing more can be planned on this lane: the rest stays unplanned."""
        heads[lane.workstation_id] = len(lane.task_ids)
        for task_id in lane.task_ids[after:]:
            if task_id not in placements:
                placements[task_id] = Placement(None, None)
                mark(task_id)

    def advance(lane: Lane) -> None:
        while heads[lane.workstation_id] < len(lane.task_ids):
            task = tasks[lane.task_ids[heads[lane.workstation_id]]]
            if missing[task.id]:
                return
            before = heads[lane.workstation_id]
            place(lane, task, conflict=False)
            mark(task.id)
            if heads[lane.workstation_id] == before:
                stop(lane, before + 1)
                return

    while True:
        while ready:
            advance(ready.pop())
        # Every head left waits for an unplanned earlier step: the queues contradict step order, and
        # the earliest-queued head goes first, as it stands.
        waiting = earliest_waiting_head()
        if waiting is None:
            return placements
        lane, task = waiting
        before = heads[lane.workstation_id]
        place(lane, task, conflict=True)
        mark(task.id)
        if heads[lane.workstation_id] == before:
            stop(lane, before + 1)
        ready.append(lane)
