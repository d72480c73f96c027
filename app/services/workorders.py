"""The 施工单 life cycle (DOMAIN.md §2–§6): create, edit with task sync, submit, approve with
dispatch, reject, resubmit, withdraw, pause, resume, cancel, delete, and draft task editing.

Every transition locks the 施工单 row, checks the version the user saw and the state, and then
writes — starting with one compare-and-set on ``version``, so a lost race is a 409 and never
half a change. Functions never commit: the caller commits once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import policy
from app.enums import OPEN_TASK_STATUSES, ApprovalStatus, PrintingType, Priority, TaskStatus, WorkOrderStatus
from app.extensions import db
from app.models import (
    ApprovalLog, AuditLog, Customer, Department, Material, Notification, Plate, Process, Product, Role, Task,
    TimeLog, User, WorkOrder, WorkOrderMaterial, WorkOrderProduct, WorkOrderStep, user_roles,
)
from app.realtime import events
from app.services import approval_check, audit, audit_text, design_files, notifications, numbering, work_periods
from app.services import dispatch as dispatch_service
from app.services import task_generation as generation
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.loading import name_only
from app.services.locking import for_update
from app.utils.timeutil import plant_today, utcnow

STALE_MESSAGE = _l("施工单已被其他人更新，请刷新后重试")
TASK_STALE_MESSAGE = _l("任务已被其他人更新，请刷新后重试")
# Before approval a 施工单 is fully editable and its drafts may be edited (DOMAIN.md §3).
EDITABLE_APPROVAL = ("draft", "pending", "rejected")
FINISHED_STEP_STATUSES = ("completed", "skipped")
CMYK = ("C", "M", "Y", "K")
MAX_BULK = 1000


# ---------------------------------------------------------------- input

@dataclass
class ProductLineInput:
    product_id: int
    quantity: int
    id: int | None = None
    unit: str = ""
    specification: str = ""


@dataclass
class MaterialLineInput:
    material_id: int
    id: int | None = None
    size: str = ""
    usage: str = ""
    need_cutting: bool = False
    notes: str = ""


@dataclass
class StepInput:
    process_id: int
    sequence: int
    department_id: int | None = None


@dataclass
class WorkOrderInput:
    customer_id: int | None
    order_date: date | None
    delivery_date: date | None
    production_quantity: int = 0
    spoilage_quantity: int = 0
    priority: str = "normal"
    printing_type: str = "none"
    cmyk_colors: list[str] = field(default_factory=list)
    other_colors: list[str] = field(default_factory=list)
    notes: str = ""
    products: list[ProductLineInput] = field(default_factory=list)
    materials: list[MaterialLineInput] = field(default_factory=list)
    steps: list[StepInput] = field(default_factory=list)
    plate_ids: list[int] = field(default_factory=list)


@dataclass
class LimitedInput:
    """What stays editable once a 施工单 is approved."""

    delivery_date: date | None
    priority: str
    notes: str = ""


@dataclass
class _Resolved:
    """The input with every reference looked up and checked."""

    data: WorkOrderInput
    customer: Customer
    products: dict[int, Product]
    materials: dict[int, Material]
    processes: dict[int, Process]
    plates: list[Plate]
    steps: list[StepInput]


@dataclass
class EditOutcome:
    work_order: WorkOrder
    plan: generation.SyncPlan
    applied: bool


@dataclass
class ItemResult:
    task_id: int
    number: str
    ok: bool
    message: str


@dataclass
class BulkOutcome:
    items: list[ItemResult]
    summary: str


# ---------------------------------------------------------------- reading

def get(work_order_id: int) -> WorkOrder:
    work_order = db.session.get(WorkOrder, work_order_id)
    if work_order is None:
        raise NotFound(_l("施工单不存在"), code="work_order_not_found")
    return work_order


_STEP_TASKS = selectinload(WorkOrder.steps).selectinload(WorkOrderStep.tasks)
# Built once: assembling these loader options took a tenth of the page's time.
DETAIL_LOADING = (
    joinedload(WorkOrder.customer).options(name_only(joinedload(Customer.salesperson))),
    name_only(joinedload(WorkOrder.created_by)), name_only(joinedload(WorkOrder.approved_by)),
    selectinload(WorkOrder.products).joinedload(WorkOrderProduct.product),
    selectinload(WorkOrder.materials).joinedload(WorkOrderMaterial.material),
    selectinload(WorkOrder.plates),
    selectinload(WorkOrder.steps).joinedload(WorkOrderStep.process),
    selectinload(WorkOrder.steps).joinedload(WorkOrderStep.department),
    _STEP_TASKS.joinedload(Task.department), name_only(_STEP_TASKS.joinedload(Task.operator)),
    _STEP_TASKS.joinedload(Task.plate),
    selectinload(WorkOrder.approval_logs).options(name_only(joinedload(ApprovalLog.user))),
)


def get_for_detail(work_order_id: int) -> WorkOrder:
    """The 施工单 with everything its page shows, in a fixed number of queries."""
    work_order = db.session.scalar(select(WorkOrder).where(WorkOrder.id == work_order_id).options(*DETAIL_LOADING))
    if work_order is None:
        raise NotFound(_l("施工单不存在"), code="work_order_not_found")
    return work_order


def audit_trail(work_order: WorkOrder, limit: int = 100) -> list[audit_text.Entry]:
    return audit_text.describe_all(db.session.scalars(
        select(AuditLog).options(name_only(joinedload(AuditLog.user))).where(AuditLog.work_order_id == work_order.id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    ).all())


def progress_percent(work_order: WorkOrder) -> int:
    """Finished steps ÷ all steps (reference §7.6); 0 without steps."""
    steps = work_order.steps
    if not steps:
        return 0
    return sum(1 for step in steps if step.status in FINISHED_STEP_STATUSES) * 100 // len(steps)


def product_summary(work_order: WorkOrder) -> str:
    lines = work_order.products
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0].product.name
    return _("%(n)s款拼版", n=len(lines))


def total_quantity(work_order: WorkOrder) -> int:
    return sum(line.quantity for line in work_order.products)


def visible_to(user):
    """The 施工单 ``user`` may see (DOMAIN.md §1), as a WHERE clause — the list's twin of
    the policy rule ``workorder.view``."""
    if user.has_role("admin", "supervisor", "designer"):
        return True
    conditions = []
    if user.has_role("maker", "salesperson"):
        conditions.append(WorkOrder.created_by_id == user.id)
    if user.has_role("salesperson"):
        # The customers' ids themselves, not a subquery: PostgreSQL cannot estimate ``OR customer_id
        # IN (SELECT …)`` and took half of all 施工单 for it, so it counted a salesperson's few tasks
        # by reading all 50,000 and walked the whole task list for a page of them.
        customers = list(db.session.scalars(select(Customer.id).where(Customer.salesperson_id == user.id)))
        if customers:
            conditions.append(WorkOrder.customer_id.in_(customers))
    return or_(*conditions) if conditions else False


@dataclass
class ListFilters:
    q: str = ""
    approval_status: str = ""
    status: str = ""
    priority: str = ""
    customer_id: int | None = None
    salesperson_id: int | None = None
    created_by_id: int | None = None
    delivery_from: date | None = None
    delivery_to: date | None = None
    overdue: bool = False
    at_risk: bool = False  # 延期风险 (DOMAIN.md §12)
    sort: str = "-created"


SORTS = {
    "-created": (WorkOrder.created_at.desc(), WorkOrder.id.desc()),
    "created": (WorkOrder.created_at.asc(), WorkOrder.id.asc()),
    "-number": (WorkOrder.number.desc(),),
    "number": (WorkOrder.number.asc(),),
    "delivery": (WorkOrder.delivery_date.asc(), WorkOrder.id.asc()),
    "-delivery": (WorkOrder.delivery_date.desc(), WorkOrder.id.desc()),
    "order_date": (WorkOrder.order_date.asc(), WorkOrder.id.asc()),
    "-order_date": (WorkOrder.order_date.desc(), WorkOrder.id.desc()),
}
SORT_LABELS = {
    "-created": _l("最新创建"), "created": _l("最早创建"), "-number": _l("施工单号 从大到小"),
    "number": _l("施工单号 从小到大"), "delivery": _l("交货日期 从早到晚"), "-delivery": _l("交货日期 从晚到早"),
    "order_date": _l("下单日期 从早到晚"), "-order_date": _l("下单日期 从晚到早"),
}


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_work_orders(user, filters: ListFilters, page: int = 1, per_page: int = 20) -> Page:
    """One page of the 施工单 ``user`` sees, filtered, searched and sorted in the database."""
    conditions = [visible_to(user)]
    if filters.q.strip():
        pattern = f"%{filters.q.strip()}%"
        product_match = exists(
            select(WorkOrderProduct.id).join(Product, Product.id == WorkOrderProduct.product_id)
            .where(WorkOrderProduct.work_order_id == WorkOrder.id,
                   or_(Product.name.ilike(pattern), Product.code.ilike(pattern)))
        )
        customer_match = WorkOrder.customer_id.in_(select(Customer.id).where(Customer.name.ilike(pattern)))
        conditions.append(or_(WorkOrder.number.ilike(pattern), customer_match, product_match))
    for column, value in ((WorkOrder.approval_status, filters.approval_status), (WorkOrder.status, filters.status),
                          (WorkOrder.priority, filters.priority), (WorkOrder.customer_id, filters.customer_id),
                          (WorkOrder.created_by_id, filters.created_by_id)):
        if value:
            conditions.append(column == value)
    if filters.salesperson_id:
        conditions.append(WorkOrder.customer_id.in_(
            select(Customer.id).where(Customer.salesperson_id == filters.salesperson_id)))
    if filters.delivery_from:
        conditions.append(WorkOrder.delivery_date >= filters.delivery_from)
    if filters.delivery_to:
        conditions.append(WorkOrder.delivery_date <= filters.delivery_to)
    if filters.overdue:
        conditions.append(WorkOrder.delivery_date < plant_today())
        conditions.append(WorkOrder.status.not_in(("completed", "cancelled")))
    if filters.at_risk:
        from app.services import planning

        conditions.append(planning.at_risk_filter())
    total = db.session.scalar(select(func.count()).select_from(WorkOrder).where(*conditions))
    page = max(1, page)
    statement = (
        select(WorkOrder).where(*conditions)
        .options(joinedload(WorkOrder.customer),
                 selectinload(WorkOrder.products).joinedload(WorkOrderProduct.product),
                 selectinload(WorkOrder.steps))
        .order_by(*SORTS.get(filters.sort, SORTS["-created"]))
        .limit(per_page).offset((page - 1) * per_page)
    )
    return Page(list(db.session.scalars(statement)), total, page, per_page)


# ---------------------------------------------------------------- create and edit

def create(actor, data: WorkOrderInput, *, upload=None, submit: bool = False) -> WorkOrder:
    """A new 施工单 (审核状态 草稿) with its lines, steps and every draft task; submitted too if asked."""
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
    _announce(work_order, "created")
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
    work_order = _lock(work_order_id, version)
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
    _announce(work_order, "updated")
    return EditOutcome(work_order, plan, applied=True)


def update_approved(actor, work_order_id: int, version: int, data: LimitedInput, *, upload=None) -> WorkOrder:
    """Once approved only notes, delivery date, priority and the design file change."""
    work_order = _lock(work_order_id, version)
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


# ---------------------------------------------------------------- approval

def submit(actor, work_order_id: int, version: int) -> WorkOrder:
    """草稿 → 待审核 once the approval check passes; the approvers are told."""
    work_order = _lock(work_order_id, version)
    if work_order.approval_status != "draft":
        raise _wrong_approval(_l("只有草稿状态的施工单可以提交审核"), work_order)
    _advance_version(work_order, version)
    _submit(actor, work_order, resubmitting=False)
    _announce(work_order, "submitted")
    return work_order


def resubmit(actor, work_order_id: int, version: int) -> WorkOrder:
    """已拒绝 → 待审核; a step left without any task gets its drafts again (DOMAIN.md §4)."""
    work_order = _lock(work_order_id, version)
    if work_order.approval_status != "rejected":
        raise _wrong_approval(_l("只有被拒绝的施工单才能重新提交审核"), work_order)
    _advance_version(work_order, version)
    _submit(actor, work_order, resubmitting=True)
    _announce(work_order, "resubmitted")
    return work_order


def approve(actor, work_order_id: int, version: int, comment: str = "") -> WorkOrder:
    """待审核 → 已通过 in one transaction: drafts become 待开始 and go to their departments."""
    work_order = _lock(work_order_id, version)
    if work_order.approval_status != "pending":
        raise _wrong_approval(_l("只有待审核的施工单可以审核"), work_order)
    approval_check.check(work_order)
    _advance_version(work_order, version)
    drafts = list(db.session.scalars(
        select(Task).where(Task.work_order_id == work_order.id, Task.status == "draft")
        .options(joinedload(Task.step).joinedload(WorkOrderStep.process), joinedload(Task.plate))
        .order_by(Task.id)
    ))
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="release", work_order_id=work_order.id, task_id=task.id,
             from_status="draft", to_status="pending")
        for task in drafts
    ])
    if drafts:
        db.session.execute(
            update_rows(Task).where(Task.id.in_([task.id for task in drafts]))
            .values(status="pending", version=Task.version + 1).execution_options(synchronize_session="evaluate")
        )
    chosen = dispatch_service.dispatch_tasks(drafts, actor)
    now = utcnow()
    previous_status = work_order.status
    work_order.approval_status = "approved"
    work_order.approved_by_id, work_order.approved_at = actor.id, now
    work_order.approval_comment = (comment or "").strip()
    if work_order.status == "pending":
        work_order.status = "in_progress"
    db.session.add(ApprovalLog(work_order_id=work_order.id, action="approve", user_id=actor.id,
                               comment=work_order.approval_comment, created_at=now))
    audit.record(actor, "work_order", work_order.id, "approve", work_order_id=work_order.id,
                 from_status="pending", to_status="approved", reason=work_order.approval_comment,
                 detail={"tasks": len(drafts), "status": [previous_status, work_order.status]})
    _complete_confirmed_plate_tasks(actor, work_order, drafts)
    notifications.notify_approved(work_order, len(drafts), actor)
    _announce(work_order, "approved", department_ids=chosen.values())
    return work_order


def approval_message(work_order_id: int) -> str:
    """What approving did, truthfully: how many tasks went to departments and how many wait in
    the 待分派 pool (auto-dispatch off, or no rule fits) for a supervisor to dispatch."""
    dispatched, pooled = db.session.execute(
        select(func.count(Task.department_id),
               func.count(Task.id).filter(Task.department_id.is_(None), Task.status == "pending"))
        .where(Task.work_order_id == work_order_id, Task.status != "draft")
    ).one()
    if dispatched and pooled:
        return _("审核通过：%(dispatched)s 个任务已分派到部门，%(pooled)s 个任务进入待分派，等待主管分派",
                 dispatched=dispatched, pooled=pooled)
    if pooled:
        return _("审核通过：%(count)s 个任务进入待分派，等待主管分派", count=pooled)
    if dispatched:
        return _("审核通过：%(count)s 个任务已分派到部门", count=dispatched)
    return _("审核通过")


def reject(actor, work_order_id: int, version: int, reason: str) -> WorkOrder:
    """待审核 → 已拒绝 with a reason. The drafts and every manual edit stay (DOMAIN.md §3): the
    maker fixes what the reason names and resubmits, without redoing the rest."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("审核拒绝时，必须填写拒绝原因"), fields={"reason": _l("请填写拒绝原因")},
                      code="reason_required")
    work_order = _lock(work_order_id, version)
    if work_order.approval_status != "pending":
        raise _wrong_approval(_l("只有待审核的施工单可以审核"), work_order)
    _advance_version(work_order, version)
    now = utcnow()
    work_order.approval_status = "rejected"
    work_order.approved_by_id, work_order.approved_at, work_order.approval_comment = actor.id, now, reason
    db.session.add(ApprovalLog(work_order_id=work_order.id, action="reject", user_id=actor.id, comment=reason,
                               created_at=now))
    audit.record(actor, "work_order", work_order.id, "reject", work_order_id=work_order.id, from_status="pending",
                 to_status="rejected", reason=reason)
    notifications.notify_rejected(work_order, reason, actor)
    _announce(work_order, "rejected")
    return work_order


