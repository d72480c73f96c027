"""Every status and choice of the plant, with its one Chinese label (DOMAIN.md §11)."""
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.utils.memo import translated_texts


class LabeledEnum(StrEnum):
    """A string enum whose members carry a translatable label.

    Built with ``_enum()``; templates and forms use ``.label``, ``label_of()`` and
    ``choices()`` so no label is ever typed twice.
    """

    @property
    def label(self) -> str:
        return type(self).label_of(self.value)

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        """(value, lazy label) pairs: forms build them once at import, so each must translate when rendered."""
        return [(m.value, cls.labels[m.value]) for m in cls]

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def label_of(cls, value: str | None) -> str:
        """The label in the request's language, translated once per request (a page repeats them per row)."""
        if value is None:
            return ""
        label = cls.labels.get(value)
        if label is None:
            return value
        translated = translated_texts()
        key = (cls, value)
        text = translated.get(key)
        if text is None:
            text = translated[key] = str(label)
        return text


def _enum(name: str, labels: dict[str, object]) -> type[LabeledEnum]:
    enum_cls = LabeledEnum(name, {key.upper(): key for key in labels})
    enum_cls.labels = labels  # type: ignore[attr-defined]
    return enum_cls


RoleCode = _enum("RoleCode", {
    "admin": _l("管理员"),
    "salesperson": _l("业务员"),
    "maker": _l("制单员"),
    "supervisor": _l("部门主管"),
    "operator": _l("操作员"),
    "designer": _l("设计员"),
})

TaskStatus = _enum("TaskStatus", {
    "draft": _l("草稿"),
    "pending": _l("待开始"),
    "in_progress": _l("进行中"),
    "paused": _l("已暂停"),
    "completed": _l("已完成"),
    "cancelled": _l("已取消"),
})

# Tasks an operator holds against the cap, and that count as a department's load.
OPEN_TASK_STATUSES = ("pending", "in_progress", "paused")

ApprovalStatus = _enum("ApprovalStatus", {
    "draft": _l("草稿"),
    "pending": _l("待审核"),
    "approved": _l("已通过"),
    "rejected": _l("已拒绝"),
})

WorkOrderStatus = _enum("WorkOrderStatus", {
    "pending": _l("待开始"),
    "in_progress": _l("进行中"),
    "paused": _l("已暂停"),
    "completed": _l("已完成"),
    "cancelled": _l("已取消"),
})

StepStatus = _enum("StepStatus", {
    "pending": _l("待开始"),
    "in_progress": _l("进行中"),
    "completed": _l("已完成"),
    "skipped": _l("已跳过"),
})

# Steps that no longer hold up the 施工单 (or the steps after them).
FINISHED_STEP_STATUSES = ("completed", "skipped")

Priority = _enum("Priority", {
    "low": _l("低"),
    "normal": _l("普通"),
    "high": _l("高"),
    "urgent": _l("紧急"),
})

PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}

# A 施工单 is due soon when its delivery date is at most this many days away: the 工作台's figure,
# the date badges and the first delivery reminder.
DUE_SOON_DAYS = 3

TaskType = _enum("TaskType", {
    "plate_making": _l("制版任务"),
    "cutting": _l("开料任务"),
    "printing": _l("印刷任务"),
    "foiling": _l("烫金任务"),
    "embossing": _l("压凸任务"),
    "die_cutting": _l("模切任务"),
    "packaging": _l("包装任务"),
    "general": _l("通用任务"),
})

PlateKind = _enum("PlateKind", {
    "artwork": _l("图稿"),
    "die": _l("刀模"),
    "foiling": _l("烫金版"),
    "embossing": _l("压凸版"),
})

# Every plate kind in its order (forms, lists, CTP's order of making them); a process says which it uses
# with its requires_<kind> and <kind>_required flags.
PLATE_KINDS = tuple(PlateKind.values())

PLATE_CODE_PREFIX = {"artwork": "ART", "die": "DIE", "foiling": "FP", "embossing": "EP"}

FoilingType = _enum("FoilingType", {
    "gold": _l("烫金"),
    "silver": _l("烫银"),
})

PrintingType = _enum("PrintingType", {
    "none": _l("不需要印刷"),
    "front": _l("正面印刷"),
    "back": _l("背面印刷"),
    "self_reverse": _l("自反印刷"),
    "reverse_gripper": _l("反咬口印刷"),
    "register": _l("套版印刷"),
})

PurchaseStatus = _enum("PurchaseStatus", {
    "pending": _l("待采购"),
    "ordered": _l("已下单"),
    "received": _l("已回料"),
    "cut": _l("已开料"),
})

PauseReason = _enum("PauseReason", {
    "equipment": _l("设备故障"),
    "material": _l("缺料"),
    "plate": _l("等待版"),
    "quality": _l("质量问题"),
    "other": _l("其他"),
})

OperatorStrategy = _enum("OperatorStrategy", {
    "manual": _l("手动"),
    "least_tasks": _l("任务最少"),
    "round_robin": _l("轮询"),
    "random": _l("随机"),
    "first_available": _l("第一个可用"),
})

NotificationType = _enum("NotificationType", {
    "approval_requested": _l("待审核"),
    "approval_passed": _l("审核通过"),
    "approval_rejected": _l("审核拒绝"),
    "task_assigned": _l("新任务分配"),
    "task_reassigned": _l("改派"),
    "task_cancelled": _l("任务取消"),
    "task_completed": _l("任务完成"),
    "process_completed": _l("工序完成"),
    "workorder_completed": _l("施工单完成"),
    "delivery_due": _l("交货期预警"),
    "delivery_risk": _l("交期风险"),
    "system": _l("系统通知"),
})

# What an audit row of a task records (the task page's history shows these labels).
TaskAction = _enum("TaskAction", {
    "claim": _l("认领"),
    "start": _l("开始"),
    "pause": _l("暂停"),
    "resume": _l("继续"),
    "report": _l("报工"),
    "complete": _l("完成"),
    "cancel": _l("取消"),
    "auto_complete": _l("自动完成"),
    "auto_report": _l("自动计数"),
    "dispatch": _l("分派"),
    "plan_move": _l("调整排产"),
    "assign": _l("指派"),
    "reassign": _l("改派"),
    "unassign": _l("取消指派"),
    "move": _l("转部门"),
})
