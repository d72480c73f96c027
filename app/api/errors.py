"""Every API error as ``{"error": {"code", "message", "reason", "fields"}}`` — never HTML, never a 500 for bad input.

An unexpected exception is left to the application's handler (logged, ``server_error``).
``code`` is one of a few stable values a client can switch on; ``reason`` is the service's more
specific code (``claimed``, ``stale``, ``task_not_found`` …); ``message`` is the Chinese text to show.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors.handlers import GENERIC_MESSAGES, json_error
from app.extensions import db
from app.services.core.errors import DomainError, Invalid

# Validation refused by a service answers 422 like a body that breaks its schema; 400 is for what
# cannot be read at all (not JSON).
DOMAIN_STATUS = {"invalid": 422}


class BadRequest(Invalid):
    status = 400


class Unprocessable(Invalid):
    status = 422


def register_error_handlers(bp) -> None:
    @bp.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        status = error.status if isinstance(error, (BadRequest, Unprocessable)) else \
            DOMAIN_STATUS.get(error.kind, error.status)
        return json_error(status, error.message, reason=error.code, fields=error.fields, details=error.details)

    @bp.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return json_error(403, _l("缺少或无效的 CSRF 令牌：浏览器会话的写操作需要 X-CSRFToken 请求头"), reason="csrf")

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        return json_error(status, GENERIC_MESSAGES.get(status, GENERIC_MESSAGES[500]))
