"""A request id from the header to the log line to the error page; one JSON log line per request."""
import io
import json
import logging
import secrets

import pytest

from app.observability import HANDLER_NAME
from support.apps import variant_app


def _capture_log(application) -> io.StringIO:
    """The app's log handler, pointed at a buffer (it writes to stderr otherwise)."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
    buffer = io.StringIO()
    handler.setStream(buffer)
    return buffer


def _json_lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.fixture()
def json_app(app, db, database_url):
    """An app writing JSON logs, whose test-only routes fail or are slow, errors handled as in production."""
    application = variant_app(app, database_url, PROPAGATE_UNEXPECTED=False, LOG_FORMAT="json",
                              LOG_SLOW_QUERY_MS=0.0, LOG_SLOW_REQUEST_MS=10_000.0)

    @application.route("/boom/<int:number>")
    @application.route("/api/v1/boom/<int:number>")
    def boom(number):
        raise RuntimeError(f"boom {number}")

    yield application
    from app.extensions import db as _db

    _db.session.remove()


def test_a_500_carries_its_request_id_in_the_response_the_page_and_one_log_line_with_the_traceback(json_app):
    buffer = _capture_log(json_app)
    with json_app.test_client() as client:
        response = client.get("/boom/7")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert f"错误编号 <code>{request_id}</code>" in page and "RuntimeError" not in page

    lines = [line for line in _json_lines(buffer) if line.get("request_id") == request_id]
    with_traceback = [line for line in lines if "exc_info" in line]
    assert len(with_traceback) == 1
    assert with_traceback[0]["level"] == "ERROR"
    assert "Traceback" in with_traceback[0]["exc_info"] and "RuntimeError: boom 7" in with_traceback[0]["exc_info"]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert [(line["method"], line["route"], line["status"]) for line in request_lines] == [
        ("GET", "/boom/<int:number>", 500)]


def test_a_500_toast_and_json_envelope_carry_the_request_id(json_app):
    with json_app.test_client() as client:
        toast = client.get("/boom/1", headers={"HX-Request": "true"})
        api = client.get("/api/v1/boom/1")
    from urllib.parse import unquote

    assert unquote(toast.headers["X-Message"]).endswith(f"（错误编号 {toast.headers['X-Request-ID']}）")
    assert api.status_code == 500
    assert api.get_json()["error"]["request_id"] == api.headers["X-Request-ID"]
    assert toast.headers["X-Request-ID"] != api.headers["X-Request-ID"]


def test_a_sane_request_id_from_nginx_is_kept_and_a_forged_one_replaced(client):
    given = "0123456789abcdef0123456789abcdef"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for forged in ('x" onmouseover="alert(1)', "a\tFORGED LOG LINE", "short", "z" * 65):
        answered = client.get("/healthz", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
        assert answered != forged and len(answered) == 32


def test_a_4xx_json_error_carries_the_request_id_too(client):
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "req-00000001"})
    assert response.get_json()["error"]["request_id"] == "req-00000001"


def test_the_request_line_names_the_route_pattern_the_user_and_the_sql_statements(json_app, make_user, db):
    user = make_user("admin")
    db.session.commit()
    buffer = _capture_log(json_app)
    with json_app.test_client() as client:
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        response = client.get(f"/admin/users/{user.id}/edit", headers={"X-Request-ID": "edit-user-0001"})
    assert response.status_code == 200
    lines = _json_lines(buffer)
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert (line["request_id"], line["method"], line["route"], line["status"], line["user_id"], line["role"]) == (
        "edit-user-0001", "GET", "/admin/users/<int:user_id>/edit", 200, user.id, "admin")
    assert line["sql_queries"] >= 2 and line["sql_ms"] > 0 and line["duration_ms"] >= line["sql_ms"]
    assert "time" in line and line["level"] == "INFO"
    # LOG_SLOW_QUERY_MS=0: every statement is a slow-query warning with the request's id.
    slow = [line for line in lines if line.get("event") == "slow_query"]
    assert len(slow) == line["sql_queries"]
    assert all(entry["request_id"] == "edit-user-0001" and entry["level"] == "WARNING" for entry in slow)
    assert any("FROM users" in entry["message"] for entry in slow)


def test_a_slow_request_is_logged_as_a_warning(app, db, database_url):
    application = variant_app(app, database_url, LOG_FORMAT="json", LOG_SLOW_REQUEST_MS=0.0)
    buffer = _capture_log(application)
    with application.test_client() as client:
        client.get("/healthz")
    (line,) = [line for line in _json_lines(buffer) if line.get("event") == "request"]
    assert (line["route"], line["level"], line["slow"]) == ("/healthz", "WARNING", True)


def test_production_writes_json_and_development_readable_lines(monkeypatch):
    from app.config import load_config

    monkeypatch.setenv("LOG_LEVELS", "app.realtime=debug, app.sql=WARNING")
    assert load_config({"PRODUCTION": True, "SECRET_KEY": secrets.token_hex(32)})["LOG_FORMAT"] == "json"
    development = load_config({"PRODUCTION": False, "SECRET_KEY": "k" * 40})
    assert development["LOG_FORMAT"] == "console"
    assert development["LOG_LEVELS"] == {"app.realtime": "DEBUG", "app.sql": "WARNING"}


def test_a_500_after_the_rollback_logs_the_user_without_a_query(app, db, database_url, make_user):
    from flask_login import current_user

    application = variant_app(app, database_url, PROPAGATE_UNEXPECTED=False, LOG_FORMAT="json")

    @application.route("/boom-as-user")
    @application.route("/boom-before-the-user-is-loaded")
    def boom_as_user():
        from flask import request

        if request.path == "/boom-as-user":
            assert current_user.is_authenticated
        raise RuntimeError("boom")

    user = make_user("supervisor")
    db.session.commit()
    buffer = _capture_log(application)
    with application.test_client() as client:
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        responses = [client.get("/boom-as-user"), client.get("/boom-before-the-user-is-loaded")]
    for response in responses:
        (error,) = [line for line in _json_lines(buffer)
                    if line.get("request_id") == response.headers["X-Request-ID"] and line["level"] == "ERROR"]
        # The rollback expired the loaded user's roles: the line leaves them out rather than load them again;
        # a user not loaded yet is known by the session's id.
        assert (error["user_id"], error["role"]) == (user.id, None)
    from app.extensions import db as _db

    _db.session.remove()
