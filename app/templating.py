"""What every template may call: the policy, enum labels, due status, navigation, cached fragments."""
from __future__ import annotations

import difflib
import re
from datetime import date

from flask import current_app, session, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app import enums, shared_regions
from app.policy import can
from app.utils.fields import option_tags
from app.utils.lru import LRU
from app.utils.memo import per_request, translated_texts
from app.utils.timeutil import plant_today
from app.utils.wording import aside, join_list, separator, with_colon

# (endpoint, label, policy action) in the order the top navigation shows them.
NAVIGATION = [
    ("main.index", _l("工作台"), "dashboard.view"),
    ("workorders.index", _l("施工单"), "workorder.list"),
    ("tasks.index", _l("任务中心"), "task.list"),
    ("kiosk.index", _l("我的任务"), "kiosk.use"),
    ("supervision.board", _l("主管看板"), "supervisor.board"),
    ("dispatch.pool", _l("待分派"), "dispatch.pool"),
    ("dispatch.rules", _l("分派规则"), "dispatch.rules.view"),
    ("planning.index", _l("排产"), "planning.view"),
    ("reports.stats", _l("数据统计"), "stats.view"),
    ("admin.index", _l("系统管理"), "admin.access"),
    ("admin.customers", _l("客户"), "admin.customers"),
    ("admin.plates", _l("版型"), "admin.plates"),
]


def due_status(delivery: date | None, today: date | None = None) -> tuple[str, str]:
    """(css class, text) — 逾期 / 今天到期 / 明天到期 / N天后到期; each distinct one worded once per request."""
    if delivery is None:
        return "", ""
    days = (delivery - (today or plant_today())).days
    worded = translated_texts()
    status = worded.get(("due", days))
    if status is None:
        status = worded[("due", days)] = _due_status(days)
    return status


def _due_status(days: int) -> tuple[str, str]:
    if days < 0:
        return "due-overdue", _("逾期 %(days)s 天", days=-days)
    if days == 0:
        return "due-today", _("今天到期")
    if days == 1:
        return "due-soon", _("明天到期")
    return ("due-soon" if days <= enums.DUE_SOON_DAYS else "due-later"), _("%(days)s天后到期", days=days)


def url_for_rows(endpoint: str, argument: str):
    """``url_for(endpoint, argument=value)`` for every row of a long list: the URL is built once
    around a marker and each row only puts its own value in (url_for per row took about a third
    of the rendering of 100 tasks)."""
    marker = str(2**31 - 1)
    before, _, after = url_for(endpoint, **{argument: marker}).partition(marker)
    return lambda value: f"{before}{value}{after}"


def navigation_for(user) -> list[tuple[str, str]]:
    if not user.is_authenticated:
        return []
    items = [(endpoint, label) for endpoint, label, action in NAVIGATION if can(user, action)]
    # An admin reaches customers and plates from 系统管理; list them once.
    if user.is_admin:
        items = [item for item in items if item[0] not in ("admin.customers", "admin.plates")]
    return items


# Live pages fetch their lists again on every change nearby while most items in them are unchanged
# (a kiosk's cards, the 主管看板's): the HTML of each is kept here, ~0.5-4 KB, so at most ~30 MB.
RENDERED_FRAGMENTS = LRU(8192)


def cached_fragment(key: tuple | None, render, *args, store: LRU = RENDERED_FRAGMENTS) -> Markup:
    """``render(*args)``, or what it gave earlier for the same ``key`` in this session, language and day.

    ``key`` must hold every value the fragment shows (None: render, keep nothing). The session is
    part of the key because fragments carry its CSRF token (which never expires,
    WTF_CSRF_TIME_LIMIT = None); the token is made first so that a new session's first fragments
    are not filed under no token at all.
    """
    if key is None:
        return render(*args)
    key = (key, *_fragment_scope())
    html = store.get(key)
    if html is None:
        html = store.put(key, render(*args))
    elif current_app.config.get("VERIFY_CACHED_FRAGMENTS"):
        verify_fragment(key, html, render(*args))
    return html


