"""An audit row in words: every field, status, reason, person and department by its Chinese name.

The rows keep what the services wrote (keys, codes and ids, so they stay exact when names change);
this is the one place that turns them into what the 操作日志, the task's and the 施工单's history show.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.enums import (
    ApprovalStatus,
    FoilingType,
    OperatorStrategy,
    PauseReason,
    PlateKind,
    PrintingType,
    Priority,
    PurchaseStatus,
    RoleCode,
    StepStatus,
    TaskAction,
    TaskStatus,
    WorkOrderStatus,
)
from app.extensions import db
from app.models import (
    AssignmentRule,
    AuditLog,
    Customer,
    Department,
    Material,
    Plate,
    Process,
    Product,
    Task,
    User,
    WorkOrder,
    Workstation,
)
from app.services.core.settings import SETTINGS
from app.utils.wording import named

OBJECT_TYPES = {
    "user": _l("用户"), "department": _l("部门"), "process": _l("工序"), "customer": _l("客户"),
    "product": _l("产品"), "material": _l("物料"), "plate": _l("版型"), "setting": _l("系统设置"),
    "task": _l("任务"), "work_order": _l("施工单"), "step": _l("施工单工序"), "material_line": _l("物料行"),
    "assignment_rule": _l("分派规则"), "notification": _l("通知"), "api_token": _l("API 令牌"),
    "workstation": _l("机台"),
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
    "workstation": (Workstation, Workstation.name),
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
    "unit_price": _l("单价"), "need_cutting": _l("需要开料"), "materials": _l("物料"), "kind": _l("类别"),
    "cmyk_colors": _l("CMYK颜色"), "other_colors": _l("专色"), "foiling_type": _l("烫金类型"), "size": _l("尺寸"),
    "material": _l("材质"), "thickness": _l("厚度"), "products": _l("产品"), "confirmed": _l("已确认"),
    "completed_tasks": _l("完成的制版任务"), "from": _l("来源"), "order": _l("顺序"),
    "count": _l("数量"), "expires_at": _l("有效期至"),
    # What the 施工单 and task services write.
    "from_operator_id": _l("原操作员"), "to_operator_id": _l("新操作员"), "operator": _l("操作员"),
    "from_department_id": _l("原部门"), "to_department_id": _l("新部门"), "department_id": _l("部门"),
    "process_id": _l("工序"), "material_id": _l("物料"), "customer_id": _l("客户"), "plate": _l("版"),
    "manual": _l("手动分派"), "auto": _l("自动分派"), "strategy": _l("分派策略"),
    "operator_strategy": _l("分派策略"), "priority": _l("优先级"), "pause_reason": _l("暂停原因"),
    "note": _l("备注"), "defect_reason": _l("不良原因"), "completed_before": _l("原完成数量"),
    "completed_after": _l("新完成数量"), "usage": _l("用量"), "number": _l("编号"),
    "draft_tasks": _l("草稿任务数"), "drafts_deleted": _l("删除草稿任务数"), "drafts_added": _l("新增草稿任务数"),
    "drafts_updated": _l("修改草稿任务数"), "tasks": _l("涉及任务数"), "status": _l("生产状态"),
    "content": _l("任务内容"), "target_quantity": _l("目标数量"), "deleted": _l("删除条数"),
    "before": _l("早于"), "changes": _l("修改内容"), "order_date": _l("下单日期"),
    "delivery_date": _l("交货日期"), "production_quantity": _l("生产数量"), "spoilage_quantity": _l("放数"),
    "printing_type": _l("印刷形式"), "design_file_name": _l("设计文件"), "plates": _l("版"),
    "steps": _l("工序"), "owner": _l("所属用户"), "production_requirements": _l("生产要求"),
    "from_workstation": _l("原机台"), "to_workstation": _l("新机台"), "position": _l("队列位置"),
    **{key: label for key, (_default, label, _low, _high) in SETTINGS.items()},
}
# Keys whose value is the id of another row: the row's name is shown instead.
REFERENCES = {
    "from_operator_id": "user", "to_operator_id": "user", "from_department_id": "department",
    "to_department_id": "department", "department_id": "department", "process_id": "process",
    "material_id": "material", "customer_id": "customer",
    "from_workstation": "workstation", "to_workstation": "workstation",
}
# Keys whose value is a code of one of the plant's enums.
CODES = {
    "priority": Priority, "printing_type": PrintingType, "operator_strategy": OperatorStrategy,
    "strategy": OperatorStrategy, "pause_reason": PauseReason, "kind": PlateKind, "foiling_type": FoilingType,
    "status": WorkOrderStatus, "roles": RoleCode,
}
_APPROVAL_ACTIONS = {"create", "submit", "resubmit", "approve", "reject", "withdraw", "delete"}


@dataclass
class Change:
    label: str
    before: object
    after: object


@dataclass
class Entry:
    """One audit row as a page shows it."""

    row: AuditLog
    object_label: str
    object_name: str
    action_label: str
    status_change: tuple[str, str] | None
    changes: list[Change]
    extras: list[Change]


def action_label(action: str) -> str:
    return str(ACTIONS.get(action) or TaskAction.label_of(action))


def status_labels(row: AuditLog) -> tuple[str, str]:
    """The from → to of a row in words: task, step, approval or production status."""
    if row.object_type == "task":
        label_of = TaskStatus.label_of
    elif row.object_type == "step":
        label_of = StepStatus.label_of
    elif row.object_type == "material_line":
        label_of = PurchaseStatus.label_of
    elif row.object_type == "work_order" and row.action in _APPROVAL_ACTIONS:
        label_of = ApprovalStatus.label_of
    elif row.object_type == "work_order":
        label_of = WorkOrderStatus.label_of
    else:
        return row.from_status or "", row.to_status or ""
    return label_of(row.from_status), label_of(row.to_status)


def field_label(key: str) -> str:
    return str(FIELDS.get(key, key))


class Names:
    """The names of every row the audit rows mention, read with one query per kind."""

    def __init__(self, rows):
        wanted: dict[str, set] = {}

        def want(kind, value):
            if isinstance(value, int) and not isinstance(value, bool):
                wanted.setdefault(kind, set()).add(value)

        for row in rows:
            if row.object_type in NAMED_BY and row.object_id is not None:
                want(row.object_type, row.object_id)
            if row.action == "dispatch":
                want("department", row.department_id)
            for key, value in _detail_values(row.detail or {}):
                if key in REFERENCES:
                    want(REFERENCES[key], value)
                elif key == "products":
                    for line in value or []:
                        want("product", _first(line))
                elif key == "materials":
                    for line in value or []:
                        want("material", _first(line))
                elif key == "plates":
                    for plate_id in value or []:
                        want("plate", plate_id)
                elif key == "steps":
                    for step in value or []:
                        if isinstance(step, list) and len(step) == 3:
                            want("process", step[0])
                            want("department", step[2])
            if row.object_type == "assignment_rule" and row.action == "reorder":
                for rule_id in (row.detail or {}).get("order") or []:
                    want("assignment_rule", rule_id)
        self._names: dict[tuple[str, int], str] = {}
        for kind, ids in wanted.items():
            if kind == "assignment_rule":
                statement = (select(AssignmentRule.id, Department.name)
                             .join(Department, Department.id == AssignmentRule.department_id)
                             .where(AssignmentRule.id.in_(ids)))
            else:
                model, column = NAMED_BY[kind]
                statement = select(model.id, column).where(model.id.in_(ids))
            for identifier, name in db.session.execute(statement):
                self._names[(kind, identifier)] = name

    def get(self, kind: str, identifier) -> str | None:
        return self._names.get((kind, identifier))

    def of(self, kind: str, identifier) -> str:
        """The name, or — for a row deleted since — its kind and that it is gone."""
        if identifier is None:
            return ""
        return self.get(kind, identifier) or str(_l("（已删除的%(kind)s）", kind=OBJECT_TYPES.get(kind, "")))


def _first(line):
    return line[0] if isinstance(line, list) and line else None


def _detail_values(detail: dict):
    """Every (key, value) of a detail, those inside before/after and the 施工单's changes included."""
    for key, value in detail.items():
        if key in ("before", "after") and isinstance(value, dict):
            yield from value.items()
        elif key == "changes" and isinstance(value, dict):
            for field, pair in value.items():
                for item in pair if isinstance(pair, list) else [pair]:
                    yield field, item
        else:
            yield key, value


