"""Work periods (time logs) and the seconds each task has been worked, kept together.

``Task.worked_seconds`` holds the sum of a task's closed periods (None: none closed yet). The
statistics read it instead of summing every time log of the plant, which was most of the
statistics page's time (docs/PERFORMANCE.md).
Every period is closed here, so the sum and the periods cannot disagree.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DateTime, Integer, cast, exists, extract, func, literal, select, update

from app.extensions import db
from app.models import Task, TimeLog


def whole_seconds_between(start, end):
    """SQL: the whole seconds from ``start`` to ``end``, truncated as ``TimeLog.duration_seconds`` does."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", end - start)), Integer)
    # SQLite keeps times as text, 'YYYY-MM-DD HH:MM:SS.ffffff': the difference of the whole seconds
    # (strftime rounds a fraction, so it is cut off first), less one when the end's microseconds are
    # below the start's. Exact, where julianday()'s floating-point days are not (300 s can come out
    # as 299.9999…).
    whole = cast(func.strftime("%s", func.substr(end, 1, 19)), Integer) - cast(
        func.strftime("%s", func.substr(start, 1, 19)), Integer)
    return whole - cast(func.substr(end, 21) < func.substr(start, 21), Integer)


def close(task_ids: Iterable[int], now: datetime) -> None:
    """End the open periods of these tasks at ``now`` and add them to the tasks' worked seconds."""
    task_ids = list(task_ids)
    if not task_ids:
        return
    open_periods = (TimeLog.task_id == Task.id) & TimeLog.ended_at.is_(None)
    # Typed, so that SQLite gets the text form its time columns have.
    ended = literal(now, DateTime())
    opened = (select(func.sum(whole_seconds_between(TimeLog.started_at, ended)))
              .where(open_periods).scalar_subquery())
    db.session.execute(
        update(Task).where(Task.id.in_(task_ids), exists().where(open_periods))
        .values(worked_seconds=func.coalesce(Task.worked_seconds, 0) + opened)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(TimeLog).where(TimeLog.task_id.in_(task_ids), TimeLog.ended_at.is_(None)).values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def recount() -> None:
    """Every task's worked seconds summed again from its closed periods (the scaled demo writes in bulk)."""
    closed = (TimeLog.task_id == Task.id) & TimeLog.ended_at.is_not(None)
    db.session.execute(
        update(Task).where(exists().where(closed)).values(worked_seconds=(
            select(func.sum(whole_seconds_between(TimeLog.started_at, TimeLog.ended_at))).where(closed)
            .scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
