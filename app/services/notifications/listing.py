"""The 通知中心 list: one page of a person's notifications as narrow rows, its total and the bell's
unread count, in one query.

The list is the hottest page a person keeps open (re-fetched on every notification), so it reads
only the columns a row shows into plain frozen rows (no ORM objects, no JSON ``data``), and the
total (a window count) and the unread count (a scalar subquery) come with the rows rather than in
queries of their own (docs/PERFORMANCE.md). The JSON API keeps ``inbox.list_for`` (ORM rows).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, select

from app.extensions import db
from app.models import Notification
from app.services.notifications.inbox import BELL_LATEST, READ_FILTERS, visible_since

PER_PAGE = 20


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """Everything a notification shows in the list or the bell's drop-down (so also its cache key)."""

    id: int
    type: str
    title: str
    content: str
    priority: str
    work_order_id: int | None
    task_id: int | None
    is_read: bool
    created_at: datetime

    @property
    def link(self) -> str | None:
        """Where it leads: its task, else its 施工单."""
        if self.task_id:
            return f"/tasks/{self.task_id}"
        if self.work_order_id:
            return f"/workorders/{self.work_order_id}"
        return None


@dataclass(frozen=True)
class NotificationPage:
    items: list[NotificationRow]
    total: int
    page: int
    per_page: int
    unread: int | None  # the person's unread notifications (the bell), when asked for

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page) if self.total else 0

    def iter_pages(self, *, left_edge: int = 2, left_current: int = 2, right_current: int = 4,
                   right_edge: int = 2) -> Iterator[int | None]:
        """Page numbers with None for a gap, exactly as Flask-SQLAlchemy's ``Pagination.iter_pages``."""
        pages_end = self.pages + 1
        if pages_end == 1:
            return
        left_end = min(1 + left_edge, pages_end)
        yield from range(1, left_end)
        if left_end == pages_end:
            return
        mid_start = max(left_end, self.page - left_current)
        mid_end = min(self.page + right_current + 1, pages_end)
        if mid_start - left_end > 0:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end == pages_end:
            return
        right_start = max(mid_end, pages_end - right_edge)
        if right_start - mid_end > 0:
            yield None
        yield from range(right_start, pages_end)


ROW_COLUMNS = (Notification.id, Notification.type, Notification.title, Notification.content, Notification.priority,
               Notification.work_order_id, Notification.task_id, Notification.is_read, Notification.created_at)


def page_for(user, *, read: str | None = None, type_: str | None = None, page: int = 1, per_page: int = PER_PAGE,
             with_unread: bool = False) -> NotificationPage:
    """One page of the user's notifications of the retention window, newest first (a page past the
    end is empty, with the total), and with ``with_unread`` their unread count: one query, two
    when the page is empty."""
    page = max(1, page)
    read = read if read in READ_FILTERS else None
    values = {"recipient": user.id, "since": visible_since(), "type": type_ or None,
              "limit": per_page, "offset": (page - 1) * per_page}
    rows = db.session.execute(_page_statement(read, bool(type_), with_unread), values).all()
    if rows:
        total, unread_count = rows[0].total, (rows[0].unread if with_unread else None)
    else:
        counts = db.session.execute(_counts_statement(read, bool(type_), with_unread), values).one()
        total, unread_count = counts[0], (counts[1] if with_unread else None)
    items = [NotificationRow(*row[:len(ROW_COLUMNS)]) for row in rows]
    return NotificationPage(items, total, page, per_page, unread_count)


# The statements are built once per shape (which filters, whether the bell's count comes along) and
# run with the request's values: building one cost about as much CPU as running it.
def _conditions(read: str | None, by_type: bool) -> tuple[tuple, list]:
    mine = (Notification.recipient_id == bindparam("recipient"), Notification.created_at >= bindparam("since"))
    shown = list(mine)
    if read is not None:
        shown.append(Notification.is_read.is_(read == "read"))
    if by_type:
        shown.append(Notification.type == bindparam("type"))
    return mine, shown


def _unread(mine: tuple):
    return select(func.count()).select_from(Notification).where(*mine, Notification.is_read.is_(False)) \
        .scalar_subquery()


@cache
def _page_statement(read: str | None, by_type: bool, with_unread: bool):
    mine, shown = _conditions(read, by_type)
    extra = [func.count().over().label("total")] + ([_unread(mine).label("unread")] if with_unread else [])
    return (select(*ROW_COLUMNS, *extra).where(*shown)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(bindparam("limit")).offset(bindparam("offset")))


@cache
def _counts_statement(read: str | None, by_type: bool, with_unread: bool):
    mine, shown = _conditions(read, by_type)
    total = select(func.count()).select_from(Notification).where(*shown).scalar_subquery()
    return select(total, *([_unread(mine)] if with_unread else []))


def latest_rows(user, limit: int = BELL_LATEST) -> list[NotificationRow]:
    """The bell's drop-down: the user's newest notifications of the retention window."""
    return [NotificationRow(*row) for row in db.session.execute(
        select(*ROW_COLUMNS).where(Notification.recipient_id == user.id, Notification.created_at >= visible_since())
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    )]
