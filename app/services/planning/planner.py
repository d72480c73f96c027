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
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
    return working_seconds(task.remaining, capability)


def working_seconds(remaining: int, capability: Capability) -> int:
    """Setup plus ``remaining`` units at the standard rate, rounded up to whole seconds."""
    return math.ceil(capability.setup_minutes * 60 + remaining * 3600 / capability.rate_per_hour)


def plan(lanes: Iterable[Lane], tasks: Mapping[int, PlanTask], now: datetime,
         calendar: PlantCalendar) -> dict[int, Placement]:
    """Planned start and finish of every queued task (naive local times, like ``now``)."""
    lanes = sorted(lanes, key=lambda lane: lane.workstation_id)
    durations = {}
    for lane in lanes:
        for task_id in lane.task_ids:
            capability = lane.capabilities.get(tasks[task_id].process_id)
            durations[task_id] = None if capability is None else duration_seconds(tasks[task_id], capability)
    queued = {task_id for lane in lanes for task_id in lane.task_ids}
    steps = [(task_id, tasks[task_id].work_order_id, tasks[task_id].step_sequence) for task_id in sorted(queued)]
    found = schedule([lane.task_ids for lane in lanes], durations, earlier_steps(steps),
                     {task_id: tasks[task_id].queued_at for task_id in queued}, now, calendar)
    if found is None:
        return plan_step_by_step(lanes, tasks, now, calendar)
    origin = found.origin
    return {task_id: Placement(None if start is None else origin + timedelta(microseconds=start),
                               None if finish is None else origin + timedelta(microseconds=finish), conflict)
            for task_id, (start, finish, conflict) in found.times.items()}


def earlier_steps(steps: Iterable[tuple[int, int, int]]) -> dict[int, list[int]]:
    """Per queued task, the queued tasks of its 施工单 with an earlier step, by id: whom it waits for.
    ``steps``: (task id, 施工单 id, step sequence) of every queued task, by task id."""
    by_work_order: dict[int, list[tuple[int, int]]] = {}
    for task_id, work_order_id, sequence in steps:
        members = by_work_order.get(work_order_id)
        if members is None:
            by_work_order[work_order_id] = [(task_id, sequence)]
        else:
            members.append((task_id, sequence))
    waits_for = {}
    for members in by_work_order.values():
        if len(members) == 1:
            waits_for[members[0][0]] = []
            continue
        for task_id, sequence in members:
            waits_for[task_id] = [other for other, other_sequence in members if other_sequence < sequence]
    return waits_for


class _Beyond(Exception):
    """A time past the calendar's precomputed windows: the step-by-step planner answers."""


@dataclass
class Schedule:
    """``times[task id]`` = (start, finish, conflict); start and finish in microseconds since ``origin``
    (naive local), None when unplanned."""

    origin: datetime
    times: dict[int, tuple[int | None, int | None, bool]]


