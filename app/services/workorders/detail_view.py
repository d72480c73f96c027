"""What the 施工单 page shows of a 施工单's lines, steps, tasks and approval history, as plain values.

The page loaded all of it as ORM objects (six selectin loads with their joined products, materials,
processes, departments, operators and plates: ~13 ms of CPU for a 施工单 of five steps). Two narrow
queries built once now read it, ~1 ms in all: the four short lists together, the steps with their
tasks. The 施工单 itself stays an ORM object with its customer and people (policy and the offered
actions read it), and when the approval check must walk the whole 施工单
(``offers.needs_approval_check``) it is loaded whole as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, DateTime, Integer, String, bindparam, cast, literal_column, null, select, union_all
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
from app.models.task import progress_percent
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
    def progress_percent(self) -> int:
        return progress_percent(self.status, self.completed_quantity, self.target_quantity)


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


def _branch(kind: int, order, stamp, id_, texts: tuple, number, flag):
    """One list's row in the lists' common shape: kind, its order, stamp, id, five texts, a number, a flag."""
    texts = tuple(texts) + (null(),) * (5 - len(texts))
    return select(literal_column(str(kind), Integer).label("kind"), order.label("ord"), stamp.label("ts"),
                  id_.label("id"), *(cast(text, String).label(f"t{n}") for n, text in enumerate(texts, 1)),
                  cast(number, Integer).label("n"), cast(flag, Boolean).label("b"))


_NO_ORDER, _NO_STAMP = literal_column("0", Integer), cast(null(), DateTime)
PRODUCT, PLATE, MATERIAL, APPROVAL = range(4)
# The four short lists in one query, each in its relationship's order (kind, then its own order).
_LISTS = union_all(
    _branch(PRODUCT, WorkOrderProduct.sort_order, _NO_STAMP, WorkOrderProduct.id,
            (Product.code, Product.name, WorkOrderProduct.specification, Product.specification, WorkOrderProduct.unit),
            WorkOrderProduct.quantity, null())
    .join(Product, Product.id == WorkOrderProduct.product_id).where(WorkOrderProduct.work_order_id == _WO),
    _branch(PLATE, Plate.id, _NO_STAMP, Plate.id, (Plate.kind, Plate.foiling_type, Plate.code, Plate.name), null(),
            Plate.confirmed)
    .join(work_order_plates, work_order_plates.c.plate_id == Plate.id).where(work_order_plates.c.work_order_id == _WO),
    _branch(MATERIAL, WorkOrderMaterial.sort_order, _NO_STAMP, WorkOrderMaterial.id,
            (Material.name, WorkOrderMaterial.size, WorkOrderMaterial.usage, WorkOrderMaterial.purchase_status,
             WorkOrderMaterial.notes), null(), WorkOrderMaterial.need_cutting)
    .join(Material, Material.id == WorkOrderMaterial.material_id).where(WorkOrderMaterial.work_order_id == _WO),
    _branch(APPROVAL, _NO_ORDER, ApprovalLog.created_at, ApprovalLog.id, (ApprovalLog.action, User.name, ApprovalLog.comment),
            null(), null())
    .select_from(ApprovalLog).outerjoin(User, User.id == ApprovalLog.user_id).where(ApprovalLog.work_order_id == _WO),
)
_LISTS = _LISTS.order_by(*(_LISTS.selected_columns[name] for name in ("kind", "ord", "ts", "id")))

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
    products, plates, materials, approvals = [], [], [], []
    for kind, _order, stamp, id_, t1, t2, t3, t4, t5, number, flag in execute(_LISTS, params):
        if kind == PRODUCT:
            products.append(ProductLine(t1, t2, t3 or t4, number, t5))
        elif kind == PLATE:
            plates.append(PlateLine(t1, t2, t3, t4, bool(flag)))
        elif kind == MATERIAL:
            materials.append(MaterialLine(id_, t1, t2, t3, bool(flag), t4, t5))
        else:
            approvals.append(ApprovalLine(stamp, t1, t2, t3))
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
    return DetailLines(tuple(products), tuple(plates), tuple(materials), tuple(steps), tuple(approvals))


def load(user, work_order_id: int) -> WorkOrder:
    """The 施工单 for its page: its head only, or whole when ``user`` is shown the approval check."""
    work_order = get_head(work_order_id)
    if offers.needs_approval_check(user, work_order):
        db.session.expunge(work_order)  # loaded again with every line the check walks
        work_order = queries.get_for_detail(work_order_id)
    return work_order
