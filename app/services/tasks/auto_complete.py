"""Tasks completed by what happens elsewhere: a confirmed plate, a material line cut (DOMAIN.md §5)."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import policy
from app.enums import OPEN_TASK_STATUSES, PurchaseStatus
from app.extensions import db
from app.models import Task, WorkOrder, WorkOrderMaterial
from app.realtime import events
from app.services.core import audit
from app.services.core.errors import Conflict, Invalid
from app.services.core.locking import for_update
from app.services.tasks.progress import _transition
from app.utils.timeutil import utcnow

# ---------------------------------------------------------------- automatic completion

def complete_plate_tasks(plate, actor) -> list[Task]:
    """Confirming a plate completes (quantity 1) the open plate-making tasks linked to it.

    Only tasks of approved 施工单: drafts are evaluated by the 施工单 service at approval time.
    """
    tasks = _open_approved_tasks(Task.plate_id == plate.id, Task.task_type == "plate_making")
    for task in tasks:
        _transition(task, task.version, actor, "auto_complete", status="completed",
                    completed_quantity=1, quantity_delta=1 - task.completed_quantity,
                    reason=_("版已确认：%(code)s", code=plate.code), detail={"plate": plate.code})
    return tasks


def mark_material(line: WorkOrderMaterial, status: str, actor) -> list[Task]:
    """Move a material line's purchase status forward (待采购 → 已下单 → 已回料 → 已开料).

    已开料 sets its cutting tasks' completed quantity to the first number in 用量 and completes
    those that reach their target. Returns the tasks it changed.
    """
    policy.require(actor, "workorder.view", line.work_order)
    policy.require(actor, "workorder.materials", line.work_order)
    order = PurchaseStatus.values()
    if status not in order:
        raise Invalid(_l("采购状态无效"), fields={"purchase_status": _l("采购状态无效")})
    line = db.session.scalar(for_update(
        select(WorkOrderMaterial).options(joinedload(WorkOrderMaterial.work_order))
        .where(WorkOrderMaterial.id == line.id), of=WorkOrderMaterial)
        .execution_options(populate_existing=True)
    )
    if line.work_order.status == "cancelled":
        raise Conflict(_l("施工单已取消"), code="blocked")
    previous = line.purchase_status
    if status == previous:
        return []
    if order.index(status) < order.index(previous):
        raise Conflict(_l("采购状态只能向前推进：%(before)s → %(after)s 不允许",
                          before=PurchaseStatus.label_of(previous), after=PurchaseStatus.label_of(status)),
                       code="backwards")
    now = utcnow()
    for stage, column in (("ordered", "ordered_at"), ("received", "received_at"), ("cut", "cut_at")):
        if order.index(stage) <= order.index(status) and getattr(line, column) is None:
            setattr(line, column, now)
    line.purchase_status = status
    audit.record(actor, "material_line", line.id, "purchase_status", work_order_id=line.work_order_id,
                 from_status=previous, to_status=status, detail={"material_id": line.material_id})
    events.publish("work_order.updated", work_order=line.work_order)
    return _apply_cut_quantity(line, actor) if status == "cut" else []


def _open_approved_tasks(*conditions) -> list[Task]:
    """The open tasks of approved 施工单 that match ``conditions``, locked, in id order, read afresh."""
    return db.session.scalars(for_update(
        select(Task).join(WorkOrder, Task.work_order_id == WorkOrder.id)
        .where(*conditions, Task.status.in_(OPEN_TASK_STATUSES), WorkOrder.approval_status == "approved")
        .order_by(Task.id), of=Task).execution_options(populate_existing=True)
    ).all()


def _apply_cut_quantity(line: WorkOrderMaterial, actor) -> list[Task]:
    match = re.search(r"\d+", line.usage or "")
    tasks = _open_approved_tasks(Task.material_line_id == line.id, Task.task_type == "cutting")
    for task in tasks:
        quantity = int(match.group()) if match else task.completed_quantity
        if task.target_quantity > 0:
            quantity = min(quantity, task.target_quantity)
        status = "completed" if quantity >= task.target_quantity else task.status
        _transition(task, task.version, actor, "auto_complete" if status == "completed" else "auto_report",
                    status=status, completed_quantity=quantity, quantity_delta=quantity - task.completed_quantity,
                    reason=_("物料已开料，用量：%(usage)s", usage=line.usage), detail={"usage": line.usage})
    return tasks
