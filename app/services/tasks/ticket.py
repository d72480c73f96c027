"""The job ticket: what an operator needs of a task to do the job without asking the office (DOMAIN.md §8).

Loaded only when someone opens a card's 详情 (an htmx GET of its own fragment) or the task's page, so the
kiosk lists stay as cheap as before; one ticket costs a fixed handful of queries, whatever the 施工单 holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.enums import PLATE_KINDS
from app.extensions import db
from app.models import (
    Material,
    Plate,
    PlateProduct,
    Process,
    Product,
    Task,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderProduct,
    WorkOrderStep,
    work_order_plates,
)

# Design files a browser shows itself: images inline on the ticket, PDFs in its own viewer.
INLINE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "pdf": "application/pdf"}
# The plate kinds a process works with, by the flag that says so (a step of 覆膜 uses none).
PLATE_FLAGS = {kind: f"requires_{kind}" for kind in PLATE_KINDS}


@dataclass(frozen=True)
class ProductLine:
    name: str
    specification: str
    quantity: int
    unit: str


@dataclass(frozen=True)
class MaterialLine:
    name: str
    size: str
    usage: str
    notes: str


@dataclass(frozen=True)
class PlateLine:
    code: str
    kind: str
    name: str
    foiling_type: str | None
    # (product name, 拼版数) for the products of this 施工单 the plate carries
    impositions: list[tuple[str, int]]


@dataclass(frozen=True)
class StepLine:
    name: str
    status: str
    current: bool


@dataclass
class JobTicket:
    task: Task
    work_order: WorkOrder
    products: list[ProductLine]
    materials: list[MaterialLine]
    plates: list[PlateLine]
    steps: list[StepLine]
    # 印刷形式 and colours: only on a printing task
    printing: bool = False
    cutting: bool = False
    design_file: str | None = field(default=None)  # "image", "pdf" or "file" when the 施工单 has one
    plan: object = None  # its PlanEntry (planned workstation and times, DOMAIN.md §8/§12); None: not queued

    @property
    def steps_before(self) -> list[StepLine]:
        index = next((i for i, step in enumerate(self.steps) if step.current), len(self.steps))
        return self.steps[:index]

    @property
    def steps_after(self) -> list[StepLine]:
        index = next((i for i, step in enumerate(self.steps) if step.current), len(self.steps) - 1)
        return self.steps[index + 1:]


def design_file_type(file_name: str | None) -> str | None:
    if not file_name:
        return None
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension == "pdf":
        return "pdf"
    return "image" if extension in INLINE_TYPES else "file"


def job_ticket(task: Task) -> JobTicket:
    work_order = db.session.scalar(
        select(WorkOrder).options(joinedload(WorkOrder.customer)).where(WorkOrder.id == task.work_order_id)
        .execution_options(populate_existing=True)  # the card loaded only a few of its columns
    )
    process = task.step.process
    return JobTicket(
        task=task, work_order=work_order,
        products=_products(task),
        materials=_materials(task),
        plates=_plates(task, process),
        steps=_steps(task),
        printing=task.task_type == "printing",
        cutting=task.material_line_id is not None,
        design_file=design_file_type(work_order.design_file_name),
        plan=_plan(task),
    )


def _plan(task: Task):
    from app.services import planning

    return planning.plan_entry(task.id) if planning.enabled() else None


def _products(task: Task) -> list[ProductLine]:
    """The task's own product line (a 包装 task), else every product line of the 施工单."""
    statement = (select(WorkOrderProduct.quantity, WorkOrderProduct.unit, WorkOrderProduct.specification,
                        Product.name, Product.specification.label("default_specification"))
                 .join(Product, WorkOrderProduct.product_id == Product.id)
                 .where(WorkOrderProduct.work_order_id == task.work_order_id)
                 .order_by(WorkOrderProduct.sort_order, WorkOrderProduct.id))
    if task.product_line_id:
        statement = statement.where(WorkOrderProduct.id == task.product_line_id)
    return [ProductLine(row.name, row.specification or row.default_specification, row.quantity, row.unit)
            for row in db.session.execute(statement)]


def _materials(task: Task) -> list[MaterialLine]:
    """A 开料 task's own line (its size is the cut size); none for 制版; else the stock the job runs on."""
    if task.task_type == "plate_making":
        return []
    statement = (select(Material.name, WorkOrderMaterial.size, WorkOrderMaterial.usage, WorkOrderMaterial.notes)
                 .join(Material, WorkOrderMaterial.material_id == Material.id)
                 .where(WorkOrderMaterial.work_order_id == task.work_order_id)
                 .order_by(WorkOrderMaterial.sort_order, WorkOrderMaterial.id))
    if task.material_line_id:
        statement = statement.where(WorkOrderMaterial.id == task.material_line_id)
    return [MaterialLine(row.name, row.size, row.usage, row.notes) for row in db.session.execute(statement)]


def _plates(task: Task, process: Process) -> list[PlateLine]:
    """The task's own plate (制版, 印刷, 烫金, 压凸, 模切), else the 施工单's plates of the kinds its process uses."""
    statement = select(Plate).options(selectinload(Plate.products).joinedload(PlateProduct.product))
    if task.plate_id:
        statement = statement.where(Plate.id == task.plate_id)
    else:
        kinds = [kind for kind, flag in PLATE_FLAGS.items() if getattr(process, flag)]
        if not kinds:
            return []
        statement = (statement.join(work_order_plates, work_order_plates.c.plate_id == Plate.id)
                     .where(work_order_plates.c.work_order_id == task.work_order_id, Plate.kind.in_(kinds)))
    plates = db.session.scalars(statement.order_by(Plate.id)).all()
    if not plates:
        return []
    on_this_order = set(db.session.scalars(
        select(WorkOrderProduct.product_id).where(WorkOrderProduct.work_order_id == task.work_order_id)))
    return [
        PlateLine(plate.code, plate.kind, plate.name, plate.foiling_type,
                  [(link.product.name, link.imposition_quantity)
                   for link in sorted(plate.products, key=lambda link: link.product_id)
                   if link.product_id in on_this_order])
        for plate in plates
    ]


def _steps(task: Task) -> list[StepLine]:
    rows = db.session.execute(
        select(WorkOrderStep.id, WorkOrderStep.status, Process.name)
        .join(Process, WorkOrderStep.process_id == Process.id)
        .where(WorkOrderStep.work_order_id == task.work_order_id)
        .order_by(WorkOrderStep.sequence, WorkOrderStep.id)
    )
    return [StepLine(row.name, row.status, row.id == task.step_id) for row in rows]
