"""Which tasks a viewer sees (DOMAIN.md §1), written as SQL once in ``visibility``: the twin of the
policy rule ``task.view``. The task centre, its status counts, the exports, the statistics and the JSON API
all start from it, so a list can never show what the detail page would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_

from app.models import Task
from app.services import workorders as workorder_queries


PAGE_SIZES = (20, 50, 100)
# Filter value meaning "no department / no operator" (the 待分派 pool, the claimable tasks).
NONE = "none"
# Status filter value: every open task (待开始 + 进行中 + 已暂停), what an operator's load counts.
OPEN = "open"
STATUS_LABELS = {OPEN: _l("未完成（待开始/进行中/已暂停）")}


@dataclass(frozen=True)
class Where:
    """WHERE conditions on tasks, and whether they read the 施工单 (so it must be joined)."""

    conditions: tuple = ()
    needs_work_order: bool = False

    def __add__(self, other: Where) -> Where:
        return Where(self.conditions + other.conditions, self.needs_work_order or other.needs_work_order)

    @classmethod
    def on_tasks(cls, *conditions) -> Where:
        return cls(tuple(conditions), False)

    @classmethod
    def on_work_orders(cls, *conditions) -> Where:
        return cls(tuple(conditions), True)


def visibility(user) -> Where:
    """The tasks ``user`` may see: admins and supervisors all; operators their own tasks and the
    non-draft tasks of their departments (claimable ones included); makers and salespeople the
    tasks of the 施工单 they see. Roles add up."""
    if user.has_role("admin", "supervisor"):
        return Where()
    task_rules, work_order_rules = [], []
    if user.has_role("operator"):
        task_rules.append(Task.operator_id == user.id)
        if user.department_ids:
            task_rules.append(Task.department_id.in_(sorted(user.department_ids)) & (Task.status != "draft"))
    if user.has_role("maker", "salesperson"):
        seen = workorder_queries.visible_to(user)
        if seen is True:
            return Where()
        if seen is not False:
            work_order_rules.append(seen)
    rules = task_rules + work_order_rules
    if not rules:
        return Where.on_tasks(false())
    return Where((or_(*rules),), bool(work_order_rules))
