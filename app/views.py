"""Helpers shared by the thin views of every blueprint."""
from __future__ import annotations

import time

from flask import render_template, request, session
from flask_babel import get_translations
from flask_login import current_user, login_user
from jinja2 import pass_context
from markupsafe import Markup

from app.services.core import submissions
from app.utils.http import is_htmx


def render_page(template: str, partial: str | None = None, status: int = 200, **context):
    """The whole page, or only its partial when htmx asks for the region."""
    name = partial if partial and is_htmx() else template
    return render_template(name, **context), status


def create_once(model, create, result_id=lambda record: record.id) -> submissions.Outcome:
    """``create`` once per create form instance (its hidden key) or API ``Idempotency-Key``."""
    key = request.headers.get(submissions.HEADER_NAME) or request.form.get(submissions.FIELD_NAME)
    return submissions.create_once(current_user, key, model, create, result_id)


# The login session remembers the person's session generation at login (app/auth/session.py refuses
# a session whose generation is no longer the person's: app/services/auth/sessions.py raises it).
SESSION_GENERATION_KEY = "_generation"


def fresh_session() -> None:
    """A new session at login and logout, in the language the person (or the kiosk's last user) chose."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def begin_session(user, kiosk: bool = False) -> None:
    """A fresh login session for ``user`` (nothing of the previous visitor's session is kept but the language)."""
    fresh_session()
    login_user(user)
    session[SESSION_GENERATION_KEY] = user.session_generation
    if kiosk:
        session["kiosk_session"] = True
        session["kiosk_last_seen"] = time.time()


def keep_this_session(user) -> None:
    """After ``user`` changed their own account, this session continues; every other one has ended."""
    if current_user.is_authenticated and current_user.id == user.id:
        session[SESSION_GENERATION_KEY] = user.session_generation


def memoized_gettext():
    """A gettext for one render of many cards: each distinct text is looked up once (a kiosk of 30 cards
    rendered anew: 56 instead of 68 ms of CPU, bench/gettext_bench.py and docs/PERFORMANCE.md).

    Jinja's ``_()`` resolves ``gettext`` from the render context before the environment, so
    passing this as ``gettext=`` replaces Flask-Babel's per-call lookup (~30 µs, ~20 calls a card)
    with a dict hit. Same newstyle semantics: autoescape, then % variables.
    """
    translations = get_translations()
    cache: dict[str, str] = {}

    @pass_context
    def gettext(context, string, **variables):
        text = cache.get(string)
        if text is None:
            text = cache[string] = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext
