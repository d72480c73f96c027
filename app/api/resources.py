"""What the API answers: each resource's JSON Schema next to the function that builds it.

Labels (``status_label`` …) come from the enums, in the request's language; times are UTC
(ISO 8601 with ``Z``), dates are plant dates.
"""
from __future__ import annotations

from datetime import date, datetime

from app.api.spec import DATE, DATETIME, ID, array, enum, integer, nullable, obj
from app.enums import ApprovalStatus, NotificationType, Priority, TaskStatus, TaskType, WorkOrderStatus
from app.services.tasks import actions as task_service
from app.services.workorders import queries

TEXT = {"type": "string"}
LABEL = {"type": "string", "description": "中文名称（按请求语言）"}
REF = obj({"id": ID, "name": TEXT}, required=("id", "name"))
# Types whose values are open-ended in the data (a later release may add one) are plain strings.
CODE = {"type": "string"}


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _ref(thing) -> dict | None:
    return {"id": thing.id, "name": thing.name} if thing is not None else None


def page_schema(item: dict) -> dict:
    return obj({"items": array(item), "total": integer(), "page": integer(1), "per_page": integer(1),
                "pages": integer(1)}, required=("items", "total", "page", "per_page", "pages"))


def page_of(items: list, page) -> dict:
    """One page of a list service's result (``total``, ``page``, ``per_page``, ``pages``) with ``items``."""
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page,
            "pages": max(1, page.pages)}


# ---------------------------------------------------------------- tasks

TASK = obj({
    "id": ID, "number": TEXT, "status": enum(TaskStatus.values()), "status_label": LABEL,
    "task_type": CODE, "task_type_label": LABEL, "content": TEXT,
    "target_quantity": integer(), "completed_quantity": integer(), "defective_quantity": integer(),
    "progress_percent": integer(0, 100),
    "work_order": obj({"id": ID, "number": TEXT, "priority": CODE, "delivery_date": DATE},
                      required=("id", "number", "priority", "delivery_date")),
    "process": nullable(REF), "department": nullable(REF), "operator": nullable(REF),
    "pause_reason": nullable(CODE), "version": integer(1, description="乐观锁版本号：修改时原样提交"),
    "created_at": DATETIME, "updated_at": DATETIME, "started_at": nullable(DATETIME),
    "completed_at": nullable(DATETIME),
}, required=("id", "number", "status", "status_label", "task_type", "task_type_label", "content",
             "target_quantity", "completed_quantity", "defective_quantity", "progress_percent", "work_order",
             "process", "department", "operator", "pause_reason", "version", "created_at", "updated_at",
             "started_at", "completed_at"))

TASK_DETAIL = {**TASK, "properties": {
    **TASK["properties"],
    "production_requirements": TEXT, "notes": TEXT,
    "available_actions": array(enum(("claim", "start", "pause", "resume", "report", "complete", "cancel")),
                               description="当前用户现在可以执行的操作"),
    "blocked_reason": nullable({"type": "string", "description": "不能操作的原因"}),
}, "required": [*TASK["required"], "production_requirements", "notes", "available_actions", "blocked_reason"]}

TASK_RESULT = obj({"message": TEXT, "task": TASK_DETAIL}, required=("message", "task"))


def task_json(task) -> dict:
    return {
        "id": task.id, "number": task.number, "status": task.status,
        "status_label": TaskStatus.label_of(task.status), "task_type": task.task_type,
        "task_type_label": TaskType.label_of(task.task_type), "content": task.content,
        "target_quantity": task.target_quantity, "completed_quantity": task.completed_quantity,
        "defective_quantity": task.defective_quantity, "progress_percent": task.progress_percent,
        "work_order": {"id": task.work_order.id, "number": task.work_order.number,
                       "priority": task.work_order.priority, "delivery_date": _day(task.work_order.delivery_date)},
        "process": _ref(task.process), "department": _ref(task.department),
        "operator": _ref(task.operator), "pause_reason": task.pause_reason, "version": task.version,
        "created_at": _time(task.created_at), "updated_at": _time(task.updated_at),
        "started_at": _time(task.started_at), "completed_at": _time(task.completed_at),
    }


def task_detail_json(task, user) -> dict:
    actions, reason = task_service.available_actions(task, user)
    return {**task_json(task), "production_requirements": task.production_requirements, "notes": task.notes,
            "available_actions": actions, "blocked_reason": reason}


# ---------------------------------------------------------------- 施工单

WORK_ORDER = obj({
    "id": ID, "number": TEXT, "approval_status": enum(ApprovalStatus.values()), "approval_status_label": LABEL,
    "status": enum(WorkOrderStatus.values()), "status_label": LABEL,
    "priority": enum(Priority.values()), "priority_label": LABEL, "customer": REF,
    "order_date": DATE, "delivery_date": DATE, "production_quantity": integer(), "spoilage_quantity": integer(),
    "progress_percent": integer(0, 100), "version": integer(1, description="乐观锁版本号：审核等操作时原样提交"),
    "created_at": DATETIME, "updated_at": DATETIME,
}, required=("id", "number", "approval_status", "approval_status_label", "status", "status_label", "priority",
             "priority_label", "customer", "order_date", "delivery_date", "production_quantity",
             "spoilage_quantity", "progress_percent", "version", "created_at", "updated_at"))