def withdraw(actor, work_order_id: int, version: int, reason: str = "") -> WorkOrder:
    """已通过 → 草稿 while no task has started: every task back to an unassigned draft."""
    reason = (reason or "").strip()
    work_order = _lock(work_order_id, version)
    if work_order.approval_status != "approved":
        raise _wrong_approval(_l("只有已通过审核的施工单可以撤回审核"), work_order)
    if work_order.status in ("completed", "cancelled"):
        raise _wrong_status(_l("施工单已结束，不能撤回审核"), work_order)
    started = started_task_count(work_order)
    if started:
        raise Conflict(_l("已有 %(count)s 个任务开始生产，不能撤回审核", count=started), code="started")
    _advance_version(work_order, version)
    tasks = _open_tasks(work_order, TaskStatus.values())
    holders, departments = {t.operator_id for t in tasks if t.operator_id}, {t.department_id for t in tasks}
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="withdraw", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status=task.status, to_status="draft", reason=reason)
        for task in tasks
    ])
    db.session.execute(
        update_rows(Task).where(Task.work_order_id == work_order.id).values(
            status="draft", department_id=None, operator_id=None, dispatched_at=None, completed_at=None,
            started_at=None, completed_quantity=0, defective_quantity=0, cancel_reason="", completion_reason="",
            pause_reason=None, pause_note="", status_before_pause=None, version=Task.version + 1,
        ).execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update_rows(WorkOrderStep).where(WorkOrderStep.work_order_id == work_order.id)
        .values(status="pending", started_at=None, completed_at=None).execution_options(synchronize_session="fetch")
    )
    previous_status = work_order.status
    work_order.approval_status, work_order.status = "draft", "pending"
    work_order.approved_by_id, work_order.approved_at, work_order.approval_comment = None, None, ""
    db.session.add(ApprovalLog(work_order_id=work_order.id, action="withdraw", user_id=actor.id, comment=reason,
                               created_at=utcnow()))
    audit.record(actor, "work_order", work_order.id, "withdraw", work_order_id=work_order.id,
                 from_status="approved", to_status="draft", reason=reason,
                 detail={"status": [previous_status, "pending"], "tasks": len(tasks)})
    notifications.notify(
        holders - {actor.id}, "system", _("施工单 %(number)s 已撤回审核", number=work_order.number),
        _("施工单 %(number)s 已撤回审核，您在该施工单上的任务已退回草稿，请等待重新审核。", number=work_order.number),
        work_order=work_order,
    )
    _announce(work_order, "withdrawn", departments, holders)
    return work_order


