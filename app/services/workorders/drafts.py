"""Draft tasks edited by hand before approval: one, added, or many at once."""
from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy import update as update_rows

from app.enums import TaskStatus
from app.extensions import db
from app.models import (
    Task,
    WorkOrder,
)
from app.services.core import audit
from app.services.core.errors import Conflict, Invalid, NotFound
from app.services.core.locking import for_update
from app.services.workorders import task_generation as generation
from app.services.workorders.common import EDITABLE_APPROVAL, MAX_BULK, TASK_STALE_MESSAGE, _announce, _authorize, _lock
from app.services.workorders.inputs import BulkOutcome, ItemResult

# ---------------------------------------------------------------- draft tasks

def update_draft(actor, work_order_id: int, task_id: int, version: int, *, quantity: int,
                 requirements: str = "", notes: str = "") -> Task:
    """Edit one draft: quantity, 生产要求 and notes."""
    work_order = _lock_for_drafts(actor, work_order_id, check=lambda: _check_quantity(quantity))
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
    _announce(work_order, "drafts_changed", moves_plan=False)
    return task


def add_draft(actor, work_order_id: int, step_id: int, *, quantity: int, content: str = "",
              requirements: str = "", notes: str = "") -> Task:
    """A draft added by hand to one of the 施工单's steps."""
    content = (content or "").strip()

    def valid_input():
        _check_quantity(quantity)
        if len(content) > 255:
            raise Invalid(_l("施工内容不能超过255个字"), fields={"content": _l("施工内容不能超过255个字")})

    work_order = _lock_for_drafts(actor, work_order_id, check=valid_input)
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
    _announce(work_order, "drafts_changed", moves_plan=False)
    return task


def bulk_update_drafts(actor, work_order_id: int, task_ids: Sequence[int], *, quantity: int | None = None,
                       requirements: str | None = None, notes: str | None = None) -> BulkOutcome:
    """Set the given fields (None = leave unchanged) on each selected draft; one result per task."""
    values = {key: value.strip() if isinstance(value, str) else value
              for key, value in (("target_quantity", quantity), ("production_requirements", requirements),
                                 ("notes", notes)) if value is not None}

    def valid_input():
        if not values:
            raise Invalid(_l("请至少填写一项要修改的内容"), code="nothing_to_change")
        if quantity is not None:
            _check_quantity(quantity)

    work_order = _lock_for_drafts(actor, work_order_id, check=valid_input)

    def apply(task: Task) -> None:
        before = {key: getattr(task, key) for key in values}
        db.session.execute(update_rows(Task).where(Task.id == task.id).values(version=Task.version + 1, **values)
                           .execution_options(synchronize_session=False))
        audit.record(actor, "task", task.id, "draft_update", work_order_id=work_order.id, task_id=task.id,
                     from_status="draft", to_status="draft", detail={"before": before, "after": values})

    items = _for_each_draft(work_order, task_ids, apply, _l("只能编辑草稿状态的任务"), _l("已更新"))
    ok = sum(1 for item in items if item.ok)
    _announce(work_order, "drafts_changed", moves_plan=False)
    return BulkOutcome(items, _("成功更新 %(ok)s 个草稿任务，失败 %(failed)s 个", ok=ok, failed=len(items) - ok))


def bulk_delete_drafts(actor, work_order_id: int, task_ids: Sequence[int]) -> BulkOutcome:
    work_order = _lock_for_drafts(actor, work_order_id)

    def apply(task: Task) -> None:
        audit.record(actor, "task", task.id, "draft_delete", work_order_id=work_order.id, task_id=task.id,
                     from_status="draft", detail={"number": task.number, "content": task.content})
        db.session.delete(task)

    items = _for_each_draft(work_order, task_ids, apply, _l("只能删除草稿状态的任务"), _l("已删除"))
    ok = sum(1 for item in items if item.ok)
    _announce(work_order, "drafts_changed", moves_plan=False)
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


def _lock_for_drafts(actor, work_order_id: int, check=None) -> WorkOrder:
    """Drafts change only while the 施工单 is unapproved; the row lock keeps approval out meanwhile.
    ``actor`` must be allowed to edit them (policy first), then ``check`` validates the input."""
    work_order = _lock(work_order_id)
    _authorize(actor, "workorder.edit_drafts", work_order)
    if check is not None:
        check()
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
