"""Checking a cache of rendered HTML against a fresh render (app.templating.cached_fragment and its stores)."""
from __future__ import annotations

from collections.abc import Callable

from app.extensions import db


def cached_and_fresh(change: Callable[[], object], get: Callable[[], str], cache) -> tuple[str, str]:
    """Apply ``change`` and commit; then what ``get`` answers from the cache, and once ``cache`` is emptied."""
    change()
    db.session.commit()
    cached = get()
    cache.clear()
    return cached, get()