def started_task_count(work_order: WorkOrder) -> int:
    """Tasks someone has worked on. A plate-making task completed by confirming its plate was not
    *worked*: withdrawn, it returns to a draft and completes again at the next approval."""
    return db.session.scalar(
        select(func.count()).select_from(Task).where(
            Task.work_order_id == work_order.id,
            or_(Task.started_at.is_not(None), Task.status.in_(("in_progress", "paused")),
                (Task.status == "completed") & Task.auto_complete.is_(False)),
        )
    )


# ---------------------------------------------------------------- production

def pause(actor, work_order_id: int, version: int, reason: str = "") -> WorkOrder:
    """进行中 → 已暂停: every 待开始/进行中 task pauses and remembers what it was."""
    reason = (reason or "").strip()
    work_order = _lock(work_order_id, version)
    _require_approved(work_order, _l("施工单尚未审核通过，不能暂停"))
    if work_order.status != "in_progress":
        raise _wrong_status(_l("只有进行中的施工单可以暂停"), work_order)
    _advance_version(work_order, version)
    tasks = _open_tasks(work_order, ("pending", "in_progress"))
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="pause", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status=task.status, to_status="paused",
             reason=_("施工单暂停") + (f"：{reason}" if reason else ""))
        for task in tasks
    ])
    work_periods.close([task.id for task in tasks if task.status == "in_progress"], utcnow())
    for status in ("pending", "in_progress"):
        ids = [task.id for task in tasks if task.status == status]
        if ids:
            db.session.execute(
                update_rows(Task).where(Task.id.in_(ids)).values(
                    status="paused", status_before_pause=status, pause_reason="other",
                    pause_note=(reason or _("施工单已暂停"))[:255], version=Task.version + 1,
                ).execution_options(synchronize_session="evaluate")
            )
    work_order.status = "paused"
    audit.record(actor, "work_order", work_order.id, "pause", work_order_id=work_order.id,
                 from_status="in_progress", to_status="paused", reason=reason, detail={"tasks": len(tasks)})
    _announce(work_order, "paused", *_reach(tasks))
    return work_order


