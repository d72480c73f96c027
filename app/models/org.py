"""People, roles, departments and the process catalogue."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.enums import PLATE_KINDS
from app.extensions import db
from app.models.base import NEVER_REUSE_IDS, TimestampMixin


def hash_secret(secret: str) -> str:
    """A password or PIN hash by the configured method."""
    return generate_password_hash(secret, method=current_app.config["PASSWORD_HASH_METHOD"])


user_roles = Table(
    "user_roles",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)

user_departments = Table(
    "user_departments",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True),
)

department_processes = Table(
    "department_processes",
    db.metadata,
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
    Column("process_id", ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Role(db.Model):
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(50))

    def __repr__(self) -> str:
        return f"<Role {self.code}>"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    employee_no: Mapped[str | None] = mapped_column(String(30), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Raised by every change that must end the person's sessions (logout, new password or PIN,
    # deactivation, other roles or departments): a login session carries the value it began with,
    # and one that no longer matches is refused (app/auth/session.py).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")
    departments: Mapped[list[Department]] = relationship(
        secondary=user_departments, back_populates="members", lazy="selectin"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = hash_secret(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def set_pin(self, pin: str) -> None:
        self.pin_hash = hash_secret(pin)

    def check_pin(self, pin: str) -> bool:
        return bool(self.pin_hash) and check_password_hash(self.pin_hash, pin)

    @property
    def role_codes(self) -> set[str]:
        return {role.code for role in self.roles}

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    @property
    def department_ids(self) -> set[int]:
        return {d.id for d in self.departments}

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Department(TimestampMixin, db.Model):
    __tablename__ = "departments"
    __table_args__ = NEVER_REUSE_IDS
    MAX_DEPTH = 3

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent", order_by="Department.sort_order")
    processes: Mapped[list[Process]] = relationship(secondary=department_processes, back_populates="departments")
    members: Mapped[list[User]] = relationship(secondary=user_departments, back_populates="departments")

    @property
    def depth(self) -> int:
        depth, node = 1, self.parent
        while node is not None:
            depth, node = depth + 1, node.parent
        return depth

    @property
    def full_name(self) -> str:
        return f"{self.parent.name} - {self.name}" if self.parent else self.name

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class Process(TimestampMixin, db.Model):
    __tablename__ = "processes"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, index=True)
    standard_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=0)
    is_parallel: Mapped[bool] = mapped_column(Boolean, default=False)
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # requires_X: the step uses that plate kind; X_required: at least one must be chosen.
    requires_artwork: Mapped[bool] = mapped_column(Boolean, default=False)
    artwork_required: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_die: Mapped[bool] = mapped_column(Boolean, default=False)
    die_required: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_foiling: Mapped[bool] = mapped_column(Boolean, default=False)
    foiling_required: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_embossing: Mapped[bool] = mapped_column(Boolean, default=False)
    embossing_required: Mapped[bool] = mapped_column(Boolean, default=True)

    departments: Mapped[list[Department]] = relationship(secondary=department_processes, back_populates="processes")

    def required_plate_kinds(self) -> list[str]:
        """Plate kinds of which a 施工单 with this process must select at least one."""
        kinds = []
        for kind in PLATE_KINDS:
            if getattr(self, f"requires_{kind}") and getattr(self, f"{kind}_required"):
                kinds.append(kind)
        return kinds

    def __repr__(self) -> str:
        return f"<Process {self.code}>"
