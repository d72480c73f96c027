"""A live region rendered once for every viewer who sees the same thing (docs/LIVE.md §6, issue #22).

One change in a workshop makes every open screen that shows it re-fetch its region: ~75 kiosks ask
for the same 可认领 list, the department's 主管看板 and TV boards for the same board, within a few
hundred milliseconds. Their answers differ only by each session's CSRF token, so a process renders
such a region once and hands the same HTML to every viewer whose ``key`` is the same.

When is a render fresh enough for a viewer? live.js sends, with each live re-fetch, the id of the
last event its socket carried and of the last event its own actions committed (``X-Live-Seen``).
A render may be reused only if it began after this process delivered each of those events
(app.realtime.events.delivered_at): events reach every process in commit order, so it read
everything the viewer has heard of. Anything else — no header (a page load, an action's own
answer, a resync), an event this process has not delivered yet — renders anew (and becomes the
newest render of its key). A reusable render still running is waited for, not repeated.

``key`` must hold everything the region shows that is not the same for all viewers: the viewer's
roles and departments when they decide what is listed, and any per-viewer state (a kiosk's cap).
The language and the plant day are added here. VERIFY_CACHED_FRAGMENTS (on in the tests) renders
every reused region anew as well and fails on any difference.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from flask import current_app, g, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from app.extensions import db
from app.realtime import events
from app.utils.lru import LRU
from app.utils.timeutil import plant_today, plant_zone

SEEN_HEADER = "X-Live-Seen"
COMMITTED_HEADER = "X-Live-Event-Id"
_ENV_BEGAN = "app.request_began"
# Stands for the session's CSRF token in a shared render; each answer gets its own token instead.
CSRF_PLACEHOLDER = "csrf-" + secrets.token_urlsafe(24)
# How long a viewer waits for a reusable render another thread is finishing before rendering itself.
WAIT_SECONDS = 2.0

T = TypeVar("T")

_renders = LRU(512)
_lock = threading.Lock()


class _Render:
    def __init__(self, began: float):
        self.began = began
        self.clock = datetime.now(plant_zone())  # when it read its data: what its 更新于 says
        self.value = None
        self.ok = False  # produced without an error
        self.done = threading.Event()


def note_request_began() -> None:
    """First of the app's request hooks: nothing the request reads from the database is older than this."""
    request.environ[_ENV_BEGAN] = time.monotonic()


def announce_committed_event(response):
    """An answer whose request committed events names the last one (live.js sends it back in SEEN_HEADER)."""
    event_id = events.last_committed_id(db.session())
    if event_id:
        response.headers[COMMITTED_HEADER] = event_id
    return response


def csrf_token() -> str:
    """The template global ``csrf_token()``: the placeholder inside a shared render."""
    return CSRF_PLACEHOLDER if g.get("shared_render") else generate_csrf()


def session_scope() -> str:
    """What a cached fragment's key holds for the session: its CSRF token, or the placeholder in a shared render."""
    from flask import session

    if g.get("shared_render"):
        return CSRF_PLACEHOLDER
    generate_csrf()
    return session["csrf_token"]


def render_time() -> datetime:
    """Now, in the plant's zone; inside a shared render, the time that render began, so that every viewer
    of it (and the check that renders it again) reads the same 更新于."""
    return g.get("shared_render_clock") or datetime.now(plant_zone())


def _delivered_before() -> float | None:
    """The latest time a reusable render must have begun after, or None when no render may be reused."""
    seen = request.headers.get(SEEN_HEADER, "").split()
    if not seen or len(seen) > 2:
        return None
    times = [events.delivered_at(event_id) for event_id in seen]
    return None if None in times else max(times)


def shared(key: Hashable | None, render: Callable[[], str]) -> str:
    """``render()``'s HTML for this viewer: reused from a fresh-enough render of the same key, or rendered.

    ``key`` None: always rendered, nothing shared."""
    if key is None:
        return render()
    html = _reused(("region", key), lambda clock: _render_shared(render, clock),
                   lambda full_key, html, clock: _verify(full_key, html, _render_shared(render, clock)))
    return _personal(html)


def shared_value(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or the value a fresh-enough earlier call of the same key gave, by the rules a shared
    region follows: for what a live region shows that is the same for many viewers whose regions are not
    (the task centre's status counts of everyone who sees every task). The value must not be changed."""
    def verify(full_key, value, _clock):
        fresh = compute()
        if fresh != value:
            raise AssertionError(f"shared value differs from a fresh one; key {full_key!r}: {value!r} != {fresh!r}")
    return _reused(("value", key), lambda _clock: compute(), verify)


def _reused(key: Hashable, produce: Callable[[datetime], T], verify: Callable[[Hashable, T, datetime], None]) -> T:
    key = (key, str(get_locale()), plant_today())
    began = request.environ.get(_ENV_BEGAN, 0.0)
    after = _delivered_before()
    with _lock:
        current = _renders.get(key)
        if after is None or current is None or current.began <= after:
            mine = _Render(began)
            if current is None or current.began < began:
                _renders.put(key, mine)
            current = None
    if current is not None and current.done.wait(WAIT_SECONDS) and current.ok:
        if current_app.config.get("VERIFY_CACHED_FRAGMENTS"):
            verify(key, current.value, current.clock)
        return current.value
    if current is not None:  # the other render failed or is stuck: produce alone, share nothing
        return produce(datetime.now(plant_zone()))
    try:
        mine.value = produce(mine.clock)
        mine.ok = True
    finally:
        mine.done.set()
    return mine.value


def _render_shared(render: Callable[[], str], clock: datetime) -> str:
    g.shared_render, g.shared_render_clock = True, clock
    try:
        return str(render())
    finally:
        g.shared_render, g.shared_render_clock = False, None


def _personal(html: str) -> str:
    return html.replace(CSRF_PLACEHOLDER, generate_csrf())


def _verify(key, reused: str, fresh: str) -> None:
    from app.templating import verify_fragment

    verify_fragment(key, _personal(reused), _personal(fresh))


def clear() -> None:
    """Forget every render (tests)."""
    _renders.clear()
