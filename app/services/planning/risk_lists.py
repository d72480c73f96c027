"""The 工作台's 延期风险 card (DOMAIN.md §12): the 施工单 a person sees that are projected to finish
after their delivery date — one query for the rows, one for the count."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import WorkOrder, WorkOrderProjection
from app.rules.workorder_visibility import visible_workorders_clause

CARD_ROLES = ("admin", "supervisor", "maker", "salesperson")
CARD_SIZE = 10


@dataclass
class AtRisk:
    total: int
    rows: list[tuple[WorkOrder, WorkOrderProjection]]


def for_dashboard(user, limit: int = CARD_SIZE) -> AtRisk | None:
    """None when the person has no such card (other roles, or planning switched off)."""
    from app.services.planning.engine import enabled

    if not user.has_role(*CARD_ROLES) or not enabled():
        return None
    conditions = [visible_workorders_clause(user), WorkOrderProjection.at_risk.is_(True),
                  WorkOrder.status.not_in(("completed", "cancelled"))]
    joined = select(WorkOrder, WorkOrderProjection).join(
        WorkOrderProjection, WorkOrderProjection.work_order_id == WorkOrder.id)
    total = db.session.scalar(select(func.count()).select_from(WorkOrder).join(
        WorkOrderProjection, WorkOrderProjection.work_order_id == WorkOrder.id).where(*conditions))
    rows = list(db.session.execute(
        joined.where(*conditions).options(joinedload(WorkOrder.customer))
        .order_by(WorkOrder.delivery_date, WorkOrder.id).limit(limit)))
    return AtRisk(total or 0, rows)
