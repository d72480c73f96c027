"""A kiosk terminal bound to a workstation (DOMAIN.md §12): chosen at the kiosk login, kept per
terminal (the kiosk_terminal cookie names it) in the settings table under ``kiosk_terminal:<name>``.
A bound kiosk's 我的任务 shows that workstation's queue in plan order; an unbound one works as before.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Department, Setting, Workstation
from app.services.core.errors import Invalid

KEY = "kiosk_terminal:{terminal}"
# The terminal cookie (app/auth/session.py sets it; a blueprint does not import another).
TERMINAL_COOKIE = "kiosk_terminal"
TERMINAL = re.compile(r"^[0-9a-f]{16}$")


def _key(terminal: str) -> str | None:
    return KEY.format(terminal=terminal) if terminal and TERMINAL.match(terminal) else None


def bound_workstation_id(terminal: str | None) -> int | None:
    key = _key(terminal or "")
    row = db.session.get(Setting, key) if key else None
    return row.value if row is not None and isinstance(row.value, int) else None


def choices() -> list[Workstation]:
    """Every active workstation, by department and code (the login does not know the operator yet)."""
    return list(db.session.scalars(
        select(Workstation).join(Department, Department.id == Workstation.department_id)
        .where(Workstation.is_active.is_(True), Department.is_active.is_(True))
        .options(joinedload(Workstation.department))
        .order_by(Department.sort_order, Department.id, Workstation.code)))


def bind(terminal: str, user, workstation_id: int | None) -> Workstation | None:
    """Bind the terminal to ``workstation_id`` (None: unbind). The workstation must be active and of
    one of the operator's departments. The caller commits."""
    key = _key(terminal)
    if key is None:
        return None
    row = db.session.get(Setting, key)
    if workstation_id is None:
        if row is not None:
            db.session.delete(row)
        return None
    workstation = db.session.get(Workstation, workstation_id)
    if workstation is None or not workstation.is_active:
        raise Invalid(_l("机台不存在或已停用"), fields={"workstation_id": _l("机台不存在或已停用")})
    if workstation.department_id not in set(user.department_ids):
        message = _l("机台 %(code)s 不属于您的部门", code=workstation.code)
        raise Invalid(message, fields={"workstation_id": message})
    if row is None:
        db.session.add(Setting(key=key, value=workstation.id))
    elif row.value != workstation.id:
        row.value = workstation.id
    return workstation


def workstation_for(terminal: str | None, user) -> Workstation | None:
    """The terminal's workstation if it is active and of the operator's departments, else None."""
    workstation_id = bound_workstation_id(terminal)
    if workstation_id is None:
        return None
    workstation = db.session.get(Workstation, workstation_id)
    if workstation is None or not workstation.is_active or workstation.department_id not in set(user.department_ids):
        return None
    return workstation
