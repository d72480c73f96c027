"""Planning in the database (DOMAIN.md §12): queues follow the tasks through the existing services,
the plan is recomputed before every commit that can move it, projections and 交期风险."""
import json
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select, update

import factories as f
from app.extensions import db
from app.models import AuditLog, Notification, PlanEntry, Task, WorkOrderProjection
from app.realtime import events
from app.realtime.listener import conninfo_for
from app.services import planning
from app.services.core import settings as plant_settings
from app.services.core.errors import Conflict, Forbidden
from app.services.dispatch import assignment
from app.services.planning import workstations_admin
from app.services.tasks import actions as tasks
from app.utils.timeutil import plant_today
from support.kiosk_world import build_world


@pytest.fixture()
def world(db):
    world = build_world()
    world.salesperson = f.UserFactory(name="王业务", roles=["salesperson"])
    world.work_order.customer.salesperson_id = world.salesperson.id
    world.press_1 = workstations_admin.create_workstation(world.admin, station(world.printing, "P1", world.task))
    world.press_2 = workstations_admin.create_workstation(world.admin, station(world.printing, "P2", world.task))
    db.session.commit()
    return world


def station(department, code, task, rate="1000", setup="30", **extra):
    return {"department_id": department.id, "code": code, "name": f"四色机 {code}", "is_active": "y",
            "processes": [{"process_id": task.process_id, "rate_per_hour": rate, "setup_minutes": setup}], **extra}


def entry(task):
    db.session.expire_all()
    return db.session.get(PlanEntry, task.id)


def queue(workstation):
    db.session.expire_all()
    return [e.task_id for e in db.session.scalars(
        select(PlanEntry).where(PlanEntry.workstation_id == workstation.id).order_by(PlanEntry.position))]


def new_print_task(world, number, priority="normal", quantity=1000):
    work_order = f.WorkOrderFactory(approval_status="approved", status="in_progress", priority=priority,
                                    created_by=world.creator, customer=world.work_order.customer)
    step = f.WorkOrderStepFactory(work_order=work_order, process=world.task.process, sequence=20)
    task = f.TaskFactory(step=step, number=number, target_quantity=quantity, department=world.printing)
    planning.triggers.mark_plan_changed()
    db.session.commit()
    return task


def test_creating_workstations_queues_the_department_s_open_tasks(world):
    placed = entry(world.task)
    assert placed.workstation_id == world.press_1.id and placed.position == 0
    # 30 min setup + 1,000 at 1,000/h: 90 minutes of working time.
    assert placed.planned_start is not None and placed.planned_finish > placed.planned_start
    assert entry(world.die_task) is None  # 模切车间 has no workstation: 未排产
    projection = planning.projection_for_workorder(world.work_order)
    assert projection.unplanned and projection.projected_finish is None and not projection.at_risk


def test_arrivals_join_the_queue_that_finishes_first_after_equal_or_higher_priority(world):
    second = new_print_task(world, "T-2")
    assert entry(second).workstation_id == world.press_2.id  # P2 is empty: it finishes first
    third = new_print_task(world, "T-3", priority="low")
    fourth = new_print_task(world, "T-4", priority="urgent")
    lanes = queue(world.press_1) + queue(world.press_2)
    assert sorted(lanes) == sorted([world.task.id, second.id, third.id, fourth.id])
    lane = queue(world.press_1) if fourth.id in queue(world.press_1) else queue(world.press_2)
    assert lane.index(fourth.id) == 0  # urgent goes before the normal and low ones


def test_a_report_moves_the_planned_finish_and_completion_leaves_the_queue(world):
    before = entry(world.task).planned_finish
    tasks.claim(world.task, world.operator, world.task.version)
    db.session.commit()
    tasks.start(world.task, world.operator, world.task.version)
    db.session.commit()
    tasks.report(world.task, world.operator, world.task.version, good=500)
    db.session.commit()
    assert entry(world.task).planned_finish < before  # 500 left instead of 1,000
    tasks.report(world.task, world.operator, world.task.version, good=500)
    db.session.commit()
    assert entry(world.task) is None


def test_a_queued_task_keeps_its_step_s_place_and_later_replans_still_plan_the_steps_in_order(world):
    first = new_print_task(world, "SG-STEP-1", quantity=2000)
    varnish = f.ProcessFactory(name="过油")
    workstations_admin.create_workstation(world.admin, {**station(world.printing, "V1", world.task),
                                                        "processes": [{"process_id": varnish.id,
                                                                       "rate_per_hour": "1000", "setup_minutes": "0"}]})
    second_step = f.WorkOrderStepFactory(work_order=first.work_order, process=varnish, sequence=30)
    second = f.TaskFactory(step=second_step, number="SG-STEP-2", target_quantity=1000, department=world.printing)
    planning.triggers.mark_plan_changed()
    db.session.commit()
    assert (entry(first).step_sequence, entry(second).step_sequence) == (20, 30)
    assert entry(second).planned_start == entry(first).planned_finish  # its machine is free: only the step holds it
    # The next replan reads the step places from the entries: the second step still waits for the first.
    f.TaskFactory(step=f.WorkOrderStepFactory(process=world.task.process), number="SG-STEP-3", department=world.printing)
    db.session.execute(update(Task).where(Task.id == first.id).values(completed_quantity=1000))
    planning.triggers.mark_plan_changed()
    db.session.commit()
    assert entry(first).planned_finish == entry(first).planned_start + timedelta(minutes=90)  # 30 setup + 1,000 at 1,000/h
    assert entry(second).planned_start == entry(first).planned_finish


