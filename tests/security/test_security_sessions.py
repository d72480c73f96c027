"""Sessions that end (issue 19): logout, a new password or PIN, deactivation, other roles or departments
end every session of the person at once — desk and kiosk, and a copied cookie; deactivation revokes
the person's API tokens for good; tokens may expire."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db as _db
from app.models import ApiToken, AuditLog, User
from app.realtime.hub import Close, Connection, Hub
from app.utils.timeutil import plant_today, utcnow

PASSWORD = f.PASSWORD
PIN = f.PIN


@pytest.fixture()
def plant(seeded, client, login):
    admin = f.UserFactory(username="boss", name="管理员甲", roles=["admin"])
    department = f.DepartmentFactory(code="binding", name="装订车间")
    victim = f.UserFactory(username="op_li", name="李师傅", employee_no="3001", roles=["operator", "maker"],
                           departments=[department])
    login(admin)
    return admin, victim, department


@pytest.fixture()
def new_client(app):
    return app.test_client


def desk_session(new_client, user):
    """A browser logged in through the real login form."""
    browser = new_client()
    response = browser.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def kiosk_session(new_client, user):
    browser = new_client()
    response = browser.post("/kiosk/login", data={"employee_no": user.employee_no, "pin": PIN})
    assert response.status_code == 302
    return browser


def copy_of(new_client, browser):
    """Another device holding the same session cookie (a stolen or copied cookie)."""
    thief = new_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def signed_in(browser, path="/notifications") -> bool:
    response = browser.get(path)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    return False


def edit_form(user, **overrides):
    form = {"username": user.username, "name": user.name, "employee_no": user.employee_no or "",
            "roles": sorted(user.role_codes), "departments": [str(d.id) for d in user.departments],
            "is_active": "y", "password": "", "pin": ""}
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def test_logging_out_ends_every_session_of_the_person_including_a_copied_cookie(new_client, plant):
    _, victim, _ = plant
    desk, kiosk = desk_session(new_client, victim), kiosk_session(new_client, victim)
    copied = copy_of(new_client, desk)
    assert signed_in(copied) and signed_in(kiosk, "/kiosk")

    assert desk.post("/logout").status_code == 302

    assert not signed_in(copied)
    assert not signed_in(desk)
    assert not signed_in(kiosk, "/kiosk")


CHANGES = {
    "new password": lambda user, department: edit_form(user, password="another-pass-9"),
    "new PIN": lambda user, department: edit_form(user, pin="975310"),
    "deactivated in the form": lambda user, department: edit_form(user, is_active=None),
    "a role less": lambda user, department: edit_form(user, roles=["operator"]),
    "another department": lambda user, department: edit_form(user, departments=[]),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_an_admins_change_ends_every_session_of_the_person(client, new_client, plant, change):
    _, victim, department = plant
    desk, kiosk = desk_session(new_client, victim), kiosk_session(new_client, victim)
    copied = copy_of(new_client, desk)

    response = client.post(f"/admin/users/{victim.id}", data=CHANGES[change](victim, department))

    assert response.status_code == 303
    assert [signed_in(desk), signed_in(copied), signed_in(kiosk, "/kiosk")] == [False, False, False]


def test_deactivating_ends_every_session(client, new_client, plant):
    _, victim, _ = plant
    desk, kiosk = desk_session(new_client, victim), kiosk_session(new_client, victim)

    assert client.post(f"/admin/users/{victim.id}/deactivate").status_code == 303
    assert client.post(f"/admin/users/{victim.id}/activate").status_code == 303

    # Reactivated, the person logs in again; the sessions from before stay ended.
    assert [signed_in(desk), signed_in(kiosk, "/kiosk")] == [False, False]
    assert signed_in(desk_session(new_client, victim))


def test_a_change_that_does_not_touch_access_keeps_the_sessions(client, new_client, plant):
    _, victim, _ = plant
    desk = desk_session(new_client, victim)

    assert client.post(f"/admin/users/{victim.id}", data=edit_form(victim, phone="13800000000")).status_code == 303

    assert signed_in(desk)


def test_an_admin_changing_their_own_password_keeps_this_session_and_ends_the_others(client, new_client, plant):
    admin, _, _ = plant
    elsewhere = desk_session(new_client, admin)
    here = desk_session(new_client, admin)

    response = here.post(f"/admin/users/{admin.id}", data=edit_form(admin, password="brand-new-pass-7"))

    assert response.status_code == 303
    assert signed_in(here) and not signed_in(elsewhere)


def test_an_ended_session_on_htmx_and_the_api_is_sent_to_the_login(new_client, plant):
    _, victim, _ = plant
    desk = desk_session(new_client, victim)
    copied = copy_of(new_client, desk)
    desk.post("/logout")

    htmx = copied.get("/notifications", headers={"HX-Request": "true"})
    api = copied.get("/api/v1/tasks")

    assert (htmx.status_code, htmx.headers["HX-Redirect"]) == (401, "/login?next=/notifications")
    assert api.status_code == 401


def test_ending_the_sessions_raises_the_generation_only_with_the_commit(db, plant):
    """(That the event then closes the sockets, on either database: test_security_sessions_socket.py.)"""
    from app.services.auth import sessions

    _, victim, _ = plant
    sessions.end_sessions(victim)
    db.session.rollback()
    assert db.session.get(User, victim.id).session_generation == 0

    sessions.end_sessions(victim)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, victim.id).session_generation == 1


# ---------------------------------------------------------------- the hub closes the ended sessions' sockets

def test_the_hub_closes_only_the_sockets_of_the_ended_sessions():
    hub = Hub()
    old = Connection(5, {"user:5"}, generation=0)
    new_login = Connection(5, {"user:5"}, generation=1)
    someone_else = Connection(6, {"user:6"}, generation=0)
    board = Connection(None, {"dept:3"})
    for connection in (old, new_login, someone_else, board):
        hub.register(connection)

    closed = hub.dispatch({"type": "session.ended", "user_ids": [5], "department_ids": [], "task_id": None,
                           "work_order_id": None, "generation": 1})

    assert closed == 1
    assert old.next(timeout=0) == Close(4401, "session ended")
    assert [c.next(timeout=0) for c in (new_login, someone_else, board)] == [None, None, None]


# ---------------------------------------------------------------- API tokens

def test_deactivating_revokes_the_api_tokens_for_good(client, plant):
    _, victim, _ = plant
    f.ApiTokenFactory(owner=victim, secret="wot_victims_token")
    headers = {"Authorization": "Bearer wot_victims_token"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200

    client.post(f"/admin/users/{victim.id}/deactivate")
    client.post(f"/admin/users/{victim.id}/activate")

    assert client.get("/api/v1/tasks", headers=headers).status_code == 401
    token = _db.session.scalar(select(ApiToken).where(ApiToken.owner_id == victim.id))
    assert token.revoked_at is not None
    audit = _db.session.scalar(select(AuditLog).where(AuditLog.action == "api_tokens_revoke"))
    assert (audit.object_id, audit.detail) == (victim.id, {"count": 1})


def test_an_expired_token_is_refused(client, plant):
    _, victim, _ = plant
    f.ApiTokenFactory(owner=victim, secret="wot_expired", expires_at=utcnow() - timedelta(seconds=1))
    f.ApiTokenFactory(owner=victim, secret="wot_still_valid", expires_at=utcnow() + timedelta(hours=1))

    expired = client.get("/api/v1/tasks", headers={"Authorization": "Bearer wot_expired"})
    valid = client.get("/api/v1/tasks", headers={"Authorization": "Bearer wot_still_valid"})

    assert (expired.status_code, expired.get_json()["error"]["reason"]) == (401, "invalid_token")
    assert valid.status_code == 200


def test_the_admin_sets_an_expiry_and_sees_it_with_the_last_use(client, plant):
    _, victim, _ = plant
    last_day = plant_today() + timedelta(days=30)

    created = client.post("/admin/api-tokens", data={"name": "ERP", "owner_id": str(victim.id),
                                                     "expires_on": last_day.isoformat()})
    secret = created.get_data(as_text=True).split('id="api-token-secret" class="mono" type="text" readonly value="')[1]
    secret = secret.split('"', 1)[0]
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page = client.get("/admin/api-tokens").get_data(as_text=True)

    token = _db.session.scalar(select(ApiToken))
    # The end of the chosen day on the shop floor (Asia/Shanghai, UTC+8), kept in UTC.
    assert token.expires_at == datetime.combine(last_day + timedelta(days=1), time.min) - timedelta(hours=8)
    assert "有效期至" in page and last_day.isoformat() in page
    assert "从未使用" not in page and token.last_used_at is not None


@pytest.mark.parametrize("value, message", [
    ("2020-01-01", "有效期不能早于今天"),
    ("next week", "请输入有效的日期，例如 2027-06-30"),
])
def test_a_bad_expiry_is_refused_in_the_form(client, plant, value, message):
    _, victim, _ = plant
    response = client.post("/admin/api-tokens", data={"name": "ERP", "owner_id": str(victim.id), "expires_on": value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _db.session.scalar(select(ApiToken)) is None
