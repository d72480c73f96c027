"""Sessions that end (issue 19): one counter per person, the session generation.

Every login session carries the generation its person had at login (app/views.py), and the login
loader refuses a session whose generation is no longer the person's (app/auth/session.py), so
raising it ends every session of the person at once — on every desk and kiosk, and any copy of the
cookie. The raise is announced as a ``session.ended`` event after the commit: each worker's hub closes
that person's open WebSockets with 4401, which sends their pages to the login screen.
"""
from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.models import ApiToken
from app.realtime import events
from app.services.core import audit
from app.utils.timeutil import utcnow

SESSION_ENDED = events.SESSION_ENDED


def end_sessions(user) -> int:
    """End every session of ``user`` (takes effect with the caller's commit); the new generation."""
    user.session_generation = (user.session_generation or 0) + 1
    events.publish(SESSION_ENDED, user_ids=[user.id], generation=user.session_generation)
    return user.session_generation


def revoke_api_tokens(actor, user) -> int:
    """Revoke every API token of ``user`` for good: reactivating the person does not revive them."""
    now = utcnow()
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.owner_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount
    if revoked:
        audit.record(actor, "user", user.id, "api_tokens_revoke", detail={"count": revoked})
    return revoked
