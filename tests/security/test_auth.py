"""Office login, kiosk login (employee number + PIN), throttling, idle logout, CSRF and logout."""
import time
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.models import AuthFailure, User
from support.apps import variant_app

PASSWORD = "demo123456"  # tests/factories.py
PIN = "1234"
BAD_CREDENTIALS = "用户名或密码错误"
BAD_PIN = "工号或 PIN 错误"
THROTTLED = "失败次数过多，请 60 秒后再试"
IDLE_LOGOUT = "由于长时间未操作，已自动退出，请重新登录"


def _post_login(client, username, password=PASSWORD, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password})


def _post_kiosk(client, employee_no, pin=PIN):
    return client.post("/kiosk/login", data={"employee_no": employee_no, "pin": pin})


def _logged_in_user_id(client):
    with client.session_transaction() as session:
        return session.get("_user_id")


@pytest.mark.parametrize("roles, landing", [
    (("operator",), "/kiosk"),
    (("supervisor",), "/supervisor"),
    (("admin",), "/"),
    (("maker",), "/"),
    (("salesperson",), "/"),
    (("designer",), "/"),
])
def test_login_lands_by_role(client, make_user, roles, landing):
    user = make_user(*roles)
    response = _post_login(client, user.username)
    assert (response.status_code, response.headers["Location"]) == (302, landing)
    assert _logged_in_user_id(client) == str(user.id)


def test_login_sets_last_login_time(client, make_user, db):
    user = make_user("maker")
    assert user.last_login_at is None
    _post_login(client, user.username)
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize("who", ["wrong password", "unknown user"])
def test_bad_credentials_rerender_the_form_with_400(client, make_user, db, who):
    user = make_user("maker")
    username, password = (user.username, "wrong-password") if who == "wrong password" else ("nobody", PASSWORD)
    response = _post_login(client, username, password)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert BAD_CREDENTIALS in page and 'name="username"' in page
    assert _logged_in_user_id(client) is None
    # per (account, address), per address, per account
    assert db.session.scalar(select(func.count()).select_from(AuthFailure)) == 3


def test_inactive_user_is_refused(client, make_user):
    user = make_user("maker", is_active=False)
    response = _post_login(client, user.username)
    assert response.status_code == 400
    assert "该账号已停用，请联系管理员" in response.get_data(as_text=True)
    assert _logged_in_user_id(client) is None