def resume(actor, work_order_id: int, version: int) -> WorkOrder:
    """已暂停 → 进行中: the tasks the pause stopped get their status back; tasks an operator had
    paused themselves (with their own reason) stay paused."""
    work_order = _lock(work_order_id, version)
    if work_order.status != "paused":
        raise _wrong_status(_l("只有已暂停的施工单可以恢复"), work_order)
    _advance_version(work_order, version)
    tasks = [task for task in _open_tasks(work_order, ("paused",)) if task.status_before_pause]
    restored = {task.id: task.status_before_pause for task in tasks}
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="resume", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status="paused", to_status=restored[task.id],
             reason=_("施工单恢复"))
        for task in tasks
    ])
    for status in ("pending", "in_progress"):
        ids = [task_id for task_id, before in restored.items() if before == status]
        if ids:
            db.session.execute(
                update_rows(Task).where(Task.id.in_(ids)).values(
                    status=status, status_before_pause=None, pause_reason=None, pause_note="",
                    version=Task.version + 1,
                ).execution_options(synchronize_session="evaluate")
            )
    # The operators of running tasks start a new work period, as if each had pressed 继续.
    now = utcnow()
    db.session.add_all([TimeLog(task_id=task.id, operator_id=task.operator_id, started_at=now)
                        for task in tasks if restored[task.id] == "in_progress" and task.operator_id])
    work_order.status = "in_progress"
    audit.record(actor, "work_order", work_order.id, "resume", work_order_id=work_order.id,
                 from_status="paused", to_status="in_progress", detail={"tasks": len(tasks)})
    _announce(work_order, "resumed", *_reach(tasks))
    return work_order


