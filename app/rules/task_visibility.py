"""Which tasks a person sees (DOMAIN.md §1): ``can_see_task`` and its SQL twin ``visible_tasks_where``.
The two must agree on every task (tests/core/test_rule_twins.py).

Admins and supervisors see every task; operators their own tasks and the non-draft tasks of their
departments (claimable ones included); makers and salespeople the tasks of the 施工单 they see.
Roles add up. The task centre, its counts, the exports, the statistics and the JSON API all start
from the query, so a list can never show what the detail page would refuse.
"""
from __future__ import annotations

from sqlalchemy import false, or_

from app.models import Task
from app.rules.where import Where
from app.rules.workorder_visibility import can_see_workorder, visible_workorders_clause

SEES_ALL_ROLES = ("admin", "supervisor")


def can_see_task(user, task) -> bool:
    if user.has_role(*SEES_ALL_ROLES):
        return True
    if user.has_role("operator") and (
        task.operator_id == user.id or (task.department_id in user.department_ids and task.status != "draft")
    ):
        return True
    return task.work_order is not None and user.has_role("maker", "salesperson") and \
        can_see_workorder(user, task.work_order)


def visible_tasks_where(user) -> Where:
    """The tasks ``user`` sees, as conditions on ``Task`` (and on its ``WorkOrder`` when they read it)."""
    if user.has_role(*SEES_ALL_ROLES):
        return Where()
    task_rules, work_order_rules = [], []
    if user.has_role("operator"):
        task_rules.append(Task.operator_id == user.id)
        if user.department_ids:
            task_rules.append(Task.department_id.in_(sorted(user.department_ids)) & (Task.status != "draft"))
    if user.has_role("maker", "salesperson"):
        seen = visible_workorders_clause(user)
        if seen is True:
            return Where()
        if seen is not False:
            work_order_rules.append(seen)
    rules = task_rules + work_order_rules
    if not rules:
        return Where.on_tasks(false())
    return Where((or_(*rules),), bool(work_order_rules))
