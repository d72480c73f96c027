"""Time helpers. The database stores naive UTC; pages show Asia/Shanghai via flask-babel."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def plant_zone() -> ZoneInfo:
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def plant_today() -> date:
    """Today's date on the shop floor, which is what due dates are counted against."""
    return datetime.now(plant_zone()).date()


def plant_now() -> datetime:
    return datetime.now(plant_zone())
