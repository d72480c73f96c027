"""The password rules, in one place for every service that sets a password."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

PASSWORD_MIN_LENGTH = 8
PASSWORD_RULE = _l("至少8位，不能全是数字，不能与用户名相同")


def password_problem(password: str, username: str):
    """Why ``password`` may not be used by ``username`` (a translatable message), or None when it may."""
    if len(password) < PASSWORD_MIN_LENGTH or password.isdigit():
        return _l("密码至少8位，且不能全是数字")
    if password.casefold() == (username or "").casefold():
        return _l("密码不能与用户名相同")
    return None
