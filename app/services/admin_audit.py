"""操作日志: every audit row, filtered by object type, user and plant date, with its detail made readable."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.enums import ApprovalStatus, TaskAction, TaskStatus, WorkOrderStatus
from app.extensions import db
from app.models import AuditLog, Customer, Department, Material, Plate, Process, Product, Task, User, WorkOrder
from app.services.master_data import ListQuery
from app.services.settings import SETTINGS
from app.utils.timeutil import plant_zone

OBJECT_TYPES = {
    "user": _l("用户"), "department": _l("部门"), "process": _l("工序"), "customer": _l("客户"),
    "product": _l("产品"), "material": _l("物料"), "plate": _l("版型"), "setting": _l("系统设置"),
    "task": _l("任务"), "work_order": _l("施工单"), "step": _l("施工单工序"), "material_line": _l("物料行"),
    "assignment_rule": _l("分派规则"), "notification": _l("通知"), "api_token": _l("API 令牌"),
}
ACTIONS = {
    "create": _l("新建"), "update": _l("修改"), "delete": _l("删除"), "activate": _l("启用"),
    "deactivate": _l("停用"), "reorder": _l("调整顺序"), "confirm": _l("确认"), "new_version": _l("新版本"),
    "submit": _l("提交审核"), "resubmit": _l("重新提交审核"), "approve": _l("审核通过"), "reject": _l("审核拒绝"),
    "withdraw": _l("撤回审核"), "release": _l("下达"), "skip": _l("跳过"), "reopen": _l("重新打开"),
    "purge": _l("清理"), "purchase_status": _l("采购状态"), "draft_add": _l("新增草稿任务"),
    "draft_update": _l("修改草稿任务"), "draft_delete": _l("删除草稿任务"),
    "board_token_issue": _l("生成看板链接"), "board_token_revoke": _l("撤销看板链接"), "revoke": _l("吊销"),
    "login_burst": _l("登录失败次数异常"), "api_tokens_revoke": _l("吊销全部 API 令牌"),
}
# object type → (model, the column that names a row of it)
NAMED_BY = {
    "user": (User, User.name), "department": (Department, Department.name), "process": (Process, Process.name),
    "customer": (Customer, Customer.name), "product": (Product, Product.name), "material": (Material, Material.name),
    "plate": (Plate, Plate.code), "work_order": (WorkOrder, WorkOrder.number), "task": (Task, Task.number),
}
FIELDS = {
    "code": _l("编码"), "name": _l("名称"), "username": _l("用户名"), "employee_no": _l("工号"), "email": _l("邮箱"),
    "phone": _l("电话"), "is_active": _l("启用"), "roles": _l("角色"), "departments": _l("部门"),
    "password_set": _l("设置密码"), "pin_set": _l("设置PIN"), "parent": _l("上级部门"), "sort_order": _l("排序"),
    "processes": _l("工序"), "description": _l("描述"), "standard_hours": _l("标准工时"),
    "is_parallel": _l("可并行执行"), "requires_artwork": _l("需要图稿"), "artwork_required": _l("图稿必选"),
    "requires_die": _l("需要刀模"), "die_required": _l("刀模必选"), "requires_foiling": _l("需要烫金版"),
    "foiling_required": _l("烫金版必选"), "requires_embossing": _l("需要压凸版"),
    "embossing_required": _l("压凸版必选"), "contact_person": _l("联系人"), "address": _l("地址"),
    "salesperson": _l("业务员"), "notes": _l("备注"), "specification": _l("规格"), "unit": _l("单位"),
    "unit_price": _l("单价"), "need_cutting": _l("需要开料"), "materials": _l("默认物料"), "kind": _l("类别"),
    "cmyk_colors": _l("CMYK颜色"), "other_colors": _l("专色"), "foiling_type": _l("烫金类型"), "size": _l("尺寸"),
    "material": _l("材质"), "thickness": _l("厚度"), "products": _l("关联产品"), "confirmed": _l("已确认"),
    "completed_tasks": _l("完成的制版任务"), "from": _l("来源"), "order": _l("顺序"),
    **{key: label for key, (_default, label, _low, _high) in SETTINGS.items()},
}


@dataclass
class Change:
    label: str
    before: object
    after: object


def _action_label(action: str) -> str:
    return str(ACTIONS.get(action) or TaskAction.label_of(action))


def _status_label(value: str | None) -> str:
    for enum in (TaskStatus, WorkOrderStatus, ApprovalStatus):
        if value in enum.labels:
            return enum.label_of(value)
    return value or ""


def _plant_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=plant_zone()).astimezone(timezone.utc).replace(tzinfo=None)


def list_entries(query: ListQuery):
    statement = select(AuditLog).options(joinedload(AuditLog.user))
    if query.filters.get("object_type"):
        statement = statement.where(AuditLog.object_type == query.filters["object_type"])
    if query.filters.get("user"):
        statement = statement.where(AuditLog.user_id == query.filters["user"])
    if query.filters.get("date_from"):
        statement = statement.where(AuditLog.at >= _plant_midnight_utc(query.filters["date_from"]))
    if query.filters.get("date_to"):
        statement = statement.where(AuditLog.at < _plant_midnight_utc(query.filters["date_to"] + timedelta(days=1)))
    statement = statement.order_by(AuditLog.at.desc(), AuditLog.id.desc())
    return db.paginate(statement, page=max(query.page, 1), per_page=query.per_page, error_out=False)


def object_type_options() -> list[tuple[str, str]]:
    present = set(db.session.scalars(select(AuditLog.object_type).distinct()))
    return [(key, str(OBJECT_TYPES.get(key, key))) for key in sorted(present | set(OBJECT_TYPES))]


def user_options() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.id.in_(select(AuditLog.user_id).distinct())).order_by(User.name)))


@dataclass
class Entry:
    """One audit row as the page shows it."""

    row: AuditLog
    object_label: str
    object_name: str
    action_label: str
    status_change: tuple[str, str] | None
    changes: list[Change]
    extras: list[Change]


def _object_names(rows) -> dict[tuple[str, int], str]:
    """The current name of every object the rows mention: one query per object type."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        if row.object_type in NAMED_BY and row.object_id is not None:
            wanted.setdefault(row.object_type, set()).add(row.object_id)
    names = {}
    for object_type, object_ids in wanted.items():
        model, column = NAMED_BY[object_type]
        for object_id, name in db.session.execute(select(model.id, column).where(model.id.in_(object_ids))):
            names[(object_type, object_id)] = name
    return names