def test_cancellation_leaves_the_queue_and_a_move_places_the_task_in_its_new_department(world):
    other = new_print_task(world, "T-2")
    tasks.cancel(other, world.supervisor, other.version, reason="客户取消")
    db.session.commit()
    assert entry(other) is None
    world.die_cutting.processes.append(world.task.process)
    data = station(world.die_cutting, "D1", world.die_task)
    data["processes"].append({"process_id": world.task.process_id, "rate_per_hour": "500", "setup_minutes": "0"})
    combined = workstations_admin.create_workstation(world.admin, data)
    db.session.commit()
    assert entry(world.die_task).workstation_id == combined.id
    assignment.move(world.task.id, world.die_cutting.id, world.head_supervisor, world.task.version, reason="印刷机故障")
    db.session.commit()
    assert entry(world.task).workstation_id == combined.id
    assert queue(world.press_1) == []


def test_supervisors_move_tasks_between_capable_workstations_audited(world):
    second = new_print_task(world, "T-2")
    planning.move_task(world.supervisor, second.id, world.press_1.id, 0)
    db.session.commit()
    assert queue(world.press_1) == [second.id, world.task.id] and queue(world.press_2) == []
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "plan_move"))
    assert row.task_id == second.id and row.detail["to_workstation"] == world.press_1.id
    with pytest.raises(Forbidden):
        planning.move_task(world.other_supervisor, second.id, world.press_2.id, 0)
    cutter = workstations_admin.create_workstation(world.admin, station(world.printing, "X1", world.die_task))
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        planning.move_task(world.supervisor, second.id, cutter.id, 0)
    assert refused.value.code == "incapable" and "不能做工序" in refused.value.message


def test_deactivating_a_workstation_places_its_queue_on_the_others(world):
    second = new_print_task(world, "T-2")
    assert entry(second).workstation_id == world.press_2.id
    workstations_admin.set_active(world.admin, world.press_2, False)
    db.session.commit()
    assert queue(world.press_1) == [world.task.id, second.id]


def test_a_projection_past_the_delivery_date_warns_the_creator_and_salesperson_once(world):
    late = new_print_task(world, "T-LATE", quantity=200_000)  # 200 working hours
    late.work_order.delivery_date = plant_today()
    planning.triggers.mark_work_orders([late.work_order_id])
    db.session.commit()
    assert planning.at_risk_workorder_ids() == {late.work_order_id}
    rows = db.session.scalars(select(Notification).where(Notification.type == "delivery_risk")).all()
    assert sorted(r.recipient_id for r in rows) == sorted([world.creator.id, world.salesperson.id])
    assert rows[0].title == f"交期风险：施工单 {late.work_order.number}"
    # Back on time, then late again: no second warning.
    late.work_order.delivery_date = plant_today() + timedelta(days=3650)
    planning.triggers.mark_work_orders([late.work_order_id])
    db.session.commit()
    assert planning.at_risk_workorder_ids() == set()
    late.work_order.delivery_date = plant_today()
    planning.triggers.mark_work_orders([late.work_order_id])
    db.session.commit()
    assert db.session.scalar(select(WorkOrderProjection.at_risk).where(
        WorkOrderProjection.work_order_id == late.work_order_id))
    assert len(db.session.scalars(select(Notification).where(Notification.type == "delivery_risk")).all()) == 2


@pytest.fixture()
def announced(db, backend):
    """The events announced so far, whichever path the backend uses (NOTIFY or in-process)."""
    if backend == "postgresql":
        connection = psycopg.connect(conninfo_for(db.engine.url), autocommit=True)
        connection.execute(f"LISTEN {events.NOTIFY_CHANNEL}")
        received = []
        yield lambda: received + [json.loads(n.payload) for n in connection.notifies(timeout=1.0)]
        connection.close()
    else:
        received = []
        events.subscribe(received.append)
        yield lambda: received
        events.unsubscribe(received.append)


def test_a_replan_announces_the_department_after_the_commit(world, announced):
    new_print_task(world, "T-2")
    seen = announced()
    planned = [e for e in seen if e["type"] == "planning.updated"]
    assert len(planned) == 1 and planned[0]["plan_department_ids"] == [world.printing.id]
    # only to pages that show the plan: the department's kiosks, TV boards and task lists show none
    assert events.channels_of(planned[0]) == {f"plan:{world.printing.id}"}
    assert planned[0]["task_id"] is None and planned[0]["work_order_id"] is None


