"""The input of a 施工单 form checked and looked up (one Invalid names each bad field), and the task sync plan it implies."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import policy
from app.enums import PrintingType, Priority
from app.extensions import db
from app.models import (
    Customer,
    Department,
    Material,
    Plate,
    Process,
    Product,
    Task,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderProduct,
    WorkOrderStep,
)
from app.services.core.errors import Forbidden, Invalid
from app.services.workorders import task_generation as generation
from app.services.workorders.common import CMYK
from app.services.workorders.inputs import MaterialLineInput, ProductLineInput, StepInput, WorkOrderInput, _Resolved

# ---------------------------------------------------------------- internals: input

def _resolve(actor, data: WorkOrderInput, work_order: WorkOrder | None = None) -> _Resolved:
    """Look up and check every reference; one Invalid names each bad field."""
    errors: dict[str, str] = {}
    customer = db.session.get(Customer, data.customer_id) if data.customer_id else None
    if customer is None:
        errors["customer_id"] = _("请选择客户")
    elif not policy.can(actor, "workorder.order_for", customer):
        raise Forbidden(_l("只能为自己负责的客户创建或修改施工单"), code="customer_forbidden")
    if data.priority not in Priority.values():
        errors["priority"] = _("优先级无效")
    if data.printing_type not in PrintingType.values():
        errors["printing_type"] = _("印刷形式无效")
    if any(color not in CMYK for color in data.cmyk_colors):
        errors["cmyk_colors"] = _("CMYK 颜色无效")
    if data.production_quantity is None or data.production_quantity < 0:
        errors["production_quantity"] = _("生产数量不能为负数")
    if data.spoilage_quantity is None or data.spoilage_quantity < 0:
        errors["spoilage_quantity"] = _("预损数量不能为负数")
    if data.order_date is None:
        errors["order_date"] = _("请填写下单日期")
    if data.delivery_date is None:
        errors["delivery_date"] = _("请填写交货日期")
    elif data.order_date is not None and data.delivery_date < data.order_date:
        errors["delivery_date"] = _("交货日期不能早于下单日期")

    current = _current_references(work_order)
    products = _by_id(Product, {line.product_id for line in data.products})
    for line in data.products:
        product = products.get(line.product_id)
        if product is None or (not product.is_active and line.product_id not in current["products"]):
            errors["products"] = _("产品不存在或已停用")
        elif line.quantity is None or line.quantity < 1:
            errors["products"] = _("产品数量必须大于0")
        elif line.id is not None and line.id not in current["product_lines"]:
            errors["products"] = _("产品明细不属于本施工单")
    materials = _by_id(Material, {line.material_id for line in data.materials})
    for line in data.materials:
        if line.material_id not in materials:
            errors["materials"] = _("物料不存在")
        elif line.id is not None and line.id not in current["material_lines"]:
            errors["materials"] = _("物料明细不属于本施工单")

    plate_ids = set(data.plate_ids)
    plates = list(db.session.scalars(select(Plate).where(Plate.id.in_(plate_ids)).order_by(Plate.id))) \
        if plate_ids else []
    if len(plates) != len(plate_ids) or any(not p.is_active and p.id not in current["plates"] for p in plates):
        errors["plates"] = _("版不存在或已停用")

    steps = _with_plate_making(data.steps, bool(plate_ids))
    processes = _by_id(Process, {step.process_id for step in steps})
    departments = _by_id(Department, {step.department_id for step in steps if step.department_id})
    if len({step.process_id for step in steps}) != len(steps):
        errors["steps"] = _("同一工序不能重复添加")
    for step in steps:
        process = processes.get(step.process_id)
        if process is None or (not process.is_active and step.process_id not in current["processes"]):
            errors["steps"] = _("工序不存在或已停用")
        elif step.department_id is not None:
            department = departments.get(step.department_id)
            if department is None or not department.is_active or process not in department.processes:
                errors["steps"] = _("“%(process)s”的生产部门必须是负责该工序的启用部门", process=process.name)
    if errors:
        raise Invalid(_l("请检查表单中标出的错误"), details=list(errors.values()), fields=errors, code="invalid_input")
    return _Resolved(data, customer, products, materials, processes, plates, steps)


def _current_references(work_order: WorkOrder | None) -> dict[str, set[int]]:
    """What the 施工单 already uses: a product, plate or process deactivated since may stay."""
    if work_order is None:
        return {key: set() for key in ("products", "product_lines", "material_lines", "plates", "processes")}
    return {
        "products": {line.product_id for line in work_order.products},
        "product_lines": {line.id for line in work_order.products},
        "material_lines": {line.id for line in work_order.materials},
        "plates": {plate.id for plate in work_order.plates},
        "processes": {step.process_id for step in work_order.steps},
    }


def _with_plate_making(steps: list[StepInput], has_plates: bool) -> list[StepInput]:
    """Choosing any plate adds the 制版 step (DOMAIN.md §4)."""
    steps = list(steps)
    if not has_plates:
        return steps
    plate_making = db.session.scalar(select(Process).where(Process.code == generation.PLATE_MAKING))
    if plate_making is not None and all(step.process_id != plate_making.id for step in steps):
        steps.append(StepInput(plate_making.id, plate_making.sort_order))
    return steps


def _by_id(model, ids: Iterable[int | None]) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _apply_fields(work_order: WorkOrder, resolved: _Resolved) -> None:
    data = resolved.data
    work_order.customer_id = resolved.customer.id
    work_order.order_date, work_order.delivery_date = data.order_date, data.delivery_date
    work_order.production_quantity, work_order.spoilage_quantity = data.production_quantity, data.spoilage_quantity
    work_order.priority, work_order.printing_type = data.priority, data.printing_type
    work_order.cmyk_colors = [c for c in CMYK if c in data.cmyk_colors]
    work_order.other_colors = [c.strip() for c in data.other_colors if c.strip()]
    work_order.notes = (data.notes or "").strip()
    work_order.total_amount = sum(
        ((resolved.products[line.product_id].unit_price or 0) * line.quantity for line in data.products), 0
    )


def _new_product_line(line: ProductLineInput, index: int) -> WorkOrderProduct:
    return WorkOrderProduct(product_id=line.product_id, quantity=line.quantity, unit=line.unit or "件",
                            specification=line.specification, sort_order=index)


def _new_material_line(line: MaterialLineInput, index: int) -> WorkOrderMaterial:
    return WorkOrderMaterial(material_id=line.material_id, size=line.size, usage=line.usage,
                             need_cutting=line.need_cutting, notes=line.notes, sort_order=index)


def _apply_lines(work_order: WorkOrder, data: WorkOrderInput) -> tuple[dict, dict]:
    """Update kept lines in place (their tasks stay linked) and add new ones; lines left out are
    deleted. Returns the temporary key → id maps of the new product and material lines."""
    existing_products = {line.id: line for line in work_order.products}
    new_products, kept_products = {}, []
    for index, line in enumerate(data.products):
        row = existing_products.get(line.id)
        if row is None:
            row = new_products[_temp_key("p", index)] = _new_product_line(line, index)
        else:
            row.product_id, row.quantity, row.sort_order = line.product_id, line.quantity, index
            row.unit, row.specification = line.unit or row.unit, line.specification
        kept_products.append(row)
    work_order.products = kept_products

    existing_materials = {line.id: line for line in work_order.materials}
    new_materials, kept_materials = {}, []
    for index, line in enumerate(data.materials):
        row = existing_materials.get(line.id)
        if row is None:
            row = new_materials[_temp_key("m", index)] = _new_material_line(line, index)
        else:
            row.material_id, row.size, row.usage = line.material_id, line.size, line.usage
            row.need_cutting, row.notes, row.sort_order = line.need_cutting, line.notes, index
        kept_materials.append(row)
    work_order.materials = kept_materials
    db.session.flush()
    return ({key: row.id for key, row in new_products.items()}, {key: row.id for key, row in new_materials.items()})


def _apply_steps(work_order: WorkOrder, resolved: _Resolved) -> None:
    """Kept processes keep their step (and its drafts); removed ones lose it; added ones get one."""
    wanted = {step.process_id: step for step in resolved.steps}
    kept = []
    for step in work_order.steps:
        if step.process_id in wanted:
            step.sequence = wanted[step.process_id].sequence
            step.department_id = wanted[step.process_id].department_id
            kept.append(step)
    present = {step.process_id for step in kept}
    kept.extend(WorkOrderStep(process_id=s.process_id, sequence=s.sequence, department_id=s.department_id)
                for s in resolved.steps if s.process_id not in present)
    work_order.steps = sorted(kept, key=lambda s: (s.sequence, s.process_id))


def _temp_key(prefix: str, index: int) -> str:
    return f"new-{prefix}{index}"


def _step_ids(work_order: WorkOrder) -> dict[int, int]:
    return {step.process_id: step.id for step in work_order.steps}


# ---------------------------------------------------------------- internals: task sync

def _shape_of(work_order: WorkOrder) -> generation.WorkOrderShape:
    return generation.WorkOrderShape(
        number=work_order.number,
        quantity=work_order.production_quantity or 0,
        processes=tuple(generation.ProcessShape(s.process.id, s.process.code, s.process.name)
                        for s in sorted(work_order.steps, key=lambda s: (s.sequence, s.process_id))),
        plates=tuple(generation.PlateShape(p.id, p.kind, p.foiling_type) for p in work_order.plates),
        products=tuple(generation.ProductLineShape(line.id, line.product.name, line.quantity)
                       for line in work_order.products),
        materials=tuple(generation.MaterialLineShape(line.id, line.material.name, line.usage, line.need_cutting)
                        for line in work_order.materials),
    )


def _shape_from(work_order: WorkOrder, resolved: _Resolved) -> generation.WorkOrderShape:
    """The shape the 施工单 will have once ``resolved`` is saved; new lines carry temporary keys."""
    data = resolved.data
    steps = sorted(resolved.steps, key=lambda s: (s.sequence, s.process_id))
    return generation.WorkOrderShape(
        number=work_order.number,
        quantity=data.production_quantity or 0,
        processes=tuple(generation.ProcessShape(s.process_id, resolved.processes[s.process_id].code,
                                                resolved.processes[s.process_id].name) for s in steps),
        plates=tuple(generation.PlateShape(p.id, p.kind, p.foiling_type) for p in resolved.plates),
        products=tuple(generation.ProductLineShape(line.id if line.id is not None else _temp_key("p", i),
                                                   resolved.products[line.product_id].name, line.quantity)
                       for i, line in enumerate(data.products)),
        materials=tuple(generation.MaterialLineShape(line.id if line.id is not None else _temp_key("m", i),
                                                     resolved.materials[line.material_id].name, line.usage,
                                                     line.need_cutting)
                        for i, line in enumerate(data.materials)),
    )


def _existing_tasks(work_order: WorkOrder) -> list[generation.ExistingTask]:
    rows = db.session.execute(
        select(Task.id, WorkOrderStep.process_id, Task.status, Task.plate_id, Task.material_line_id,
               Task.product_line_id, Task.content, Task.target_quantity, Task.task_type)
        .join(WorkOrderStep, WorkOrderStep.id == Task.step_id).where(Task.work_order_id == work_order.id)
        .order_by(Task.id)
    ).all()
    return [generation.ExistingTask(*row) for row in rows]


def _plan(work_order: WorkOrder, resolved: _Resolved) -> generation.SyncPlan:
    return generation.plan_sync(_existing_tasks(work_order), generation.generate(_shape_of(work_order)),
                                generation.generate(_shape_from(work_order, resolved)))
