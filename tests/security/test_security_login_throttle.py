"""Throttles that cannot lock anyone out (issue 19): failures refuse per (account, address) and per address
only; per account they only slow the answer (capped) and, in a burst, tell the administrators. PIN guessing
is limited per terminal and per address, whatever the terminal cookie. An unknown account costs what a
known one costs."""
import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

import factories as f
from app.models import AuditLog, AuthFailure, Notification
from app.services.auth import login as auth_service

PASSWORD, PIN = f.PASSWORD, f.PIN
THROTTLED_LOGIN = "失败次数过多，请 300 秒后再试"
THROTTLED_PIN = "失败次数过多，请 60 秒后再试"
ATTACKER, OFFICE = "203.0.113.9", "10.0.0.21"


@pytest.fixture()
def delays(monkeypatch):
    """The delays the service asked for, instead of waiting them out."""
    asked = []
    monkeypatch.setattr(auth_service, "pause", asked.append, raising=False)
    return asked


def login_from(client, address, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def kiosk_from(client, address, employee_no, pin=PIN):
    return client.post("/kiosk/login", data={"employee_no": employee_no, "pin": pin},
                       environ_base={"REMOTE_ADDR": address})


def test_someone_elses_failures_never_stop_the_right_password_from_another_address(app, client, make_user, delays):
    owner = make_user("maker")
    for _ in range(40):  # more than any per-account limit of the old throttle, from one address
        login_from(client, ATTACKER, owner.username, "wrong-guess")

    response = login_from(app.test_client(), OFFICE, owner.username)

    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert max(delays) <= app.config["LOGIN_DELAY_MAX_SECONDS"] == 3.0


def test_failures_from_one_address_on_one_account_are_refused_there(app, client, make_user, delays):
    owner = make_user("maker")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login_from(client, ATTACKER, owner.username, "wrong-guess").status_code == 400

    refused = login_from(client, ATTACKER, owner.username)

    assert refused.status_code == 429 and THROTTLED_LOGIN in refused.get_data(as_text=True)
    assert login_from(app.test_client(), OFFICE, owner.username).status_code == 302


def test_failures_across_accounts_from_one_address_are_refused_there(app, client, make_user, delays):
    owner = make_user("maker")
    for number in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        assert login_from(client, ATTACKER, f"guess{number}", "wrong-guess").status_code == 400

    assert login_from(client, ATTACKER, owner.username).status_code == 429
    assert login_from(app.test_client(), OFFICE, owner.username).status_code == 302


def test_the_delay_per_account_grows_and_is_capped(app, client, make_user, delays):
    owner = make_user("maker")
    for number in range(9):  # each from its own address: no per-address limit is reached
        login_from(client, f"198.51.100.{number}", owner.username, "wrong-guess")

    assert delays == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]  # from the 4th attempt on (3 failures before it)
    delays.clear()
    login_from(client, OFFICE, "someone-else")
    assert delays == []  # another account is not slowed


def test_a_burst_on_an_account_is_audited_and_the_admins_are_told_once(app, db, client, make_user, delays):
    admins = [make_user("admin"), make_user("admin")]
    make_user("admin", is_active=False)
    owner = make_user("maker", username="wang")
    burst = app.config["LOGIN_BURST_FAILURES"]
    for number in range(burst + 3):
        login_from(client, f"198.51.100.{number}", owner.username, "wrong-guess")

    audits = db.session.scalars(select(AuditLog).where(AuditLog.action == "login_burst")).all()
    notices = db.session.scalars(select(Notification).order_by(Notification.recipient_id)).all()

    assert [(a.object_type, a.object_id, a.detail["failures"], a.detail["channel"]) for a in audits] == \
        [("user", owner.id, burst, "pw")]
    assert [n.recipient_id for n in notices] == sorted(a.id for a in admins)
    assert notices[0].title == "账号 wang 登录失败次数异常" and notices[0].priority == "high"
    assert f"300 秒内登录失败 {burst} 次" in notices[0].content


