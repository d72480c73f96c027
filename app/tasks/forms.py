"""Parsing the kiosk card forms: whole numbers with Chinese errors next to the field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.core.errors import Conflict, Invalid
from app.services.tasks.actions import ACTION_FIELDS
from app.utils.fields import database_int, lenient_int


def parse_version(form) -> int:
    value = lenient_int(form.get("version", "").strip())
    if value is None or value < 0:
        # A page without a version cannot prove what it showed.
        raise Conflict(_l("任务已被其他人更新，请刷新后重试"), code="stale")
    return value


def parse_action_form(action: str, form) -> dict:
    """The action's keyword arguments, or Invalid with every bad field at once."""
    values, errors = {}, {}
    for name, kind in ACTION_FIELDS[action].items():
        raw = form.get(name, "").strip()
        if kind is str:
            values[name] = raw
            continue
        try:
            values[name] = database_int(raw) if raw else 0
        except ValueError as problem:
            errors[name] = str(problem)
    if errors:
        raise Invalid(next(iter(errors.values())), fields=errors)
    return values
