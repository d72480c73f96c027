"""The rate each workstation actually reached for a process over the last 30 days (DOMAIN.md §12),
shown beside its standard rate on the 排产 page.

Good quantity reported (the audit's ``report`` rows, ``quantity_delta``) ÷ hours worked (time logs,
an open period counted up to now), per task of the department, in one query; each task counts for
the workstation whose queue it is in, or — once it left the queue (completed) — for the only
active workstation of the department that runs its process. A task that ran where the plan no
longer tells (several capable workstations, and it is no longer queued) is left out rather than
guessed. Setup time is inside the worked hours, as it is on the floor.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditLog,
    PlanEntry,
    Task,
    TimeLog,
    Workstation,
    WorkstationProcess,
)
from app.utils.timeutil import utcnow

DAYS = 30


def _seconds(start, end):
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def for_department(department_id: int, now=None) -> dict[tuple[int, int], float]:
    """(workstation id, process id) → units per hour over the last 30 days (only where there was work)."""
    now = now or utcnow()
    since = now - timedelta(days=DAYS)
    worked = (select(func.coalesce(func.sum(_seconds(TimeLog.started_at, func.coalesce(TimeLog.ended_at, now))), 0))
              .where(TimeLog.task_id == Task.id, TimeLog.started_at >= since).scalar_subquery())
    good = (select(func.coalesce(func.sum(AuditLog.quantity_delta), 0))
            .where(AuditLog.task_id == Task.id, AuditLog.action == "report", AuditLog.at >= since,
                   AuditLog.quantity_delta.is_not(None)).scalar_subquery())
    # The only active capable workstation of the department, for tasks no longer queued.
    only = (select(func.min(Workstation.id))
            .join(WorkstationProcess, WorkstationProcess.workstation_id == Workstation.id)
            .where(Workstation.department_id == department_id, Workstation.is_active.is_(True),
                   WorkstationProcess.process_id == Task.process_id)
            .having(func.count(Workstation.id) == 1).scalar_subquery())
    rows = db.session.execute(
        select(Task.process_id, func.coalesce(PlanEntry.workstation_id, only).label("workstation_id"),
               worked.label("seconds"), good.label("good"))
        .outerjoin(PlanEntry, PlanEntry.task_id == Task.id)
        .where(Task.department_id == department_id,
               Task.id.in_(select(TimeLog.task_id).where(TimeLog.started_at >= since)))
        )
    totals: dict[tuple[int, int], list[float]] = {}
    for process_id, workstation_id, seconds, quantity in rows:
        if workstation_id is None:
            continue
        total = totals.setdefault((workstation_id, process_id), [0.0, 0.0])
        total[0] += float(seconds or 0)
        total[1] += float(quantity or 0)
    return {key: quantity * 3600 / seconds for key, (seconds, quantity) in totals.items() if seconds > 0 and quantity > 0}