WORK_ORDER_DETAIL = {**WORK_ORDER, "properties": {
    **WORK_ORDER["properties"],
    "printing_type": CODE, "cmyk_colors": array(TEXT), "other_colors": array(TEXT), "notes": TEXT,
    "approval_comment": TEXT, "created_by": nullable(REF), "approved_by": nullable(REF),
    "approved_at": nullable(DATETIME),
    "products": array(obj({"id": ID, "product": REF, "quantity": integer(), "unit": TEXT, "specification": TEXT},
                          required=("id", "product", "quantity", "unit", "specification"))),
    "materials": array(obj({"id": ID, "material": REF, "size": TEXT, "usage": TEXT, "need_cutting": {"type": "boolean"},
                            "purchase_status": CODE},
                           required=("id", "material", "size", "usage", "need_cutting", "purchase_status"))),
    "steps": array(obj({"id": ID, "sequence": integer(), "process": REF, "department": nullable(REF),
                        "status": CODE, "tasks": array(TASK)},
                       required=("id", "sequence", "process", "department", "status", "tasks"))),
}, "required": [*WORK_ORDER["required"], "printing_type", "cmyk_colors", "other_colors", "notes", "approval_comment",
                "created_by", "approved_by", "approved_at", "products", "materials", "steps"]}

WORK_ORDER_RESULT = obj({"message": TEXT, "work_order": WORK_ORDER_DETAIL}, required=("message", "work_order"))


def work_order_json(work_order) -> dict:
    return {
        "id": work_order.id, "number": work_order.number, "approval_status": work_order.approval_status,
        "approval_status_label": ApprovalStatus.label_of(work_order.approval_status),
        "status": work_order.status, "status_label": WorkOrderStatus.label_of(work_order.status),
        "priority": work_order.priority, "priority_label": Priority.label_of(work_order.priority),
        "customer": _ref(work_order.customer), "order_date": _day(work_order.order_date),
        "delivery_date": _day(work_order.delivery_date), "production_quantity": work_order.production_quantity,
        "spoilage_quantity": work_order.spoilage_quantity,
        "progress_percent": queries.progress_percent(work_order), "version": work_order.version,
        "created_at": _time(work_order.created_at), "updated_at": _time(work_order.updated_at),
    }


def work_order_detail_json(work_order) -> dict:
    return {
        **work_order_json(work_order), "printing_type": work_order.printing_type,
        "cmyk_colors": list(work_order.cmyk_colors or []), "other_colors": list(work_order.other_colors or []),
        "notes": work_order.notes, "approval_comment": work_order.approval_comment,
        "created_by": _ref(work_order.created_by), "approved_by": _ref(work_order.approved_by),
        "approved_at": _time(work_order.approved_at),
        "products": [{"id": line.id, "product": _ref(line.product), "quantity": line.quantity, "unit": line.unit,
                      "specification": line.specification} for line in work_order.products],
        "materials": [{"id": line.id, "material": _ref(line.material), "size": line.size, "usage": line.usage,
                       "need_cutting": line.need_cutting, "purchase_status": line.purchase_status}
                      for line in work_order.materials],
        "steps": [{"id": step.id, "sequence": step.sequence, "process": _ref(step.process),
                   "department": _ref(step.department), "status": step.status,
                   "tasks": [task_json(task) for task in step.tasks]} for step in work_order.steps],
    }


# ---------------------------------------------------------------- departments and notifications

DEPARTMENT = obj({"id": ID, "code": TEXT, "name": TEXT, "parent_id": nullable(ID), "depth": integer(1),
                  "members": integer(), "processes": array(obj({"id": ID, "code": TEXT, "name": TEXT},
                                                               required=("id", "code", "name")))},
                 required=("id", "code", "name", "parent_id", "depth", "members", "processes"))
DEPARTMENT_LIST = obj({"items": array(DEPARTMENT)}, required=("items",))


def department_json(row) -> dict:
    department = row.department
    return {"id": department.id, "code": department.code, "name": department.name,
            "parent_id": department.parent_id, "depth": row.depth, "members": row.members,
            "processes": [{"id": p.id, "code": p.code, "name": p.name}
                          for p in sorted(department.processes, key=lambda p: (p.sort_order, p.id))]}


NOTIFICATION = obj({
    "id": ID, "type": CODE, "type_label": LABEL, "title": TEXT, "content": TEXT, "priority": CODE,
    "is_read": {"type": "boolean"}, "read_at": nullable(DATETIME), "created_at": DATETIME,
    "task_id": nullable(ID), "work_order_id": nullable(ID),
}, required=("id", "type", "type_label", "title", "content", "priority", "is_read", "read_at", "created_at",
             "task_id", "work_order_id"))


def notification_json(row) -> dict:
    return {"id": row.id, "type": row.type, "type_label": NotificationType.label_of(row.type), "title": row.title,
            "content": row.content, "priority": row.priority, "is_read": row.is_read, "read_at": _time(row.read_at),
            "created_at": _time(row.created_at), "task_id": row.task_id, "work_order_id": row.work_order_id}


ERROR = obj({"error": obj({
    "code": enum(("invalid", "unauthenticated", "forbidden", "not_found", "method_not_allowed", "conflict",
                  "too_large", "too_many_requests", "server_error"), description="稳定的错误类别"),
    "message": {"type": "string", "description": "中文错误信息"},
    "reason": {"type": "string", "description": "更具体的原因代码，如 claimed、stale"},
    "fields": {"type": "object", "additionalProperties": {"type": "string"}, "description": "字段 → 错误信息"},
    "details": array({"type": "string"}, description="逐条列出的问题（如审核前检查发现的缺项）"),
    "request_id": {"type": "string", "description": "错误编号：与响应头 X-Request-ID 和日志里的 request_id 相同"},
}, required=("code", "message", "reason", "fields", "request_id"))}, required=("error",))