def test_empty_login_form_shows_inline_errors(client):
    response = client.post("/login", data={"username": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请输入用户名" in page and "请输入密码" in page


@pytest.mark.parametrize("next_url, landing", [
    ("/tasks", "/tasks"),
    ("//evil.com", "/"),
    ("http://evil.example/", "/"),
    ("/\\evil.com", "/"),
])
def test_login_follows_only_a_local_next(client, make_user, next_url, landing):
    user = make_user("maker")
    response = client.post("/login", query_string={"next": next_url},
                           data={"username": user.username, "password": PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, landing)


def test_login_page_redirects_a_signed_in_user_to_their_landing(client, login, make_user):
    login(make_user("supervisor"))
    response = client.get("/login")
    assert (response.status_code, response.headers["Location"]) == (302, "/supervisor")


def test_anonymous_page_visit_goes_to_login_with_next(client):
    response = client.get("/tasks")
    assert (response.status_code, response.headers["Location"]) == (302, "/login?next=/tasks")
    response = client.get("/kiosk")
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk/login?next=/kiosk")


def test_anonymous_on_a_kiosk_terminal_goes_to_the_kiosk_login(client):
    client.get("/kiosk/login")
    assert client.get_cookie("kiosk_terminal") is not None
    response = client.get("/tasks")
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk/login?next=/tasks")


def test_anonymous_htmx_request_gets_401_with_hx_redirect(client):
    response = client.get("/tasks", headers={"HX-Request": "true"})
    assert (response.status_code, response.headers["HX-Redirect"]) == (401, "/login?next=/tasks")


# --- kiosk -----------------------------------------------------------------------------------------------

def test_kiosk_login_by_employee_number_and_pin(client, make_user):
    user = make_user("operator", employee_no="3001")
    response = _post_kiosk(client, " 3001 ")
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk")
    assert client.get_cookie("kiosk_terminal") is not None
    with client.session_transaction() as session:
        assert (session["_user_id"], session["kiosk_session"]) == (str(user.id), True)
    assert client.get("/kiosk").status_code == 200


def test_kiosk_wrong_pin(client, make_user):
    make_user("operator", employee_no="3001")
    response = _post_kiosk(client, "3001", "9999")
    assert response.status_code == 400
    assert BAD_PIN in response.get_data(as_text=True)
    assert _logged_in_user_id(client) is None


def test_kiosk_pin_must_be_digits(client, make_user):
    make_user("operator", employee_no="3001")
    response = _post_kiosk(client, "3001", "12ab")
    assert response.status_code == 400
    assert "PIN 为 4–6 位数字" in response.get_data(as_text=True)


def test_kiosk_throttles_one_employee_number(client, make_user, db):
    make_user("operator", employee_no="3001")
    for _ in range(5):
        # A new terminal each time: the limit per employee number holds on its own.
        client.delete_cookie("kiosk_terminal")
        assert _post_kiosk(client, "3001", "9999").status_code == 400
    client.delete_cookie("kiosk_terminal")
    response = _post_kiosk(client, "3001", PIN)
    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)
    assert _logged_in_user_id(client) is None


def test_kiosk_throttles_one_terminal_across_employee_numbers(client, make_user):
    make_user("operator", employee_no="3001")
    for number in range(5):
        assert _post_kiosk(client, f"90{number:02d}", "9999").status_code == 400
    response = _post_kiosk(client, "3001", PIN)
    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)
    assert _logged_in_user_id(client) is None


def test_kiosk_failures_older_than_the_window_do_not_count(client, make_user, db):
    from datetime import timedelta

    from app.utils.timeutil import utcnow

    make_user("operator", employee_no="3001")
    for _ in range(5):
        db.session.add(AuthFailure(key="pin:acct-ip:3001|127.0.0.1", at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    assert _post_kiosk(client, "3001").status_code == 302


def test_expired_kiosk_session_logs_out_with_a_message(client, login, make_user):
    login(make_user("operator"), kiosk=True)
    with client.session_transaction() as session:
        session["kiosk_last_seen"] = time.time() - 3600
    response = client.get("/kiosk")
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk/login")
    assert IDLE_LOGOUT in client.get("/kiosk/login").get_data(as_text=True)
    assert _logged_in_user_id(client) is None


def test_expired_kiosk_session_on_htmx_gets_401_with_hx_redirect(client, login, make_user):
    login(make_user("operator"), kiosk=True)
    with client.session_transaction() as session:
        session["kiosk_last_seen"] = time.time() - 3600
    response = client.get("/kiosk", headers={"HX-Request": "true"})
    assert (response.status_code, response.headers["HX-Redirect"]) == (401, "/kiosk/login")
    assert _logged_in_user_id(client) is None


def test_active_kiosk_session_is_kept_alive(client, login, make_user):
    login(make_user("operator"), kiosk=True)
    with client.session_transaction() as session:
        session["kiosk_last_seen"] = time.time() - 60
    assert client.get("/kiosk").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session["kiosk_last_seen"] < 30


def test_a_live_refresh_does_not_keep_an_idle_kiosk_session_alive(client, login, make_user):
    login(make_user("operator"), kiosk=True)
    assert client.get("/kiosk").status_code == 200  # the page, as the kiosk opened it
    idle_since = time.time() - 60
    with client.session_transaction() as session:
        session["kiosk_last_seen"] = idle_since
    live = {"HX-Request": "true", "X-Live-Refresh": "1"}

    refreshed = client.get("/kiosk?region=claimable", headers=live)
    with client.session_transaction() as session:
        assert session["kiosk_last_seen"] == idle_since
        session["kiosk_last_seen"] = time.time() - 3600
    expired = client.get("/kiosk?region=claimable", headers=live)

    assert refreshed.status_code == 200 and "Set-Cookie" not in refreshed.headers
    assert (expired.status_code, expired.headers["HX-Redirect"]) == (401, "/kiosk/login")
    assert _logged_in_user_id(client) is None


def test_office_session_has_no_idle_logout(client, login, make_user):
    login(make_user("maker"))
    with client.session_transaction() as session:
        session["kiosk_last_seen"] = time.time() - 3600
    assert client.get("/").status_code == 200


# --- CSRF and logout --------------------------------------------------------------------------------------

@pytest.fixture()
def csrf_client(app, db, database_url):
    """The same app and database with CSRF protection on, as in production."""
    strict = variant_app(app, database_url, WTF_CSRF_ENABLED=True)
    with strict.app_context():
        yield strict.test_client()
        from app.extensions import db as _db

        _db.session.remove()


def test_post_without_csrf_token_is_refused(csrf_client, make_user):
    user = make_user("maker")
    response = csrf_client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期或安全令牌无效，请刷新页面后重试" in response.get_data(as_text=True)
    assert _logged_in_user_id(csrf_client) is None

    response = csrf_client.post("/login", data={"username": user.username, "password": PASSWORD},
                                headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert unquote(response.headers["X-Message"]) == "页面已过期或安全令牌无效，请刷新页面后重试"


def test_post_with_csrf_token_is_accepted(csrf_client, make_user):
    user = make_user("maker")
    page = csrf_client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = csrf_client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_logout_is_post_only(client, login, make_user):
    login(make_user("maker"))
    response = client.get("/logout")
    assert response.status_code == 405
    assert "不支持该操作" in response.get_data(as_text=True)
    assert _logged_in_user_id(client) is not None


def test_office_logout_returns_to_the_login_page(client, login, make_user):
    login(make_user("maker"))
    response = client.post("/logout")
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert _logged_in_user_id(client) is None
    assert "您已退出登录" in client.get("/login").get_data(as_text=True)


def test_kiosk_logout_returns_to_the_kiosk_login(client, login, make_user):
    login(make_user("operator"), kiosk=True)
    response = client.post("/logout")
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk/login")
    assert _logged_in_user_id(client) is None


def test_the_kiosk_terminal_cookie_is_secure_in_production(app, db, database_url):
    production = variant_app(app, database_url, PRODUCTION=True,
                             SECRET_KEY="9f3c1e7a2b64d850c4e1fa937b26d05e8c1a4f7b92e36d0518ca7e4b3f9d2c61")
    with production.app_context():
        response = production.test_client().get("/kiosk/login", base_url="https://plant.example")
        from app.extensions import db as _db

        _db.session.remove()
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("kiosk_terminal="))
    assert "Secure" in cookie and "HttpOnly" in cookie
