"""The planner's fast path (planner.schedule: working time since an origin, one binary search per
time) against the rules as written (planner.plan_step_by_step: datetime by datetime through the
calendar) on random queues and calendars: the same plan, placement for placement."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.planning import engine, partial
from app.services.planning.calendar import DEFAULT_HOURS, PlantCalendar
from app.services.planning.planner import (
    Capability,
    Lane,
    PlanTask,
    duration_seconds,
    earlier_steps,
    plan,
    plan_step_by_step,
    schedule,
)
from app.services.planning.snapshot import Entry, OpenTask, Snapshot, Station
from support.plant_calendars import calendars

_moments = st.datetimes(min_value=datetime(2026, 12, 1), max_value=datetime(2027, 1, 15))


@st.composite
def plants(draw):
    """Lanes (some unable to run some processes) holding tasks of a few 施工单 with several steps,
    in any order: conflicts, unplanned tasks, zero durations, ties of queued times."""
    processes = (1, 2, 3)
    lanes = []
    for workstation_id in draw(st.lists(st.integers(1, 9), min_size=1, max_size=4, unique=True)):
        capabilities = {process: Capability(draw(st.sampled_from([250.0, 1000.0, 3000.0, 6000.0, 7777.0])),
                                            draw(st.sampled_from([0, 0, 15, 30, 45])))
                        for process in draw(st.sets(st.sampled_from(processes), min_size=1))}
        lanes.append(Lane(workstation_id, capabilities, []))
    tasks = {}
    queued_times = draw(st.lists(_moments, min_size=1, max_size=4))
    for task_id in draw(st.lists(st.integers(1, 400), max_size=30, unique=True)):
        tasks[task_id] = PlanTask(task_id, draw(st.integers(1, 6)), draw(st.integers(1, 4)),
                                  draw(st.sampled_from(processes)), draw(st.sampled_from([0, 1, 500, 3000, 12000])),
                                  draw(st.sampled_from(queued_times)))
        lanes[draw(st.integers(0, len(lanes) - 1))].task_ids.append(task_id)
    return lanes, tasks


@settings(max_examples=400, deadline=None)
@given(calendar=calendars(with_default_hours=True), plant=plants(), now=_moments)
def test_the_fast_planner_gives_the_plan_of_the_rules_as_written(calendar, plant, now):
    lanes, tasks = plant
    assert plan(lanes, tasks, now, calendar) == plan_step_by_step(lanes, tasks, now, calendar)


def test_the_default_calendar_is_planned_on_the_fast_path_and_far_plans_step_by_step():
    calendar = PlantCalendar.from_hours(DEFAULT_HOURS)
    tasks = {1: PlanTask(1, 1, 1, 1, 6000, datetime(2026, 12, 1)), 2: PlanTask(2, 1, 2, 1, 6000, datetime(2026, 12, 1))}
    lanes = [Lane(1, {1: Capability(6000, 30)}, [2, 1])]
    now = datetime(2026, 12, 7, 7, 0)
    durations = {task_id: duration_seconds(task, Capability(6000, 30)) for task_id, task in tasks.items()}
    found = schedule([[2, 1]], durations, earlier_steps([(1, 1, 1), (2, 1, 2)]), {1: now, 2: now}, now, calendar)
    assert found is not None
    assert plan(lanes, tasks, now, calendar) == plan_step_by_step(lanes, tasks, now, calendar)
    # Longer than the calendar's precomputed windows (400 days): the rules as written answer.
    far = {1: PlanTask(1, 1, 1, 1, 6000 * 8 * 6 * 60 * 2, datetime(2026, 12, 1))}
    assert schedule([[1]], {1: duration_seconds(far[1], Capability(6000, 0))}, {1: []}, {1: now}, now,
                    calendar) is None
    assert plan([Lane(1, {1: Capability(6000, 0)}, [1])], far, now, calendar) == \
        plan_step_by_step([Lane(1, {1: Capability(6000, 0)}, [1])], far, now, calendar)


def _entry(task_id, work_order_id, finish, position=0):
    return Entry(task_id, 1, work_order_id, position, datetime(2026, 12, 1), finish and finish.replace(hour=8),
                 finish, False, 1)


def test_a_replan_refreshes_only_the_projections_its_changes_can_move():
    nine, ten, eleven = datetime(2026, 12, 7, 9), datetime(2026, 12, 7, 10), datetime(2026, 12, 7, 11)
    read = [_entry(1, 10, nine), _entry(2, 10, eleven),  # 施工单 10: its last task still ends at 11:00
            _entry(3, 20, nine), _entry(4, 20, ten),  # 20: its last task moves
            _entry(5, 30, None), _entry(6, 30, ten),  # 30: still one unplanned
            _entry(7, 40, nine), _entry(8, 50, nine), _entry(9, 60, ten)]
    original = {entry.task_id: entry.values() for entry in read}
    planned = [_entry(1, 10, ten, 1), _entry(2, 10, eleven), _entry(3, 20, nine, 1), _entry(4, 20, eleven),
               _entry(5, 30, None, 1), _entry(6, 30, nine),
               _entry(8, 50, nine, 1), _entry(11, 50, nine),  # 40: its row went; 50: a row came
               _entry(9, 60, None)]  # 60: no longer planned
    changed = {10, 20, 30, 40, 50, 60, 70}
    assert engine._finish_moved(changed, original, planned, [(12, 1, 70)]) == {20, 40, 50, 60, 70}
    assert engine._finish_moved(set(), original, planned, []) == set()


def _state(now):
    """Two presses and a die-cutter; 施工单 whose steps the queues contradict (顺序冲突: 200 and 500), a
    started task behind others, an empty task, a paused one."""
    stations = [Station(1, "P1", 7, True), Station(2, "P2", 7, True), Station(3, "D1", 8, True)]
    capabilities = {1: {1: Capability(6000, 30)}, 2: {1: Capability(4000, 15), 3: Capability(500, 0)},
                    3: {2: Capability(3000, 10)}}
    tasks, entries = {}, {}
    layout = [  # task, 施工单, process, status, remaining, department, step, workstation, position
        (1, 100, 1, "pending", 9000, 7, 1, 1, 1), (2, 100, 2, "pending", 9000, 8, 2, 3, 1),
        (3, 200, 1, "pending", 3000, 7, 1, 1, 2), (4, 200, 2, "pending", 6000, 8, 2, 3, 0),
        (5, 300, 1, "in_progress", 1500, 7, 1, 2, 2), (6, 300, 2, "pending", 0, 8, 2, 3, 2),
        (7, 300, 3, "pending", 800, 7, 3, 2, 0), (8, 400, 1, "paused", 12000, 7, 1, 2, 1),
        (9, 500, 2, "pending", 4000, 8, 1, 3, 3), (10, 500, 1, "pending", 2000, 7, 2, 1, 0)]
    for task_id, work_order, process, status, remaining, department, step, station, position in layout:
        tasks[task_id] = OpenTask(task_id, work_order, process, status, remaining, department, None, step)
        entries[task_id] = Entry(task_id, station, work_order, position, now.replace(hour=0, minute=task_id),
                                 None, None, False, step)
    return Snapshot(stations, capabilities, tasks, entries, [])


@pytest.mark.parametrize("zone_name, now", [
    ("Asia/Shanghai", datetime(2026, 12, 7, 1, 30)),  # one UTC offset: times are additions
    ("Europe/Berlin", datetime(2027, 3, 26, 9, 0)),  # summer time starts in two days: the zone converts
])
def test_the_engine_writes_the_plan_the_rules_as_written_give(zone_name, now, monkeypatch):
    calendar = PlantCalendar.from_hours(DEFAULT_HOURS, [date(2027, 3, 27)])
    clock = engine._Clock(ZoneInfo(zone_name), now)
    planned, order = engine._plan_plant(_state(now), now, calendar, clock)
    fast = [entry.values() for entry in planned]
    # The planner's order, as a partial replan reads it back from the plan written (partial.py).
    lanes = {}
    for entry in sorted(planned, key=lambda e: (e.workstation_id, e.position)):
        lanes.setdefault(entry.workstation_id, []).append(entry)
    assert partial._planner_order({e.task_id: e for e in planned}, lanes, clock.local(now), calendar, clock) == order
    monkeypatch.setattr(engine, "_schedule", lambda *args: None)  # as past the calendar's timeline
    planned, order = engine._plan_plant(_state(now), now, calendar, clock)
    assert ([entry.values() for entry in planned], order) == (fast, None)
    assert any(values[7] for values in fast)  # a 顺序冲突 among them
    assert all(values[5] is not None and values[6] is not None for values in fast)
