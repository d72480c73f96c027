from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column

from app.utils.timeutil import utcnow


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


# Ids of these tables appear in history, audit rows and links: they must never be handed out twice.
# PostgreSQL sequences never reuse an id; SQLite reuses the highest one after a delete unless the table
# is declared AUTOINCREMENT (migration 0020 rebuilds the existing tables so).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