def cancel(actor, work_order_id: int, version: int, reason: str) -> WorkOrder:
    """→ 已取消 with a reason: every open task is cancelled and its operator told."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("取消施工单必须填写原因"), fields={"reason": _l("请填写取消原因")}, code="reason_required")
    work_order = _lock(work_order_id, version)
    _require_approved(work_order, _l("施工单尚未审核通过，不能取消；未审核的施工单可以直接删除"))
    if work_order.status in ("completed", "cancelled"):
        raise _wrong_status(_l("施工单已结束，不能取消"), work_order)
    _advance_version(work_order, version)
    tasks = _open_tasks(work_order, OPEN_TASK_STATUSES)
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="cancel", work_order_id=work_order.id, task_id=task.id,
             department_id=task.department_id, from_status=task.status, to_status="cancelled", reason=reason)
        for task in tasks
    ])
    work_periods.close([task.id for task in tasks], utcnow())
    if tasks:
        db.session.execute(
            update_rows(Task).where(Task.id.in_([task.id for task in tasks])).values(
                status="cancelled", cancel_reason=reason, status_before_pause=None, version=Task.version + 1,
            ).execution_options(synchronize_session="evaluate")
        )
    for task in tasks:
        notifications.notify_task_cancelled(task, reason, actor)
    _settle_steps(work_order)
    previous = work_order.status
    work_order.status, work_order.cancel_reason = "cancelled", reason
    audit.record(actor, "work_order", work_order.id, "cancel", work_order_id=work_order.id, from_status=previous,
                 to_status="cancelled", reason=reason, detail={"tasks": len(tasks)})
    _announce(work_order, "cancelled", *_reach(tasks))
    return work_order


def delete_work_order(actor, work_order_id: int, version: int) -> str:
    """Only before approval; after approval a 施工单 is cancelled, never deleted. Returns its number."""
    work_order = _lock(work_order_id, version)
    if work_order.approval_status == "approved":
        raise Conflict(_l("已审核通过的施工单不能删除，请改为取消"), code="approved")
    _advance_version(work_order, version)
    number, identifier, approval = work_order.number, work_order.id, work_order.approval_status
    events.publish("work_order.deleted", work_order=work_order)
    db.session.execute(delete(Task).where(Task.work_order_id == identifier)
                       .execution_options(synchronize_session="fetch"))
    db.session.execute(delete(Notification).where(Notification.work_order_id == identifier)
                       .execution_options(synchronize_session="fetch"))
    db.session.delete(work_order)
    audit.record(actor, "work_order", identifier, "delete", work_order_id=identifier, from_status=approval,
                 detail={"number": number})
    return number


# ---------------------------------------------------------------- draft tasks

def update_draft(actor, work_order_id: int, task_id: int, version: int, *, quantity: int,
                 requirements: str = "", notes: str = "") -> Task:
    """Edit one draft: quantity, 生产要求 and notes."""
    _check_quantity(quantity)
    work_order = _lock_for_drafts(work_order_id)
    task = _draft_of(work_order, task_id)
    before = {"target_quantity": task.target_quantity, "production_requirements": task.production_requirements,
              "notes": task.notes}
    after = {"target_quantity": quantity, "production_requirements": (requirements or "").strip(),
             "notes": (notes or "").strip()}
    result = db.session.execute(
        update_rows(Task).where(Task.id == task.id, Task.version == version, Task.status == "draft")
        .values(version=version + 1, **after).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(TASK_STALE_MESSAGE, code="stale")
    db.session.refresh(task)
    audit.record(actor, "task", task.id, "draft_update", work_order_id=work_order.id, task_id=task.id,
                 from_status="draft", to_status="draft", detail={"before": before, "after": after})
    _announce(work_order, "drafts_changed")
    return task


def add_draft(actor, work_order_id: int, step_id: int, *, quantity: int, content: str = "",
              requirements: str = "", notes: str = "") -> Task:
    """A draft added by hand to one of the 施工单's steps."""
    _check_quantity(quantity)
    content = (content or "").strip()
    if len(content) > 255:
        raise Invalid(_l("施工内容不能超过255个字"), fields={"content": _l("施工内容不能超过255个字")})
    work_order = _lock_for_drafts(work_order_id)
    step = next((s for s in work_order.steps if s.id == step_id), None)
    if step is None:
        raise Invalid(_l("请选择本施工单的工序"), fields={"step_id": _l("请选择本施工单的工序")})
    spec = generation.TaskSpec(step.process_id, "general", content or f"{step.process.name}：{work_order.number}",
                               quantity)
    generation.insert_drafts(work_order, [spec], {step.process_id: step.id})
    task = db.session.scalar(select(Task).where(Task.work_order_id == work_order.id).order_by(Task.id.desc()))
    task.production_requirements, task.notes = (requirements or "").strip(), (notes or "").strip()
    audit.record(actor, "task", task.id, "draft_add", work_order_id=work_order.id, task_id=task.id,
                 to_status="draft", detail={"content": task.content, "target_quantity": quantity})
    _announce(work_order, "drafts_changed")
    return task


