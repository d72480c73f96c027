"""Who is calling: ``Authorization: Bearer <token>`` (acts as the token's owner, no CSRF), else the
browser's login session (then writes need the CSRF header, as htmx sends it)."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors.handlers import json_error
from app.extensions import csrf
from app.services.admin import api_tokens

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Readable without credentials: the description of the API itself, and "no such operation".
PUBLIC_ENDPOINTS = ("api.openapi", "api.docs", "api.unknown")


def register(bp) -> None:
    bp.before_request(authenticate)


def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return json_error(401, _l("认证信息格式错误，应为 Authorization: Bearer <令牌>"), reason="malformed_token")
        user = api_tokens.authenticate(secret.strip())
        if user is None:
            return json_error(401, _l("API 令牌无效或已吊销"), reason="invalid_token")
        # Flask-Login's current_user for this request only: nothing is written to the session.
        g._login_user = user
        return None
    if not current_user.is_authenticated:
        return json_error(401, _l("请先登录，或使用 API 令牌（Authorization: Bearer <令牌>）"))
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    return None
