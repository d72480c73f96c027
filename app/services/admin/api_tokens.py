"""API tokens (issue 9): created and revoked by an admin, stored as the SHA-256 of their secret.

The secret is 32 random bytes, so a plain (unsalted) hash is enough: nothing is guessable, and the
lookup by hash is one indexed equality. The secret is returned once by ``create`` and never again.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, User
from app.services.admin.master_data import FieldErrors, get_or_404, required_text
from app.services.core import audit
from app.services.core.errors import Conflict
from app.utils.fields import lenient_int
from app.utils.timeutil import plant_today, plant_zone, utcnow

# Prefix of every secret: recognisable in logs and by secret scanners.
PREFIX = "wot_"
NAME_MAX = 100
# last_used_at is written at most this often per token, not on every request.
USE_RECORD_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Created:
    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def list_tokens() -> list[ApiToken]:
    """Every token, active ones first, newest first."""
    return list(db.session.scalars(
        select(ApiToken).options(joinedload(ApiToken.owner), joinedload(ApiToken.created_by))
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    ))


def owner_options() -> list[User]:
    return list(db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)))


def get_token(token_id: int) -> ApiToken:
    return get_or_404(ApiToken, token_id, _l("API 令牌不存在"))


def _expiry(errors: FieldErrors, value) -> datetime | None:
    """The end (UTC) of the plant's day ``value`` (a date or YYYY-MM-DD), the last day the token works."""
    if value in (None, ""):
        return None
    last_day = value if isinstance(value, date) else None
    if last_day is None:
        try:
            last_day = date.fromisoformat(str(value).strip())
        except ValueError:
            errors["expires_on"] = _l("请输入有效的日期，例如 2027-06-30")
            return None
    if last_day < plant_today():
        errors["expires_on"] = _l("有效期不能早于今天")
        return None
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=plant_zone())
    return end.astimezone(UTC).replace(tzinfo=None)


def last_day(token: ApiToken) -> date | None:
    """The plant's last day on which ``token`` works (what the admin chose), or None: no expiry."""
    if token.expires_at is None:
        return None
    end = token.expires_at.replace(tzinfo=UTC).astimezone(plant_zone())
    return (end - timedelta(microseconds=1)).date()


def create(actor, data: dict) -> Created:
    errors = FieldErrors()
    name = required_text(errors, data, "name", _l("名称"), NAME_MAX)
    owner_id = data.get("owner_id")
    owner_number = lenient_int(owner_id)
    owner = db.session.get(User, owner_number) if owner_number is not None else None
    if owner is None or not owner.is_active:
        errors["owner_id"] = _l("请选择启用的用户")
    expires_at = _expiry(errors, data.get("expires_on"))
    errors.raise_if_any()
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, owner_id=owner.id, token_hash=hash_secret(secret), created_by_id=actor.id,
                     expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token", token.id, "create", detail={
        "name": name, "owner": owner.username, "expires_at": expires_at.isoformat() if expires_at else None})
    return Created(token, secret)


def revoke(actor, token_id: int) -> ApiToken:
    token = get_token(token_id)
    if token.is_revoked:
        raise Conflict(_l("该令牌已吊销"), code="already_revoked")
    token.revoked_at = utcnow()
    audit.record(actor, "api_token", token.id, "revoke",
                 detail={"name": token.name, "owner": token.owner.username})
    return token


def authenticate(secret: str) -> User | None:
    """The active owner of the active, unexpired token with this secret, or None."""
    token = db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.owner)).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or token.is_revoked or token.is_expired or not token.owner.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= USE_RECORD_INTERVAL:
        # Its own short transaction: a GET never commits, and a refused write rolls back.
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()
    return token.owner