def bulk_update_drafts(actor, work_order_id: int, task_ids: Sequence[int], *, quantity: int | None = None,
                       requirements: str | None = None, notes: str | None = None) -> BulkOutcome:
    """Set the given fields (None = leave unchanged) on each selected draft; one result per task."""
    values = {key: value.strip() if isinstance(value, str) else value
              for key, value in (("target_quantity", quantity), ("production_requirements", requirements),
                                 ("notes", notes)) if value is not None}
    if not values:
        raise Invalid(_l("请至少填写一项要修改的内容"), code="nothing_to_change")
    if quantity is not None:
        _check_quantity(quantity)
    work_order = _lock_for_drafts(work_order_id)

    def apply(task: Task) -> None:
        before = {key: getattr(task, key) for key in values}
        db.session.execute(update_rows(Task).where(Task.id == task.id).values(version=Task.version + 1, **values)
                           .execution_options(synchronize_session=False))
        audit.record(actor, "task", task.id, "draft_update", work_order_id=work_order.id, task_id=task.id,
                     from_status="draft", to_status="draft", detail={"before": before, "after": values})

    items = _for_each_draft(work_order, task_ids, apply, _l("只能编辑草稿状态的任务"), _l("已更新"))
    ok = sum(1 for item in items if item.ok)
    _announce(work_order, "drafts_changed")
    return BulkOutcome(items, _("成功更新 %(ok)s 个草稿任务，失败 %(failed)s 个", ok=ok, failed=len(items) - ok))


def bulk_delete_drafts(actor, work_order_id: int, task_ids: Sequence[int]) -> BulkOutcome:
    work_order = _lock_for_drafts(work_order_id)

    def apply(task: Task) -> None:
        audit.record(actor, "task", task.id, "draft_delete", work_order_id=work_order.id, task_id=task.id,
                     from_status="draft", detail={"number": task.number, "content": task.content})
        db.session.delete(task)

    items = _for_each_draft(work_order, task_ids, apply, _l("只能删除草稿状态的任务"), _l("已删除"))
    ok = sum(1 for item in items if item.ok)
    _announce(work_order, "drafts_changed")
    return BulkOutcome(items, _("成功删除 %(ok)s 个任务，失败 %(failed)s 个", ok=ok, failed=len(items) - ok))


def _for_each_draft(work_order, task_ids, apply, not_draft_message, done_message) -> list[ItemResult]:
    ids = list(dict.fromkeys(task_ids))
    if not ids:
        raise Invalid(_l("请至少选择一个草稿任务"), code="nothing_selected")
    if len(ids) > MAX_BULK:
        raise Invalid(_l("一次最多处理 %(max)s 个任务", max=MAX_BULK), code="too_many")
    found = {task.id: task for task in db.session.scalars(
        for_update(select(Task).where(Task.id.in_(ids), Task.work_order_id == work_order.id))
    )}
    items = []
    for task_id in ids:
        task = found.get(task_id)
        if task is None:
            items.append(ItemResult(task_id, "", False, _("任务不存在")))
        elif task.status != "draft":
            items.append(ItemResult(task_id, task.number, False, str(not_draft_message)))
        else:
            apply(task)
            items.append(ItemResult(task_id, task.number, True, str(done_message)))
    return items