def readable(key: str, value, names: Names, row: AuditLog | None = None):
    """A detail value in words; True/False, None and plain text are left to the template."""
    if value is None or isinstance(value, bool):
        return value
    if key in REFERENCES:
        return names.of(REFERENCES[key], value)
    if key in CODES and isinstance(value, str):
        return CODES[key].label_of(value)
    if key in CODES and isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [CODES[key].label_of(item) for item in value]
    if key == "products" and isinstance(value, list) and value and isinstance(value[0], list):
        return [f"{names.of('product', line[0])} × {line[1]}" for line in value]
    if key == "materials" and isinstance(value, list) and value and isinstance(value[0], list):
        return [" ".join(str(part) for part in (names.of("material", line[0]), line[1]) if part) for line in value]
    if key == "plates" and isinstance(value, list) and all(isinstance(item, int) for item in value):
        return [names.of("plate", plate_id) for plate_id in value]
    if key == "steps" and isinstance(value, list):
        return [named(names.of('process', step[0]), names.of('department', step[2])) if step[2] is not None
                else names.of("process", step[0]) for step in value]
    if key == "order" and row is not None and row.object_type == "assignment_rule":
        return [names.of("assignment_rule", rule_id) for rule_id in value]
    if key == "order" and row is not None and row.object_type == "process":
        return value
    if key == "status" and isinstance(value, list):
        return " → ".join(WorkOrderStatus.label_of(item) for item in value)
    return value


