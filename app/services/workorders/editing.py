"""Create and edit a 施工单, keeping its drafts in step with the edit (DOMAIN.md §3)."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy import update as update_rows

from app import policy
from app.enums import OPEN_TASK_STATUSES, Priority
from app.extensions import db
from app.models import (
    Task,
    WorkOrder,
    WorkOrderStep,
)
from app.services.core import audit, numbering
from app.services.core.errors import Conflict, Invalid
from app.services.workorders import design_files
from app.services.workorders import task_generation as generation
from app.services.workorders.approval import _submit
from app.services.workorders.common import EDITABLE_APPROVAL, _advance_version, _announce, _lock, _open_tasks, _reach
from app.services.workorders.inputs import EditOutcome, LimitedInput, WorkOrderInput
from app.services.workorders.queries import get
from app.services.workorders.resolve import (
    _apply_fields,
    _apply_lines,
    _apply_steps,
    _new_material_line,
    _new_product_line,
    _plan,
    _resolve,
    _shape_of,
    _step_ids,
)

# ---------------------------------------------------------------- create and edit

def create(actor, data: WorkOrderInput, *, upload=None, submit: bool = False) -> WorkOrder:
    """A new 施工单 (审核状态 草稿) with its lines, steps and every draft task; submitted too if asked."""
    policy.require(actor, "workorder.create")
    resolved = _resolve(actor, data)
    checked_file = design_files.check(upload)
    work_order = WorkOrder(number=numbering.monthly_code("SG", 4), created_by_id=actor.id,
                           approval_status="draft", status="pending", task_counter=0, version=1)
    _apply_fields(work_order, resolved)
    db.session.add(work_order)
    work_order.products = [_new_product_line(line, i) for i, line in enumerate(data.products)]
    work_order.materials = [_new_material_line(line, i) for i, line in enumerate(data.materials)]
    work_order.plates = resolved.plates
    work_order.steps = [WorkOrderStep(process_id=s.process_id, sequence=s.sequence, department_id=s.department_id)
                        for s in resolved.steps]
    db.session.flush()
    count = generation.insert_drafts(work_order, generation.generate(_shape_of(work_order)), _step_ids(work_order))
    audit.record(actor, "work_order", work_order.id, "create", work_order_id=work_order.id,
                 to_status="draft", detail={"number": work_order.number, "draft_tasks": count})
    if submit:
        _submit(actor, work_order, resubmitting=False)
    _attach_file(work_order, checked_file)
    _announce(work_order, "created", moves_plan=False)
    return work_order


def preview(actor, work_order_id: int, data: WorkOrderInput) -> generation.SyncPlan:
    """What saving ``data`` would do to the drafts — nothing is written."""
    work_order = get(work_order_id)
    return _plan(work_order, _resolve(actor, data, work_order))


def update(actor, work_order_id: int, version: int, data: WorkOrderInput, *, upload=None,
           confirm_sync: bool = False, submit: bool = False) -> EditOutcome:
    """Save an edit of an unapproved 施工单, keeping every draft the edit does not affect.

    When the edit adds or removes tasks and ``confirm_sync`` is not set, nothing is written and
    the outcome carries the plan for the user to confirm (将删除 N 个 / 将新增 N 个).
    """
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.edit")
    if work_order.approval_status not in EDITABLE_APPROVAL:
        raise Conflict(_l("施工单已审核通过，只能修改备注、交货日期、优先级和设计文件"), code="approved")
    resolved = _resolve(actor, data, work_order)
    checked_file = design_files.check(upload)
    plan = _plan(work_order, resolved)
    if plan.needs_confirmation and not confirm_sync:
        return EditOutcome(work_order, plan, applied=False)
    before = _snapshot(work_order)
    _advance_version(work_order, version)
    if plan.delete_ids:
        db.session.execute(delete(Task).where(Task.id.in_(plan.delete_ids), Task.status == "draft")
                           .execution_options(synchronize_session="fetch"))
    db.session.expire(work_order, ["steps", "products", "materials"])
    _apply_fields(work_order, resolved)
    product_ids, material_ids = _apply_lines(work_order, data)
    work_order.plates = resolved.plates
    _apply_steps(work_order, resolved)
    db.session.flush()
    for task_id, values in plan.updates.items():
        db.session.execute(update_rows(Task).where(Task.id == task_id, Task.status == "draft")
                           .values(version=Task.version + 1, **values).execution_options(synchronize_session=False))
    added = generation.insert_drafts(work_order, plan.add, _step_ids(work_order), material_ids, product_ids)
    audit.record(actor, "work_order", work_order.id, "update", work_order_id=work_order.id,
                 detail={"changes": _diff(before, _snapshot(work_order)), "drafts_deleted": len(plan.delete_ids),
                         "drafts_added": added, "drafts_updated": len(plan.updates)})
    if submit and work_order.approval_status in ("draft", "rejected"):
        _submit(actor, work_order, resubmitting=work_order.approval_status == "rejected")
    _attach_file(work_order, checked_file)
    _announce(work_order, "updated", moves_plan=False)
    return EditOutcome(work_order, plan, applied=True)


def update_approved(actor, work_order_id: int, version: int, data: LimitedInput, *, upload=None) -> WorkOrder:
    """Once approved only notes, delivery date, priority and the design file change."""
    work_order = _lock(work_order_id, version, actor=actor, action="workorder.edit")
    if work_order.approval_status in EDITABLE_APPROVAL:
        raise Conflict(_l("施工单尚未审核通过，请使用完整的编辑表单"), code="not_approved")
    if work_order.status == "cancelled":
        raise Conflict(_l("已取消的施工单不能修改"), code="cancelled")
    errors = {}
    if data.priority not in Priority.values():
        errors["priority"] = _("优先级无效")
    if data.delivery_date is None:
        errors["delivery_date"] = _("请填写交货日期")
    elif data.delivery_date < work_order.order_date:
        errors["delivery_date"] = _("交货日期不能早于下单日期")
    if errors:
        raise Invalid(_l("请检查表单中标出的错误"), details=list(errors.values()), fields=errors, code="invalid_input")
    checked_file = design_files.check(upload)
    before = _snapshot(work_order)
    _advance_version(work_order, version)
    work_order.delivery_date, work_order.priority = data.delivery_date, data.priority
    work_order.notes = data.notes.strip()
    _attach_file(work_order, checked_file)
    audit.record(actor, "work_order", work_order.id, "update", work_order_id=work_order.id,
                 detail={"changes": _diff(before, _snapshot(work_order))})
    _announce(work_order, "updated", *_reach(_open_tasks(work_order, OPEN_TASK_STATUSES, lock=False)))
    return work_order


def is_fully_editable(work_order: WorkOrder) -> bool:
    return work_order.approval_status in EDITABLE_APPROVAL



def _attach_file(work_order: WorkOrder, checked) -> None:
    """Written last, after every check passed, so a refused request leaves no file behind."""
    if checked is not None:
        work_order.design_file_path = design_files.store(checked)
        work_order.design_file_name = checked.original_name


_SNAPSHOT_FIELDS = ("customer_id", "order_date", "delivery_date", "production_quantity", "spoilage_quantity",
                    "priority", "printing_type", "cmyk_colors", "other_colors", "notes", "design_file_name")


def _snapshot(work_order: WorkOrder) -> dict:
    values = {name: getattr(work_order, name) for name in _SNAPSHOT_FIELDS}
    values = {key: value.isoformat() if isinstance(value, date) else value for key, value in values.items()}
    if is_fully_editable(work_order):
        values["products"] = [[line.product_id, line.quantity] for line in work_order.products]
        values["materials"] = [[line.material_id, line.usage, line.need_cutting] for line in work_order.materials]
        values["plates"] = sorted(plate.id for plate in work_order.plates)
        values["steps"] = [[s.process_id, s.sequence, s.department_id] for s in work_order.steps]
    return values


def _diff(before: dict, after: dict) -> dict:
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}