def _lock_for_drafts(work_order_id: int) -> WorkOrder:
    """Drafts change only while the 施工单 is unapproved; the row lock keeps approval out meanwhile."""
    work_order = _lock(work_order_id)
    if work_order.approval_status not in EDITABLE_APPROVAL:
        raise Conflict(_l("施工单已审核通过，草稿任务不能再修改"), code="approved")
    return work_order


def _draft_of(work_order: WorkOrder, task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None or task.work_order_id != work_order.id:
        raise NotFound(_l("任务不存在"), code="task_not_found")
    if task.status != "draft":
        raise Conflict(_l("只能编辑草稿状态的任务，当前任务状态为：%(label)s",
                          label=TaskStatus.label_of(task.status)), code="not_draft")
    return task


def _check_quantity(quantity) -> None:
    if quantity is None or quantity < 0:
        raise Invalid(_l("数量不能为负数"), fields={"quantity": _l("数量不能为负数")})


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


def available_actions(user, work_order: WorkOrder, problems: list[str] | None = None) -> list[ActionState]:
    """The transitions ``user`` may take now (policy AND state), each with what its form needs.

    ``problems`` is the approval check's result when the caller already has it.
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


def approval_problems(user, work_order: WorkOrder) -> list[str]:
    """What the approval check would refuse, shown to the people who submit or approve."""
    if work_order.approval_status == "approved" or not (
        policy.can(user, "workorder.submit", work_order) or policy.can(user, "workorder.approve", work_order)
    ):
        return []
    refilled: set[int] = set()
    if work_order.approval_status == "rejected":
        # Resubmitting fills an empty step first: its emptiness is no problem of the resubmission.
        refilled_processes = {spec.process_id for spec in _drafts_of_empty_steps(work_order)}
        refilled = {step.id for step in work_order.steps if step.process_id in refilled_processes}
    return [problem.message for problem in approval_check.problems(work_order, refilled_steps=refilled)]


def may_edit_drafts(user, work_order: WorkOrder) -> bool:
    return work_order.approval_status in EDITABLE_APPROVAL and policy.can(user, "workorder.edit_drafts", work_order)


# ---------------------------------------------------------------- internals: locking and versions

def _lock(work_order_id: int, version: int | None = None) -> WorkOrder:
    """The 施工单 row, locked for this transaction (PostgreSQL; SQLite serialises writers anyway)."""
    work_order = db.session.scalar(
        for_update(select(WorkOrder).where(WorkOrder.id == work_order_id))
        .execution_options(populate_existing=True)
    )
    if work_order is None:
        raise NotFound(_l("施工单不存在"), code="work_order_not_found")
    if version is not None and work_order.version != version:
        raise Conflict(STALE_MESSAGE, code="stale")
    return work_order


def _advance_version(work_order: WorkOrder, version: int) -> None:
    """The compare-and-set every change starts with; on SQLite it is what catches a lost race."""
    result = db.session.execute(
        update_rows(WorkOrder).where(WorkOrder.id == work_order.id, WorkOrder.version == version)
        .values(version=version + 1).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(STALE_MESSAGE, code="stale")
    set_committed_value(work_order, "version", version + 1)


def _wrong_approval(message, work_order: WorkOrder) -> Conflict:
    return Conflict(_l("%(message)s，当前审核状态：%(label)s", message=message,
                       label=ApprovalStatus.label_of(work_order.approval_status)), code="wrong_state")


def _wrong_status(message, work_order: WorkOrder) -> Conflict:
    return Conflict(_l("%(message)s，当前状态：%(label)s", message=message,
                       label=WorkOrderStatus.label_of(work_order.status)), code="wrong_state")


def _require_approved(work_order: WorkOrder, message) -> None:
    if work_order.approval_status != "approved":
        raise _wrong_approval(message, work_order)


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


def _submit(actor, work_order: WorkOrder, *, resubmitting: bool) -> None:
    """→ 待审核, after restoring missing drafts and passing the approval check; approvers are told."""
    if resubmitting:
        generation.insert_drafts(work_order, _drafts_of_empty_steps(work_order), _step_ids(work_order))
    approval_check.check(work_order)
    previous = work_order.approval_status
    now = utcnow()
    work_order.approval_status, work_order.submitted_at, work_order.approval_comment = "pending", now, ""
    action = "resubmit" if resubmitting else "submit"
    db.session.add(ApprovalLog(work_order_id=work_order.id, action=action, user_id=actor.id, created_at=now))
    audit.record(actor, "work_order", work_order.id, action, work_order_id=work_order.id,
                 from_status=previous, to_status="pending")
    notifications.notify_approval_requested(work_order, actor)


def _empty_step_ids(work_order: WorkOrder) -> set[int]:
    with_tasks = set(db.session.scalars(select(Task.step_id).where(Task.work_order_id == work_order.id).distinct()))
    return {step.id for step in work_order.steps if step.id not in with_tasks}


def _drafts_of_empty_steps(work_order: WorkOrder) -> list[generation.TaskSpec]:
    """What a resubmission adds: the generated drafts of each step that has no task at all.

    Drafts kept through the rejection — edited, added or deleted by hand — are the maker's work
    and stay as they are; only a step left empty (e.g. rejected before drafts were kept) is filled.
    """
    empty_ids = _empty_step_ids(work_order)
    empty = {step.process_id for step in work_order.steps if step.id in empty_ids}
    if not empty:
        return []
    return [spec for spec in generation.generate(_shape_of(work_order)) if spec.process_id in empty]


def _complete_confirmed_plate_tasks(actor, work_order: WorkOrder, released: list[Task]) -> None:
    """A plate confirmed before approval has already been made: its 制版 task completes now
    (reference §13 #43), and its step with it when nothing else is left."""
    done = [task for task in released
            if task.task_type == "plate_making" and task.plate is not None and task.plate.confirmed]
    if not done:
        return
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="auto_complete", work_order_id=work_order.id,
             task_id=task.id, department_id=task.department_id, from_status="pending", to_status="completed",
             quantity_delta=task.target_quantity, reason=_("版已确认：%(code)s", code=task.plate.code))
        for task in done
    ])
    db.session.execute(
        update_rows(Task).where(Task.id.in_([task.id for task in done])).values(
            status="completed", completed_quantity=Task.target_quantity, completed_at=utcnow(),
            version=Task.version + 1,
        ).execution_options(synchronize_session="evaluate")
    )
    _settle_steps(work_order, actor, notify=True)


