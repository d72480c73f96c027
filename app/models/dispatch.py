"""Assignment rules: which department gets a process's tasks, and how an operator is picked."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import NEVER_REUSE_IDS, TimestampMixin
from app.models.org import Department, Process


class AssignmentRule(TimestampMixin, db.Model):
    __tablename__ = "assignment_rules"
    __table_args__ = (UniqueConstraint("process_id", "department_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    operator_strategy: Mapped[str] = mapped_column(String(20), default="manual")
    # 轮询: the id of the operator chosen last, so the rotation survives restarts and workers.
    round_robin_last_user_id: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")

    process: Mapped[Process] = relationship()
    department: Mapped[Department] = relationship()
