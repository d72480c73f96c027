"""Operator auto-selection at dispatch (DOMAIN.md §6): opt-in per rule, every strategy below the cap.

A rule whose strategy is 手动 leaves the task claimable. Otherwise the operator is chosen among the
active members of the department with the operator role who hold fewer open tasks than the cap:
任务最少 (fewest open tasks), 轮询 (the next after the one chosen last, stored on the rule under a
row lock so two workers never pick from the same position), 随机, 第一个可用 (lowest id).
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy import func, select

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import AssignmentRule, Role, Task, User
from app.models.org import user_departments, user_roles
from app.services.core import audit, settings
from app.services.core.errors import Conflict
from app.services.core.locking import for_update
from app.services.dispatch import capacity
from app.services.notifications import inbox as notifications


def department_operators(department_id: int) -> list[User]:
    """Active operators who are members of the department, in a stable order (id)."""
    return list(db.session.scalars(
        select(User)
        .join(user_departments, user_departments.c.user_id == User.id)
        .join(user_roles, user_roles.c.user_id == User.id)
        .join(Role, Role.id == user_roles.c.role_id)
        .where(user_departments.c.department_id == department_id, Role.code == "operator", User.is_active.is_(True))
        .order_by(User.id).distinct()
    ))


def operator_loads(operator_ids) -> dict[int, int]:
    """Open tasks (待开始 + 进行中 + 已暂停) per operator, in one query."""
    operator_ids = list(operator_ids)
    if not operator_ids:
        return {}
    return dict(db.session.execute(
        select(Task.operator_id, func.count()).where(Task.operator_id.in_(operator_ids),
                                                     Task.status.in_(OPEN_TASK_STATUSES))
        .group_by(Task.operator_id)
    ).all())


def choose_operator(rule: AssignmentRule, loads: dict[int, int] | None = None) -> int | None:
    """The operator the rule's strategy picks now, or None (手动, or everyone is at the cap)."""
    if rule.operator_strategy == "manual":
        return None
    operators = department_operators(rule.department_id)
    loads = loads if loads is not None else operator_loads(o.id for o in operators)
    cap = settings.get("operator_task_cap")
    available = [o.id for o in operators if loads.get(o.id, 0) < cap]
    if not available:
        return None
    strategy = rule.operator_strategy
    if strategy == "least_tasks":
        return min(available, key=lambda user_id: (loads.get(user_id, 0), user_id))
    if strategy == "random":
        return random.choice(available)
    if strategy == "round_robin":
        return _next_in_rotation(rule, available)
    return available[0]


def _next_in_rotation(rule: AssignmentRule, available: list[int]) -> int:
    last = db.session.scalar(
        for_update(select(AssignmentRule.round_robin_last_user_id).where(AssignmentRule.id == rule.id))
    )
    chosen = next((user_id for user_id in available if last is None or user_id > last), available[0])
    rule.round_robin_last_user_id = chosen
    return chosen


def assign_operators(tasks: Sequence[Task], chosen_departments: dict[int, int | None], actor) -> dict[int, int]:
    """After department dispatch: give each pending task an operator when its rule asks for one.

    Returns task id → operator id for the tasks that got one. The cap is re-checked under the
    operator's lock (capacity.ensure_below_cap); an operator who fills up meanwhile is skipped.
    """
    pairs = {(task.step.process_id, chosen_departments.get(task.id)) for task in tasks
             if chosen_departments.get(task.id) is not None}
    if not pairs:
        return {}
    rules = {
        (rule.process_id, rule.department_id): rule
        for rule in db.session.scalars(select(AssignmentRule).where(
            AssignmentRule.process_id.in_({p for p, _ in pairs}), AssignmentRule.operator_strategy != "manual"))
        if (rule.process_id, rule.department_id) in pairs
    }
    assigned: dict[int, int] = {}
    for task in tasks:
        rule = rules.get((task.step.process_id, chosen_departments.get(task.id)))
        if rule is None or task.status != "pending" or task.operator_id is not None:
            continue
        operator_id = choose_operator(rule)
        if operator_id is None:
            continue
        try:
            capacity.ensure_below_cap(operator_id)
        except Conflict:
            continue
        task.operator_id = operator_id
        task.version += 1
        db.session.flush()
        assigned[task.id] = operator_id
        audit.record(actor, "task", task.id, "assign", work_order_id=task.work_order_id, task_id=task.id,
                     department_id=task.department_id, from_status=task.status, to_status=task.status,
                     detail={"to_operator_id": operator_id, "strategy": rule.operator_strategy, "auto": True})
        notifications.notify_task_assigned(task, None)
    return assigned
