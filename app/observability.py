"""What an operator reads when something went wrong: a request id, and one log line per request.

- **Request id.** nginx sets ``X-Request-ID`` (ops/nginx.conf) or passes on a client's when it looks
  sane; the app takes it, or makes one when absent, answers it in ``X-Request-ID``, adds it to every
  log record of the request, and shows it on the 5xx page, toast and JSON error (错误编号).
- **Logs.** Every record carries ``request_id``, ``user_id`` and ``role``. At the end of each request
  one line ``request`` with the method, the route *pattern* (``/tasks/<int:task_id>``, never the raw
  path), status, duration and the number and total time of its SQL statements; at WARNING when the
  request took longer than LOG_SLOW_REQUEST_MS. A statement slower than LOG_SLOW_QUERY_MS is a
  warning of its own. ``LOG_FORMAT=json`` (the default with APP_ENV=production) writes one JSON
  object a line (python-json-logger) for journald and jq; otherwise readable console lines.
  ``LOG_LEVELS="app.realtime=DEBUG"`` switches on a module's debug lines (WebSocket connects,
  disconnects and resyncs) without touching the rest.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_app_context, has_request_context, request, session
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine

REQUEST_ID_HEADER = "X-Request-ID"
# What nginx's $request_id looks like (32 hex digits), a UUID, or another proxy's id: short, no spaces
# or quotes, nothing that could forge a log line or smuggle markup into the error page.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
HANDLER_NAME = "workorder"
CONSOLE_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = ("levelname", "name", "message", "request_id", "user_id", "role")

# Kept on the request (its WSGI environ), not on ``g``: a test's requests may share one app context.
_ENV_ID, _ENV_STARTED, _ENV_SQL = "workorder.request_id", "workorder.started", "workorder.sql"

request_log = logging.getLogger("app.request")
query_log = logging.getLogger("app.sql")


def current_request_id() -> str | None:
    """This request's id (taken from the header or made on first use); None outside a request."""
    if not has_request_context():
        return None
    request_id = request.environ.get(_ENV_ID)
    if request_id is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = request.environ[_ENV_ID] = given if _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return request_id


def _current_user_fields() -> tuple[int | None, str | None]:
    """The logged-in user's id and roles as already loaded: a log line never costs a query, even after
    the error handler's rollback has expired every object (and never fails while the database is away)."""
    if not has_request_context():
        return None, None
    user = g.get("_login_user")
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:  # not loaded (yet), or anonymous: the session cookie's id
        user_id = session.get("_user_id")
        return (int(user_id) if user_id and user_id.isdigit() else None), None
    roles = None if "roles" in state.unloaded else ",".join(sorted(role.code for role in user.roles)) or None
    return state.identity[0], roles


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and role to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "user_id"):
            record.user_id, record.role = _current_user_fields()
        return True


def _formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        # time: ISO 8601 in UTC, first in the line.
        return JsonFormatter(list(JSON_FIELDS), rename_fields={"levelname": "level", "name": "logger"},
                             timestamp="time", json_ensure_ascii=False)
    return logging.Formatter(CONSOLE_FORMAT)


def configure_logging(app: Flask) -> logging.Handler:
    """One handler on the root logger (replaced, not added again, when another app is created)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(_formatter(app.config["LOG_FORMAT"]))
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # the root handler writes the app's records, once
    for name, level in app.config["LOG_LEVELS"].items():
        logging.getLogger(name).setLevel(level)
    return handler


# ---------------------------------------------------------------- SQL statements of a request

def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    conn.info["query_started"] = time.perf_counter()


def _after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    started = conn.info.pop("query_started", None)
    if started is None:
        return
    elapsed = time.perf_counter() - started
    if has_request_context():
        count, seconds = request.environ.get(_ENV_SQL, (0, 0.0))
        request.environ[_ENV_SQL] = (count + 1, seconds + elapsed)
    if has_app_context():
        from flask import current_app

        threshold = current_app.config.get("LOG_SLOW_QUERY_MS")
        if threshold is not None and elapsed * 1000 > threshold:
            query_log.warning("slow query %.1f ms: %s", elapsed * 1000, statement[:1000],
                              extra={"event": "slow_query", "duration_ms": round(elapsed * 1000, 1)})


_listening = False


def _time_sql_statements() -> None:
    global _listening
    if not _listening:  # once per process, for every engine (the listener thread uses psycopg directly)
        event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
        event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
        _listening = True


# ---------------------------------------------------------------- the request line

def init_observability(app: Flask) -> None:
    configure_logging(app)
    _time_sql_statements()

    @app.before_request
    def start_request_clock():
        current_request_id()
        request.environ[_ENV_STARTED] = time.perf_counter()

    @app.after_request
    def log_request(response):
        response.headers[REQUEST_ID_HEADER] = current_request_id()
        started = request.environ.get(_ENV_STARTED)
        if started is None or request.path.startswith("/static/"):
            return response
        duration_ms = (time.perf_counter() - started) * 1000
        sql_queries, sql_seconds = request.environ.get(_ENV_SQL, (0, 0.0))
        slow = duration_ms > app.config["LOG_SLOW_REQUEST_MS"]
        fields = {
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "sql_queries": sql_queries,
            "sql_ms": round(sql_seconds * 1000, 1),
        }
        if slow:
            fields["slow"] = True
        request_log.log(logging.WARNING if slow else logging.INFO, "%s %s %s %.1f ms, %d SQL in %.1f ms",
                        fields["method"], fields["route"] or request.path, fields["status"], duration_ms,
                        fields["sql_queries"], fields["sql_ms"], extra={"event": "request", **fields})
        return response
