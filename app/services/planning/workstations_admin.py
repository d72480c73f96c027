"""机台管理 (admin): workstations, the processes each runs with its standard rate and setup time.

``data`` is the form's (or the API's) plain dict: department_id, code, name, is_active, and
``processes``: a list of {process_id, rate_per_hour, setup_minutes} rows (blank rows ignored).
Every mistake is reported at once; each change is audited and replans the department (and the
department it left) in the same transaction.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Department, Process, Workstation, WorkstationProcess
from app.services.admin.master_data import (
    FieldErrors,
    ListQuery,
    check_unique,
    flush_or_conflict,
    ids,
    integer,
    paginate,
    picked_rows,
    record_change,
    required_text,
    search_clause,
    snapshot,
    yes_no_filter,
)
from app.services.core.errors import NotFound
from app.services.planning import triggers

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
CODE_RULE = _l("机台编码只能包含字母、数字、下划线和连字符，1到20个字符")
MAX_RATE = Decimal("9999999.99")
AUDITED = ("department_id", "code", "name", "is_active")
SORTS = {"code": Workstation.code, "name": Workstation.name, "department": Workstation.department_id,
         "created": Workstation.created_at}


def get_workstation(workstation_id: int) -> Workstation:
    workstation = db.session.scalars(select(Workstation).where(Workstation.id == workstation_id).options(
        selectinload(Workstation.capabilities).joinedload(WorkstationProcess.process),
        joinedload(Workstation.department))).first()
    if workstation is None:
        raise NotFound(_l("机台不存在"))
    return workstation


def list_workstations(query: ListQuery):
    statement = select(Workstation).options(
        selectinload(Workstation.capabilities).joinedload(WorkstationProcess.process),
        joinedload(Workstation.department))
    department = ids([query.filters.get("department")])
    if department:
        statement = statement.where(Workstation.department_id == department[0])
    statement = yes_no_filter(statement, query, "active", Workstation.is_active)
    if query.search:
        statement = statement.where(search_clause(query.search, Workstation.code, Workstation.name))
    return paginate(statement, query, SORTS, "code", Workstation.id)


def department_choices() -> list[Department]:
    return list(db.session.scalars(select(Department).where(Department.is_active.is_(True))
                                   .order_by(Department.sort_order, Department.id)))


def process_choices() -> list[Process]:
    return list(db.session.scalars(select(Process).where(Process.is_active.is_(True))
                                   .order_by(Process.sort_order, Process.id)))


def _rate(errors: FieldErrors, key: str, raw) -> Decimal | None:
    raw = str(raw).strip() if raw is not None else ""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[key] = _l("标准产能必须是数字") if raw else _l("请填写标准产能")
        return None
    if not value.is_finite() or value <= 0 or value > MAX_RATE:
        errors[key] = _l("标准产能必须大于 0 且不超过 %(high)s", high=MAX_RATE)
        return None
    if -value.as_tuple().exponent > 2:
        errors[key] = _l("标准产能最多保留 2 位小数")
        return None
    return value


def _capabilities(errors: FieldErrors, rows: list[dict]) -> list[tuple[int, Decimal, int]]:
    result = []
    for prefix, row, process in picked_rows(
            errors, rows, "processes", Process, "process_id", _l("工序不存在"),
            lambda process, row: _l("工序「%(name)s」已在第 %(row)s 行", name=process.name, row=row)):
        if process is None:
            continue
        rate = _rate(errors, prefix + "rate_per_hour", row.get("rate_per_hour"))
        setup = integer(errors, row, "setup_minutes", _l("换型时间"), 0, 1440, default=0)
        if "setup_minutes" in errors:
            errors[prefix + "setup_minutes"] = errors.pop("setup_minutes")
        if rate is not None and setup is not None:
            result.append((process.id, rate, setup))
    if not result and not any(key.startswith("processes.") for key in errors):
        errors["processes"] = _l("请至少选择一个工序并填写标准产能")
    return result


def _validate(data: dict, workstation: Workstation | None):
    errors = FieldErrors()
    clean = {
        "code": required_text(errors, data, "code", _l("机台编码"), 20),
        "name": required_text(errors, data, "name", _l("机台名称"), 50),
        "is_active": bool(data.get("is_active")),
    }
    if "code" not in errors and not CODE_PATTERN.match(clean["code"]):
        errors["code"] = CODE_RULE
    check_unique(errors, "code", Workstation, Workstation.code, clean["code"], workstation.id if workstation else None,
                 lambda other: _l("编码 %(value)s 已被机台「%(name)s」使用", value=other.code, name=other.name))
    department_id = ids([data.get("department_id")])
    department = db.session.get(Department, department_id[0]) if department_id else None
    if department is None:
        errors["department_id"] = _l("请选择部门")
    elif not department.is_active and (workstation is None or workstation.department_id != department.id):
        errors["department_id"] = _l("部门「%(name)s」已停用", name=department.name)
    clean["department_id"] = department.id if department is not None else None
    capabilities = _capabilities(errors, list(data.get("processes") or []))
    return clean, capabilities, errors


def _snapshot(workstation: Workstation) -> dict:
    values = snapshot(workstation, AUDITED)
    values["processes"] = {str(c.process_id): [str(Decimal(c.rate_per_hour).normalize()), c.setup_minutes]
                           for c in sorted(workstation.capabilities, key=lambda c: c.process_id)}
    return values


def _apply(workstation: Workstation, clean: dict, capabilities) -> None:
    for name, value in clean.items():
        setattr(workstation, name, value)
    existing = {c.process_id: c for c in workstation.capabilities}
    wanted = {process_id for process_id, _, _ in capabilities}
    for process_id, capability in existing.items():
        if process_id not in wanted:
            workstation.capabilities.remove(capability)
    for process_id, rate, setup in capabilities:
        capability = existing.get(process_id)
        if capability is None:
            workstation.capabilities.append(WorkstationProcess(process_id=process_id, rate_per_hour=rate,
                                                               setup_minutes=setup))
        else:
            capability.rate_per_hour, capability.setup_minutes = rate, setup


def create_workstation(actor, data: dict) -> Workstation:
    clean, capabilities, errors = _validate(data, None)
    errors.raise_if_any()
    workstation = Workstation()
    _apply(workstation, clean, capabilities)
    db.session.add(workstation)
    flush_or_conflict()
    record_change(actor, "workstation", workstation.id, "create", None, _snapshot(workstation),
                  department_id=workstation.department_id)
    triggers.mark_plan_changed()
    return workstation


def update_workstation(actor, workstation: Workstation, data: dict) -> Workstation:
    clean, capabilities, errors = _validate(data, workstation)
    errors.raise_if_any()
    before = _snapshot(workstation)
    _apply(workstation, clean, capabilities)
    flush_or_conflict()
    record_change(actor, "workstation", workstation.id, "update", before, _snapshot(workstation),
                  department_id=workstation.department_id)
    triggers.mark_plan_changed()
    return workstation


def set_active(actor, workstation: Workstation, active: bool) -> Workstation:
    """停用 / 启用: a deactivated workstation's queue is placed again on the others (or 未排产)."""
    if workstation.is_active == active:
        return workstation
    before = _snapshot(workstation)
    workstation.is_active = active
    flush_or_conflict()
    record_change(actor, "workstation", workstation.id, "activate" if active else "deactivate", before,
                  _snapshot(workstation), department_id=workstation.department_id)
    triggers.mark_plan_changed()
    return workstation