def _settle_steps(work_order: WorkOrder, actor=None, *, notify: bool = False) -> None:
    """Steps whose tasks are all finished: 已完成 if one completed, else 已跳过 (DOMAIN.md §3)."""
    statuses: dict[int, set[str]] = {}
    for step_id, status in db.session.execute(
        select(Task.step_id, Task.status).where(Task.work_order_id == work_order.id, Task.status != "draft")
    ):
        statuses.setdefault(step_id, set()).add(status)
    now = utcnow()
    for step in db.session.scalars(select(WorkOrderStep).where(WorkOrderStep.work_order_id == work_order.id)
                                   .options(joinedload(WorkOrderStep.process))):
        found = statuses.get(step.id, set())
        if step.status in FINISHED_STEP_STATUSES or not found or not found <= {"completed", "cancelled"}:
            continue
        previous = step.status
        step.status = "completed" if "completed" in found else "skipped"
        step.started_at, step.completed_at = step.started_at or now, now
        audit.record(actor, "step", step.id, "complete" if step.status == "completed" else "skip",
                     work_order_id=work_order.id, from_status=previous, to_status=step.status)
        if notify and step.status == "completed":
            notifications.notify_step_completed(step, actor)


def _open_tasks(work_order: WorkOrder, statuses: Iterable[str], *, lock: bool = True) -> list[Task]:
    statement = select(Task).where(Task.work_order_id == work_order.id, Task.status.in_(tuple(statuses))) \
        .order_by(Task.id).execution_options(populate_existing=True)
    return list(db.session.scalars(for_update(statement) if lock else statement))


def _reach(tasks: Iterable[Task]) -> tuple[set, set]:
    """The departments and operators whose pages show these tasks."""
    tasks = list(tasks)
    return ({t.department_id for t in tasks if t.department_id}, {t.operator_id for t in tasks if t.operator_id})


def _announce(work_order: WorkOrder, verb: str, department_ids: Iterable = (), user_ids: Iterable = ()) -> None:
    """One event (``work_order.<verb>``) for the 施工单 and everyone whose tasks changed with it."""
    events.publish(f"work_order.{verb}", work_order=work_order,
                   department_ids={d for d in department_ids if d}, user_ids={u for u in user_ids if u})


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


@dataclass
class FilterOptions:
    customers: list[Customer]
    salespeople: list  # (id, name) rows
    makers: list


def list_filter_options(user) -> FilterOptions:
    """Choices of the list's filters: customers of the visible 施工单, salespeople, creators."""
    def with_role(*codes):
        return db.session.execute(
            select(User.id, User.name).distinct().join(user_roles, user_roles.c.user_id == User.id)
            .join(Role, Role.id == user_roles.c.role_id).where(Role.code.in_(codes)).order_by(User.name)
        ).all()

    customers = select(Customer).order_by(Customer.name)
    if not user.has_role("admin", "supervisor", "designer", "maker"):
        customers = customers.where(Customer.id.in_(select(WorkOrder.customer_id).where(visible_to(user))))
    return FilterOptions(list(db.session.scalars(customers)), with_role("salesperson"),
                         with_role("maker", "salesperson", "admin"))


# ---------------------------------------------------------------- what the detail page shows

def task_numbers(work_order: WorkOrder) -> dict[int, str]:
    return {task.id: task.number for step in work_order.steps for task in step.tasks}


def task_counts(work_order: WorkOrder) -> dict[str, int]:
    """Tasks by status over every step, plus ``total`` and the completed share in ``percent``."""
    counts = {status: 0 for status in TaskStatus.values()}
    for step in work_order.steps:
        for task in step.tasks:
            counts[task.status] = counts.get(task.status, 0) + 1
    total = sum(counts.values())
    counts["total"] = total
    counts["percent"] = round(counts["completed"] * 100 / total) if total else 0
    return counts


