"""Login session plumbing: user loading (and refusing ended sessions), the kiosk idle logout, and where
anonymous users go."""
from __future__ import annotations

import time

from flask import flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.errors.handlers import json_error
from app.extensions import db, login_manager
from app.models import User
from app.services.core import settings as settings_service
from app.utils.http import is_api_request, is_htmx, is_live_refresh
from app.views import SESSION_GENERATION_KEY

KIOSK_PATHS = ("/kiosk", "/scan")
TERMINAL_COOKIE = "kiosk_terminal"
# What a login puts into the session (Flask-Login's keys, ours): all of it goes when the session has ended.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", SESSION_GENERATION_KEY, "kiosk_session", "kiosk_last_seen")
# Every request needs the user's roles and departments: one query rather than three, built once (as
# ``session.get(..., options=...)`` it cost 0.3 ms more of CPU per request, building the options anew).
_USER_WITH_ROLES_AND_DEPARTMENTS = (select(User).where(User.id == bindparam("user_id"))
                                    .options(joinedload(User.roles), joinedload(User.departments)))


def init_login(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        user_id = int(user_id)
        # As Session.get would: a session that holds the user already (the tests' requests share one) uses it.
        user = db.session.identity_map.get(db.session.identity_key(User, user_id)) or db.session.execute(
            _USER_WITH_ROLES_AND_DEPARTMENTS, {"user_id": user_id}).unique().scalar()
        if user is None or not user.is_active:
            return None
        # A session begun before the person's sessions were ended (logout, new password, ...) is
        # over, wherever its cookie is presented. Sessions older than the generation have none: 0.
        if session.get(SESSION_GENERATION_KEY, 0) != user.session_generation:
            for key in LOGIN_KEYS:  # not the CSRF token: a POST still gets its answer, the login
                session.pop(key, None)
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        if is_api_request():
            return json_error(401, _l("请先登录"))
        # A kiosk page, or any page on a device that has shown the kiosk login (its terminal cookie).
        kiosk = request.path.startswith(KIOSK_PATHS) or request.cookies.get(TERMINAL_COOKIE)
        target = url_for("auth.kiosk_login" if kiosk else "auth.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            return "", 401, {"HX-Redirect": target}
        flash(login_manager.login_message, "warning")
        return redirect(target)

    @app.before_request
    def enforce_kiosk_idle_logout():
        """Kiosk sessions end after the configured idle time, even if the page never polls — and even if
        pushes keep it re-fetching: a live re-fetch is no sign of anyone at the kiosk (nor a reason to
        sign and send the session cookie again, for each of a department's kiosks on every change)."""
        if not session.get("kiosk_session") or not current_user.is_authenticated:
            return None
        now = time.time()
        idle_limit = settings_service.get("kiosk_idle_logout_seconds")
        last_seen = session.get("kiosk_last_seen", now)
        if now - last_seen > idle_limit:
            logout_user()
            session.pop("kiosk_session", None)
            session.pop("kiosk_last_seen", None)
            message = _l("由于长时间未操作，已自动退出，请重新登录")
            if is_api_request():
                return json_error(401, message, reason="session_expired")
            target = url_for("auth.kiosk_login")
            if is_htmx():
                return "", 401, {"HX-Redirect": target}
            flash(message, "warning")
            return redirect(target)
        if not is_live_refresh():
            session["kiosk_last_seen"] = now
        return None
