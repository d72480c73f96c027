"""The kiosk world (tests/kiosk_world.py) with 印刷车间 planned: presses P1 and P2 print, the
die-cutter C1 placed in the same department cannot; a second print task (T-SECOND, 普通) queued."""
from __future__ import annotations

from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import PlanEntry
from app.services import planning
from app.services.planning import workstations_admin
from support.kiosk_world import build_world


def station(department, code, process_id, rate="1000", setup="30"):
    return {"department_id": department.id, "code": code, "name": f"机台 {code}", "is_active": "y",
            "processes": [{"process_id": process_id, "rate_per_hour": rate, "setup_minutes": setup}]}


def build_planned_world():
    world = build_world()
    world.press_1 = workstations_admin.create_workstation(world.admin, station(world.printing, "P1", world.task.process_id))
    world.press_2 = workstations_admin.create_workstation(world.admin, station(world.printing, "P2", world.task.process_id))
    world.cutter = workstations_admin.create_workstation(
        world.admin, station(world.printing, "C1", world.die_task.process_id))
    db.session.commit()
    world.second = new_print_task(world, "T-SECOND")
    return world


def new_print_task(world, number, priority="normal"):
    work_order = f.WorkOrderFactory(approval_status="approved", status="in_progress", priority=priority,
                                    created_by=world.creator, customer=world.work_order.customer)
    step = f.WorkOrderStepFactory(work_order=work_order, process=world.task.process, sequence=20)
    task = f.TaskFactory(step=step, number=number, target_quantity=1000, department=world.printing)
    planning.triggers.mark_plan_changed()
    db.session.commit()
    return task


def entry(task):
    db.session.expire_all()
    return db.session.get(PlanEntry, task.id)


def queue(workstation):
    db.session.expire_all()
    return [e.task_id for e in db.session.scalars(
        select(PlanEntry).where(PlanEntry.workstation_id == workstation.id).order_by(PlanEntry.position))]
