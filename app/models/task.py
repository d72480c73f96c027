"""Tasks, their work periods and the audit trail of every change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, event, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import NEVER_REUSE_IDS, TimestampMixin
from app.models.catalog import Plate
from app.models.org import Department, Process, User
from app.models.workorder import WorkOrder, WorkOrderMaterial, WorkOrderProduct, WorkOrderStep
from app.utils.timeutil import utcnow


def _trigram_index(column: str) -> Index:
    """A PostgreSQL trigram index: the task centre's search (LIKE '%…%') reads it instead of every row."""
    return Index(f"ix_tasks_{column}_trgm", column, postgresql_using="gin",
                 postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")


def _process_of_step(context) -> int:
    """The process of the task's step, for an insert that names only the step (test data, scripts);
    the services name the process themselves, a look-up per row would slow their bulk inserts."""
    step_id = context.get_current_parameters()["step_id"]
    return context.connection.scalar(select(WorkOrderStep.process_id).where(WorkOrderStep.id == step_id))


# The columns a maker's or salesperson's filters read, and the id their pages are ordered by.
WORK_ORDER_INDEX_COLUMNS = [
    "department_id", "operator_id", "process_id", "task_type", "created_at", "completed_at", "id"]
# What decides whether a viewer sees a task (app.rules.task_visibility.visible_tasks_where).
VISIBILITY_COLUMNS = ["status", "work_order_id", "department_id", "operator_id"]
# What the statistics sum over a period's completed tasks (app.services.reports.statistics).
COMPLETION_FIGURES = ["operator_id", "department_id", "completed_quantity", "defective_quantity", "worked_seconds"]


def progress_percent(status: str, completed_quantity: int, target_quantity: int) -> int:
    """How far a task is, 0–100: what every card and row of a task shows (done when there is nothing to make)."""
    if target_quantity <= 0:
        return 100 if status == "completed" else 0
    return min(100, completed_quantity * 100 // target_quantity)


class Task(TimestampMixin, db.Model):
    __tablename__ = "tasks"
    # The task centre counts its tasks per status under each filter: an index that holds the
    # filtered column and the status counts them without reading a row (a 施工单 filter such as
    # the priority reaches the tasks through ix_tasks_work_order_status). A maker or salesperson
    # sees the tasks of their own 施工单: that index also holds the columns their usual filters read,
    # so their counts go 施工单 by 施工单 instead of reading every task, and the id, so that a page
    # deep in their list is sorted from it too instead of walking back through everyone's tasks
    # (the planner expects their tasks spread evenly among the newest). The statistics read a
    # period's completed tasks from ix_tasks_status_completed alone.
    __table_args__ = (
        Index("ix_tasks_work_order_status", "work_order_id", "status", postgresql_include=WORK_ORDER_INDEX_COLUMNS),
        Index("ix_tasks_department_status", "department_id", "status"),
        Index("ix_tasks_operator_status", "operator_id", "status"),
        Index("ix_tasks_process_status", "process_id", "status"),
        Index("ix_tasks_task_type_status", "task_type", "status"),
        Index("ix_tasks_status_updated", "status", "updated_at"),
        Index("ix_tasks_status_created", "status", "created_at"),
        Index("ix_tasks_status_completed", "status", "completed_at", postgresql_include=COMPLETION_FIGURES),
        # The kiosk's 可认领 list: a department's unassigned pending tasks, read from the index alone.
        Index("ix_tasks_claimable", "department_id", "work_order_id", postgresql_include=["id"],
              postgresql_where=text("operator_id IS NULL AND status = 'pending'"),
              sqlite_where=text("operator_id IS NULL AND status = 'pending'")),
        # Walking the list newest first for one viewer's page reads the columns of their visibility
        # from here instead of every row (docs/PERFORMANCE.md).
        # SQLite keeps no included columns, and its rowid already is this order.
        Index("ix_tasks_id_visibility", "id", postgresql_include=VISIBILITY_COLUMNS).ddl_if(dialect="postgresql"),
        _trigram_index("number"),
        _trigram_index("content"),
        NEVER_REUSE_IDS,
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(ForeignKey("work_order_steps.id", ondelete="CASCADE"), index=True)
    # The step's process, copied so that the task centre filters and counts by process without
    # joining the steps. A task never changes step, nor a step its process, so the copy stays right.
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="RESTRICT"), default=_process_of_step)
    task_type: Mapped[str] = mapped_column(String(20), default="general")
    content: Mapped[str] = mapped_column(String(255))
    target_quantity: Mapped[int] = mapped_column(Integer, default=0)
    completed_quantity: Mapped[int] = mapped_column(Integer, default=0)
    defective_quantity: Mapped[int] = mapped_column(Integer, default=0)
    plate_id: Mapped[int | None] = mapped_column(ForeignKey("plates.id", ondelete="RESTRICT"), index=True)
    material_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order_materials.id", ondelete="RESTRICT"), index=True
    )
    product_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order_products.id", ondelete="RESTRICT"), index=True
    )
    # Completed by an outside event (plate confirmed, material cut) rather than by reporting.
    auto_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    production_requirements: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    pause_reason: Mapped[str | None] = mapped_column(String(20))
    # Set while the task is paused because its 施工单 was paused; resuming the 施工单 restores it.
    status_before_pause: Mapped[str | None] = mapped_column(String(20))
    pause_note: Mapped[str] = mapped_column(String(255), default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    completion_reason: Mapped[str] = mapped_column(Text, default="")
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Seconds of the closed work periods (None: none closed yet), kept by app.services.core.work_periods.
    worked_seconds: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)

    work_order: Mapped[WorkOrder] = relationship()
    step: Mapped[WorkOrderStep] = relationship(back_populates="tasks")
    process: Mapped[Process] = relationship()
    plate: Mapped[Plate | None] = relationship()
    material_line: Mapped[WorkOrderMaterial | None] = relationship()
    product_line: Mapped[WorkOrderProduct | None] = relationship()
    department: Mapped[Department | None] = relationship()
    operator: Mapped[User | None] = relationship()

    @property
    def progress_percent(self) -> int:
        return progress_percent(self.status, self.completed_quantity, self.target_quantity)

    def __repr__(self) -> str:
        return f"<Task {self.number} {self.status}>"


class TimeLog(db.Model):
    """One work period of one operator on one task; durations come from server time."""

    __tablename__ = "time_logs"
    __table_args__ = (
        # At most one open period per (task, operator), enforced by both databases.
        Index(
            "uq_time_logs_open_period",
            "task_id",
            "operator_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    task: Mapped[Task] = relationship()
    operator: Mapped[User] = relationship()

    @property
    def duration_seconds(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


class AuditLog(db.Model):
    """Every change of a task, 施工单 or master record: who, when, what, from → to."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_object", "object_type", "object_id"),
        Index("ix_audit_logs_action_at", "action", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    work_order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
    department_id: Mapped[int | None] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    quantity_delta: Mapped[int | None] = mapped_column(Integer)
    defective_delta: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    # Free-form before/after values and extras (e.g. operator X → Y).
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()


# pg_trgm ships with PostgreSQL and is a trusted extension: the database owner may create it.
event.listen(Task.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
