"""What every 施工单 change shares: the row lock with its policy and version checks, state errors, events."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy import update as update_rows
from sqlalchemy.orm.attributes import set_committed_value

from app import policy
from app.enums import ApprovalStatus, WorkOrderStatus
from app.extensions import db
from app.models import (
    Task,
    WorkOrder,
)
from app.realtime import events
from app.services.core.errors import Conflict, Invalid, NotFound
from app.services.core.locking import for_update

STALE_MESSAGE = _l("施工单已被其他人更新，请刷新后重试")
TASK_STALE_MESSAGE = _l("任务已被其他人更新，请刷新后重试")
# Before approval a 施工单 is fully editable and its drafts may be edited (DOMAIN.md §3).
EDITABLE_APPROVAL = ("draft", "pending", "rejected")
CMYK = ("C", "M", "Y", "K")
MAX_BULK = 1000



# ---------------------------------------------------------------- internals: locking and versions

def _lock(work_order_id: int, version: int | None = None, *, actor=None, action: str | None = None,
          check=None) -> WorkOrder:
    """The 施工单 row, locked for this transaction (PostgreSQL; SQLite serialises writers anyway).

    With ``action``, ``actor`` must be allowed it by policy before anything else is said about the
    施工单 (a CLI, a job or the API cannot skip the check), and a version must be given. Then
    ``check`` validates the input, and last the version is compared with the row's.
    """
    work_order = db.session.scalar(
        for_update(select(WorkOrder).where(WorkOrder.id == work_order_id))
        .execution_options(populate_existing=True)
    )
    if work_order is None:
        raise NotFound(_l("施工单不存在"), code="work_order_not_found")
    if action is not None:
        _authorize(actor, action, work_order)
        if version is None:
            # A page without a version cannot prove what it showed.
            raise Invalid(_l("缺少版本号，请刷新页面后重试"), code="version_required")
    if check is not None:
        check()
    if version is not None and work_order.version != version:
        raise Conflict(STALE_MESSAGE, code="stale")
    return work_order


def _authorize(actor, action: str, work_order: WorkOrder) -> None:
    """Policy, as the pages ask it: first whether ``actor`` sees the 施工单 at all (editing implies
    seeing, and keeps its own refusal), then whether they may take ``action``."""
    if action != "workorder.edit":
        policy.require(actor, "workorder.view", work_order)
    policy.require(actor, action, work_order)


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



def _open_tasks(work_order: WorkOrder, statuses: Iterable[str], *, lock: bool = True) -> list[Task]:
    statement = select(Task).where(Task.work_order_id == work_order.id, Task.status.in_(tuple(statuses))) \
        .order_by(Task.id).execution_options(populate_existing=True)
    return list(db.session.scalars(for_update(statement) if lock else statement))


def _reach(tasks: Iterable[Task]) -> tuple[set, set]:
    """The departments and operators whose pages show these tasks."""
    tasks = list(tasks)
    return ({t.department_id for t in tasks if t.department_id}, {t.operator_id for t in tasks if t.operator_id})


def _announce(work_order: WorkOrder, verb: str, department_ids: Iterable = (), user_ids: Iterable = (), *,
              moves_plan: bool = True, **fields) -> None:
    """One event (``work_order.<verb>``) for the 施工单 and everyone whose tasks changed with it.

    ``moves_plan=False`` for a change of a 施工单 that has no open task, only drafts (created, edited, submitted,
    rejected, its drafts changed): the plan holds open tasks only (DOMAIN.md §12), so nothing is replanned —
    every replan takes the plant's plan lock until its commit, and under load the floor's actions queued behind
    the makers' drafts (app/services/planning/triggers.py). ``fields``: more of the event's payload."""
    events.publish(f"work_order.{verb}", work_order=work_order,
                   department_ids={d for d in department_ids if d}, user_ids={u for u in user_ids if u},
                   **({} if moves_plan else {"moves_plan": False}), **fields)