# The top bar of base.html (a person's, per page and bell count), kept apart from the lists' fragments.
LAYOUT_FRAGMENTS = LRU(2048)
# Whole list regions (~20 KB each, so fewer), re-fetched on every change nearby while often unchanged.
REGION_FRAGMENTS = LRU(512)


def cached_layout(key: tuple | None, render) -> Markup:
    """``cached_fragment`` for the page layout's parts."""
    return cached_fragment(key, render, store=LAYOUT_FRAGMENTS)


def cached_region(key: tuple | None, render) -> Markup:
    """``cached_fragment`` for a whole list region (its items are usually cached fragments themselves)."""
    return cached_fragment(key, render, store=REGION_FRAGMENTS)


def verify_fragment(key: tuple, cached: str, fresh: str) -> None:
    """Raise when a fragment served from the cache differs from a fresh render of the same key: the
    key misses a value the fragment shows (VERIFY_CACHED_FRAGMENTS, on in the test suite). Only this
    session's CSRF tokens may differ (each request signs the session's one token anew)."""
    token = generate_csrf()
    same_session_token = re.compile(re.escape(token.split(".", 1)[0]) + r"\.[\w-]+\.[\w-]+")
    cached, fresh = (same_session_token.sub("CSRF-TOKEN", str(html)) for html in (cached, fresh))
    if cached == fresh:
        return
    lines = difflib.unified_diff(cached.replace(">", ">\n").splitlines(), fresh.replace(">", ">\n").splitlines(),
                                 "cached", "fresh", n=1, lineterm="")
    raise AssertionError(f"cached fragment differs from a fresh render; key {key!r}:\n" + "\n".join(list(lines)[:40]))


def _fragment_scope() -> tuple:
    """This request's language, plant day and session: the part of a fragment's key all its fragments share."""
    return (*_language_and_day(), shared_regions.session_scope())


def _language_and_day() -> tuple:
    scope = per_request("fragment_scope")
    if not scope:
        scope["key"] = (str(get_locale()), plant_today())
    return scope["key"]


def submission_key_input() -> Markup:
    """The one-time key of a create form written without WTForms (app/services/core/submissions.py)."""
    from app.services.core.submissions import FIELD_NAME, new_key

    return Markup(f'<input type="hidden" name="{FIELD_NAME}" value="{new_key()}">')


def register_template_helpers(app) -> None:
    app.jinja_env.globals.update(
        can=lambda action, obj=None: can(current_user, action, obj),
        enums=enums,
        due_status=due_status,
        url_for_rows=url_for_rows,
        navigation_for=navigation_for,
        current_locale=lambda: str(get_locale()),
        cached_fragment=cached_fragment,
        csrf_token=shared_regions.csrf_token,
        cached_layout=cached_layout,
        cached_region=cached_region,
        option_tags=option_tags,
        submission_key_input=submission_key_input,
        join_list=join_list,
        with_colon=with_colon,
        aside=aside,
        separator=separator,
    )
    app.jinja_env.filters.update(
        date=lambda value, fmt="yyyy-MM-dd": format_date(value, fmt) if value else "",
        datetime=lambda value, fmt="yyyy-MM-dd HH:mm": format_datetime(value, fmt) if value else "",
        # the punctuation of the page's language (app/utils/wording.py): names|join_list, label|with_colon
        join_list=join_list,
        with_colon=with_colon,
        aside=aside,
    )

    @app.context_processor
    def inject_request_flags():
        # csrf_token again: Flask-WTF also puts its own in every template's context, which would win over
        # the global in a template's own macros and put a session's token into a shared render.
        return {"is_kiosk_session": bool(session.get("kiosk_session")), "csrf_token": shared_regions.csrf_token}

    @app.after_request
    def vary_on_htmx(response):
        response.headers.add("Vary", "HX-Request")
        return response

