"""The API's operations, declared once next to their views: route, input validation and OpenAPI entry.

``@operation(...)`` registers a view with the blueprint and records what it reads (path ids, query
parameters, a JSON body — each a JSON Schema) and what it answers. The same schemas validate the
request before the view runs and are published in ``/api/v1/openapi.json``, so the document cannot
drift from the code. Why not a library: apispec needs the schemas written again in YAML docstrings or
marshmallow; flask-openapi3 and spectree bring pydantic and their own blueprint and error formats,
while every view here is already thin and calls the same services as the pages. A registry of about
a hundred lines plus ``jsonschema`` (already what validates OpenAPI 3.1 schemas) covers it.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date

from flask import request
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator

from app.api.errors import BadRequest, Unprocessable
from app.services.core.errors import NotFound
from app.utils.wording import join_list

# Every id fits PostgreSQL's integer: larger values are refused before any query.
INT32_MAX = 2**31 - 1
# A plant-sized bound on quantities: sums and corrections of them stay far inside the int4 columns.
QUANTITY_MAX = 100_000_000
PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def integer(minimum: int = 0, maximum: int = INT32_MAX, **extra) -> dict:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def string(max_length: int, min_length: int = 0, **extra) -> dict:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, **extra}


def enum(values, **extra) -> dict:
    return {"type": "string", "enum": list(values), **extra}


def nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


def obj(properties: dict, required=(), **extra) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


ID = integer(1, description="编号")
PAGE_SIZES = (20, 50, 100)


def pagination(sizes=PAGE_SIZES) -> dict:
    """The ``page`` and ``per_page`` query parameters of a list."""
    return {"page": integer(1, description="页码"),
            "per_page": {"type": "integer", "enum": list(sizes), "description": "每页条数"}}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}


@dataclass
class Operation:
    method: str
    path: str
    endpoint: str
    summary: str
    tag: str
    response: dict
    status: int = 200
    query: dict = field(default_factory=dict)
    body: dict | None = None
    errors: tuple = ()
    description: str = ""


OPERATIONS: list[Operation] = []


def operation(bp, method: str, path: str, *, summary, tag, response: dict, status: int = 200,
              query: dict | None = None, body: dict | None = None, errors=(), description=""):
    """Register ``view`` at ``/api/v1{path}``; it receives its path ids, then ``query`` and ``body`` if declared,
    and returns the ``response`` object, sent with ``status``.

    Path parameters are always ids: 1 … INT32_MAX; anything else is simply not found (checked here rather
    than by the route converter, whose refusal would skip the API's own 404).
    """
    query_validator = _validator({"type": "object", "properties": query}) if query else None
    body_validator = _validator(body) if body else None

    def decorator(view):
        rule = "/v1" + PATH_PARAMETER.sub(r"<int:\1>", path)

        @functools.wraps(view)
        def wrapper(**path_ids):
            if not all(1 <= value <= INT32_MAX for value in path_ids.values()):
                raise NotFound(_l("记录不存在"), code="out_of_range")
            if query_validator is not None:
                path_ids["query"] = _parse_query(query, query_validator)
            if body_validator is not None:
                path_ids["body"] = _parse_body(body_validator)
            return view(**path_ids), status

        bp.add_url_rule(rule, view.__name__, wrapper, methods=[method])
        OPERATIONS.append(Operation(method.lower(), path, f"{bp.name}.{view.__name__}", summary, tag, response,
                                    status, query or {}, body, tuple(errors), description))
        return wrapper

    return decorator


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


# ---------------------------------------------------------------- input

def _parse_query(parameters: dict, validator: Draft202012Validator) -> dict:
    """Query strings converted by their declared type, then checked; unknown parameters are ignored."""
    values, errors = {}, {}
    for name, schema in parameters.items():
        raw = request.args.get(name)
        if raw is None or raw == "":
            continue
        try:
            _check_text(raw)
        except ValueError as problem:
            errors[name] = str(problem)
            continue
        try:
            values[name] = _convert(raw, schema)
        except ValueError:
            errors[name] = _type_message(schema)
    if not errors:
        errors = _schema_errors(validator, values)
    if errors:
        raise _refusal(errors)
    return values


def _convert(raw: str, schema: dict):
    kind = schema["type"]
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,12}", raw):
            raise ValueError(raw)
        return int(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    return raw


def _parse_body(validator: Draft202012Validator) -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_l("请求体必须是 JSON 对象（Content-Type: application/json）"))
    errors = _schema_errors(validator, body)
    if errors:
        raise _refusal(errors)
    return body


def _refusal(errors: dict[str, str]) -> Unprocessable:
    name, message = next(iter(errors.items()))
    return Unprocessable(_l("%(field)s：%(message)s", field=name, message=message), fields=errors)


def _schema_errors(validator: Draft202012Validator, instance) -> dict[str, str]:
    """field path (``products.0.quantity``) → Chinese message; the first error of each field."""
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = [str(part) for part in error.absolute_path]
        if error.validator == "required":
            path.append(error.message.split("'")[1])
        elif error.validator == "additionalProperties":
            extra = re.findall(r"'([^']+)'", error.message)
            path.append(extra[0] if extra else "")
        errors.setdefault(".".join(path) or "body", str(_message(error)))
    for path, text in _texts(instance):
        try:
            _check_text(text)
        except ValueError as problem:
            errors.setdefault(path, str(problem))
    return errors


def _texts(value, path: str = ""):
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}.{index}" if path else str(index))


def _check_text(text: str) -> None:
    """Text the databases cannot store (NUL, lone surrogates) is refused, not a 500."""
    if "\x00" in text:
        raise ValueError(str(_l("文本不能包含空字符")))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(str(_l("文本包含无效字符"))) from None


def _type_message(schema: dict):
    return {"integer": _l("请输入整数"), "boolean": _l("请输入 true 或 false"),
            "string": _l("格式无效")}.get(schema["type"] if isinstance(schema["type"], str) else "string")


def _message(error):
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "required":
        return _l("此项为必填项")
    if kind == "type":
        expected = error.validator_value
        expected = expected[0] if isinstance(expected, list) else expected
        return {"integer": _l("请输入整数"), "string": _l("请输入文本"), "boolean": _l("请输入 true 或 false"),
                "array": _l("请输入数组"), "object": _l("请输入对象")}.get(expected, _l("类型无效"))
    if kind in ("minimum", "maximum"):
        return _l("数值应在 %(low)s 到 %(high)s 之间", low=schema.get("minimum", "-"), high=schema.get("maximum", "-"))
    if kind in ("minLength", "maxLength"):
        return _l("长度应为 %(low)s 到 %(high)s 个字符", low=schema.get("minLength", 0), high=schema.get("maxLength", "-"))
    if kind in ("minItems", "maxItems"):
        return _l("条目数应为 %(low)s 到 %(high)s 个", low=schema.get("minItems", 0), high=schema.get("maxItems", "-"))
    if kind == "enum":
        return _l("取值无效，可选：%(values)s", values=join_list(error.validator_value))
    if kind == "format":
        return _l("日期格式应为 YYYY-MM-DD") if error.validator_value == "date" else _l("格式无效")
    if kind == "additionalProperties":
        return _l("不支持的字段")
    if kind == "uniqueItems":
        return _l("不能有重复的值")
    return _l("取值无效")


def parse_date(value: str | None) -> date | None:
    """A body date already checked against the ``date`` format."""
    return date.fromisoformat(value) if value else None
