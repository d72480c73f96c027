"""排产 (issue 23): workstations, a department's plan, a 施工单's projection, and moving a task in a queue."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api import bp
from app.api.spec import DATE, DATETIME, ID, array, enum, integer, nullable, obj, operation
from app.enums import Priority, TaskStatus
from app.extensions import db
from app.policy import require
from app.services import planning
from app.services.core.errors import NotFound
from app.services.workorders import queries

TAG = "排产"
TEXT = {"type": "string"}
REF = obj({"id": ID, "name": TEXT}, required=("id", "name"))

CAPABILITY = obj({
    "process": obj({"id": ID, "code": TEXT, "name": TEXT}, required=("id", "code", "name")),
    "rate_per_hour": {"type": "number", "description": "标准产能（件/小时）"},
    "setup_minutes": integer(description="换型时间（分钟）"),
}, required=("process", "rate_per_hour", "setup_minutes"))
WORKSTATION = obj({
    "id": ID, "code": TEXT, "name": TEXT, "department": REF, "is_active": {"type": "boolean"},
    "processes": array(CAPABILITY),
}, required=("id", "code", "name", "department", "is_active", "processes"))
BLOCK = obj({
    "task_id": ID, "task_number": TEXT, "work_order_id": ID, "work_order_number": TEXT,
    "process": REF, "priority": enum(Priority.values()), "status": enum(TaskStatus.values()),
    "position": integer(description="队列中的位置，0 = 队首"),
    "planned_start": {**nullable(DATETIME), "description": "计划开始（UTC）；null = 无法排产"},
    "planned_finish": {**nullable(DATETIME), "description": "计划完成（UTC）"},
    "conflict": {"type": "boolean", "description": "顺序冲突：队列顺序与工序顺序矛盾"},
    "at_risk": {"type": "boolean", "description": "所属施工单有延期风险"},
}, required=("task_id", "task_number", "work_order_id", "work_order_number", "process", "priority", "status",
             "position", "planned_start", "planned_finish", "conflict", "at_risk"))
UNPLANNED = obj({"task_id": ID, "task_number": TEXT, "work_order_id": ID, "work_order_number": TEXT,
                 "process": REF, "status": enum(TaskStatus.values())},
                required=("task_id", "task_number", "work_order_id", "work_order_number", "process", "status"))
PLAN = obj({
    "enabled": {"type": "boolean", "description": "排产是否开启（系统设置）"},
    "department": REF,
    "editable": {"type": "boolean", "description": "当前用户能否调整本部门的排产"},
    "lanes": array(obj({"workstation": WORKSTATION, "blocks": array(BLOCK)}, required=("workstation", "blocks"))),
    "unplanned": {**array(UNPLANNED), "description": "本部门未排入任何队列的未完成任务（未排产）"},
}, required=("enabled", "department", "editable", "lanes", "unplanned"))
PROJECTION = obj({
    "work_order_id": ID, "delivery_date": DATE,
    "enabled": {"type": "boolean", "description": "排产是否开启"},
    "projected_finish": {**nullable(DATETIME), "description": "预计完成（UTC）；null = 无法预计或未排产"},
    "unplanned": {"type": "boolean", "description": "无法预计：有未排产的未完成任务"},
    "at_risk": {"type": "boolean", "description": "延期风险：预计完成晚于交货日期"},
}, required=("work_order_id", "delivery_date", "enabled", "projected_finish", "unplanned", "at_risk"))
MOVE_RESULT = obj({"message": TEXT, "block": BLOCK}, required=("message", "block"))


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def workstation_json(workstation) -> dict:
    return {
        "id": workstation.id, "code": workstation.code, "name": workstation.name,
        "department": {"id": workstation.department.id, "name": workstation.department.name},
        "is_active": workstation.is_active,
        "processes": [{"process": {"id": c.process.id, "code": c.process.code, "name": c.process.name},
                       "rate_per_hour": float(c.rate_per_hour), "setup_minutes": c.setup_minutes}
                      for c in workstation.capabilities],
    }


def block_json(block) -> dict:
    task = block.task
    return {
        "task_id": task.id, "task_number": task.number, "work_order_id": task.work_order_id,
        "work_order_number": task.work_order.number, "process": {"id": task.process.id, "name": task.process.name},
        "priority": task.work_order.priority, "status": task.status, "position": block.position,
        "planned_start": _time(block.planned_start), "planned_finish": _time(block.planned_finish),
        "conflict": block.conflict, "at_risk": block.at_risk,
    }


@operation(bp, "GET", "/workstations", summary=_l("机台列表（含能做的工序、标准产能和换型时间）"), tag=TAG,
           response=obj({"items": array(WORKSTATION)}, required=("items",)), errors=(403,),
           query={"department_id": integer(1, description="部门编号"),
                  "active": {"type": "boolean", "description": "true = 仅启用，false = 仅停用；默认全部"}})
def workstation_list(query: dict):
    require(current_user, "planning.view")
    stations = planning.workstations(query.get("department_id"))
    if "active" in query:
        stations = [w for w in stations if w.is_active == query["active"]]
    return {"items": [workstation_json(w) for w in stations]}


@operation(bp, "GET", "/departments/{department_id}/plan", summary=_l("部门排产：每台机台的队列和计划时间"), tag=TAG,
           response=PLAN, errors=(403, 404))
def department_plan(department_id: int):
    user = current_user._get_current_object()
    require(user, "planning.view")
    plan = planning.plan_for_department(department_id, user)
    return {
        "enabled": planning.enabled(), "department": {"id": plan.department.id, "name": plan.department.name},
        "editable": plan.editable,
        "lanes": [{"workstation": workstation_json(lane.workstation), "blocks": [block_json(b) for b in lane.blocks]}
                  for lane in plan.lanes],
        "unplanned": [{"task_id": t.id, "task_number": t.number, "work_order_id": t.work_order_id,
                       "work_order_number": t.work_order.number,
                       "process": {"id": t.process.id, "name": t.process.name}, "status": t.status}
                      for t in plan.unplanned],
    }


@operation(bp, "GET", "/workorders/{work_order_id}/projection", summary=_l("施工单预计完成时间与延期风险"), tag=TAG,
           response=PROJECTION, errors=(403, 404))
def work_order_projection(work_order_id: int):
    work_order = queries.get(work_order_id)
    require(current_user, "workorder.view", work_order)
    projection = planning.projection_for_workorder(work_order)
    return {
        "work_order_id": work_order.id, "delivery_date": work_order.delivery_date.isoformat(),
        "enabled": planning.enabled(),
        "projected_finish": _time(projection.projected_finish) if projection else None,
        "unplanned": bool(projection and projection.unplanned), "at_risk": bool(projection and projection.at_risk),
    }


@operation(bp, "POST", "/tasks/{task_id}/plan-move", summary=_l("调整任务在机台队列中的位置（本部门主管）"), tag=TAG,
           body=obj({"workstation_id": {**ID, "description": "目标机台编号（本部门、能做该工序）"},
                     "position": integer(0, 100_000, description="目标位置，0 = 队首；超过队列长度则排到队尾")},
                    required=("workstation_id", "position")),
           response=MOVE_RESULT, errors=(403, 404, 409, 422))
def task_plan_move(task_id: int, body: dict):
    user = current_user._get_current_object()
    planning.move_task(user, task_id, body["workstation_id"], body["position"])
    db.session.commit()
    for block in planning.queue_for_workstation(body["workstation_id"]):
        if block.task.id == task_id:
            return {"message": _("已调整排产"), "block": block_json(block)}
    raise NotFound(_l("任务不存在"))  # pragma: no cover - the move above placed it there
