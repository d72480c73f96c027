"""JSON API authentication (tokens, the session with CSRF), the admin token page, and the error format."""
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import ApiToken, AuditLog
from app.utils.timeutil import utcnow
from factories import ApiTokenFactory, UserFactory
from support.api import bearer, error_of
from support.apps import variant_app

UNAUTHENTICATED = "请先登录，或使用 API 令牌（Authorization: Bearer <令牌>）"
INVALID_TOKEN = "API 令牌无效或已吊销"


# ---------------------------------------------------------------- tokens

def test_a_valid_token_acts_as_its_owner_and_records_its_use(db, client):
    owner = UserFactory(roles=["admin"])
    headers = bearer(owner)
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["total"] == 0
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is not None and utcnow() - token.last_used_at < timedelta(seconds=5)
    # No cookie session is started by a token request.
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("header,reason,message", [
    (None, "unauthenticated", UNAUTHENTICATED),
    ("Bearer wot_not_a_real_token", "invalid_token", INVALID_TOKEN),
    ("Bearer ", "malformed_token", "认证信息格式错误，应为 Authorization: Bearer <令牌>"),
    ("Basic dXNlcjpwYXNz", "malformed_token", "认证信息格式错误，应为 Authorization: Bearer <令牌>"),
], ids=["missing", "wrong", "empty", "not bearer"])
def test_requests_without_a_valid_token_are_refused(db, client, header, reason, message):
    response = client.get("/api/v1/tasks", headers={"Authorization": header} if header else {})
    assert error_of(response) == (401, "unauthenticated", message)
    assert response.get_json()["error"]["reason"] == reason


def test_a_revoked_token_and_a_deactivated_owner_are_refused(db, client):
    owner = UserFactory(roles=["admin"])
    ApiTokenFactory(owner=owner, secret="wot_revoked", revoked_at=utcnow())
    assert error_of(client.get("/api/v1/tasks", headers={"Authorization": "Bearer wot_revoked"})) == \
        (401, "unauthenticated", INVALID_TOKEN)
    inactive = UserFactory(roles=["admin"], is_active=False)
    ApiTokenFactory(owner=inactive, secret="wot_inactive_owner")
    assert error_of(client.get("/api/v1/tasks", headers={"Authorization": "Bearer wot_inactive_owner"})) == \
        (401, "unauthenticated", INVALID_TOKEN)


def test_a_token_has_its_owners_permissions_not_more(db, client):
    operator = UserFactory(roles=["operator"])
    response = client.get("/api/v1/workorders", headers=bearer(operator))
    assert error_of(response) == (403, "forbidden", "施工单只对管理员、业务员、制单员、部门主管和设计员开放")


# ---------------------------------------------------------------- the browser session and CSRF

@pytest.fixture()
def csrf_client(app, database_url, db):
    """An app with CSRF enforced, as in production (the shared test app switches it off)."""
    strict = variant_app(app, database_url, WTF_CSRF_ENABLED=True)
    with strict.app_context():
        yield strict.test_client()
        _db.session.remove()


