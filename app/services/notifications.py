"""Stored notifications (DOMAIN.md §9), written in the same transaction as the change."""
from __future__ import annotations

from collections.abc import Iterable

from app.extensions import db
from app.models import Notification
from app.realtime import events


def notify(recipients: Iterable, type_: str, title: str, content: str = "", *, priority: str = "normal",
           work_order=None, task=None, dedupe_key: str | None = None, data: dict | None = None) -> list[Notification]:
    """One row per distinct recipient (users or ids); a 'notification' event per recipient."""
    seen: set[int] = set()
    rows = []
    for recipient in recipients:
        user_id = getattr(recipient, "id", recipient)
        if user_id is None or user_id in seen:
            continue
        seen.add(user_id)
        row = Notification(
            recipient_id=user_id, type=type_, title=str(title), content=str(content), priority=priority,
            work_order_id=getattr(work_order, "id", None) or getattr(task, "work_order_id", None),
            task_id=getattr(task, "id", None), dedupe_key=dedupe_key, data=data or {},
        )
        db.session.add(row)
        rows.append(row)
    if seen:
        events.publish("notification", user_ids=seen)
    return rows