def test_switching_planning_off_hides_the_plan_and_on_again_replans(world):
    plant_settings.update(world.admin, {"planning_enabled": False})
    db.session.commit()
    assert planning.projection_for_workorder(world.work_order) is None
    other = new_print_task(world, "T-2")
    assert entry(other) is None
    plant_settings.update(world.admin, {"planning_enabled": True})
    db.session.commit()
    assert entry(other) is not None


def test_one_replan_announces_every_moved_projection_in_one_event(world, announced):
    second, third = new_print_task(world, "T-2"), new_print_task(world, "T-3")
    earlier = {e["id"] for e in announced()}

    urgent = new_print_task(world, "T-4", priority="urgent", quantity=20000)  # 20 hours, ahead on its press

    behind = [t for t in (second, third) if entry(t).workstation_id == entry(urgent).workstation_id]
    moved = sorted([urgent.work_order_id] + [t.work_order_id for t in behind])
    assert len(moved) == 2  # its own new projection and the one now queued 20 hours later
    projections = [e for e in announced() if e["type"] == "planning.projection" and e["id"] not in earlier]
    assert len(projections) == 1
    assert projections[0]["work_order_ids"] == moved and projections[0]["work_order_id"] is None
    assert {f"wo:{w}" for w in moved} | {"all", "pool"} <= events.channels_of(projections[0])


def _observed(histogram, **labels) -> float:
    """How many times ``histogram`` (app/metrics.py) observed, for these labels."""
    return next((sample.value for family in histogram.collect() for sample in family.samples
                 if sample.name.endswith("_count") and sample.labels == labels), 0.0)


def test_replans_by_kind_and_the_wait_for_the_plan_lock_are_measured(world, backend):
    """For /metrics (app/metrics.py): each replan once it holds the lock, partial or whole; each wait for the
    lock, which only PostgreSQL takes."""
    from app.metrics import PLAN_LOCK_WAIT, PLAN_REPLAN
    from app.services.planning import engine
    from app.utils.timeutil import utcnow

    before = (_observed(PLAN_REPLAN, kind="whole"), _observed(PLAN_REPLAN, kind="partial"), _observed(PLAN_LOCK_WAIT))
    now = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)
    engine.replan(now=now)
    db.session.execute(update(Task).where(Task.id == world.task.id).values(completed_quantity=Task.completed_quantity + 1))
    assert engine.replan(now=now, task_ids={world.task.id}).partial
    after = (_observed(PLAN_REPLAN, kind="whole"), _observed(PLAN_REPLAN, kind="partial"), _observed(PLAN_LOCK_WAIT))
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 2 if backend == "postgresql" else 0]
    db.session.rollback()


def test_a_claim_or_an_assignment_does_not_replan_but_a_start_does(world, monkeypatch):
    from app.services.planning import engine

    replans = []
    real = engine.replan
    monkeypatch.setattr(engine, "replan", lambda *a, **k: replans.append(1) or real(*a, **k))
    other = new_print_task(world, "T-2")
    replans.clear()

    tasks.claim(world.task, world.operator, world.task.version)
    db.session.commit()
    assignment.assign(other.id, world.other_operator.id, world.supervisor, other.version)
    db.session.commit()
    assert replans == []

    tasks.start(world.task, world.operator, world.task.version)
    db.session.commit()
    assert replans == [1]


def test_a_draft_施工单_replans_nothing_until_it_is_approved(seeded, monkeypatch):
    """Its tasks are drafts, which no queue holds: creating, editing, submitting and rejecting it leave the plan
    alone (each replan takes the plant's plan lock until its commit); the approval that makes its tasks open
    replans."""
    from app.services.planning import engine
    from app.services.workorders import approval, editing
    from support.workorders import build_plant, create, fresh, submitted_rejected_resubmitted

    plant = build_plant(seeded)
    printing, press = plant.department("printing"), plant.process("PRT")
    workstations_admin.create_workstation(plant.admin, {
        "department_id": printing.id, "code": "P1", "name": "四色机 P1", "is_active": "y",
        "processes": [{"process_id": press.id, "rate_per_hour": "8000", "setup_minutes": "30"}]})
    db.session.commit()
    replans = []
    real = engine.replan
    monkeypatch.setattr(engine, "replan", lambda *a, **k: replans.append(1) or real(*a, **k))

    work_order = create(plant.maker, plant.work_order_input())
    editing.update(plant.maker, work_order.id, work_order.version, plant.edit_input(fresh(work_order.id)))
    db.session.commit()
    submitted_rejected_resubmitted(plant, work_order.id, "数量不对")
    assert replans == []

    approval.approve(plant.sales, work_order.id, fresh(work_order.id).version)
    db.session.commit()
    assert replans == [1]
    queued = db.session.scalars(select(Task.department_id).join(PlanEntry, PlanEntry.task_id == Task.id)
                                .where(Task.work_order_id == work_order.id)).all()
    assert queued == [printing.id]  # its printing task joined P1's queue
