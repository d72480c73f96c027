"""Who approves a 施工单 (DOMAIN.md §1): admins, supervisors and the salesperson who looks after its
customer. One predicate, ``can_approve_workorder``, and its two SQL twins: ``approver_ids`` (the
active people who approve a given 施工单: whom 待审核 is sent to) and ``approvable_workorders_clause``
(the 施工单 a person approves: the 工作台's 待我审核). All three must agree on every person and
every 施工单 (tests/core/test_rule_twins.py); an inactive person approves nothing (policy.can).
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import Customer, Role, User, WorkOrder, user_roles
from app.rules.workorder_visibility import is_customer_salesperson

APPROVER_ROLES = ("admin", "supervisor")


def can_approve_workorder(user, work_order) -> bool:
    return user.has_role(*APPROVER_ROLES) or is_customer_salesperson(user, work_order)


def approver_ids(work_order) -> set[int]:
    """The active people who may approve ``work_order``."""
    approves = Role.code.in_(APPROVER_ROLES)
    salesperson_id = work_order.customer.salesperson_id if work_order.customer is not None else None
    if salesperson_id is not None:
        approves = or_(approves, and_(Role.code == "salesperson", User.id == salesperson_id))
    return set(db.session.scalars(
        select(User.id).join(user_roles, user_roles.c.user_id == User.id).join(Role, Role.id == user_roles.c.role_id)
        .where(approves, User.is_active.is_(True))
    ))


def approvable_workorders_clause(user):
    """The 施工单 ``user`` may approve, as a WHERE clause on ``WorkOrder``: ``True`` (every one),
    ``False`` (none) or a condition."""
    if user.has_role(*APPROVER_ROLES):
        return True
    if user.has_role("salesperson"):
        return WorkOrder.customer_id.in_(select(Customer.id).where(Customer.salesperson_id == user.id))
    return False