def _session_login(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def _csrf_token(client) -> str:
    html = client.get("/api/docs").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_the_session_reads_and_its_writes_need_the_csrf_header(db, csrf_client):
    user = UserFactory(roles=["operator"])
    notification_id = _notification_for(user)
    _session_login(csrf_client, user)
    assert csrf_client.get("/api/v1/notifications").status_code == 200

    url = f"/api/v1/notifications/{notification_id}/read"
    response = csrf_client.post(url)
    assert error_of(response) == (403, "forbidden", "缺少或无效的 CSRF 令牌：浏览器会话的写操作需要 X-CSRFToken 请求头")
    assert response.get_json()["error"]["reason"] == "csrf"

    response = csrf_client.post(url, headers={"X-CSRFToken": _csrf_token(csrf_client)})
    assert response.status_code == 200 and response.get_json()["is_read"] is True


def test_token_writes_need_no_csrf_header(db, csrf_client):
    user = UserFactory(roles=["operator"])
    notification_id = _notification_for(user)
    response = csrf_client.post(f"/api/v1/notifications/{notification_id}/read", headers=bearer(user))
    assert response.status_code == 200 and response.get_json()["is_read"] is True


def _notification_for(user) -> int:
    from factories import NotificationFactory

    return NotificationFactory(recipient=user).id


# ---------------------------------------------------------------- /admin/api-tokens

ADMIN_PAGES = [("GET", "/admin/api-tokens"), ("GET", "/admin/api-tokens/new"), ("POST", "/admin/api-tokens"),
               ("POST", "/admin/api-tokens/{id}/revoke")]


@pytest.mark.parametrize("role", ["admin", "supervisor", "maker", "salesperson", "designer", "operator"])
@pytest.mark.parametrize("method,url", ADMIN_PAGES, ids=[f"{m} {u}" for m, u in ADMIN_PAGES])
def test_only_admins_manage_tokens(db, client, login_as, role, method, url):
    token = ApiTokenFactory()
    user = login_as(role)
    url = url.format(id=token.id)
    response = client.get(url) if method == "GET" else client.post(url, data={"name": "ERP", "owner_id": user.id})
    expected = {"admin": {"GET": 200, "POST": 303 if "revoke" in url else 200}}.get(role, {}).get(method, 403)
    assert response.status_code == expected


def test_tokens_need_a_login(db, client):
    response = client.get("/admin/api-tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_creating_a_token_shows_the_secret_once_stores_its_hash_and_audits(db, client, login_as):
    admin = login_as("admin")
    erp = UserFactory(name="ERP 接口", username="erp", roles=["maker"])
    response = client.post("/admin/api-tokens", data={"name": "ERP 同步", "owner_id": str(erp.id)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    secret = re.search(r'value="(wot_[A-Za-z0-9_-]{43})"', html).group(1)
    assert "令牌只显示这一次" in html

    token = db.session.scalar(select(ApiToken))
    assert (token.name, token.owner_id, token.created_by_id, token.revoked_at) == ("ERP 同步", erp.id, admin.id, None)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    listing = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "ERP 同步" in listing and secret not in listing and "从未使用" in listing

    assert client.get("/api/v1/workorders", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    rows = db.session.execute(select(AuditLog.user_id, AuditLog.object_type, AuditLog.object_id, AuditLog.action)).all()
    assert rows == [(admin.id, "api_token", token.id, "create")]


def test_a_refused_token_form_names_its_fields(db, client, login_as):
    login_as("admin")
    response = client.post("/admin/api-tokens", data={"name": "", "owner_id": "999999"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写名称" in html and "请选择启用的用户" in html
    assert db.session.scalar(select(ApiToken)) is None


def test_revoking_a_token_ends_its_access_and_is_audited(db, client, login_as):
    admin = login_as("admin")
    owner = UserFactory(roles=["operator"])
    token = ApiTokenFactory(owner=owner, secret="wot_to_revoke", name="扫码枪 3 号")
    headers = {"Authorization": "Bearer wot_to_revoke"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200

    response = client.post(f"/admin/api-tokens/{token.id}/revoke")
    assert response.status_code == 303
    assert error_of(client.get("/api/v1/tasks", headers=headers))[0] == 401
    _db.session.expire_all()
    assert _db.session.get(ApiToken, token.id).revoked_at is not None
    assert _db.session.execute(select(AuditLog.user_id, AuditLog.action, AuditLog.detail)).all() == \
        [(admin.id, "revoke", {"name": "扫码枪 3 号", "owner": owner.username})]
    listing = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "已吊销" in listing
    # The audit page names what was done, and to what, in Chinese.
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "API 令牌" in audit_page and "吊销" in audit_page and ">revoke<" not in audit_page

    again = client.post(f"/admin/api-tokens/{token.id}/revoke", headers={"HX-Request": "true"})
    assert again.status_code == 409


def test_the_admin_navigation_links_the_token_page(db, client, login_as):
    login_as("admin")
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/api-tokens"' in html


# ---------------------------------------------------------------- errors: always JSON, never a 500

@pytest.fixture()
def admin_headers(db):
    return bearer(UserFactory(roles=["admin"]))


@pytest.mark.parametrize("method,url,kwargs,expected", [
    ("POST", "/api/v1/tasks/1/claim", {"data": "{not json", "content_type": "application/json"},
     (400, "invalid", "请求体必须是 JSON 对象（Content-Type: application/json）")),
    ("POST", "/api/v1/tasks/1/claim", {"json": [1, 2]},
     (400, "invalid", "请求体必须是 JSON 对象（Content-Type: application/json）")),
    ("POST", "/api/v1/tasks/1/claim", {"json": {"version": "1"}}, (422, "invalid", "version：请输入整数")),
    ("POST", "/api/v1/tasks/1/claim", {"json": {}}, (422, "invalid", "version：此项为必填项")),
    ("POST", "/api/v1/tasks/1/claim", {"json": {"version": 10**30}},
     (422, "invalid", "version：数值应在 1 到 2147483647 之间")),
    ("POST", "/api/v1/tasks/1/report", {"json": {"version": 1, "defective": 2**31}},
     (422, "invalid", "defective：数值应在 -100000000 到 100000000 之间")),
    ("POST", "/api/v1/tasks/1/report", {"json": {"version": 1, "good": 1.5}}, (422, "invalid", "good：请输入整数")),
    ("POST", "/api/v1/tasks/1/cancel", {"json": {"version": 1, "reason": "a\x00b"}},
     (422, "invalid", "reason：文本不能包含空字符")),
    ("POST", "/api/v1/tasks/1/claim", {"json": {"version": 1, "extra": 1}}, (422, "invalid", "extra：不支持的字段")),
    ("GET", "/api/v1/tasks?per_page=7", {}, (422, "invalid", "per_page：取值无效，可选：20、50、100")),
    ("GET", "/api/v1/tasks?page=abc", {}, (422, "invalid", "page：请输入整数")),
    ("GET", "/api/v1/tasks?date_from=2026-13-40", {}, (422, "invalid", "date_from：日期格式应为 YYYY-MM-DD")),
    ("GET", "/api/v1/tasks?q=%00", {}, (422, "invalid", "q：文本不能包含空字符")),
    ("GET", "/api/v1/tasks/424242", {}, (404, "not_found", "任务不存在")),
    ("GET", "/api/v1/tasks/99999999999999999999", {}, (404, "not_found", "记录不存在")),
    ("GET", "/api/v1/tasks/abc", {}, (404, "not_found", "接口不存在")),
    ("GET", "/api/v1/nothing-here", {}, (404, "not_found", "接口不存在")),
    ("DELETE", "/api/v1/tasks/1", {}, (405, "method_not_allowed", "不支持该操作")),
    ("GET", "/api/v1/workorders/2147483648", {}, (404, "not_found", "记录不存在")),
], ids=["malformed json", "not an object", "string number", "missing version", "huge number",
        "quantity above the bound", "float", "nul byte", "unknown field", "bad page size", "bad page", "bad date", "nul in query", "unknown task",
        "huge id", "non-numeric id", "unknown path", "wrong method", "id above int4"])
def test_bad_input_is_a_json_error_never_html_nor_500(client, admin_headers, method, url, kwargs, expected):
    response = client.open(url, method=method, headers=admin_headers, **kwargs)
    assert error_of(response) == expected
