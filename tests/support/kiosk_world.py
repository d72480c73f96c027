"""A small printing plant for the task-action and kiosk tests, built from the factories.

生产部 (a supervisor) ⊃ 印刷车间 (a supervisor, operators 刘师傅 and 杨师傅); 模切车间 (an operator
of another department). One approved 施工单 in production, created by a maker, with a 印刷 step
holding one pending unassigned task of 1000 and a later 模切 step holding one task.
"""
from __future__ import annotations

from types import SimpleNamespace

import factories as f
from app.extensions import db


def build_world(**task_kwargs) -> SimpleNamespace:
    production = f.DepartmentFactory(code="production", name="生产部")
    printing = f.DepartmentFactory(code="printing", name="印刷车间", parent=production)
    die_cutting = f.DepartmentFactory(code="die_cutting", name="模切车间", parent=production)
    print_process = f.ProcessFactory(code="PRT", name="印刷", sort_order=20)
    die_process = f.ProcessFactory(code="DIE_CUT", name="模切", sort_order=30)

    world = SimpleNamespace(production=production, printing=printing, die_cutting=die_cutting)
    world.operator = f.UserFactory(name="刘师傅", roles=["operator"], departments=[printing])
    world.other_operator = f.UserFactory(name="杨师傅", roles=["operator"], departments=[printing])
    world.outsider = f.UserFactory(name="黄师傅", roles=["operator"], departments=[die_cutting])
    world.supervisor = f.UserFactory(name="孙印刷", roles=["supervisor"], departments=[printing])
    world.head_supervisor = f.UserFactory(name="赵生产", roles=["supervisor"], departments=[production])
    world.other_supervisor = f.UserFactory(name="周模切", roles=["supervisor"], departments=[die_cutting])
    world.creator = f.UserFactory(name="李制单", roles=["maker"])
    world.admin = f.UserFactory(name="管理员", roles=["admin"])

    world.work_order = f.WorkOrderFactory(
        number="SG2026110001", approval_status="approved", status="in_progress", priority="high",
        created_by=world.creator,
    )
    world.print_step = f.WorkOrderStepFactory(work_order=world.work_order, process=print_process, sequence=20)
    world.die_step = f.WorkOrderStepFactory(work_order=world.work_order, process=die_process, sequence=30)
    values = {"number": "TSG2026110001-01", "content": "印刷：彩盒面纸 四色", "target_quantity": 1000,
              "department": printing, **task_kwargs}
    world.task = f.TaskFactory(step=world.print_step, task_type="printing", **values)
    world.die_task = f.TaskFactory(step=world.die_step, number="TSG2026110001-02", content="模切：彩盒",
                                   target_quantity=1000, department=die_cutting, task_type="die_cutting")
    db.session.commit()
    return world


def reload(obj):
    """The row as the database has it now (after another session or a rolled-back refusal)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)
