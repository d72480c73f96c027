"""One row per create form instance (or API ``Idempotency-Key``) that has created something."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.utils.timeutil import utcnow


class Submission(db.Model):
    """The key is the primary key: of two concurrent inserts of one key, the second waits for the first
    transaction and then finds the key taken (app/services/core/submissions.py)."""

    __tablename__ = "submissions"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    # What was created (a table name) and by whom: a key replayed by someone else, or for another kind
    # of record, is refused rather than answered with another person's record.
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    result_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
