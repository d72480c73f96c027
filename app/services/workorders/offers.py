"""What a viewer may do with a 施工单 and what its form offers, computed before any button is shown."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app import policy
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
)
from app.services.core.errors import Forbidden, Invalid, NotFound
from app.services.workorders import approval_check
from app.services.workorders import task_generation as generation
from app.services.workorders.approval import _drafts_of_empty_steps, started_task_count
from app.services.workorders.common import EDITABLE_APPROVAL
from app.services.workorders.editing import preview
from app.services.workorders.inputs import WorkOrderInput
from app.services.workorders.resolve import _by_id, _current_references

# ---------------------------------------------------------------- what a viewer may do

@dataclass(frozen=True)
class ActionState:
    name: str
    label: str
    style: str = ""
    reason_label: str = ""        # a reason field is shown; required when ``reason_required``
    reason_required: bool = False
    confirm: str = ""             # hx-confirm text for destructive actions
    blocked: str = ""             # why the action cannot be taken now (the button is disabled)


ACTION_LABELS = {
    "submit": _l("提交审核"), "resubmit": _l("重新提交审核"), "approve": _l("通过审核"), "reject": _l("拒绝审核"),
    "withdraw": _l("撤回审核"), "pause": _l("暂停生产"), "resume": _l("恢复生产"), "cancel": _l("取消施工单"),
    "delete": _l("删除施工单"),
}


def available_actions(user, work_order: WorkOrder, problems: list[str] | None = None,
                      started: int | None = None) -> list[ActionState]:
    """The transitions ``user`` may take now (policy AND state), each with what its form needs.

    ``problems`` is the approval check's result and ``started`` its ``started_task_count`` when the
    caller already has them.
    """
    approval, status = work_order.approval_status, work_order.status
    actions: list[ActionState] = []

    def can(action: str) -> bool:
        return policy.can(user, action, work_order)

    def add(name: str, **kwargs) -> None:
        actions.append(ActionState(name, str(ACTION_LABELS[name]), **kwargs))

    if problems is None:
        problems = approval_problems(user, work_order)
    blocked = _("请先处理审核检查中的问题") if problems else ""
    if approval == "draft" and can("workorder.submit"):
        add("submit", style="btn-primary", blocked=blocked)
    if approval == "rejected" and can("workorder.submit"):
        add("resubmit", style="btn-primary", confirm=_("确定要重新提交审核吗？"), blocked=blocked)
    if approval == "pending" and can("workorder.approve"):
        add("approve", style="btn-primary", reason_label=_("审核意见"), blocked=blocked)
        add("reject", style="btn-danger", reason_label=_("拒绝原因"), reason_required=True,
            confirm=_("确定要拒绝该施工单吗？草稿任务和修改将保留，修改后可重新提交审核。"))
    if approval == "approved" and status not in ("completed", "cancelled") and can("workorder.withdraw"):
        if started is None:
            started = started_task_count(work_order)
        add("withdraw", reason_label=_("撤回原因"),
            confirm=_("确定要撤回审核吗？所有任务将退回草稿，已分派的部门和操作员将被清除。"),
            blocked=_("已有 %(count)s 个任务开始生产，不能撤回审核", count=started) if started else "")
    if approval == "approved" and can("workorder.control"):
        if status == "in_progress":
            add("pause", reason_label=_("暂停原因"), confirm=_("确定要暂停该施工单吗？未完成的任务将一并暂停。"))
        if status == "paused":
            add("resume", style="btn-primary")
        if status not in ("completed", "cancelled"):
            add("cancel", style="btn-danger", reason_label=_("取消原因"), reason_required=True,
                confirm=_("确定要取消该施工单吗？未完成的任务将全部取消，此操作不可恢复。"))
    if approval != "approved" and can("workorder.delete"):
        add("delete", style="btn-danger", confirm=_("确定要删除该施工单吗？此操作不可恢复。"))
    return actions


def needs_approval_check(user, work_order: WorkOrder) -> bool:
    """``user`` is shown the approval check of ``work_order``: it is not approved yet, and they submit or approve it."""
    return work_order.approval_status != "approved" and (
        policy.can(user, "workorder.submit", work_order) or policy.can(user, "workorder.approve", work_order))


def approval_problems(user, work_order: WorkOrder) -> list[str]:
    """What the approval check would refuse, shown to the people who submit or approve."""
    if not needs_approval_check(user, work_order):
        return []
    refilled: set[int] = set()
    if work_order.approval_status == "rejected":
        # Resubmitting fills an empty step first: its emptiness is no problem of the resubmission.
        refilled_processes = {spec.process_id for spec in _drafts_of_empty_steps(work_order)}
        refilled = {step.id for step in work_order.steps if step.process_id in refilled_processes}
    return [problem.message for problem in approval_check.problems(work_order, refilled_steps=refilled)]


def may_edit_drafts(user, work_order: WorkOrder) -> bool:
    return work_order.approval_status in EDITABLE_APPROVAL and policy.can(user, "workorder.edit_drafts", work_order)



# ---------------------------------------------------------------- what the form offers

@dataclass
class FormOptions:
    customers: list[Customer]
    products: list[Product]
    materials: list[Material]
    plates: dict[str, list[Plate]]
    processes: list[Process]
    departments: dict[int, list[Department]]  # process id → active departments that handle it

    @property
    def process_by_id(self) -> dict[int, Process]:
        return {process.id: process for process in self.processes}


def form_options(user, work_order: WorkOrder | None = None) -> FormOptions:
    """Everything the 施工单 form lets ``user`` choose: active records, plus whatever the
    施工单 already uses even if deactivated since."""
    current = _current_references(work_order)
    customers = select(Customer).order_by(Customer.name)
    if not user.has_role("admin", "maker"):
        own = Customer.salesperson_id == user.id
        customers = customers.where(or_(own, Customer.id == work_order.customer_id) if work_order else own)
    processes = list(db.session.scalars(
        select(Process).options(selectinload(Process.departments))
        .where(or_(Process.is_active.is_(True), Process.id.in_(current["processes"])))
        .order_by(Process.sort_order, Process.id)
    ))
    plates: dict[str, list[Plate]] = {kind: [] for kind in approval_check.PLATE_FIELDS}
    for plate in db.session.scalars(
        select(Plate).where(or_(Plate.is_active.is_(True), Plate.id.in_(current["plates"])))
        .order_by(Plate.kind, Plate.code)
    ):
        plates.setdefault(plate.kind, []).append(plate)
    return FormOptions(
        customers=list(db.session.scalars(customers)),
        products=list(db.session.scalars(
            select(Product).where(or_(Product.is_active.is_(True), Product.id.in_(current["products"])))
            .order_by(Product.code))),
        materials=list(db.session.scalars(select(Material).where(Material.is_active.is_(True))
                                          .order_by(Material.code))),
        plates=plates,
        processes=processes,
        departments={p.id: sorted((d for d in p.departments if d.is_active), key=lambda d: (d.sort_order, d.id))
                     for p in processes},
    )


def product_defaults(product_id: int | None) -> Product | None:
    """A product with its default processes and materials, for pre-filling a new line."""
    if not product_id:
        return None
    return db.session.scalar(
        select(Product).where(Product.id == product_id).options(
            selectinload(Product.default_processes), selectinload(Product.default_materials))
    )


@dataclass(frozen=True)
class DraftLine:
    """One draft the sync preview names: its process, text and quantity (and number once it exists)."""
    process: str
    content: str
    quantity: int
    number: str = ""


@dataclass(frozen=True)
class PlanPreview:
    """What saving an edit does to the drafts, task by task (DOMAIN.md §4: the user confirms it)."""
    deleted: list[DraftLine]
    added: list[DraftLine]
    updated: int


def describe_plan(plan: generation.SyncPlan | None) -> PlanPreview | None:
    if plan is None:
        return None
    names = {process.id: process.name for process in _by_id(
        Process, {task.process_id for task in plan.deleted} | {spec.process_id for spec in plan.add}).values()}
    numbers = dict(db.session.execute(select(Task.id, Task.number).where(Task.id.in_(plan.delete_ids))).all()) \
        if plan.delete_ids else {}
    return PlanPreview(
        deleted=[DraftLine(names.get(task.process_id, ""), task.content, task.target_quantity,
                           numbers.get(task.id, "")) for task in plan.deleted],
        added=[DraftLine(names.get(spec.process_id, ""), spec.content, spec.target_quantity) for spec in plan.add],
        updated=len(plan.updates),
    )


@dataclass
class FormCheck:
    plate_problems: list[approval_check.Problem]
    plan: generation.SyncPlan | None
    step_count: int = 0
    preview: PlanPreview | None = None


def form_check(actor, data: WorkOrderInput, work_order_id: int | None = None) -> FormCheck:
    """The live check under the form: plates the chosen processes need and, when editing, what
    saving would do to the drafts. Input that does not resolve yet simply shows no plan."""
    processes = _by_id(Process, {step.process_id for step in data.steps}).values()
    kinds = {plate.kind for plate in _by_id(Plate, data.plate_ids).values()}
    plan = None
    if work_order_id is not None:
        try:
            plan = preview(actor, work_order_id, data)
        except (Invalid, Forbidden, NotFound):
            plan = None
    return FormCheck(approval_check.plate_problems(processes, kinds), plan, len(data.steps), describe_plan(plan))
