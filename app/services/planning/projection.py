"""Projection and 延期风险 (DOMAIN.md §12, "Projection").

A 施工单's projected finish = the latest planned finish of its open tasks; 无法预计 when one of
them is unplanned (not queued, or queued without planned times). Projected later than the delivery
date (the projected finish's plant-local date after it) → 延期风险, and the 交期风险 notification
(§9: creator and the customer's salesperson) once, the first time it crosses.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import PlanEntry, Task, WorkOrder, WorkOrderProjection
from app.realtime import events
from app.services import notifications
from app.services.planning import calendar as plant_calendar
from app.utils.timeutil import plant_zone, utcnow

EVENT = "planning.projection"


@dataclass(frozen=True)
class Projection:
    work_order_id: int
    projected_finish: datetime | None  # naive UTC; None with unplanned (无法预计) or nothing open
    unplanned: bool
    at_risk: bool


def compute(work_order_ids) -> dict[int, tuple[datetime | None, bool]]:
    """Per 施工单: (latest planned finish of its open tasks, whether one of them is unplanned)."""
    ids = sorted(set(work_order_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Task.work_order_id, func.count(Task.id), func.count(PlanEntry.planned_finish),
               func.max(PlanEntry.planned_finish))
        .outerjoin(PlanEntry, PlanEntry.task_id == Task.id)
        .where(Task.work_order_id.in_(ids), Task.status.in_(OPEN_TASK_STATUSES))
        .group_by(Task.work_order_id))
    result = {work_order_id: (None, False) for work_order_id in ids}
    for work_order_id, open_count, planned_count, latest in rows:
        unplanned = planned_count < open_count
        result[work_order_id] = (None if unplanned else latest, unplanned)
    return result


def is_late(projected_finish: datetime | None, delivery_date, zone=None) -> bool:
    if projected_finish is None or delivery_date is None:
        return False
    return plant_calendar.to_local(projected_finish, zone or plant_zone()).date() > delivery_date


def refresh(work_order_ids, now: datetime | None = None) -> list[int]:
    """Store the projections of these 施工单; notify and announce those that changed. Returns the
    ids whose projection changed."""
    ids = sorted(set(work_order_ids))
    if not ids:
        return []
    now = now or utcnow()
    zone = plant_zone()
    computed = compute(ids)
    stored = {p.work_order_id: p for p in db.session.scalars(
        select(WorkOrderProjection).where(WorkOrderProjection.work_order_id.in_(ids)))}
    orders = {wo.id: wo for wo in db.session.scalars(
        select(WorkOrder).where(WorkOrder.id.in_(ids)).options(joinedload(WorkOrder.customer)))}
    changed = []
    for work_order_id in ids:
        work_order = orders.get(work_order_id)
        if work_order is None:
            continue
        finish, unplanned = computed[work_order_id]
        at_risk = is_late(finish, work_order.delivery_date, zone)
        row = stored.get(work_order_id)
        if row is None:
            if finish is None and not unplanned:
                continue  # nothing open, never projected
            row = WorkOrderProjection(work_order_id=work_order_id, at_risk=False, unplanned=False)
            db.session.add(row)
        was_at_risk = bool(row.at_risk)
        if (row.projected_finish, bool(row.unplanned), was_at_risk) == (finish, unplanned, at_risk):
            continue
        row.projected_finish, row.unplanned, row.at_risk, row.updated_at = finish, unplanned, at_risk, now
        changed.append(work_order_id)
        users = []
        if at_risk != was_at_risk:
            users = [work_order.created_by_id, getattr(work_order.customer, "salesperson_id", None)]
        if at_risk and row.risk_notified_at is None:
            row.risk_notified_at = now
            local = plant_calendar.to_local(finish, zone).strftime("%Y-%m-%d %H:%M")
            notifications.notify_delivery_risk(work_order, local)
        events.publish(EVENT, work_order=work_order, user_ids=users)
    return changed


def projection_for_workorder(work_order) -> Projection | None:
    """The stored projection of a 施工单 (None: planning is off, or it was never planned)."""
    from app.services.planning.engine import enabled

    if not enabled():
        return None
    work_order_id = getattr(work_order, "id", work_order)
    row = db.session.get(WorkOrderProjection, work_order_id)
    if row is None:
        return None
    return Projection(work_order_id, row.projected_finish, bool(row.unplanned), bool(row.at_risk))


def at_risk_workorder_ids(work_order_ids=None) -> set[int]:
    """The 施工单 at 延期风险 (among ``work_order_ids`` when given); empty while planning is off."""
    from app.services.planning.engine import enabled

    if not enabled():
        return set()
    statement = select(WorkOrderProjection.work_order_id).where(WorkOrderProjection.at_risk.is_(True))
    if work_order_ids is not None:
        ids = sorted(set(work_order_ids))
        if not ids:
            return set()
        statement = statement.where(WorkOrderProjection.work_order_id.in_(ids))
    return set(db.session.scalars(statement))


def at_risk_filter():
    """A SQL condition on WorkOrder: at 延期风险 (for the 施工单 list's filter)."""
    return WorkOrder.id.in_(select(WorkOrderProjection.work_order_id).where(WorkOrderProjection.at_risk.is_(True)))
