"""Password and kiosk-PIN login, with throttles that hold across worker processes and lock nobody out.

Every failure is counted under several keys (rows of ``auth_failures``):

- per (account, client address) and per client address — these refuse (429) when over their limit, so
  a guesser is stopped at the addresses it guesses from, and the right password from an address that
  has not failed always gets through, whatever others do to the account;
- per kiosk terminal (PIN only), and per address as well, so dropping the terminal cookie gains nothing
  beyond the address's own limit;
- per account across all addresses — never a refusal: a growing delay before the answer (capped at
  ``LOGIN_DELAY_MAX_SECONDS``) and, at a burst, an audit entry and a notification to the administrators.

An unknown account costs what a known one costs: the secret is checked against a dummy hash of the
same method, the same rows are counted and written (docs/DEPLOYMENT.md §安全).
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import AuditLog, AuthFailure, User
from app.services.core import audit
from app.services.core.errors import Conflict, Invalid
from app.services.notifications import inbox as notifications
from app.utils.timeutil import utcnow

# Replaced by the tests, which record the delays instead of waiting them out.
pause = time.sleep
BURST_ACTION = "login_burst"
# Lengths of the parts of a key (auth_failures.key holds 120 characters): usernames have at most 50,
# an IPv6 address 45; a terminal cookie comes from the client.
ACCOUNT_CHARS, ADDRESS_CHARS, TERMINAL_CHARS = 50, 45, 32
_dummy_hashes: dict[str, str] = {}


class Throttled(Conflict):
    """Too many failures: the user must wait (answered with 429)."""

    code = "throttled"

    @property
    def status(self) -> int:
        return 429


@dataclass(frozen=True)
class Policy:
    """One login channel's limits (from the config, prefix LOGIN_ or KIOSK_)."""

    channel: str  # "pw" or "pin": the prefix of its keys
    max_failures: int  # per (account, address), and per terminal
    max_failures_per_address: int
    window_seconds: int
    burst_failures: int  # per account across addresses: audit entry and notification

    @classmethod
    def of(cls, channel: str, prefix: str) -> Policy:
        config = current_app.config
        return cls(channel, config[f"{prefix}_MAX_FAILURES"], config[f"{prefix}_MAX_FAILURES_PER_ADDRESS"],
                   config[f"{prefix}_FAILURE_WINDOW_SECONDS"], config[f"{prefix}_BURST_FAILURES"])


@dataclass(frozen=True)
class Attempt:
    policy: Policy
    account: str
    address: str
    terminal: str | None = None

    def _key(self, kind: str, value: str) -> str:
        return f"{self.policy.channel}:{kind}:{value}"

    @property
    def account_key(self) -> str:
        return self._key("acct", self.account[:ACCOUNT_CHARS])

    def limits(self) -> dict[str, int]:
        """The keys that refuse, with their limits."""
        policy, address = self.policy, self.address[:ADDRESS_CHARS]
        limits = {self._key("acct-ip", f"{self.account[:ACCOUNT_CHARS]}|{address}"): policy.max_failures,
                  self._key("ip", address): policy.max_failures_per_address}
        if self.terminal is not None:
            limits[self._key("terminal", self.terminal[:TERMINAL_CHARS])] = policy.max_failures
        return limits

    def keys(self) -> list[str]:
        return [*self.limits(), self.account_key]


def _failure_counts(attempt: Attempt) -> dict[str, int]:
    since = utcnow() - timedelta(seconds=attempt.policy.window_seconds)
    rows = db.session.execute(select(AuthFailure.key, func.count()).where(
        AuthFailure.key.in_(attempt.keys()), AuthFailure.at >= since).group_by(AuthFailure.key))
    return dict(rows.all())


def _refuse_if_throttled(attempt: Attempt, counts: dict[str, int]) -> None:
    for key, limit in attempt.limits().items():
        if counts.get(key, 0) >= limit:
            raise Throttled(_l("失败次数过多，请 %(seconds)s 秒后再试", seconds=attempt.policy.window_seconds))


