"""A hand-built plant for the task centre, statistics, 工作台 and export tests: every figure known.

生产部 ⊃ 印刷车间 (operators 刘师傅, 杨师傅; supervisor 孙印刷), 模切车间 (operator 黄师傅); 设计部.
Statistics period: March 2026 (plant time, Asia/Shanghai = UTC+8). Times below are naive UTC.

施工单 (number, customer, creator, approved → completed, delivery):
  WO1 SG2026030001  客户甲 (salesperson 王业务)  李制单  03-02 08:00 → 03-12 10:00 (plant 03-12 ≤ 03-20: on time)
  WO2 SG2026030002  客户乙                      李制单  03-03 00:00 → 03-10 17:00 (plant 03-11 > 03-10: late)
  WO3 SG2026030003  客户乙                      陈制单  approved, in production, delivery two days ago (overdue)
  WO4 SG2026030004  客户甲                      李制单  草稿 (its task is a draft)

Tasks (completed, defective, when completed in plant time, closed work periods):
  T1 WO1 印刷 印刷车间 刘  completed 1000 / 20   03-05 10:00   刘 2 h + 1.5 h (and no open period)
  T2 WO1 模切 模切车间 黄  completed  500 / 0    03-06 00:30   黄 1 h           (UTC 03-05 16:30!)
  T3 WO2 印刷 印刷车间 刘  completed  800 / 200  03-06 11:00   none (not timed: left out of averages)
  T4 WO2 印刷 印刷车间 杨  completed  300 / 0    03-10 13:00   杨 30 min + 刘 30 min (reassigned)
  T5 WO3 印刷 印刷车间 刘  in progress 100 / 5                   刘 open period
  T6 WO3 模切 模切车间 —   pending
  T7 WO3 印刷 印刷车间 杨  cancelled
  T8 WO3 印刷 —(pool)  —   pending
  T9 WO4 印刷 —        —   draft
  T10 WO3 印刷 印刷车间 刘 completed  999 / 1    02-27 (outside March)
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from urllib.parse import unquote

import factories as f
from app.extensions import db
from app.utils.timeutil import plant_today

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute)


def build() -> SimpleNamespace:
    w = SimpleNamespace()
    w.production = f.DepartmentFactory(code="production", name="生产部", sort_order=1)
    w.printing = f.DepartmentFactory(code="printing", name="印刷车间", parent=w.production, sort_order=2)
    w.die_cutting = f.DepartmentFactory(code="die_cutting", name="模切车间", parent=w.production, sort_order=3)
    w.design = f.DepartmentFactory(code="design", name="设计部", sort_order=4)
    w.print_process = f.ProcessFactory(code="PRT", name="印刷", sort_order=20)
    w.die_process = f.ProcessFactory(code="DIE_CUT", name="模切", sort_order=30)

    w.liu = f.UserFactory(username="liu", name="刘师傅", roles=["operator"], departments=[w.printing])
    w.yang = f.UserFactory(username="yang", name="杨师傅", roles=["operator"], departments=[w.printing])
    w.huang = f.UserFactory(username="huang", name="黄师傅", roles=["operator"], departments=[w.die_cutting])
    w.supervisor = f.UserFactory(username="sun", name="孙印刷", roles=["supervisor"], departments=[w.printing])
    w.head = f.UserFactory(username="zhao", name="赵生产", roles=["supervisor"], departments=[w.production])
    w.maker = f.UserFactory(username="li", name="李制单", roles=["maker"])
    w.other_maker = f.UserFactory(username="chen", name="陈制单", roles=["maker"])
    w.sales = f.UserFactory(username="wang", name="王业务", roles=["salesperson"])
    w.admin = f.UserFactory(username="boss", name="管理员", roles=["admin"])
    w.designer = f.UserFactory(username="mei", name="美设计", roles=["designer"])
    w.customer_a = f.CustomerFactory(name="客户甲", salesperson=w.sales)
    w.customer_b = f.CustomerFactory(name="客户乙")

    today = plant_today()
    w.wo1 = f.WorkOrderFactory(number="SG2026030001", customer=w.customer_a, created_by=w.maker, priority="urgent",
                               approval_status="approved", status="completed", order_date=at(1).date(),
                               delivery_date=at(20).date(), approved_at=at(2, 8), completed_at=at(12, 10))
    w.wo2 = f.WorkOrderFactory(number="SG2026030002", customer=w.customer_b, created_by=w.maker, priority="high",
                               approval_status="approved", status="completed", order_date=at(1).date(),
                               delivery_date=at(10).date(), approved_at=at(3), completed_at=at(10, 17))
    w.wo3 = f.WorkOrderFactory(number="SG2026030003", customer=w.customer_b, created_by=w.other_maker,
                               priority="normal", approval_status="approved", status="in_progress",
                               order_date=at(1).date(), delivery_date=today - timedelta(days=2), approved_at=at(14))
    w.wo4 = f.WorkOrderFactory(number="SG2026030004", customer=w.customer_a, created_by=w.maker, priority="low",
                               approval_status="draft", status="pending", order_date=at(1).date(),
                               delivery_date=today + timedelta(days=30))

    steps = {}

    def step(wo, process):
        key = (wo.id, process.id)
        if key not in steps:
            steps[key] = f.WorkOrderStepFactory(work_order=wo, process=process)
        return steps[key]

    def task(name, wo, process, n, department, operator, status, created, **values):
        made = f.TaskFactory(step=step(wo, process), number=f"T{wo.number}-{n:02d}", status=status,
                             department=department, operator=operator, created_at=created,
                             content=values.pop("content", f"{process.name}：{wo.number}"), **values)
        setattr(w, name, made)
        return made

    task("t1", w.wo1, w.print_process, 1, w.printing, w.liu, "completed", at(2, 9), completed_quantity=1000,
         defective_quantity=20, task_type="printing", started_at=at(4, 1), completed_at=at(5, 2),
         content="印刷：彩盒面纸 四色")
    task("t2", w.wo1, w.die_process, 2, w.die_cutting, w.huang, "completed", at(2, 9), target_quantity=500,
         completed_quantity=500, task_type="die_cutting", started_at=at(5, 15, 30), completed_at=at(5, 16, 30),
         content="模切：彩盒 UV 局部")
    task("t3", w.wo2, w.print_process, 1, w.printing, w.liu, "completed", at(3, 1), completed_quantity=800,
         defective_quantity=200, task_type="printing", completed_at=at(6, 3))
    task("t4", w.wo2, w.print_process, 2, w.printing, w.yang, "completed", at(3, 1), target_quantity=300,
         completed_quantity=300, task_type="printing", started_at=at(9, 1), completed_at=at(10, 5))
    task("t5", w.wo3, w.print_process, 1, w.printing, w.liu, "in_progress", at(15), completed_quantity=100,
         defective_quantity=5, task_type="printing", started_at=at(15, 2))
    task("t6", w.wo3, w.die_process, 2, w.die_cutting, None, "pending", at(15), task_type="die_cutting")
    task("t7", w.wo3, w.print_process, 3, w.printing, w.yang, "cancelled", at(15), cancel_reason="客户取消")
    task("t8", w.wo3, w.print_process, 4, None, None, "pending", at(15), content="烫金：礼盒")
    task("t9", w.wo4, w.print_process, 1, None, None, "draft", at(16))
    task("t10", w.wo3, w.print_process, 5, w.printing, w.liu, "completed", at(20, month=2), completed_quantity=999,
         defective_quantity=1, completed_at=at(27, 3, month=2))

    for timed, operator, start, minutes in (
        (w.t1, w.liu, at(4, 1), 120), (w.t1, w.liu, at(5, 0), 90), (w.t2, w.huang, at(5, 15, 30), 60),
        (w.t4, w.yang, at(9, 1), 30), (w.t4, w.liu, at(9, 2), 30),
    ):
        f.TimeLogFactory(task=timed, operator=operator, started_at=start, ended_at=start + timedelta(minutes=minutes))
    f.TimeLogFactory(task=w.t5, operator=w.liu, started_at=at(15, 2), ended_at=None)

    def audit(action, task_, day, user, department, month=3, **extra):
        f.AuditLogFactory(object_type="task", object_id=task_.id, task_id=task_.id, work_order_id=task_.work_order_id,
                          action=action, at=at(day, 1, month=month), user=user, department_id=department.id,
                          from_status=task_.status, to_status=task_.status, **extra)

    audit("dispatch", w.t1, 2, w.admin, w.printing)
    audit("claim", w.t1, 2, w.liu, w.printing, detail={"operator": "刘师傅"})
    audit("assign", w.t4, 3, w.supervisor, w.printing, detail={"from_operator_id": None, "to_operator_id": w.liu.id})
    audit("reassign", w.t4, 4, w.supervisor, w.printing, reason="刘师傅请假",
          detail={"from_operator_id": w.liu.id, "to_operator_id": w.yang.id})
    audit("move", w.t2, 3, w.head, w.die_cutting, reason="印刷车间设备故障",
          detail={"from_department_id": w.printing.id, "to_department_id": w.die_cutting.id})
    audit("unassign", w.t6, 16, w.head, w.die_cutting, detail={"from_operator_id": w.huang.id})
    audit("assign", w.t5, 15, None, w.printing, detail={"to_operator_id": w.liu.id, "auto": True})
    # Not assignment events, or outside March: never in 分派历史 for the period.
    audit("start", w.t1, 4, w.liu, w.printing)
    audit("report", w.t1, 5, w.liu, w.printing)
    audit("dispatch", w.t10, 20, w.admin, w.printing, month=2)
    db.session.commit()
    return w


VISIBLE = {
    # role → the tasks (attribute names) the task centre shows by default (drafts hidden)
    "admin": ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t10"],
    "supervisor": ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t10"],
    "liu": ["t1", "t3", "t4", "t5", "t7", "t10"],
    "huang": ["t2", "t6"],
    "maker": ["t1", "t2", "t3", "t4"],
    "other_maker": ["t5", "t6", "t7", "t8", "t10"],
    "sales": ["t1", "t2"],
    "designer": [],
}


def numbers(world, names) -> set[str]:
    return {getattr(world, name).number for name in names}


HTMX = {"HX-Request": "true"}


def row_numbers(response) -> list[str]:
    """Task numbers of the task centre's rows, in the order shown."""
    return re.findall(r'class="task-row [^"]*" id="task-row-\d+" role="row" data-number="([^"]+)"',
                      response.get_data(as_text=True))


def message(response) -> str:
    return unquote(response.headers.get("X-Message", ""))
