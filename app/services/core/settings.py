"""Plant settings stored in the database (DOMAIN.md §2), effective immediately."""
from __future__ import annotations

import secrets

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Setting
from app.services.core import audit
from app.services.core.errors import Invalid
from app.utils.fields import database_int

# key → (default, label, minimum, maximum); None bounds mean a boolean.
SETTINGS = {
    "auto_dispatch_enabled": (True, _l("启用自动分派"), None, None),
    "operator_task_cap": (10, _l("操作员任务上限"), 1, 100),
    "kiosk_idle_logout_seconds": (120, _l("工位机空闲自动退出（秒）"), 30, 3600),
    "notification_retention_days": (30, _l("通知保留天数"), 1, 365),
    "planning_enabled": (True, _l("启用排产"), None, None),
}


# Stored beside the settings, never shown with them: see app.services.core.reference.
REFERENCE_VERSION_KEY = "reference_version"


def get(key: str):
    if key not in SETTINGS:
        raise KeyError(key)
    return all_values()[key]


def all_values() -> dict:
    return dict(_stored()[0])


def reference_version() -> str | None:
    """The version of the reference data this request sees (None: not versioned, keep nothing)."""
    return _stored()[1]


def new_reference_version() -> str:
    """Random rather than counted: a database restored from a backup never meets one it had before."""
    return secrets.token_hex(8)


def _stored() -> tuple[dict, str | None]:
    """Every setting and the reference version, read once per request (a kiosk page needs three
    settings, the idle check one, the bell one, and any page of reference data the version)."""
    if has_request_context() and "plant_settings" in g:
        return g.plant_settings
    stored = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    read = ({key: stored.get(key, spec[0]) for key, spec in SETTINGS.items()}, stored.get(REFERENCE_VERSION_KEY))
    if has_request_context():
        g.plant_settings = read
    return read


def forget_cached_values() -> None:
    if has_request_context():
        g.pop("plant_settings", None)


def _validate(key: str, value):
    default, label, low, high = SETTINGS[key]
    if isinstance(default, bool):
        return bool(value)
    try:
        number = database_int(value)
    except (TypeError, ValueError):
        raise Invalid(_l("%(label)s必须是整数", label=label), fields={key: _l("请输入整数")}) from None
    if not low <= number <= high:
        message = _l("%(label)s必须在 %(low)s 到 %(high)s 之间", label=label, low=low, high=high)
        raise Invalid(message, fields={key: message})
    return number


def update(actor, changes: dict) -> dict:
    """Validate every change first so a bad value leaves all settings untouched."""
    clean = {key: _validate(key, value) for key, value in changes.items() if key in SETTINGS}
    before = all_values()
    for key, value in clean.items():
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        else:
            row.value = value
        if before[key] != value:
            audit.record(actor, "setting", None, "update", detail={"key": key, "before": before[key], "after": value})
    forget_cached_values()
    if "planning_enabled" in clean and before["planning_enabled"] != clean["planning_enabled"]:
        from app.services.planning import triggers
        triggers.mark_plan_changed()  # switched on: every queue is made and planned before the commit
    return clean


def ensure_defaults() -> None:
    defaults = {key: spec[0] for key, spec in SETTINGS.items()}
    for key, default in {**defaults, REFERENCE_VERSION_KEY: new_reference_version()}.items():
        if db.session.get(Setting, key) is None:
            db.session.add(Setting(key=key, value=default))
