"""The one writer of audit rows; every service calls it inside its own transaction."""
from __future__ import annotations

from app.extensions import db
from app.models import AuditLog


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
