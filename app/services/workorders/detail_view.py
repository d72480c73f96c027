"""What the 施工单 page shows of a 施工单's lines, steps, tasks and approval history, as plain values.

The page loaded all of it as ORM objects (six selectin loads with their joined products, materials,
processes, departments, operators and plates: ~13 ms of CPU for a 施工单 of five steps); each list is
now one narrow query built once (five in all, steps with their tasks), ~1 ms each. The 施工单 itself stays an ORM object
with its customer and people (policy and the offered actions read it), and when the approval check
must walk the whole 施工单 (``offers.needs_approval_check``) it is loaded whole as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    ApprovalLog,
    Department,
    Material,
    Plate,
    Process,
    Product,
    Task,
    User,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderProduct,
    WorkOrderStep,
    work_order_plates,
)
from app.services.core.errors import NotFound
from app.services.workorders import approval, offers, queries

_WO = bindparam("work_order_id")


@dataclass(frozen=True)
class ProductLine:
    code: str
    name: str
    specification: str   # the line's, else the product's
    quantity: int
    unit: str


@dataclass(frozen=True)
class PlateLine:
    kind: str
    foiling_type: str | None
    code: str
    name: str
    confirmed: bool


@dataclass(frozen=True)
class MaterialLine:
    id: int
    material_name: str
    size: str
    usage: str
    need_cutting: bool
    purchase_status: str
    notes: str


@dataclass(frozen=True)
class TaskLine:
    id: int
    number: str
    status: str
    content: str
    plate_code: str | None       # None: the task has no plate
    plate_confirmed: bool
    department_name: str | None
    operator_name: str | None
    target_quantity: int
    completed_quantity: int
    defective_quantity: int
    production_requirements: str
    notes: str
    started: bool                # someone has worked on it (approval.task_was_started)

    @property
    def progress_percent(self) -> int:  # Task.progress_percent
        if self.target_quantity <= 0:
            return 100 if self.status == "completed" else 0
        return min(100, self.completed_quantity * 100 // self.target_quantity)


@dataclass(frozen=True)
class StepLine:
    id: int
    process_name: str
    status: str
    department_name: str | None
    tasks: tuple[TaskLine, ...]

    @property
    def drafts(self) -> int:
        return sum(1 for task in self.tasks if task.status == "draft")


@dataclass(frozen=True)
class ApprovalLine:
    created_at: datetime
    action: str
    user_name: str | None
    comment: str


@dataclass(frozen=True)
class DetailLines:
    products: tuple[ProductLine, ...]
    plates: tuple[PlateLine, ...]
    materials: tuple[MaterialLine, ...]
    steps: tuple[StepLine, ...]
    approval_logs: tuple[ApprovalLine, ...]

    @property
    def started_tasks(self) -> int:
        """``approval.started_task_count`` of the 施工单, from its tasks as read."""
        return sum(1 for step in self.steps for task in step.tasks if task.started)


_PRODUCTS = (select(Product.code, Product.name, WorkOrderProduct.specification, Product.specification,
                    WorkOrderProduct.quantity, WorkOrderProduct.unit)
             .join(Product, Product.id == WorkOrderProduct.product_id)
             .where(WorkOrderProduct.work_order_id == _WO)
             .order_by(WorkOrderProduct.sort_order, WorkOrderProduct.id))
_PLATES = (select(Plate.kind, Plate.foiling_type, Plate.code, Plate.name, Plate.confirmed)
           .join(work_order_plates, work_order_plates.c.plate_id == Plate.id)
           .where(work_order_plates.c.work_order_id == _WO).order_by(Plate.id))
_MATERIALS = (select(WorkOrderMaterial.id, Material.name, WorkOrderMaterial.size, WorkOrderMaterial.usage,
                     WorkOrderMaterial.need_cutting, WorkOrderMaterial.purchase_status, WorkOrderMaterial.notes)
              .join(Material, Material.id == WorkOrderMaterial.material_id)
              .where(WorkOrderMaterial.work_order_id == _WO)
              .order_by(WorkOrderMaterial.sort_order, WorkOrderMaterial.id))
_StepDepartment = aliased(Department)
_TaskDepartment = aliased(Department)
_Operator = aliased(User)
# Steps and their tasks in one query: a step without tasks is one row with the task's columns empty.
_STEPS = (select(WorkOrderStep.id, Process.name, WorkOrderStep.status, _StepDepartment.name,
                 Task.id, Task.number, Task.status, Task.content, Plate.code, Plate.confirmed, _TaskDepartment.name,
                 _Operator.name, Task.target_quantity, Task.completed_quantity, Task.defective_quantity,
                 Task.production_requirements, Task.notes, approval.task_was_started())
          .join(Process, Process.id == WorkOrderStep.process_id)
          .outerjoin(_StepDepartment, _StepDepartment.id == WorkOrderStep.department_id)
          .outerjoin(Task, Task.step_id == WorkOrderStep.id)
          .outerjoin(Plate, Plate.id == Task.plate_id)
          .outerjoin(_TaskDepartment, _TaskDepartment.id == Task.department_id)
          .outerjoin(_Operator, _Operator.id == Task.operator_id)
          .where(WorkOrderStep.work_order_id == _WO)
          .order_by(WorkOrderStep.sequence, WorkOrderStep.id, Task.id))
_APPROVALS = (select(ApprovalLog.created_at, ApprovalLog.action, User.name, ApprovalLog.comment)
              .outerjoin(User, User.id == ApprovalLog.user_id)
              .where(ApprovalLog.work_order_id == _WO).order_by(ApprovalLog.created_at, ApprovalLog.id))

# The 施工单 itself: what policy and the offered actions read, and the people its page names.
HEAD_LOADING = queries.DETAIL_LOADING[:3]


def get_head(work_order_id: int) -> WorkOrder:
    """The 施工单 with its customer, salesperson, maker and approver (one query), not its lines."""
    work_order = db.session.scalar(select(WorkOrder).where(WorkOrder.id == work_order_id).options(*HEAD_LOADING))
    if work_order is None:
        raise NotFound(_l("施工单不存在"), code="work_order_not_found")
    return work_order


def lines_of(work_order_id: int) -> DetailLines:
    """Everything the page lists of a 施工单, in the order its ORM relationships give."""
    params = {"work_order_id": work_order_id}
    execute = db.session.execute
    products = tuple(ProductLine(code, name, line_spec or product_spec, quantity, unit)
                     for code, name, line_spec, product_spec, quantity, unit in execute(_PRODUCTS, params))
    plates = tuple(PlateLine(*row) for row in execute(_PLATES, params))
    materials = tuple(MaterialLine(*row) for row in execute(_MATERIALS, params))
    steps: list[StepLine] = []
    current, tasks = None, []
    for (step_id, process, step_status, step_department, task_id, number, status, content, plate_code,
         plate_confirmed, department, operator, target, completed, defective, requirements,
         notes, started) in execute(_STEPS, params):
        if current is None or current[0] != step_id:
            if current is not None:
                steps.append(StepLine(*current, tuple(tasks)))
            current, tasks = (step_id, process, step_status, step_department), []
        if task_id is not None:
            tasks.append(TaskLine(task_id, number, status, content, plate_code, bool(plate_confirmed), department,
                                  operator, target, completed, defective, requirements, notes,
                                  bool(started)))
    if current is not None:
        steps.append(StepLine(*current, tuple(tasks)))
    approvals = tuple(ApprovalLine(*row) for row in execute(_APPROVALS, params))
    return DetailLines(products, plates, materials, tuple(steps), approvals)


def load(user, work_order_id: int) -> WorkOrder:
    """The 施工单 for its page: its head only, or whole when ``user`` is shown the approval check."""
    work_order = get_head(work_order_id)
    if offers.needs_approval_check(user, work_order):
        db.session.expunge(work_order)  # loaded again with every line the check walks
        work_order = queries.get_for_detail(work_order_id)
    return work_order
