"""The one writer of audit rows; every service calls it inside its own transaction."""
from __future__ import annotations

from sqlalchemy import insert

from app.extensions import db
from app.models import AuditLog
from app.utils.timeutil import utcnow


def record(
    actor,
    object_type: str,
    object_id: int | None,
    action: str,
    *,
    work_order_id: int | None = None,
    task_id: int | None = None,
    department_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    quantity_delta: int | None = None,
    defective_delta: int | None = None,
    reason: str = "",
    detail: dict | None = None,
) -> AuditLog:
    row = AuditLog(
        user_id=getattr(actor, "id", None),
        object_type=object_type,
        object_id=object_id,
        action=action,
        work_order_id=work_order_id,
        task_id=task_id,
        department_id=department_id,
        from_status=from_status,
        to_status=to_status,
        quantity_delta=quantity_delta,
        defective_delta=defective_delta,
        reason=reason or "",
        detail=detail or {},
    )
    db.session.add(row)
    return row


def record_many(actor, rows: list[dict]) -> int:
    """Many audit rows in one INSERT (e.g. the tasks of a 施工单 released at approval).

    Each row holds the keyword arguments of ``record``; returns how many were written.
    """
    if not rows:
        return 0
    now = utcnow()
    defaults = {"work_order_id": None, "task_id": None, "department_id": None, "from_status": None,
                "to_status": None, "quantity_delta": None, "defective_delta": None, "reason": "", "detail": {}}
    values = [{**defaults, **row, "user_id": getattr(actor, "id", None), "at": now} for row in rows]
    db.session.execute(insert(AuditLog), values)
    return len(values)
