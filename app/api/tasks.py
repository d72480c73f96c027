"""Tasks: the task centre's list and filters, the detail, and every action the pages offer."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api import bp
from app.api.resources import TASK, TASK_DETAIL, TASK_RESULT, page_of, page_schema, task_detail_json, task_json
from app.api.spec import DATE, ID, QUANTITY_MAX, enum, integer, obj, operation, pagination, parse_date, string
from app.enums import Priority, TaskStatus, TaskType
from app.extensions import db
from app.policy import require
from app.services.dispatch import assignment
from app.services.tasks import actions as task_service
from app.services.tasks import filtering as task_filtering
from app.services.tasks import queries as task_queries
from app.services.tasks import reading as task_reading
from app.services.tasks import visibility as task_visibility

TAG = "任务"
# Up to nine digits: any id of an int4 column; "none" is the task centre's 未分派 / 未分配.
ID_OR_NONE = {"type": "string", "pattern": "^(none|[1-9][0-9]{0,8})$"}
TEXT_MAX = 1000

LIST_QUERY = {
    "q": string(100, description="搜索：任务编号、施工单号、任务内容"),
    "work_order": string(20, description="施工单号（或其开头）"),
    "status": enum([task_visibility.OPEN, *TaskStatus.values()], description="状态；open = 待开始/进行中/已暂停"),
    "department": {**ID_OR_NONE, "description": "部门编号（含下级部门），none = 未分派"},
    "operator": {**ID_OR_NONE, "description": "操作员编号，none = 未分配"},
    "priority": enum(Priority.values(), description="施工单优先级"),
    "task_type": enum(TaskType.values(), description="任务类型"),
    "process_id": integer(1, description="工序编号"),
    "date_by": enum(task_filtering.DATE_FIELDS, description="日期筛选依据：创建、完成或交货日期"),
    "date_from": {**DATE, "description": "日期从（含）"},
    "date_to": {**DATE, "description": "日期至（含）"},
    "overdue": {"type": "boolean", "description": "仅看逾期"},
    "drafts": enum(("include", "only"), description="include = 包含草稿，only = 仅看草稿；默认不显示草稿"),
    "sort": enum(task_queries.SORTS, description="排序"),
    **pagination(task_visibility.PAGE_SIZES),
}
TASK_LIST = {**page_schema(TASK)}
TASK_LIST["properties"] = {**TASK_LIST["properties"], "counts": {
    "type": "object", "description": "各状态的任务数（除状态外的筛选条件下）",
    "properties": {status: integer() for status in TaskStatus.values()},
    "required": TaskStatus.values(), "additionalProperties": False}}
TASK_LIST["required"] = [*TASK_LIST["required"], "counts"]

VERSION = integer(1, description="任务的 version（乐观锁）：原样提交读到的值")
FIELD_SCHEMAS = {int: integer(-QUANTITY_MAX, QUANTITY_MAX), str: string(TEXT_MAX)}
FIELD_DESCRIPTIONS = {
    "reason": "原因（暂停：equipment/material/plate/quality/other；提前完成、取消：文字说明）",
    "note": "备注", "good": "本次完成数量（负数为更正）", "defective": "本次不良品数量",
    "defect_reason": "不良原因（有不良品时必填）",
}
ACTION_SUMMARIES = {
    "claim": _l("认领任务"), "start": _l("开始任务"), "pause": _l("暂停任务"), "resume": _l("继续任务"),
    "report": _l("报工（填写完成数量和不良品数量）"), "complete": _l("完成任务"), "cancel": _l("取消任务（主管）"),
}
ACTION_ERRORS = (403, 404, 409, 422)


@operation(bp, "GET", "/tasks", summary=_l("任务列表（任务中心的筛选、搜索、排序与分页）"), tag=TAG,
           query=LIST_QUERY, response=TASK_LIST,
           description="只返回当前用户可见的任务，与任务中心 /tasks 相同。")
def task_list(query: dict):
    user = current_user._get_current_object()
    require(user, "task.list")
    filters = task_filtering.TaskFilters(
        **{name: query[name] for name in ("q", "work_order", "status", "department", "operator", "priority",
                                           "task_type", "process_id", "date_by", "overdue", "drafts", "sort")
           if name in query},
        date_from=parse_date(query.get("date_from")), date_to=parse_date(query.get("date_to")))
    result = task_queries.list_tasks(user, filters, query.get("page", 1),
                                     query.get("per_page", task_visibility.PAGE_SIZES[0]))
    return {**page_of([task_json(task) for task in result.items], result), "counts": result.counts}


@operation(bp, "GET", "/tasks/{task_id}", summary=_l("任务详情（含当前用户可执行的操作）"), tag=TAG,
           response=TASK_DETAIL, errors=(403, 404))
def task_detail(task_id: int):
    user = current_user._get_current_object()
    task = task_reading.get_task(task_id)
    require(user, "task.view", task)
    return task_detail_json(task, user)


def _action_body(action: str) -> dict:
    fields = {name: {**FIELD_SCHEMAS[kind], "description": FIELD_DESCRIPTIONS[name]}
              for name, kind in task_service.ACTION_FIELDS[action].items()}
    return obj({"version": VERSION, **fields}, required=("version",))


def _register_action(action: str) -> None:
    """POST /tasks/{id}/<action>: the same service call as the task card's button."""
    defaults = {name: kind() for name, kind in task_service.ACTION_FIELDS[action].items()}

    def act(task_id: int, body: dict):
        user = current_user._get_current_object()
        task = task_reading.get_task(task_id)
        require(user, "task.view", task)
        outcome = task_service.ACTIONS[action](task, user, body["version"],
                                  **{name: body.get(name, default) for name, default in defaults.items()})
        db.session.commit()
        return {"message": outcome.message, "task": task_detail_json(task_reading.get_task(task_id), user)}

    act.__name__ = f"task_{action}"
    operation(bp, "POST", f"/tasks/{{task_id}}/{action}", summary=ACTION_SUMMARIES[action], tag=TAG,
              body=_action_body(action), response=TASK_RESULT, errors=ACTION_ERRORS)(act)


for _action in task_service.ACTIONS:
    _register_action(_action)


@operation(bp, "POST", "/tasks/{task_id}/assign", summary=_l("分配或改派任务给操作员（主管）"), tag=TAG,
           body=obj({"version": VERSION, "operator_id": {**ID, "description": "操作员编号"},
                     "reason": {**string(TEXT_MAX), "description": "改派已开始的任务时必填"}},
                    required=("version", "operator_id")),
           response=TASK_RESULT, errors=ACTION_ERRORS)
def task_assign(task_id: int, body: dict):
    user = current_user._get_current_object()
    task = assignment.assign(task_id, body["operator_id"], user, body["version"], body.get("reason"))
    message = _("已分配给 %(name)s", name=task.operator.name)
    db.session.commit()
    return {"message": message, "task": task_detail_json(task_reading.get_task(task_id), user)}
