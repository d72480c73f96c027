"""One place that turns errors into a full page, an htmx toast, or JSON."""
from __future__ import annotations

from urllib.parse import quote

from flask import g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.extensions import db, login_manager
from app.observability import current_request_id
from app.services.admin.system_status import record_server_error
from app.services.core import settings
from app.services.core.errors import DomainError
from app.utils.http import is_api_request, is_htmx, is_kiosk_request
from app.utils.wording import aside

GENERIC_MESSAGES = {
    400: _l("请求无效，请检查输入后重试"),
    401: _l("请先登录"),
    403: _l("您没有权限访问此页面"),
    404: _l("页面或记录不存在"),
    405: _l("不支持该操作"),
    409: _l("操作冲突，请刷新后重试"),
    413: _l("上传的文件太大"),
    429: _l("操作过于频繁，请稍后再试"),
    500: _l("服务器内部错误，请稍后重试；如果问题持续，请联系管理员"),
    503: _l("数据库暂时不可用，请稍后重试"),
}

TITLES = {
    400: _l("请求无效"), 401: _l("未登录"), 403: _l("无权访问"), 404: _l("未找到"), 405: _l("不支持的操作"),
    409: _l("操作冲突"), 413: _l("文件太大"), 429: _l("请稍后再试"), 500: _l("服务器错误"),
    503: _l("暂时无法服务"),
}


# The stable ``code`` of a JSON error, by status: what a client switches on.
JSON_ERROR_CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                    405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
                    429: "too_many_requests", 500: "server_error", 503: "database_unavailable"}

# When the database cannot be reached (stopped, restarting, unreachable, or no free pooled connection):
# the app answers 503 at once and recovers by itself when the database is back.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 5


def json_error(status: int, message, *, reason: str | None = None, fields: dict | None = None,
               details: list | None = None):
    """Every JSON error, the API's and the rest: ``{"error": {"code", "message", "reason", "fields"}}``,
    plus ``details`` when there are some. ``reason`` is the more specific code (``claimed``, ``stale`` …).
    ``request_id`` is the 错误编号 to quote to the administrator (the same as in the logs)."""
    code = JSON_ERROR_CODES.get(status, "server_error" if status >= 500 else "invalid")
    body = {"code": code, "message": str(message), "reason": reason or code,
            "fields": {name: str(text) for name, text in (fields or {}).items()},
            "request_id": current_request_id()}
    if details:
        body["details"] = [str(detail) for detail in details]
    return jsonify(error=body), status


def error_response(status: int, message: str, *, code: str | None = None, details: list | None = None,
                   fields: dict | None = None):
    details = details or []
    if is_api_request():
        return json_error(status, message, reason=code, fields=fields, details=details)
    # A server-side failure is looked up in the logs by its 错误编号, which the user reads out on the phone.
    request_id = current_request_id() if status >= 500 else None
    if is_htmx():
        # htmx does not swap error responses; base.html shows X-Message in a toast.
        if request_id:
            message = message + aside(_l("错误编号") + f" {request_id}")
        html = render_template("errors/_message.html", message=message, details=details, request_id=request_id)
        return html, status, {"X-Message": quote(message)}
    title = TITLES.get(status, TITLES[500])
    if is_kiosk_request():
        # The operator stays in the kiosk frame, the scan field ready for the next code.
        return render_template("errors/kiosk_error.html", status=status, title=title, message=message,
                               details=details, request_id=request_id, idle_seconds=_kiosk_idle_seconds(),
                               focus_scan=True), status
    return render_template("errors/error.html", status=status, title=title, message=message, details=details,
                           request_id=request_id), status


def _kiosk_idle_seconds() -> int:
    try:
        return settings.get("kiosk_idle_logout_seconds")
    except DATABASE_UNAVAILABLE:  # the error being shown may be the database's: the page must still render
        db.session.rollback()
        return settings.SETTINGS["kiosk_idle_logout_seconds"][0]


def register_error_handlers(app) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return error_response(error.status, error.message, code=error.code, details=error.details, fields=error.fields)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(400, str(_l("页面已过期或安全令牌无效，请刷新页面后重试")), code="csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = str(GENERIC_MESSAGES.get(status, error.description or GENERIC_MESSAGES[500]))
        return error_response(status, message)

    def database_unavailable(error: Exception):
        try:
            db.session.rollback()
        except DATABASE_UNAVAILABLE:
            pass
        app.logger.warning("database unavailable: %s", str(error).splitlines()[0] if str(error) else error)
        return database_unavailable_response()

    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        record_server_error(current_request_id(), request.method,
                            request.url_rule.rule if request.url_rule else request.path, error)
        return error_response(500, str(GENERIC_MESSAGES[500]))


def database_unavailable_response():
    """503 as a page, a toast or JSON, rendered without the database (no user, no navigation)."""
    # Flask-Login's template context would load the user from the database: render as nobody.
    g._login_user = login_manager.anonymous_user()
    message = str(GENERIC_MESSAGES[503])
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_api_request():
        body, status = json_error(503, message)
        body.headers.update(headers)
        return body, status
    request_id = current_request_id()
    if is_htmx():
        message = message + aside(_l("错误编号") + f" {request_id}")
        html = render_template("errors/_message.html", message=message, details=[], request_id=request_id)
        return html, 503, {**headers, "X-Message": quote(message)}
    html = render_template("errors/unavailable.html", title=TITLES[503], message=message, request_id=request_id,
                           retry_seconds=RETRY_AFTER_SECONDS if request.method == "GET" else None)
    return html, 503, headers