def describe_all(rows) -> list[Entry]:
    names = _object_names(rows)
    return [describe(row, names) for row in rows]


def describe(row: AuditLog, names: dict) -> Entry:
    detail = dict(row.detail or {})
    before, after = detail.pop("before", None), detail.pop("after", None)
    # A deleted object is named by what the row kept of it.
    kept = before if isinstance(before, dict) else after if isinstance(after, dict) else {}
    name = names.get((row.object_type, row.object_id)) or kept.get("name") or kept.get("code") or ""
    changes: list[Change] = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        for key in list(after) + [k for k in before if k not in after]:
            changes.append(Change(str(FIELDS.get(key, key)), before.get(key), after.get(key)))
    elif before is not None or after is not None:
        # A single value, e.g. a setting: {"key", "before", "after"}.
        key = detail.pop("key", "")
        changes.append(Change(str(FIELDS.get(key, key or _l("值"))), before, after))
    extras = [Change(str(FIELDS.get(key, key)), None, value) for key, value in detail.items()]
    status_change = (_status_label(row.from_status), _status_label(row.to_status)) \
        if row.from_status or row.to_status else None
    return Entry(row, str(OBJECT_TYPES.get(row.object_type, row.object_type)), str(name),
                 _action_label(row.action), status_change, changes, extras)
