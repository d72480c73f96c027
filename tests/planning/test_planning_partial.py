"""A partial replan (app/services/planning/partial.py) gives exactly the plan of planning the whole plant,
and plans the whole plant whenever it cannot."""
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import factories as f
from app.extensions import db
from app.models import (
    Department,
    PlanEntry,
    PlanState,
    Process,
    Task,
    WorkOrderProjection,
    Workstation,
    WorkstationProcess,
)
from app.realtime import events
from app.services.planning import engine, partial, snapshot, triggers
from app.services.tasks import actions as tasks
from app.utils.timeutil import utcnow
from support.concurrency import logged_in_client, race


def _more_work(count: int) -> None:
    """``count`` approved 施工单 of two or three steps over the demo workstations' processes, arriving in
    any order: queues long enough to move downstream, and contradicting step order here and there (顺序冲突)."""
    rng = random.Random(count)
    capable = db.session.execute(select(WorkstationProcess.process_id, Workstation.department_id).join(Workstation)
                                 .distinct().order_by(WorkstationProcess.process_id)).all()
    first = utcnow() - timedelta(hours=6)
    for _ in range(count):
        work_order = f.WorkOrderFactory(approval_status="approved", status="in_progress",
                                        priority=rng.choice(("normal", "normal", "high", "urgent")))
        for sequence, (process_id, department_id) in enumerate(rng.sample(capable, rng.choice((2, 3))), start=1):
            step = f.WorkOrderStepFactory(work_order=work_order, process=db.session.get(Process, process_id),
                                          sequence=sequence * 10)
            f.TaskFactory(step=step, department=db.session.get(Department, department_id), status="pending",
                          target_quantity=rng.randrange(500, 20000), completed_quantity=0,
                          dispatched_at=first + timedelta(minutes=rng.randrange(360)))


@pytest.fixture()
def planned(demo_plant, monkeypatch):
    """The demo plant with more work, planned and committed this minute; counts the partial replans that
    were not declined."""
    _more_work(60)
    now = utcnow().replace(second=0, microsecond=0)
    engine.replan(now=now)
    db.session.commit()
    taken = []
    original = partial.replan

    def counted(*args):
        found = original(*args)
        taken.append(found is not None)
        return found
    monkeypatch.setattr(partial, "replan", counted)
    queued = db.session.execute(select(PlanEntry.task_id, PlanEntry.workstation_id, PlanEntry.position)
                                .order_by(PlanEntry.task_id)).all()
    conflicts = db.session.scalar(select(func.count()).select_from(PlanEntry).where(PlanEntry.conflict))
    assert (len(queued) > 150, conflicts > 10) == (True, True), (len(queued), conflicts)
    return now, queued, taken


def _plan() -> tuple[list, list]:
    db.session.flush()
    entries = db.session.execute(select(*PlanEntry.__table__.c).order_by(PlanEntry.task_id)).all()
    projections = db.session.execute(select(WorkOrderProjection.work_order_id, WorkOrderProjection.projected_finish,
                                            WorkOrderProjection.unplanned, WorkOrderProjection.at_risk)
                                     .order_by(WorkOrderProjection.work_order_id)).all()
    return entries, projections


def _both_ways(now, change, task_ids):
    """(the plan after ``change`` with the task ids named, the plan of the whole plant after it), each rolled back."""
    change()
    named = engine.replan(now=now, task_ids=set(task_ids))
    given = _plan(), sorted(named.changed_department_ids), sorted(named.work_order_ids)
    db.session.rollback()
    change()
    whole = engine.replan(now=now)
    expected = _plan(), sorted(whole.changed_department_ids), sorted(whole.work_order_ids)
    db.session.rollback()
    return given, expected


def _report(task_ids, rng):
    reported = {task_id: rng.choice((1, 7, 120, 900, 5000)) for task_id in task_ids}

    def change():
        for task_id, good in reported.items():
            db.session.execute(update(Task).where(Task.id == task_id).values(
                completed_quantity=Task.completed_quantity + good))
    return change


def test_reports_recompute_only_what_they_move_and_give_the_whole_plant_s_plan(planned):
    now, queued, taken = planned
    rng = random.Random(20261207)
    for _ in range(30):
        task_ids = [row.task_id for row in rng.sample(queued, rng.choice((1, 1, 2, 3)))]
        given, expected = _both_ways(now, _report(task_ids, rng), task_ids)
        assert given == expected
    assert taken == [True] * 30


def test_a_report_that_moves_nothing_writes_nothing(planned):
    now, queued, taken = planned
    task_id = queued[0].task_id
    result = engine.replan(now=now, task_ids={task_id})
    assert (result.changed_department_ids, result.work_order_ids, taken) == (set(), set(), [True])


