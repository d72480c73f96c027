"""The OpenAPI 3.1 document built from the operation registry, Swagger UI at /api/docs, and JSON 404/405."""
from __future__ import annotations

import functools

from flask import render_template_string, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import Map, Rule

from app.api import bp
from app.api.resources import DEPARTMENT, ERROR, NOTIFICATION, TASK, TASK_DETAIL, WORK_ORDER, WORK_ORDER_DETAIL
from app.api.spec import INT32_MAX, OPERATIONS, PATH_PARAMETER
from app.errors.handlers import json_error

BASE = "/api/v1"
ERROR_DESCRIPTIONS = {
    400: "请求体不是 JSON 对象", 401: "未认证：缺少、错误或已吊销的令牌", 403: "无权限，或浏览器会话缺少 CSRF 令牌",
    404: "不存在（或编号超出范围）", 409: "冲突：状态已变化、已被他人认领或版本过期", 422: "输入无效：fields 指出每个字段的问题",
}
# Published once under components/schemas and referred to wherever the very same schema object is used.
NAMED_SCHEMAS = {"Task": TASK, "TaskDetail": TASK_DETAIL, "WorkOrder": WORK_ORDER, "WorkOrderDetail": WORK_ORDER_DETAIL,
                 "Department": DEPARTMENT, "Notification": NOTIFICATION, "Error": ERROR}
VENDOR = "vendor/swagger-ui-5.35.0"
# No inline script (the CSP allows our own files only): the page's setup lives in static/vendor/api-docs.js.
DOCS_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="csrf-token" content="{{ csrf_token() }}">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="{{ url_for('static', filename=vendor + '/swagger-ui.css') }}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ url_for('api.openapi') }}"></div>
  <script src="{{ url_for('static', filename=vendor + '/swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('static', filename='vendor/api-docs.js') }}"></script>
</body>
</html>
"""


@bp.route("/v1/openapi.json")
def openapi():
    return build_document()


@bp.route("/docs")
def docs():
    return render_template_string(DOCS_PAGE, title=_("印刷施工单跟踪系统 API 文档"), vendor=VENDOR)


@bp.route("/v1/", defaults={"unknown": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/v1/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(unknown: str):
    """Any other path under /api/v1 answers in the API's own format."""
    try:
        _operation_map().bind("api").match(request.path, method=request.method)
    except MethodNotAllowed:
        return json_error(405, _l("不支持该操作"))
    except Exception:  # noqa: BLE001 — NotFound: no operation has this path
        pass
    return json_error(404, _l("接口不存在"))


@functools.cache
def _operation_map() -> Map:
    return Map([Rule(BASE + PATH_PARAMETER.sub(r"<int:\1>", op.path), methods=[op.method.upper()])
                for op in OPERATIONS])


def build_document() -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _with_refs(_operation_entry(op))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": str(_l("印刷施工单跟踪系统 API")), "version": "1.0.0",
            "description": str(_l("施工单与任务的 JSON 接口。认证：Authorization: Bearer <令牌>（管理员在"
                                  " /admin/api-tokens 创建），或浏览器登录会话（写操作需 X-CSRFToken 请求头）。"
                                  "错误统一为 {\"error\": {\"code\", \"message\", \"reason\", \"fields\"}}。")),
        },
        "servers": [{"url": BASE}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "tags": [{"name": name} for name in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API 令牌"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session", "description": "浏览器登录会话"},
            },
            "schemas": {name: _with_refs(schema, inside=schema) for name, schema in NAMED_SCHEMAS.items()},
        },
    }


def _with_refs(value, inside=None):
    """``value`` with every named schema (but ``inside``, the one being defined) replaced by its $ref."""
    for name, schema in NAMED_SCHEMAS.items():
        if value is schema and value is not inside:
            return {"$ref": f"#/components/schemas/{name}"}
    if isinstance(value, dict):
        return {key: _with_refs(item, inside) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_refs(item, inside) for item in value]
    return value


def _operation_entry(op) -> dict:
    path_ids = PATH_PARAMETER.findall(op.path)
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": INT32_MAX}} for name in path_ids]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema,
                    **({"description": schema["description"]} if "description" in schema else {})}
                   for name, schema in op.query.items()]
    statuses = {401, *op.errors}
    if path_ids:
        statuses.add(404)
    if op.query:
        statuses.add(422)
    if op.body is not None:
        statuses.update((400, 403, 422))
    responses = {str(op.status): {"description": "成功", "content": {"application/json": {"schema": op.response}}}}
    for status in sorted(statuses):
        responses[str(status)] = {"description": ERROR_DESCRIPTIONS[status],
                                  "content": {"application/json": {"schema": ERROR}}}
    entry = {"operationId": op.endpoint.removeprefix("api."), "summary": str(op.summary), "tags": [op.tag],
             "parameters": parameters, "responses": responses}
    if op.description:
        entry["description"] = op.description
    if op.body is not None:
        entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    return entry