def schedule(lanes: list[list[int]], durations: Mapping[int, int | None], waits_for: Mapping[int, list[int]],
             queued_at: Mapping[int, datetime], now: datetime, calendar: PlantCalendar) -> Schedule | None:
    """``plan()`` in working time: the same placements as ``plan_step_by_step`` (the rules as written,
    datetime by datetime), computed on the calendar's working time counted from an origin
    (calendar.Timeline): a task's start is the first working instant at the working time at which it is
    ready, its finish that plus its duration — an addition and a binary search each, no datetime until
    the end. None when a time falls past the precomputed windows (the caller then plans step by step).

    ``lanes``: task ids in queue order, one list per workstation by workstation id; ``durations``:
    seconds (None: the workstation cannot run the task's process); ``waits_for``: the queued tasks of
    earlier steps (``earlier_steps``); ``queued_at``: local, for the 顺序冲突 order."""
    timeline = calendar.timeline(now)
    if timeline is None:
        return None
    now_worked = timeline.worked_at(now)
    if now_worked is None:
        return None
    starts, worked_before, worked_through, total = (timeline.starts, timeline.worked_before,
                                                    timeline.worked_through, timeline.total)
    times: dict[int, tuple] = {}
    finished: dict[int, int] = {}  # task id → the working time of its planned finish
    # As in plan_step_by_step: how many earlier steps each task still waits for, and who waits for it.
    lane_of: dict[int, int] = {}
    position: dict[int, int] = {}
    for index, lane in enumerate(lanes):
        for at, task_id in enumerate(lane):
            lane_of[task_id] = index
            position[task_id] = at
    missing: dict[int, int] = {}
    dependents: dict[int, list[int]] = {}
    for task_id in sorted(lane_of):
        earlier = waits_for[task_id]
        missing[task_id] = len(earlier)
        for other in earlier:
            dependents.setdefault(other, []).append(task_id)
    count = len(lanes)
    free = [now_worked] * count
    heads = [0] * count
    # The heads found waiting for an earlier step, by (queued_at, id): when no head can be planned the
    # earliest of them goes first (an entry whose task is no longer its lane's head is skipped). Every
    # head is looked at when it becomes its lane's head, so every waiting head is here.
    waiting: list[tuple[datetime, int, int]] = []
    ready_lanes = list(range(count - 1, -1, -1))
    push = heapq.heappush

    def place(index: int, task_id: int, conflict: bool) -> bool:
        """Plan a lane's head; False when it cannot be (the lane stops there)."""
        ready = free[index]
        for other in waits_for[task_id]:
            finish = finished.get(other)
            if finish is not None and finish > ready:
                ready = finish
        seconds = durations[task_id]
        if seconds is None:
            times[task_id] = (None, None, conflict)
            return False
        if ready >= total or seconds < 0:
            raise _Beyond
        window = bisect_right(worked_through, ready)
        start = starts[window] + ready - worked_before[window]
        if seconds:
            finish = ready + seconds * 1_000_000
            if finish > total:
                raise _Beyond
            window = bisect_left(worked_through, finish)
            times[task_id] = (start, starts[window] + finish - worked_before[window], conflict)
        else:
            finish = ready
            times[task_id] = (start, start, conflict)
        finished[task_id] = free[index] = finish
        return True

    def mark(task_id: int) -> None:
        for other in dependents.get(task_id, ()):
            left = missing[other] - 1
            missing[other] = left
            if not left and heads[lane_of[other]] == position[other]:
                ready_lanes.append(lane_of[other])

    def stop(index: int, after: int) -> None:
        """Nothing more can be planned on this lane: the rest stays unplanned."""
        lane = lanes[index]
        heads[index] = len(lane)
        for task_id in lane[after:]:
            if task_id not in times:
                times[task_id] = (None, None, False)
                mark(task_id)

    def settle(index: int, head: int, task_id: int, conflict: bool) -> bool:
        """Plan a lane's head and move the lane on; False when the lane stopped there."""
        if place(index, task_id, conflict):
            heads[index] = head + 1
            mark(task_id)
            return True
        mark(task_id)
        stop(index, head + 1)
        return False

    def advance(index: int) -> None:
        lane = lanes[index]
        length = len(lane)
        while heads[index] < length:
            head = heads[index]
            task_id = lane[head]
            if missing[task_id]:
                push(waiting, (queued_at[task_id], task_id, index))
                return
            if not settle(index, head, task_id, False):
                return

    try:
        while True:
            while ready_lanes:
                advance(ready_lanes.pop())
            while waiting:
                _, task_id, index = heapq.heappop(waiting)
                head = heads[index]
                if head < len(lanes[index]) and lanes[index][head] == task_id:
                    break
            else:
                return Schedule(timeline.origin, times)
            settle(index, head, task_id, True)
            ready_lanes.append(index)
    except _Beyond:
        return None


def plan_step_by_step(lanes: Iterable[Lane], tasks: Mapping[int, PlanTask], now: datetime,
                      calendar: PlantCalendar) -> dict[int, Placement]:
    """The rules as written, datetime by datetime through the calendar: what ``schedule`` must give
    (tests/planning/test_planning_planner.py compares them), and the answer past its windows."""
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
