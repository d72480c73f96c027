"""Master data: customers, products, materials and plates."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import NEVER_REUSE_IDS, TimestampMixin
from app.models.org import Process, User


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    contact_person: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")

    salesperson: Mapped[User | None] = relationship()


class Material(TimestampMixin, db.Model):
    __tablename__ = "materials"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    specification: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(10), default="个")
    need_cutting: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    specification: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(10), default="件")
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    default_processes: Mapped[list[ProductProcess]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductProcess.sort_order"
    )
    default_materials: Mapped[list[ProductMaterial]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductMaterial.sort_order"
    )


class ProductProcess(db.Model):
    __tablename__ = "product_processes"
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id", ondelete="RESTRICT"), primary_key=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="default_processes")
    process: Mapped[Process] = relationship()


class ProductMaterial(db.Model):
    __tablename__ = "product_materials"
    __table_args__ = (UniqueConstraint("product_id", "material_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="RESTRICT"), index=True)
    size: Mapped[str] = mapped_column(String(100), default="")
    usage: Mapped[str] = mapped_column(String(100), default="")
    need_cutting: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(String(255), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="default_materials")
    material: Mapped[Material] = relationship()


class Plate(TimestampMixin, db.Model):
    """图稿 / 刀模 / 烫金版 / 压凸版: one entity distinguished by ``kind``."""

    __tablename__ = "plates"
    __table_args__ = (UniqueConstraint("base_code", "version"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    base_code: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # base_code for version 1, base_code-vN after; kept as a column so it can be searched and scanned.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    cmyk_colors: Mapped[list] = mapped_column(JSON, default=list)
    other_colors: Mapped[list] = mapped_column(JSON, default=list)
    foiling_type: Mapped[str | None] = mapped_column(String(10))
    size: Mapped[str] = mapped_column(String(100), default="")
    material: Mapped[str] = mapped_column(String(100), default="")
    thickness: Mapped[str] = mapped_column(String(50), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    confirmed_by: Mapped[User | None] = relationship()
    products: Mapped[list[PlateProduct]] = relationship(back_populates="plate", cascade="all, delete-orphan")

    @staticmethod
    def full_code(base_code: str, version: int) -> str:
        return base_code if version == 1 else f"{base_code}-v{version}"


class PlateProduct(db.Model):
    __tablename__ = "plate_products"
    plate_id: Mapped[int] = mapped_column(ForeignKey("plates.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), primary_key=True)
    imposition_quantity: Mapped[int] = mapped_column(Integer, default=1)

    plate: Mapped[Plate] = relationship(back_populates="products")
    product: Mapped[Product] = relationship()
