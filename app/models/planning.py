"""Planning (排产, DOMAIN.md §12): workstations with their rates, the queue entry of each planned
task (its workstation, position and planned times) and each 施工单's projected finish."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import NEVER_REUSE_IDS, TimestampMixin
from app.models.org import Department, Process
from app.utils.timeutil import utcnow


class Workstation(TimestampMixin, db.Model):
    """机台/工位: a machine or bench of one department; a department with none is not planned."""

    __tablename__ = "workstations"
    __table_args__ = (Index("ix_workstations_department_active", "department_id", "is_active"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship()
    capabilities: Mapped[list[WorkstationProcess]] = relationship(
        back_populates="workstation", cascade="all, delete-orphan", order_by="WorkstationProcess.process_id")

    def __repr__(self) -> str:
        return f"<Workstation {self.code}>"


class WorkstationProcess(db.Model):
    """A process a workstation runs: its standard rate (units per hour, > 0) and setup minutes."""

    __tablename__ = "workstation_processes"
    __table_args__ = (UniqueConstraint("workstation_id", "process_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    workstation_id: Mapped[int] = mapped_column(ForeignKey("workstations.id", ondelete="CASCADE"))
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="RESTRICT"), index=True)
    rate_per_hour: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    setup_minutes: Mapped[int] = mapped_column(Integer, default=0)

    workstation: Mapped[Workstation] = relationship(back_populates="capabilities")
    process: Mapped[Process] = relationship()


# A replan rewrites the planned times of hundreds of rows: with half of each page left free (PostgreSQL),
# the new version of a row fits beside the old one and no index is touched (a HOT update).
REWRITTEN_OFTEN = {"postgresql_with": {"fillfactor": 50}}


class PlanEntry(db.Model):
    """A task in a workstation's queue: at most one per task (the task id is the key).

    ``queued_at`` orders arrivals (first come, first served within a priority; the earliest-queued
    head is planned first when the queues contradict step order). Planned times are naive UTC.
    """

    __tablename__ = "plan_entries"
    __table_args__ = (Index("ix_plan_entries_workstation_position", "workstation_id", "position"), REWRITTEN_OFTEN)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    workstation_id: Mapped[int] = mapped_column(ForeignKey("workstations.id", ondelete="CASCADE"))
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    planned_start: Mapped[datetime | None] = mapped_column(DateTime)
    planned_finish: Mapped[datetime | None] = mapped_column(DateTime)
    # 顺序冲突: planned before an earlier step of its 施工单 because the queues contradict step order.
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    # The task's step's place in its 施工单, copied at placement: a queued task's 施工单 is approved, so
    # its steps no longer change, and a replan reads the queues without joining the steps.
    step_sequence: Mapped[int] = mapped_column(Integer)

    workstation: Mapped[Workstation] = relationship()


class PlanState(db.Model):
    """One row: the minute the stored plan was computed for (every replan plans from "now", rounded to
    the minute) and its version. A replan in the same minute whose only changes are tasks' remaining
    quantities may recompute just the times those move (partial.py); any other replan plans the whole plant."""

    __tablename__ = "plan_state"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    planned_at: Mapped[datetime] = mapped_column(DateTime)
    # A random token per whole-plant replan: the queues and the planner's order are those it wrote.
    version: Mapped[int] = mapped_column(BigInteger)


class WorkOrderProjection(db.Model):
    """A 施工单's projected finish (None with ``unplanned``: 无法预计) and its 延期风险."""

    __tablename__ = "work_order_projections"
    __table_args__ = (Index("ix_work_order_projections_at_risk", "at_risk"), REWRITTEN_OFTEN)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True,
                                               autoincrement=False)
    projected_finish: Mapped[datetime | None] = mapped_column(DateTime)
    unplanned: Mapped[bool] = mapped_column(Boolean, default=False)
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    # The 交期风险 notification goes out once, when the projection first crosses the delivery date.
    risk_notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
