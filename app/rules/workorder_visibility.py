"""Which 施工单 a person sees (DOMAIN.md §1): ``can_see_workorder`` and its SQL twin
``visible_workorders_clause``. The two must agree on every 施工单 (tests/core/test_rule_twins.py).

Admins, supervisors and designers see every 施工单; a maker the ones they created; a salesperson
the ones they created and those of the customers they look after. Roles add up.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Customer, WorkOrder

SEES_ALL_ROLES = ("admin", "supervisor", "designer")


def is_creator(user, work_order) -> bool:
    return work_order.created_by_id == user.id


def is_customer_salesperson(user, work_order) -> bool:
    """``user`` is a salesperson and looks after the 施工单's customer."""
    return user.has_role("salesperson") and work_order.customer is not None and \
        work_order.customer.salesperson_id == user.id


def can_see_workorder(user, work_order) -> bool:
    if user.has_role(*SEES_ALL_ROLES):
        return True
    if user.has_role("maker") and is_creator(user, work_order):
        return True
    return user.has_role("salesperson") and (is_creator(user, work_order) or is_customer_salesperson(user, work_order))


def visible_workorders_clause(user):
    """The 施工单 ``user`` sees, as a WHERE clause on ``WorkOrder``: ``True`` (every one, callers may
    leave the condition out), ``False`` (none) or a condition."""
    if user.has_role(*SEES_ALL_ROLES):
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