def test_an_unknown_account_is_not_reported(app, db, client, make_user, delays):
    make_user("admin")
    for number in range(app.config["LOGIN_BURST_FAILURES"] + 1):
        login_from(client, f"198.51.100.{number}", "nobody-here", "wrong-guess")
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


# ---------------------------------------------------------------- kiosk PIN

def test_dropping_the_terminal_cookie_does_not_reset_the_pin_limit(app, client, make_user, delays):
    make_user("operator", employee_no="3001")
    for number in range(app.config["KIOSK_MAX_FAILURES_PER_ADDRESS"]):
        client.delete_cookie("kiosk_terminal")  # a new terminal every time, from the same address
        assert kiosk_from(client, ATTACKER, f"90{number:02d}", "9999").status_code == 400

    client.delete_cookie("kiosk_terminal")
    refused = kiosk_from(client, ATTACKER, "3001")

    assert refused.status_code == 429 and THROTTLED_PIN in refused.get_data(as_text=True)
    assert kiosk_from(app.test_client(), OFFICE, "3001").status_code == 302


def test_pin_failures_elsewhere_never_stop_the_right_pin_at_another_terminal(app, client, make_user, delays):
    make_user("operator", employee_no="3001")
    for number in range(30):
        client.delete_cookie("kiosk_terminal")
        kiosk_from(client, f"198.51.100.{number}", "3001", "9999")

    response = kiosk_from(app.test_client(), OFFICE, "3001")

    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk")


def test_a_forged_terminal_cookie_is_replaced(client, make_user, delays):
    client.set_cookie("kiosk_terminal", "x" * 5000)
    response = kiosk_from(client, OFFICE, "3001", "9999")
    assert response.status_code == 400
    assert len(client.get_cookie("kiosk_terminal").value) == 16


# ---------------------------------------------------------------- the same cost for every account

@pytest.fixture()
def hash_checks(monkeypatch):
    """How many hashes each login attempt verifies (what costs time: ~0.1 s each with scrypt)."""
    calls = []
    real = check_password_hash

    def counting(stored, secret):
        calls.append(stored)
        return real(stored, secret)

    monkeypatch.setattr(auth_service, "check_password_hash", counting, raising=False)
    return calls


@pytest.mark.parametrize("who", ["known, wrong password", "unknown", "known, without a password", "inactive"])
def test_every_password_login_verifies_exactly_one_hash_of_the_configured_method(
        client, make_user, delays, hash_checks, who):
    make_user("maker", username="known")
    make_user("maker", username="nopass", password_hash="")
    make_user("maker", username="gone", is_active=False)
    username, password = {"known, wrong password": ("known", "wrong-guess"), "unknown": ("ghost", "wrong-guess"),
                          "known, without a password": ("nopass", "wrong-guess"), "inactive": ("gone", PASSWORD)}[who]

    assert login_from(client, OFFICE, username, password).status_code == 400

    method = client.application.config["PASSWORD_HASH_METHOD"]
    assert len(hash_checks) == 1 and hash_checks[0].startswith(method.split(":")[0] + ":")


@pytest.mark.parametrize("employee_no", ["3001", "9999", "4004"], ids=["known", "unknown", "known, without a PIN"])
def test_every_pin_login_verifies_exactly_one_hash(client, make_user, delays, hash_checks, employee_no):
    make_user("operator", employee_no="3001")
    make_user("operator", employee_no="4004", pin_hash=None)

    assert kiosk_from(client, OFFICE, employee_no, "9999").status_code == 400

    assert len(hash_checks) == 1


def test_every_failure_is_counted_under_the_same_keys_for_known_and_unknown_accounts(db, client, make_user, delays):
    make_user("maker", username="known")
    login_from(client, OFFICE, "known", "wrong-guess")
    login_from(client, OFFICE, "ghost", "wrong-guess")
    keys = sorted(db.session.scalars(select(AuthFailure.key)))
    assert keys == sorted([f"pw:acct-ip:known|{OFFICE}", f"pw:ip:{OFFICE}", "pw:acct:known",
                           f"pw:acct-ip:ghost|{OFFICE}", f"pw:ip:{OFFICE}", "pw:acct:ghost"])
