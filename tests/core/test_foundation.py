"""The foundation: health probes, the Chinese error pages (full page, htmx toast, JSON) and the language."""
from urllib.parse import unquote

import pytest

from support.apps import variant_app

NOT_FOUND = "页面或记录不存在"
SERVER_ERROR = "服务器内部错误，请稍后重试；如果问题持续，请联系管理员"


def test_healthz(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok", "database": "ok"})


def test_not_found_page_is_chinese(client):
    response = client.get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" in page and NOT_FOUND in page and "未找到" in page and "返回工作台" in page


def test_not_found_for_htmx_is_a_fragment_with_a_toast_message(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert unquote(response.headers["X-Message"]) == NOT_FOUND
    assert "<html" not in page and NOT_FOUND in page


def test_not_found_under_api_is_json(client):
    # Every JSON error has one shape (app.errors.handlers.json_error); /api/v1 words its own messages.
    response = client.get("/api/no-such-thing")
    assert (response.status_code, response.get_json()) == (
        404, {"error": {"code": "not_found", "reason": "not_found", "message": NOT_FOUND, "fields": {},
                        "request_id": response.headers["X-Request-ID"]}})
    response = client.get("/api/v1/no-such-thing")
    assert (response.status_code, response.get_json()) == (
        404, {"error": {"code": "not_found", "reason": "not_found", "message": "接口不存在", "fields": {},
                        "request_id": response.headers["X-Request-ID"]}})


@pytest.fixture()
def failing_client(app, db, database_url):
    """An app whose test-only routes raise, with unexpected errors handled as in production."""
    failing = variant_app(app, database_url, PROPAGATE_UNEXPECTED=False)

    @failing.route("/boom")
    @failing.route("/api/v1/boom")
    def boom():
        raise RuntimeError("boom")

    with failing.app_context():
        yield failing.test_client()
        from app.extensions import db as _db

        _db.session.remove()


def test_unexpected_error_shows_the_chinese_500_page(failing_client):
    response = failing_client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<html" in page and SERVER_ERROR in page and "服务器错误" in page
    assert "RuntimeError" not in page and "Traceback" not in page


def test_unexpected_error_for_htmx_and_api(failing_client):
    response = failing_client.get("/boom", headers={"HX-Request": "true"})
    assert (response.status_code, unquote(response.headers["X-Message"])) == (
        500, f"{SERVER_ERROR}（错误编号 {response.headers['X-Request-ID']}）")
    assert "<html" not in response.get_data(as_text=True)
    response = failing_client.get("/api/v1/boom")
    assert (response.status_code, response.get_json()) == (
        500, {"error": {"code": "server_error", "reason": "server_error", "message": SERVER_ERROR, "fields": {},
                        "request_id": response.headers["X-Request-ID"]}})


def _html_lang(response) -> str:
    return response.get_data(as_text=True).split('<html lang="', 1)[1].split('"', 1)[0]


def test_default_language_is_chinese(client):
    assert _html_lang(client.get("/login")) == "zh-CN"
    assert _html_lang(client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})) == "zh-CN"


def test_lang_parameter_switches_and_is_remembered(client):
    assert _html_lang(client.get("/login?lang=en")) == "en"
    assert _html_lang(client.get("/login")) == "en"
    assert _html_lang(client.get("/login?lang=zh")) == "zh-CN"
    assert _html_lang(client.get("/login")) == "zh-CN"


def test_accept_language_english_selects_english(client):
    assert _html_lang(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})) == "en"