def delay_for(account_failures: int) -> float:
    """Seconds to wait before answering for an account with this many recent failures (any address)."""
    config = current_app.config
    beyond = account_failures - config["LOGIN_DELAY_AFTER_FAILURES"]
    if beyond < 0:
        return 0.0
    return min(config["LOGIN_DELAY_MAX_SECONDS"], config["LOGIN_DELAY_FIRST_SECONDS"] * 2 ** beyond)


def _slow_down(attempt: Attempt, counts: dict[str, int]) -> None:
    seconds = delay_for(counts.get(attempt.account_key, 0))
    if seconds > 0:
        db.session.commit()  # give the pooled connection back while waiting
        pause(seconds)


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def verify(stored_hash: str | None, secret: str) -> bool:
    """Check ``secret`` against a hash; without one, against a dummy hash, so that it costs the same."""
    if not stored_hash:
        check_password_hash(_dummy_hash(), secret)
        return False
    return check_password_hash(stored_hash, secret)


def _record_failure(attempt: Attempt, counts: dict[str, int], user: User | None) -> None:
    for key in attempt.keys():  # noqa: SIM118 - Attempt.keys() is our own method, not a dict
        db.session.add(AuthFailure(key=key))
    # Old rows are useless once outside every window; keep the table small.
    db.session.execute(delete(AuthFailure).where(AuthFailure.at < utcnow() - timedelta(days=1)))
    account_failures = counts.get(attempt.account_key, 0) + 1
    if user is not None and account_failures >= attempt.policy.burst_failures:
        _report_burst(attempt, user, account_failures)
    db.session.commit()


def _report_burst(attempt: Attempt, user: User, failures: int) -> None:
    """Once per window and account: an audit entry and a notification to the administrators."""
    window = attempt.policy.window_seconds
    since = utcnow() - timedelta(seconds=window)
    reported = db.session.scalar(select(exists().where(
        AuditLog.object_type == "user", AuditLog.object_id == user.id, AuditLog.action == BURST_ACTION,
        AuditLog.at >= since)))
    if reported:
        return
    detail = {"failures": failures, "window_seconds": window, "address": attempt.address,
              "channel": attempt.policy.channel}
    audit.record(None, "user", user.id, BURST_ACTION, detail=detail)
    notifications.notify_login_burst(user, failures, window, attempt.address)


def _succeed(user: User) -> User:
    if not user.is_active:
        raise Invalid(_l("该账号已停用，请联系管理员"), code="inactive")
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def authenticate_password(username: str, password: str, client_ip: str) -> User:
    username = (username or "").strip()
    attempt = Attempt(Policy.of("pw", "LOGIN"), username.lower(), client_ip)
    counts = _failure_counts(attempt)
    _refuse_if_throttled(attempt, counts)
    _slow_down(attempt, counts)
    user = db.session.scalar(select(User).where(User.username == username))
    if not verify(user.password_hash if user is not None else None, password or ""):
        _record_failure(attempt, counts, user)
        raise Invalid(_l("用户名或密码错误"), code="bad_credentials")
    return _succeed(user)


def authenticate_pin(employee_no: str, pin: str, terminal: str, client_ip: str) -> User:
    """Employee number (or a badge scan typed into the same field) plus PIN, at a kiosk terminal."""
    employee_no = (employee_no or "").strip()
    attempt = Attempt(Policy.of("pin", "KIOSK"), employee_no.lower(), client_ip, terminal)
    counts = _failure_counts(attempt)
    _refuse_if_throttled(attempt, counts)
    _slow_down(attempt, counts)
    user = db.session.scalar(select(User).where(User.employee_no == employee_no)) if employee_no else None
    if not verify(user.pin_hash if user is not None else None, pin or ""):
        _record_failure(attempt, counts, user)
        raise Invalid(_l("工号或 PIN 错误"), code="bad_pin")
    return _succeed(user)
