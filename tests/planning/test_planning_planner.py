"""The planner and the plant calendar (DOMAIN.md §12) on hand-made queues, with hand-computed plans.

The calendar is the default: Mon–Sat 08:00–12:00 and 13:00–17:00. 2026-12-07 is a Monday,
2026-12-12 a Saturday, 2026-12-13 a Sunday.
"""
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.core.errors import Invalid
from app.services.planning.calendar import (
    DEFAULT_HOURS,
    PlantCalendar,
    form_values,
    from_stored,
    parse,
    to_stored,
)
from app.services.planning.planner import (
    Capability,
    Lane,
    Placement,
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
from support.plant_calendars import calendars

CAL = PlantCalendar.from_hours(DEFAULT_HOURS)
MON = date(2026, 12, 7)
PRT, DIE, PACK = 1, 2, 3
# 6,000 sheets an hour and 30 minutes' setup: 3,000 sheets take 30 + 30 = 60 minutes.
PRESS = {PRT: Capability(6000, 30)}
CUTTER = {DIE: Capability(3000, 0)}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """December 2026."""
    return datetime(2026, 12, day, hour, minute, second)


def task(task_id, work_order=1, sequence=1, process=PRT, remaining=3000, queued=None):
    return PlanTask(task_id, work_order, sequence, process, remaining, queued or at(1, 8, 0, task_id))


def run(lanes, tasks, now, calendar=CAL):
    return plan(lanes, {t.id: t for t in tasks}, now, calendar)


# ---------------------------------------------------------------- the calendar

def test_next_working_moves_to_the_next_window():
    assert CAL.next_working(at(7, 7, 30)) == at(7, 8)
    assert CAL.next_working(at(7, 9, 15)) == at(7, 9, 15)
    assert CAL.next_working(at(7, 12)) == at(7, 13)  # the end of a window is not inside it
    assert CAL.next_working(at(7, 17, 5)) == at(8, 8)
    assert CAL.next_working(at(12, 17)) == at(14, 8)  # Saturday evening → Monday


def test_adding_working_time_skips_lunch_nights_weekends_and_closed_dates():
    assert CAL.add_working(at(7, 11), 3600) == at(7, 12)  # ends exactly at the window's end
    assert CAL.add_working(at(7, 11), 2 * 3600) == at(7, 14)  # lunch 12:00–13:00
    assert CAL.add_working(at(7, 16), 2 * 3600) == at(8, 9)  # the end of the day
    assert CAL.add_working(at(12, 16), 2 * 3600) == at(14, 9)  # Saturday → Monday, Sunday is off
    closed = PlantCalendar.from_hours(DEFAULT_HOURS, {date(2026, 12, 8)})
    assert closed.add_working(at(7, 16), 2 * 3600) == at(9, 9)  # Tuesday 8th is a non-working date


def test_a_calendar_without_working_time_plans_nothing():
    never = PlantCalendar.from_hours({})
    assert never.next_working(at(7, 8)) is None
    placements = run([Lane(1, PRESS, [1])], [task(1)], at(7, 8), never)
    assert placements == {1: Placement(None, None, False)}


def test_the_calendar_form_is_checked_and_round_trips():
    hours, closed = form_values(CAL)
    assert hours[0] == "08:00-12:00, 13:00-17:00" and hours[6] == "" and closed == ""
    parsed = parse({0: "13:00-17:00，08:00-12:00", 5: "08:00-12:00"}, "2026-10-01, 2026-10-02")
    assert parsed.windows[0] == ((480, 720), (780, 1020)) and parsed.windows[1] == ()
    assert parsed.closed_dates == {date(2026, 10, 1), date(2026, 10, 2)}
    assert from_stored(to_stored(parsed)) == parsed
    with pytest.raises(Invalid) as error:
        parse({0: "08:00-12:00, 11:00-13:00", 1: "9-10", 2: "12:00-08:00"}, "2026-13-01")
    assert set(error.value.fields) == {"day_0", "day_1", "day_2", "closed_dates"}
    with pytest.raises(Invalid):
        parse({}, "")


# ---------------------------------------------------------------- planned times

def test_durations_are_setup_plus_the_remaining_quantity_at_the_rate():
    assert duration_seconds(task(1, remaining=3000), PRESS[PRT]) == 3600
    assert duration_seconds(task(1, remaining=1), Capability(7, 0)) == 515  # 514.29 s rounded up
    assert duration_seconds(task(1, remaining=0), PRESS[PRT]) == 1800  # setup only


def test_a_queue_runs_back_to_back_across_lunch_and_the_end_of_the_day():
    # 1 h, then 2 h (9,000 sheets: 30 min setup + 90 min), then 1 h, from Monday 10:30.
    tasks = [task(1), task(2, work_order=2, remaining=9000), task(3, work_order=3)]
    placements = run([Lane(1, PRESS, [1, 2, 3])], tasks, at(7, 10, 30))
    assert placements[1] == Placement(at(7, 10, 30), at(7, 11, 30))
    assert placements[2] == Placement(at(7, 11, 30), at(7, 14, 30))  # lunch in between
    assert placements[3] == Placement(at(7, 14, 30), at(7, 15, 30))
    late = run([Lane(1, PRESS, [1, 2])], tasks[:2], at(7, 16, 30))
    assert late[1] == Placement(at(7, 16, 30), at(8, 8, 30))  # half an hour today, the rest tomorrow
    assert late[2] == Placement(at(8, 8, 30), at(8, 10, 30))


def test_planning_starts_at_the_next_working_instant():
    assert run([Lane(1, PRESS, [1])], [task(1)], at(13, 10))[1] == Placement(at(14, 8), at(14, 9))  # Sunday
    holiday = PlantCalendar.from_hours(DEFAULT_HOURS, {MON})
    assert run([Lane(1, PRESS, [1])], [task(1)], at(6, 20), holiday)[1] == Placement(at(8, 8), at(8, 9))


def test_a_partly_reported_task_plans_only_what_remains():
    # 3,000 of 9,000 reported: 6,000 remain → 30 min setup + 60 min.
    placements = run([Lane(1, PRESS, [1])], [task(1, remaining=6000)], at(7, 8))
    assert placements[1] == Placement(at(7, 8), at(7, 9, 30))


def test_a_paused_head_keeps_its_place_and_is_planned_from_now():
    # The paused head (1,500 left: 30 + 15 min) is still first; the next task follows it.
    placements = run([Lane(1, PRESS, [1, 2])], [task(1, remaining=1500), task(2, work_order=2)], at(7, 9))
    assert placements[1] == Placement(at(7, 9), at(7, 9, 45))
    assert placements[2] == Placement(at(7, 9, 45), at(7, 10, 45))


def test_a_later_step_waits_for_the_earlier_steps_of_its_work_order():
    # 施工单 1: printing (step 1) on the press, die-cutting (step 2) on the cutter; the cutter is free
    # but waits for the print to finish at 09:00. 施工单 2's die-cutting does not wait.
    tasks = [task(1), task(2, sequence=2, process=DIE, remaining=3000), task(3, work_order=2, sequence=2,
                                                                               process=DIE, remaining=1500)]
    placements = run([Lane(1, PRESS, [1]), Lane(2, CUTTER, [2, 3])], tasks, at(7, 8))
    assert placements[1] == Placement(at(7, 8), at(7, 9))
    assert placements[2] == Placement(at(7, 9), at(7, 10))
    assert placements[3] == Placement(at(7, 10), at(7, 10, 30))


def test_tasks_of_one_step_do_not_wait_for_each_other():
    tasks = [task(1), task(2)]
    placements = run([Lane(1, PRESS, [1]), Lane(2, PRESS, [2])], tasks, at(7, 8))
    assert placements[1] == placements[2] == Placement(at(7, 8), at(7, 9))


def test_queues_that_contradict_step_order_plan_the_earliest_queued_head_and_mark_it():
    # Press: 施工单 2 step 2 before 施工单 1 step 1; cutter: 施工单 1 step 2 before 施工单 2 step 1.
    # No head has its earlier steps planned: the earliest-queued head (task 3, on the cutter) goes
    # first as it stands (顺序冲突); then the press's head (task 1) can wait for it, and so on.
    tasks = [
        task(1, work_order=2, sequence=2, process=PRT, queued=at(1, 9)),
        task(2, work_order=1, sequence=1, process=PRT, queued=at(1, 9, 30)),
        task(3, work_order=1, sequence=2, process=DIE, queued=at(1, 8)),
        task(4, work_order=2, sequence=1, process=DIE, queued=at(1, 10)),
    ]
    placements = run([Lane(1, PRESS, [1, 2]), Lane(2, CUTTER, [3, 4])], tasks, at(7, 8))
    assert placements[3] == Placement(at(7, 8), at(7, 9), conflict=True)
    assert placements[4] == Placement(at(7, 9), at(7, 10))
    assert placements[1] == Placement(at(7, 10), at(7, 11))  # waits for 施工单 2 step 1 (task 4)
    assert placements[2] == Placement(at(7, 11), at(7, 12))  # ends at lunch, exactly


def test_the_same_inputs_give_the_same_plan():
    tasks = [task(i, work_order=i % 3, sequence=i % 2 + 1, remaining=1000 * i) for i in range(1, 9)]
    def lanes():
        return [Lane(2, PRESS, [2, 4, 6, 8]), Lane(1, PRESS, [1, 3, 5, 7])]

    first = run(lanes(), tasks, at(7, 8))
    assert run(list(reversed(lanes())), list(reversed(tasks)), at(7, 8)) == first


# ---------------------------------------------------------------- placement

def item(task_id, priority="normal", in_progress=False):
    return QueueItem(task_id, priority, in_progress, at(1, 8))


def test_a_task_joins_after_the_last_task_of_equal_or_higher_priority():
    queue = [item(1, "normal", in_progress=True), item(2, "urgent"), item(3, "high"), item(4, "normal"),
             item(5, "low")]
    assert insertion_index(queue, "urgent") == 2
    assert insertion_index(queue, "high") == 3
    assert insertion_index(queue, "normal") == 4
    assert insertion_index(queue, "low") == 5
    assert insertion_index([item(1, "low", in_progress=True)], "urgent") == 1  # in progress stays at the head
    assert insertion_index([], "low") == 0


def test_in_progress_tasks_stay_at_the_head():
    queue = [item(1), item(2, in_progress=True), item(3), item(4, in_progress=True)]
    assert [i.task_id for i in heads_first(queue, lambda item: item.in_progress)] == [2, 4, 1, 3]


def test_the_queue_that_finishes_first_wins_then_fewer_tasks_then_the_lower_code():
    early, late = at(7, 9), at(7, 10)
    assert choose_workstation([Candidate(1, "P1", late, 0), Candidate(2, "P2", early, 5)]).workstation_id == 2
    assert choose_workstation([Candidate(1, "P1", early, 3), Candidate(2, "P2", early, 2)]).workstation_id == 2
    assert choose_workstation([Candidate(2, "P2", early, 2), Candidate(1, "P1", early, 2)]).workstation_id == 1
    assert choose_workstation([]) is None




@settings(max_examples=300, deadline=None)
@given(calendar=calendars(),
       moments=st.lists(st.datetimes(min_value=datetime(2026, 12, 1), max_value=datetime(2027, 2, 1)),
                        min_size=1, max_size=5),
       seconds=st.integers(min_value=0, max_value=30 * 86400))
def test_the_calendar_s_binary_search_finds_what_the_day_by_day_walk_finds(calendar, moments, seconds):
    # The planner asks thousands of times per plan (durations in whole seconds: duration_seconds);
    # the fast path must answer exactly as the walk.
    for moment in moments:
        assert calendar.next_working(moment) == calendar._next_working_day_by_day(moment)
        assert calendar.add_working(moment, seconds) == calendar._add_working_window_by_window(moment, seconds)