def _free_heads() -> set[int]:
    """The queues' heads that wait for no queued earlier step of their 施工单: they may leave in part."""
    earlier = PlanEntry.__table__.alias("earlier")
    return set(db.session.scalars(select(PlanEntry.task_id).where(PlanEntry.position == 0, ~select(earlier.c.task_id).where(
        earlier.c.work_order_id == PlanEntry.work_order_id, earlier.c.step_sequence < PlanEntry.step_sequence).exists())))


@pytest.mark.parametrize("status", ["in_progress", "paused", "pending", "completed", "cancelled"])
def test_status_changes_give_the_whole_plant_s_plan_partial_or_not(planned, status):
    now, queued, taken = planned
    rng = random.Random(status)
    free_heads = _free_heads()
    chosen = [rng.choice(queued) for _ in range(6)] + rng.sample([row for row in queued if row.task_id in free_heads], 2)
    for row in chosen:
        def change(task_id=row.task_id):
            db.session.execute(update(Task).where(Task.id == task_id).values(status=status))
        given, expected = _both_ways(now, change, [row.task_id])
        assert given == expected
    if status in ("completed", "cancelled"):
        # It leaves its queue: in part from the head of its queue when it waits for no earlier step.
        assert taken == [row.task_id in free_heads for row in chosen]
        assert taken[-2:] == [True, True]


def test_heads_leaving_recompute_only_what_they_move_and_give_the_whole_plant_s_plan(planned):
    """Round after round, heads complete or are cancelled (committed, so that the queues' next tasks come up),
    with now and then a report beside them, or a head that may wait for an earlier step."""
    now, queued, taken = planned
    rng = random.Random(20261208)
    expected_taken = []
    for _ in range(20):
        free_heads = sorted(_free_heads())
        heads = sorted(db.session.scalars(select(PlanEntry.task_id).where(PlanEntry.position == 0)))
        task_ids = rng.sample(free_heads, min(len(free_heads), rng.choice((1, 1, 2, 3))))
        if rng.random() < 0.3:
            task_ids.append(rng.choice([task_id for task_id in heads if task_id not in task_ids]))
        statuses = {task_id: rng.choice(("completed", "cancelled")) for task_id in task_ids}
        queued_now = sorted(db.session.scalars(select(PlanEntry.task_id)))
        reported = rng.sample([task_id for task_id in queued_now if task_id not in statuses], rng.choice((0, 1)))

        def change(statuses=statuses, reported=reported):
            for task_id, status in statuses.items():
                db.session.execute(update(Task).where(Task.id == task_id).values(status=status))
            for task_id in reported:
                db.session.execute(update(Task).where(Task.id == task_id).values(
                    completed_quantity=Task.completed_quantity + 50))
        given, expected = _both_ways(now, change, task_ids + reported)
        assert given == expected
        expected_taken.append(set(task_ids) <= set(free_heads))
        change()
        engine.replan(now=now)
        db.session.commit()
    assert taken == expected_taken and expected_taken.count(True) > 10, expected_taken


def test_it_declines_an_arrival_another_minute_and_an_unnamed_change(planned, monkeypatch):
    now, queued, taken = planned
    loads = []
    original = snapshot.load
    monkeypatch.setattr(snapshot, "load", lambda: loads.append(1) or original())
    task_id = queued[0].task_id
    db.session.execute(update(Task).where(Task.id == task_id).values(completed_quantity=Task.completed_quantity + 1))
    engine.replan(now=now + timedelta(minutes=1), task_ids={task_id})  # the stored plan is of another minute
    db.session.rollback()
    engine.replan(now=now, task_ids=None)  # the trigger could not name every change
    db.session.rollback()
    db.session.execute(update(Task).where(Task.id == task_id).values(completed_quantity=Task.completed_quantity + 1))
    engine.replan(now=now, task_ids={task_id})
    db.session.rollback()
    assert (taken, len(loads)) == ([True], 2)
    queued_task = db.session.get(Task, task_id)
    arrival = f.TaskFactory(step=f.WorkOrderStepFactory(process=queued_task.process), status="draft",
                            department=queued_task.department).id
    db.session.commit()
    given, expected = _both_ways(now, lambda: db.session.execute(
        update(Task).where(Task.id == arrival).values(status="pending", dispatched_at=utcnow())), [arrival])
    assert given == expected and taken[-1] is False


def test_a_report_from_the_floor_is_planned_in_part_and_commits_the_whole_plant_s_plan(planned, monkeypatch):
    now, queued, taken = planned
    monkeypatch.setattr(engine, "utcnow", lambda: now)
    task = db.session.scalar(select(Task).join(PlanEntry, PlanEntry.task_id == Task.id).where(
        Task.status == "in_progress", Task.operator_id.is_not(None), Task.completed_quantity + 10 < Task.target_quantity)
        .order_by(Task.id).limit(1))
    tasks.report(task, task.operator, task.version, good=10)
    db.session.commit()
    assert taken == [True]
    committed = _plan()
    assert engine.replan(now=now).changed_department_ids == set()  # the whole plant planned again: nothing moves
    assert _plan() == committed


