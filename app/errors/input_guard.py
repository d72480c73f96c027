"""One request hook that refuses input no form or service should ever have to handle.

- NUL and other control characters in any form field, query parameter or JSON text: PostgreSQL
  cannot store NUL (a 500 before this), and the others are never typed by a person. Tab, line feed
  and carriage return pass: multi-line text areas hold them. Refused with 400 and the field's name.
- JSON nested deeper than ``MAX_JSON_DEPTH``: Python's parser recurses, and 5,000 nested arrays
  raised RecursionError (a 500). Counted on the raw bytes before anything parses them.

The size of a request is bounded by Flask itself (``MAX_CONTENT_LENGTH``, the design-file upload
limit, and ``MAX_FORM_MEMORY_SIZE`` for a form's text): a 413 through the error handlers.
"""
from __future__ import annotations

import re
from itertools import accumulate

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from app.errors.handlers import error_response
from app.utils.fields import DB_INT_MAX

MAX_JSON_DEPTH = 32
# C0 controls but tab, LF and CR; DEL; C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
NOT_A_BRACKET = re.compile(rb"[^\[\]{}]")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, brackets inside strings not counted."""
    brackets = NOT_A_BRACKET.sub(b"", JSON_STRING.sub(b"", body))
    return max(accumulate(1 if byte in b"[{" else -1 for byte in brackets), default=0)


def _control_character_refusal():
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if CONTROL_CHARACTERS.search(value) or CONTROL_CHARACTERS.search(name):
                message = str(_l("“%(field)s”含有不允许的控制字符（如 NUL），请删除后重试", field=name[:50]))
                return error_response(400, message, code="control_character", fields={name[:50]: message})
    return None


def _deep_json_refusal():
    if request.mimetype != "application/json" and not request.path.startswith("/api/"):
        return None
    if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        return error_response(400, str(_l("JSON 嵌套层数超过 %(depth)s 层", depth=MAX_JSON_DEPTH)), code="too_deep")
    return None


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in a URL: an id the database's integer cannot hold is read as 0, which no row has, so the
    view's own lookup answers (记录不存在) instead of the query failing in the database."""

    regex = r"\d+"

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= 10 else DB_INT_MAX + 1
        return number if number <= DB_INT_MAX else 0


def init_input_guard(app: Flask) -> None:
    """Before the blueprints: their rules take the bounded ``int`` converter when they are added."""
    app.url_map.converters["int"] = DatabaseIdConverter

    @app.before_request
    def guard_input():
        if request.method in ("GET", "HEAD", "OPTIONS") and not request.args:
            return None
        # The API checks its own text (NUL, lone surrogates) and answers 422 as its document says.
        return _deep_json_refusal() or (None if request.path.startswith("/api/") else _control_character_refusal())