def describe_all(rows) -> list[Entry]:
    names = Names(rows)
    return [describe(row, names) for row in rows]


def describe(row: AuditLog, names: Names) -> Entry:
    detail = dict(row.detail or {})
    before, after = detail.pop("before", None), detail.pop("after", None)
    # A deleted object is named by what the row kept of it.
    kept = before if isinstance(before, dict) else after if isinstance(after, dict) else {}
    name = names.get(row.object_type, row.object_id) if row.object_id is not None else None
    name = name or kept.get("name") or kept.get("code") or detail.get("number") or ""
    changes: list[Change] = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        for key in list(after) + [k for k in before if k not in after]:
            changes.append(Change(field_label(key), readable(key, before.get(key), names, row),
                                  readable(key, after.get(key), names, row)))
    elif "key" in detail:
        # A single value, e.g. a setting: {"key", "before", "after"}.
        key = detail.pop("key")
        changes.append(Change(str(FIELDS.get(key, key or _l("值"))), before, after))
    elif before is not None:
        detail["before"] = before  # e.g. the notifications purged: those from before this time
    if "completed_before" in detail and "completed_after" in detail:  # a 报工: the completed quantity, from → to
        changes.append(Change(str(_l("完成数量")), detail.pop("completed_before"), detail.pop("completed_after")))
    for key, pair in (detail.pop("changes", None) or {}).items():
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        changes.append(Change(field_label(key), readable(key, old, names, row), readable(key, new, names, row)))
    if row.action == "dispatch" and row.department_id and "to_department_id" not in detail:
        detail["to_department_id"] = row.department_id  # dispatched in bulk: the department is the row's own
    extras = [Change(field_label(key), None, readable(key, value, names, row)) for key, value in detail.items()
              if not _says_nothing(key, value, row)]
    status_change = status_labels(row) if row.from_status != row.to_status and (row.from_status or row.to_status) \
        else None
    return Entry(row, str(OBJECT_TYPES.get(row.object_type, row.object_type)), str(name),
                 action_label(row.action), status_change, changes, extras)


def _says_nothing(key: str, value, row: AuditLog) -> bool:
    """Details already shown elsewhere on the line, or empty."""
    if value in (None, "", [], {}):
        return True
    # The pause reason and the note are written into the row's reason too; the number names the object.
    return key in ("pause_reason", "note", "defect_reason") and bool(row.reason) or key == "number"
