"""The task centre's bulk actions: many selected tasks, one result per task.

Nothing here decides whether a task may be assigned, cancelled or edited: each task goes through
the per-task service function of its area (``assignment.assign``, ``tasks.cancel``,
``workorders.bulk_update_drafts`` / ``bulk_delete_drafts``), in its own savepoint, so one
refusal does not undo the others. This module only adds what a selection across many tasks
and 施工单 needs: tasks the actor may not see count as missing, drafts are grouped per 施工单,
and input that is wrong for every task (no reason, nothing selected) is refused once, before
anything is written. The caller commits once.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Task, WorkOrder
from app.services.core.errors import DomainError, Invalid
from app.services.dispatch import assignment
from app.services.dispatch.assignment import TaskResult
from app.services.tasks import actions as task_service
from app.services.tasks import queries as task_queries
from app.services.tasks import visibility as task_visibility
from app.services.workorders import drafts

MAX_TASKS = max(task_visibility.PAGE_SIZES)
ACTIONS = ("assign", "cancel", "edit_drafts", "delete_drafts")
MISSING = _l("任务不存在")


@dataclass(frozen=True)
class BulkOutcome:
    results: list[TaskResult]

    @property
    def succeeded(self) -> int:
        return sum(1 for result in self.results if result.ok)

    @property
    def failed(self) -> int:
        return len(self.results) - self.succeeded

    @property
    def summary(self) -> str:
        return _("成功 %(ok)s 个，失败 %(failed)s 个", ok=self.succeeded, failed=self.failed)


@dataclass(frozen=True)
class DraftChanges:
    """None leaves a field as it is."""

    quantity: int | None = None
    requirements: str | None = None
    notes: str | None = None


def assign(actor, task_ids: Iterable[int], operator_id: int | None) -> BulkOutcome:
    ids, missing = _selection(actor, task_ids)
    if not operator_id:
        raise Invalid(_l("请选择操作员"), code="operator_missing", fields={"operator_id": _l("请选择操作员")})
    results = assignment.bulk_assign(ids, operator_id, actor)
    return _outcome(ids, missing, {r.task_id: r for r in results})


def cancel(actor, task_ids: Iterable[int], reason: str) -> BulkOutcome:
    ids, missing = _selection(actor, task_ids)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("请填写取消原因"), code="reason_required", fields={"reason": _l("请填写取消原因")})
    results = {}
    for task in _tasks(ids):
        results[task.id] = assignment.attempt(task, lambda t: task_service.cancel(t, actor, t.version, reason).message)
    return _outcome(ids, missing, results)


def edit_drafts(actor, task_ids: Iterable[int], changes: DraftChanges) -> BulkOutcome:
    if changes == DraftChanges():
        raise Invalid(_l("请至少填写一项要修改的内容"), code="nothing_to_change")
    return _per_work_order(actor, task_ids, lambda work_order_id, ids: drafts.bulk_update_drafts(
        actor, work_order_id, ids, quantity=changes.quantity, requirements=changes.requirements, notes=changes.notes))


def delete_drafts(actor, task_ids: Iterable[int]) -> BulkOutcome:
    return _per_work_order(actor, task_ids, lambda work_order_id, ids: drafts.bulk_delete_drafts(
        actor, work_order_id, ids))


# ---------------------------------------------------------------- helpers

def _selection(actor, task_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(visible ids, ids reported as missing), in the order selected, duplicates dropped."""
    ids = list(dict.fromkeys(task_ids))
    if not ids:
        raise Invalid(_l("请至少选择一个任务"), code="nothing_selected")
    if len(ids) > MAX_TASKS:
        raise Invalid(_l("一次最多处理 %(max)s 个任务", max=MAX_TASKS), code="too_many")
    visible = task_queries.visible_task_ids(actor, ids)
    return [i for i in ids if i in visible], [i for i in ids if i not in visible]


def _tasks(ids: list[int]) -> list[Task]:
    found = {task.id: task for task in db.session.scalars(select(Task).where(Task.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _per_work_order(actor, task_ids: Iterable[int], act) -> BulkOutcome:
    """Drafts are edited through their 施工单 (its lock, its editors): one call per 施工单."""
    ids, missing = _selection(actor, task_ids)
    tasks = _tasks(ids)
    groups: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        groups[task.work_order_id].append(task)
    work_orders = {wo.id: wo for wo in db.session.scalars(select(WorkOrder).where(WorkOrder.id.in_(groups)))}
    results: dict[int, TaskResult] = {}
    for work_order_id, members in groups.items():
        if not policy.can(actor, "workorder.edit_drafts", work_orders[work_order_id]):
            refused = str(policy.refusal("workorder.edit_drafts"))
            results.update({t.id: TaskResult(t.id, t.number, False, refused) for t in members})
            continue
        numbers = {t.id: t.number for t in members}
        try:
            with db.session.begin_nested():
                outcome = act(work_order_id, [t.id for t in members])
        except Invalid:
            raise  # wrong input is wrong for every 施工单: refuse the whole request
        except DomainError as error:
            results.update({i: TaskResult(i, number, False, error.message) for i, number in numbers.items()})
            continue
        results.update({item.task_id: TaskResult(item.task_id, numbers.get(item.task_id, item.number), item.ok,
                                                 item.message) for item in outcome.items})
    return _outcome(ids, missing, results)


def _outcome(ids: list[int], missing: list[int], results: dict[int, TaskResult]) -> BulkOutcome:
    ordered = [results.get(i) or TaskResult(i, "", False, str(MISSING)) for i in ids]
    ordered += [TaskResult(i, "", False, str(MISSING)) for i in missing]
    return BulkOutcome(ordered)


def assignable_operators(actor, operators) -> list:
    """Of ``operators`` (``app.services.tasks.filtering.OperatorChoice``), those ``actor`` may give tasks to: members of
    a department the actor leads (any, for an admin). The assignment service still checks each task."""
    if actor.is_admin:
        return list(operators)
    led = policy.led_department_ids(actor)
    return [operator for operator in operators if operator.department_ids & led]
