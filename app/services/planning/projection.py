"""Projection and 延期风险 (DOMAIN.md §12, "Projection").

A 施工单's projected finish = the latest planned finish of its open tasks; 无法预计 when one of
them is unplanned (not queued, or queued without planned times). Projected later than the delivery
date (the projected finish's plant-local date after it) → 延期风险, and the 交期风险 notification
(§9: creator and the customer's salesperson) once, the first time it crosses.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, any_, bindparam, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import joinedload

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import Customer, PlanEntry, Task, WorkOrder, WorkOrderProjection
from app.realtime import events
from app.services.notifications import inbox as notifications
from app.services.planning import calendar as plant_calendar
from app.services.planning.snapshot import array_literal
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
        .where(_among(Task.work_order_id, ids), Task.status.in_(OPEN_TASK_STATUSES))
        .group_by(Task.work_order_id))
    result = {work_order_id: (None, False) for work_order_id in ids}
    for work_order_id, open_count, planned_count, latest in rows:
        unplanned = planned_count < open_count
        result[work_order_id] = (None if unplanned else latest, unplanned)
    return result


def _among(column, ids: list[int]):
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``): the same statement text whatever
    the number of ids, where an IN list of the 239 施工单 a plant-wide replan moves was rendered,
    bound and parsed value by value on every replan."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(Integer)))
    return column.in_(ids)


def is_late(projected_finish: datetime | None, delivery_date, zone=None) -> bool:
    if projected_finish is None or delivery_date is None:
        return False
    return plant_calendar.to_local(projected_finish, zone or plant_zone()).date() > delivery_date


# A live event for a 施工单 whose projection moved at least this much (or whose 延期风险 or 无法预计
# changed): every replan moves the head of each queue to "now", and an event per 施工单 per minute
# would be noise; the stored projection is always exact.
EVENT_THRESHOLD = timedelta(minutes=30)
_UPDATE_FROM_ARRAYS = text(
    "UPDATE work_order_projections AS p SET projected_finish = v.projected_finish, unplanned = v.unplanned,"
    " at_risk = v.at_risk, risk_notified_at = v.risk_notified_at, updated_at = v.updated_at"
    " FROM unnest(CAST(CAST(:work_order_id AS text) AS integer[]), CAST(CAST(:projected_finish AS text) AS timestamp[]),"
    " CAST(CAST(:unplanned AS text) AS boolean[]), CAST(CAST(:at_risk AS text) AS boolean[]),"
    " CAST(CAST(:risk_notified_at AS text) AS timestamp[]), CAST(CAST(:updated_at AS text) AS timestamp[]))"
    " AS v(work_order_id, projected_finish, unplanned, at_risk, risk_notified_at, updated_at)"
    " WHERE p.work_order_id = v.work_order_id")
_FIELDS = ("work_order_id", "projected_finish", "unplanned", "at_risk", "risk_notified_at", "updated_at")


def refresh(work_order_ids, now: datetime | None = None, latest: dict[int, datetime] | None = None) -> list[int]:
    """Store the projections of these 施工单 (rows read and written set-wise); notify the first
    crossing of a delivery date; announce the changes that matter. Returns the ids whose projection changed.

    ``latest``: the latest planned finish of every plan row of some of them, from a replan that changed
    nothing but planned times (partial.py): their open tasks, and which of them are planned, are those the
    stored projection was computed from, so its 无法预计 stands and only the finish is new — no query."""
    ids = sorted(set(work_order_ids))
    if not ids:
        return []
    now = now or utcnow()
    zone = plant_zone()
    table = WorkOrderProjection.__table__
    stored, orders = {}, {}
    for row in db.session.execute(  # a 施工单 and its stored projection, if any, in one statement
            select(WorkOrder.id, WorkOrder.delivery_date, WorkOrder.created_by_id, Customer.salesperson_id,
                   table.c.work_order_id.label("projected"), table.c.projected_finish, table.c.unplanned,
                   table.c.at_risk, table.c.risk_notified_at)
            .outerjoin(Customer, Customer.id == WorkOrder.customer_id)
            .outerjoin(table, table.c.work_order_id == WorkOrder.id).where(_among(WorkOrder.id, ids))):
        orders[row.id] = row
        if row.projected is not None:
            stored[row.id] = row
    latest = latest or {}
    computed = {work_order_id: (None, True) if stored[work_order_id].unplanned else (latest[work_order_id], False)
                for work_order_id in ids if work_order_id in latest and work_order_id in stored}
    computed.update(compute([work_order_id for work_order_id in ids if work_order_id not in computed]))
    inserted, updated, changed, notify, announced, told = [], [], [], [], [], set()
    for work_order_id in ids:
        order = orders.get(work_order_id)
        if order is None:
            continue
        finish, unplanned = computed[work_order_id]
        at_risk = is_late(finish, order.delivery_date, zone)
        row = stored.get(work_order_id)
        if row is None and finish is None and not unplanned:
            continue  # nothing open, never projected
        before = (row.projected_finish, bool(row.unplanned), bool(row.at_risk)) if row else (None, False, False)
        if row is not None and before == (finish, unplanned, at_risk):
            continue
        notified = row.risk_notified_at if row is not None else None
        if at_risk and notified is None:
            notified = now
            notify.append((work_order_id, finish))
        values = {"work_order_id": work_order_id, "projected_finish": finish, "unplanned": unplanned,
                  "at_risk": at_risk, "risk_notified_at": notified, "updated_at": now}
        (updated if row is not None else inserted).append(values)
        changed.append(work_order_id)
        moved = before[0] is None or finish is None or abs(finish - before[0]) >= EVENT_THRESHOLD
        if at_risk != before[2] or unplanned != before[1] or moved:
            announced.append(work_order_id)
            if at_risk != before[2]:
                told.update((order.created_by_id, order.salesperson_id))
    if announced:
        # One event for all of them: a report moves the projections of every 施工单 queued behind it, and one
        # event each was dozens of messages on every socket of the whole-plant pages (issue #22).
        events.publish(EVENT, work_order_ids=announced, user_ids=told)
    if inserted:
        db.session.execute(insert(table), inserted)
    if updated:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(_UPDATE_FROM_ARRAYS, {name: array_literal([row[name] for row in updated])
                                                     for name in _FIELDS})
        else:
            db.session.execute(update(table).where(table.c.work_order_id == bindparam("key"))
                               .values({name: bindparam(name) for name in _FIELDS[1:]}),
                               [{"key": row["work_order_id"], **{name: row[name] for name in _FIELDS[1:]}}
                                for row in updated])
    if inserted or updated:
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, WorkOrderProjection):
                db.session.expire(obj)
    # The 施工单 and their customers in one query, not two per notification.
    notified = {work_order.id: work_order for work_order in db.session.scalars(
        select(WorkOrder).options(joinedload(WorkOrder.customer))
        .where(WorkOrder.id.in_([work_order_id for work_order_id, _ in notify])))} if notify else {}
    for work_order_id, finish in notify:
        work_order = notified[work_order_id]
        local = plant_calendar.to_local(finish, zone).strftime("%Y-%m-%d %H:%M")
        notifications.notify_delivery_risk(work_order, local)
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