def test_a_head_completed_on_the_floor_is_planned_in_part_and_commits_the_whole_plant_s_plan(planned, monkeypatch):
    """Completing its step's only task: the step's and the 施工单's roll-up announce themselves too, and
    name nothing the planner reads."""
    now, queued, taken = planned
    monkeypatch.setattr(engine, "utcnow", lambda: now)
    task = db.session.scalar(select(Task).where(Task.id.in_(_free_heads()), Task.status == "in_progress",
                                                Task.operator_id.is_not(None)).order_by(Task.id).limit(1))
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.step_id == task.step_id)) == 1
    tasks.complete(task, task.operator, task.version, reason="机台提前交班")
    db.session.commit()
    assert (taken, task.step.status, db.session.get(PlanEntry, task.id)) == ([True], "completed", None)
    committed = _plan()
    assert engine.replan(now=now).changed_department_ids == set()  # the whole plant planned again: nothing moves
    assert _plan() == committed


def test_another_process_reads_the_planner_s_order_back_from_the_stored_plan(planned, monkeypatch):
    now, queued, taken = planned
    remembered = partial._known_order[1]
    assert len(remembered) == len(queued)
    monkeypatch.setattr(partial, "_known_order", (None, {}))  # as in a process that did not plan the whole plant
    rng = random.Random(7)
    task_ids = [row.task_id for row in rng.sample(queued, 3)]
    change = _report(task_ids, rng)
    change()
    engine.replan(now=now, task_ids=set(task_ids))
    assert (taken, partial._known_order[1] == remembered) == ([True], True)
    given = _plan()
    db.session.rollback()
    change()
    engine.replan(now=now)
    assert given == _plan()


def test_only_tasks_own_events_name_the_changed_tasks(db):
    task, other = f.TaskFactory(), f.TaskFactory()
    db.session.flush()
    events.publish("task.updated", task=task)
    events.publish("task.updated", task=other, moves_plan=False)  # an assignment: the planner reads nothing of it
    assert triggers._collect(db.session) == (True, {task.work_order_id}, {task.id})
    triggers.mark_work_orders([other.work_order_id])  # a delivery date: projections only
    assert triggers._collect(db.session) == (True, {task.work_order_id, other.work_order_id}, {task.id})
    triggers.mark_plan_changed()  # a queue move, a workstation, the calendar
    assert triggers._collect(db.session) == (True, {task.work_order_id}, None)
    events.publish("work_order.updated", work_order=other.work_order)
    assert triggers._collect(db.session) == (True, {task.work_order_id, other.work_order_id}, None)
    db.session.rollback()


@pytest.mark.postgres
def test_simultaneous_reports_each_replan_in_part_one_after_the_other_and_commit_the_whole_plant_s_plan(
        app, planned, monkeypatch):
    now, queued, taken = planned
    monkeypatch.setattr(engine, "utcnow", lambda: now)  # every request in the plan's minute
    heads = db.session.scalars(select(Task).join(PlanEntry, PlanEntry.task_id == Task.id).where(
        PlanEntry.position == 0, Task.completed_quantity + 50 < Task.target_quantity)
        .order_by(PlanEntry.workstation_id).limit(6)).all()
    workers = [(f.UserFactory(roles=["operator"], departments=[task.department]), task) for task in heads]
    for operator, task in workers:
        task.operator_id, task.status = operator.id, "in_progress"
    triggers.mark_plan_changed()
    db.session.commit()
    taken.clear()

    results = race(app, [(logged_in_client(app, operator), f"/tasks/{task.id}/report",
                          {"version": task.version, "good": 50, "defective": 0}) for operator, task in workers])

    assert ([status for status, _ in results], taken) == ([200] * 6, [True] * 6)
    db.session.expire_all()
    committed = _plan()
    assert engine.replan(now=now).changed_department_ids == set()  # the whole plant planned again: nothing moves
    assert _plan() == committed


def test_a_whole_plant_replan_keeps_the_plan_s_version_until_a_queue_changes(planned):
    now, queued, taken = planned
    version = db.session.scalar(select(PlanState.version))
    engine.replan(now=now + timedelta(minutes=1))  # every time moves, no queue changes
    db.session.commit()
    assert db.session.execute(select(PlanState.planned_at, PlanState.version)).one() == (
        now + timedelta(minutes=1), version)
    db.session.execute(update(Task).where(Task.id == queued[0].task_id).values(status="completed"))
    engine.replan(now=now + timedelta(minutes=1))  # a task leaves its queue
    db.session.commit()
    assert db.session.scalar(select(PlanState.version)) != version
