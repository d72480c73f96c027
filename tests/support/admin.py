"""Shared by the admin page tests: a small plant on top of the presets, and ways to prove that a
refused request changed nothing."""
from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import unquote

from sqlalchemy import func, inspect, select

import factories as f
from app.extensions import db
from app.models import AuditLog, Department, Process, Workstation, WorkstationProcess

HTMX = {"HX-Request": "true"}


def build_plant() -> SimpleNamespace:
    """Needs the ``seeded`` fixture: presets plus one of everything the admin pages manage."""
    production = db.session.scalar(select(Department).where(Department.code == "production"))
    world = SimpleNamespace(
        production=production,
        printing=db.session.scalar(select(Department).where(Department.code == "printing")),
        prt=db.session.scalar(select(Process).where(Process.code == "PRT")),
        admin=f.UserFactory(name="管理员甲", username="boss", roles=["admin"]),
        owner=f.UserFactory(name="业务员甲", username="sales1", roles=["salesperson"]),
        other_sales=f.UserFactory(name="业务员乙", username="sales2", roles=["salesperson"]),
        designer=f.UserFactory(name="设计员甲", username="designer1", roles=["designer"]),
    )
    world.department = f.DepartmentFactory(code="binding", name="装订车间", parent=production)
    world.process = f.ProcessFactory(code="BIND", name="装订", sort_order=30)
    world.customer = f.CustomerFactory(name="华美印业", salesperson=world.owner)
    world.foreign_customer = f.CustomerFactory(name="远方纸品", salesperson=world.other_sales)
    world.material = f.MaterialFactory(code="M900", name="铜版纸")
    world.product = f.ProductFactory(code="PR001", name="宣传册")
    world.plate = f.PlateFactory(kind="artwork", base_code="ART202601001", name="宣传册封面")
    world.workstation = Workstation(department=world.printing, code="PRT-09", name="四色机 9号", capabilities=[
        WorkstationProcess(process=world.prt, rate_per_hour=8000, setup_minutes=30)])
    db.session.add(world.workstation)
    db.session.commit()
    return world


def row_state(obj) -> dict:
    """Every column of a row as stored, read afresh from the database."""
    db.session.expire_all()
    fresh = db.session.get(type(obj), inspect(obj).identity[0])
    return {column.key: getattr(fresh, column.key) for column in inspect(type(obj)).mapper.column_attrs}


def audit_count(object_type: str | None = None) -> int:
    statement = select(func.count()).select_from(AuditLog)
    if object_type:
        statement = statement.where(AuditLog.object_type == object_type)
    return db.session.scalar(statement)


def toast(response) -> str:
    return unquote(response.headers.get("X-Message", ""))
