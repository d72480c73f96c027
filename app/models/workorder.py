"""施工单 and its lines: products, materials, plates, steps, approval history."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import PRIORITY_RANK
from app.extensions import db
from app.models.base import NEVER_REUSE_IDS, TimestampMixin
from app.models.catalog import Customer, Material, Plate, Product
from app.models.org import Department, Process, User
from app.utils.timeutil import utcnow

work_order_plates = Table(
    "work_order_plates",
    db.metadata,
    Column("work_order_id", ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True),
    # RESTRICT: a plate in use can never be deleted out from under a 施工单 or its tasks.
    Column("plate_id", ForeignKey("plates.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


# 紧急 → 低 as a number, in SQL. A query that sorts by it must use this very text (unbound literals)
# for the database to read the order from ix_work_orders_priority_rank instead of sorting every task.
PRIORITY_RANK_SQL = (
    "CASE {column} " + " ".join(f"WHEN '{key}' THEN {rank}" for key, rank in PRIORITY_RANK.items()) + " ELSE 1 END"
)


class WorkOrder(TimestampMixin, db.Model):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_approval_status_status", "approval_status", "status"),
        Index("ix_work_orders_delivery_date_status", "delivery_date", "status"),
        # The task centre's 优先级 sort (most urgent first, then by delivery date).
        Index("ix_work_orders_priority_rank", text(f"({PRIORITY_RANK_SQL.format(column='priority')}) DESC"),
              "delivery_date", "id"),
        # The 施工单 list's default order (newest first): a page read from the index, not all sorted.
        Index("ix_work_orders_created", "created_at", "id"),
        NEVER_REUSE_IDS,
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"), index=True)
    approval_status: Mapped[str] = mapped_column(String(20), default="draft")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    printing_type: Mapped[str] = mapped_column(String(20), default="none")
    cmyk_colors: Mapped[list] = mapped_column(JSON, default=list)
    other_colors: Mapped[list] = mapped_column(JSON, default=list)
    order_date: Mapped[date] = mapped_column(Date)
    delivery_date: Mapped[date] = mapped_column(Date)
    actual_delivery_date: Mapped[date | None] = mapped_column(Date)
    production_quantity: Mapped[int] = mapped_column(Integer, default=0)
    spoilage_quantity: Mapped[int] = mapped_column(Integer, default=0)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=0)
    design_file_path: Mapped[str | None] = mapped_column(String(255))
    design_file_name: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approval_comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # Next task sequence number (T<施工单号>-NN); bumped under the 施工单's row lock.
    task_counter: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Customer] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    products: Mapped[list[WorkOrderProduct]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="WorkOrderProduct.sort_order"
    )
    materials: Mapped[list[WorkOrderMaterial]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="WorkOrderMaterial.sort_order"
    )
    plates: Mapped[list[Plate]] = relationship(secondary=work_order_plates, order_by="Plate.id")
    steps: Mapped[list[WorkOrderStep]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="WorkOrderStep.sequence"
    )
    approval_logs: Mapped[list[ApprovalLog]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="ApprovalLog.created_at"
    )

    def __repr__(self) -> str:
        return f"<WorkOrder {self.number}>"


class WorkOrderProduct(db.Model):
    __tablename__ = "work_order_products"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit: Mapped[str] = mapped_column(String(10), default="件")
    specification: Mapped[str] = mapped_column(String(100), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    work_order: Mapped[WorkOrder] = relationship(back_populates="products")
    product: Mapped[Product] = relationship()


class WorkOrderMaterial(db.Model):
    __tablename__ = "work_order_materials"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="RESTRICT"), index=True)
    size: Mapped[str] = mapped_column(String(100), default="")
    usage: Mapped[str] = mapped_column(String(100), default="")
    need_cutting: Mapped[bool] = mapped_column(Boolean, default=False)
    purchase_status: Mapped[str] = mapped_column(String(20), default="pending")
    ordered_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    cut_at: Mapped[datetime | None] = mapped_column(DateTime)
    notes: Mapped[str] = mapped_column(String(255), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    work_order: Mapped[WorkOrder] = relationship(back_populates="materials")
    material: Mapped[Material] = relationship()


class WorkOrderStep(TimestampMixin, db.Model):
    """施工单工序: one process of one 施工单."""

    __tablename__ = "work_order_steps"
    __table_args__ = (UniqueConstraint("work_order_id", "process_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="RESTRICT"), index=True)
    # Set only when the user chose a department explicitly; otherwise the rules decide at approval.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)

    work_order: Mapped[WorkOrder] = relationship(back_populates="steps")
    process: Mapped[Process] = relationship()
    department: Mapped[Department | None] = relationship()
    tasks: Mapped[list[Task]] = relationship(  # noqa: F821
        back_populates="step", cascade="all, delete-orphan", order_by="Task.id"
    )


class ApprovalLog(db.Model):
    """审核历史: one row per submit / approve / reject / resubmit / withdraw."""

    __tablename__ = "approval_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    work_order: Mapped[WorkOrder] = relationship(back_populates="approval_logs")
    user: Mapped[User | None] = relationship()
