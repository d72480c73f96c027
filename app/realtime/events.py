"""Events announce committed changes (DESIGN.md §3).

Services call ``publish()`` inside their transaction. The event is held on the session and
handed to the bus only after the commit succeeds; a rolled-back change never announces itself.
"""
from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.utils.timeutil import utcnow

_PENDING = "pending_events"
_subscribers: list[Callable[[dict], None]] = []
_lock = threading.Lock()
_ids = itertools.count(1)


def publish(event_type: str, *, task=None, work_order=None, department_ids: Iterable[int | None] = (),
            user_ids: Iterable[int | None] = (), session: Session | None = None) -> dict:
    from app.extensions import db

    session = session or db.session()
    departments = {d for d in department_ids if d is not None}
    if task is not None and task.department_id is not None:
        departments.add(task.department_id)
    users = {u for u in user_ids if u is not None}
    if task is not None and task.operator_id is not None:
        users.add(task.operator_id)
    payload = {
        "id": f"{os.getpid()}-{next(_ids)}",
        "type": event_type,
        "task_id": getattr(task, "id", None),
        "work_order_id": getattr(work_order, "id", None) or getattr(task, "work_order_id", None),
        "department_ids": sorted(departments),
        "user_ids": sorted(users),
        "at": utcnow().isoformat(),
    }
    session.info.setdefault(_PENDING, []).append(payload)
    return payload


def subscribe(callback: Callable[[dict], None]) -> None:
    with _lock:
        if callback not in _subscribers:
            _subscribers.append(callback)


def unsubscribe(callback: Callable[[dict], None]) -> None:
    with _lock:
        if callback in _subscribers:
            _subscribers.remove(callback)


def deliver(payload: dict) -> None:
    with _lock:
        callbacks = list(_subscribers)
    for callback in callbacks:
        callback(payload)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for payload in session.info.pop(_PENDING, []):
        deliver(payload)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
