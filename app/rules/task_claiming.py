"""Which tasks a person may claim now (DOMAIN.md §7, §8): ``can_claim_task`` and its SQL twin
``claimable_task_conditions`` + ``CLAIMABLE_WORK_ORDER_CONDITIONS``. The two must agree on every
task (tests/core/test_rule_twins.py). The operator task cap is checked apart (app.services.dispatch.capacity).

A task may be claimed when nobody holds it, it is 待开始, its 施工单 is approved and in production
(待开始 or 进行中: not paused, cancelled or finished), and the person is an operator or a supervisor
who belongs to the task's department (``claims_in_department``, the policy rule ``task.claim``:
the claim action checks it first, to say "not your department" before anything else).
"""
from __future__ import annotations

from sqlalchemy import false

from app.enums import PRIORITY_RANK
from app.models import Task, WorkOrder

CLAIMING_ROLES = ("operator", "supervisor")
# The production statuses of a 施工单 whose tasks can be worked on (app.services.tasks.actions.work_order_stop
# names the others).
CLAIMABLE_WORK_ORDER_STATUSES = ("pending", "in_progress")

CLAIMABLE_WORK_ORDER_CONDITIONS = (WorkOrder.approval_status == "approved",
                                   WorkOrder.status.in_(CLAIMABLE_WORK_ORDER_STATUSES))


def work_order_in_production(work_order) -> bool:
    """The Python reading of CLAIMABLE_WORK_ORDER_CONDITIONS: approved, and 待开始 or 进行中."""
    return work_order.approval_status == "approved" and work_order.status in CLAIMABLE_WORK_ORDER_STATUSES


def place_in_lists(priority: str, delivery_date) -> list:
    """Where a 施工单's tasks stand in a kiosk's 可认领 list, but for their ids (then ascending): its priority
    rank, most urgent first, then its delivery date, earliest first — the Python reading of the lists' SQL
    order (app.services.tasks.cards ``_urgent_first``), which live.js compares cards and events by."""
    return [PRIORITY_RANK.get(priority, 1), delivery_date.isoformat() if delivery_date else ""]


def claims_in_department(user, task) -> bool:
    return user.has_role(*CLAIMING_ROLES) and task.department_id in user.department_ids


def open_for_claiming(task) -> bool:
    """Nobody holds the task, it is 待开始, and its 施工单 is approved and in production."""
    return task.operator_id is None and task.status == "pending" and work_order_in_production(task.work_order)


def can_claim_task(user, task) -> bool:
    return open_for_claiming(task) and claims_in_department(user, task)


def claimable_task_conditions(user) -> tuple:
    """The conditions on ``Task`` alone; with ``CLAIMABLE_WORK_ORDER_CONDITIONS`` on its joined
    ``WorkOrder`` they select the tasks ``user`` may claim now."""
    if not user.has_role(*CLAIMING_ROLES):
        return (false(),)
    return (Task.department_id.in_(sorted(user.department_ids) or [-1]), Task.operator_id.is_(None),
            Task.status == "pending")
