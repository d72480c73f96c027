"""Values worth computing once per request, such as the translated labels a page repeats on every row."""
from __future__ import annotations

from flask import g, has_request_context

TRANSLATED = "translated_texts"


def per_request(name: str) -> dict:
    """A dict that lives as long as the current request (outside a request: a fresh one each call)."""
    if not has_request_context():
        return {}
    cache = g.get(name)
    if cache is None:
        cache = {}
        setattr(g, name, cache)
    return cache


def translated_texts() -> dict:
    """Texts already translated into the request's language; forgotten when the language changes."""
    return per_request(TRANSLATED)


def forget_translated_texts() -> None:
    if has_request_context():
        g.pop(TRANSLATED, None)
