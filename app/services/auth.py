"""Password and kiosk-PIN login with throttling that holds across worker processes."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import AuthFailure, User
from app.services.errors import Conflict, Invalid
from app.utils.timeutil import utcnow


class Throttled(Conflict):
    """Too many failures: the user must wait (answered with 429)."""

    code = "throttled"

    @property
    def status(self) -> int:
        return 429


def _recent_failures(key: str, window_seconds: int) -> int:
    since = utcnow() - timedelta(seconds=window_seconds)
    return db.session.scalar(select(func.count()).where(AuthFailure.key == key, AuthFailure.at >= since)) or 0


def _check_throttle(keys: list[str], limit: int, window: int) -> None:
    for key in keys:
        if _recent_failures(key, window) >= limit:
            raise Throttled(_l("失败次数过多，请 %(seconds)s 秒后再试", seconds=window))


def _record_failure(keys: list[str]) -> None:
    for key in keys:
        db.session.add(AuthFailure(key=key))
    # Old rows are useless once outside every window; keep the table small.
    db.session.execute(delete(AuthFailure).where(AuthFailure.at < utcnow() - timedelta(days=1)))
    db.session.commit()


def authenticate_password(username: str, password: str, client_ip: str) -> User:
    config = current_app.config
    username = (username or "").strip()
    keys = [f"pw:user:{username.lower()}", f"pw:ip:{client_ip}"]
    _check_throttle(keys, config["LOGIN_MAX_FAILURES"], config["LOGIN_FAILURE_WINDOW_SECONDS"])
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.check_password(password or ""):
        _record_failure(keys)
        raise Invalid(_l("用户名或密码错误"), code="bad_credentials")
    if not user.is_active:
        raise Invalid(_l("该账号已停用，请联系管理员"), code="inactive")
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def authenticate_pin(employee_no: str, pin: str, terminal: str) -> User:
    """Employee number (or a badge scan typed into the same field) plus PIN."""
    config = current_app.config
    employee_no = (employee_no or "").strip()
    keys = [f"pin:user:{employee_no.lower()}", f"pin:terminal:{terminal}"]
    _check_throttle(keys, config["KIOSK_MAX_FAILURES"], config["KIOSK_FAILURE_WINDOW_SECONDS"])
    user = db.session.scalar(select(User).where(User.employee_no == employee_no)) if employee_no else None
    if user is None or not user.check_pin(pin or ""):
        _record_failure(keys)
        raise Invalid(_l("工号或 PIN 错误"), code="bad_pin")
    if not user.is_active:
        raise Invalid(_l("该账号已停用，请联系管理员"), code="inactive")
    user.last_login_at = utcnow()
    db.session.commit()
    return user
