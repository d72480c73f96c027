"""分派历史: every placement of a task with a department or an operator, in words."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.orm import joinedload

from app.enums import TaskAction
from app.extensions import db
from app.models import (
    AuditLog,
    Task,
    User,
    WorkOrder,
)
from app.services.core.loading import name_only
from app.services.reports.periods import ASSIGNMENT_ACTIONS, StatsFilters
from app.services.reports.statistics import _departments
from app.services.tasks import filtering as task_filtering

# ---------------------------------------------------------------- 分派历史

@dataclass
class HistoryRow:
    entry: AuditLog
    task: Task | None
    change: str

    @property
    def action_label(self) -> str:
        return TaskAction.label_of(self.entry.action)


@dataclass
class History:
    rows: list[HistoryRow]
    total: int
    tasks: int
    departments: int
    operators: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _detail_id(name: str):
    return AuditLog.detail[name].as_integer()


def assignment_history(filters: StatsFilters, page: int = 1, per_page: int = 20) -> History:
    """Every assignment event in the period: newest first, with who and what changed."""
    conditions = [AuditLog.object_type == "task", AuditLog.action.in_(ASSIGNMENT_ACTIONS),
                  *filters.period.within(AuditLog.at)]
    if filters.department_id:
        scope = task_filtering.department_scope(filters.department_id)
        conditions.append(or_(AuditLog.department_id.in_(scope), _detail_id("from_department_id").in_(scope)))
    if filters.operator_id:
        conditions.append(or_(and_(AuditLog.action == "claim", AuditLog.user_id == filters.operator_id),
                              _detail_id("to_operator_id") == filters.operator_id,
                              _detail_id("from_operator_id") == filters.operator_id))
    total, tasks, departments = db.session.execute(
        select(func.count(), func.count(AuditLog.task_id.distinct()), func.count(AuditLog.department_id.distinct()))
        .where(*conditions)
    ).one()
    involved = union(
        select(AuditLog.user_id.label("operator_id")).where(*conditions, AuditLog.action == "claim"),
        select(_detail_id("to_operator_id")).where(*conditions, _detail_id("to_operator_id").is_not(None)),
        select(_detail_id("from_operator_id")).where(*conditions,
                                                         _detail_id("from_operator_id").is_not(None)),
    ).subquery()
    operators = db.session.scalar(select(func.count()).select_from(involved).where(
        involved.c.operator_id.is_not(None))) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    entries = list(db.session.scalars(
        select(AuditLog).where(*conditions).options(name_only(joinedload(AuditLog.user)))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ))
    return History(_history_rows(entries), total, tasks, departments, operators, page, per_page)


def _history_rows(entries: list[AuditLog]) -> list[HistoryRow]:
    task_ids = {e.task_id for e in entries if e.task_id}
    tasks = {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_(task_ids)).options(
            joinedload(Task.work_order).load_only(WorkOrder.number), joinedload(Task.department),
            name_only(joinedload(Task.operator))))}
    user_ids = {e.detail.get(key) for e in entries for key in ("from_operator_id", "to_operator_id")}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids - {None}))).all())
    departments = {d.id: d.name for d in _departments().values()}
    return [HistoryRow(e, tasks.get(e.task_id), _describe(e, names, departments)) for e in entries]


def _describe(entry: AuditLog, names: dict, departments: dict) -> str:
    detail = entry.detail or {}

    def person(key):
        return names.get(detail.get(key), _("未指定"))

    def place(key):
        return departments.get(detail.get(key), _("未分派"))

    if entry.action == "dispatch":
        text = _("分派到 %(dept)s", dept=departments.get(entry.department_id, _("未分派")))
    elif entry.action == "claim":
        text = _("%(name)s 认领", name=entry.user.name if entry.user else detail.get("operator", ""))
    elif entry.action == "assign":
        text = _("指派给 %(name)s", name=person("to_operator_id"))
        if detail.get("auto"):
            text = _("%(text)s（自动）", text=text)
    elif entry.action == "reassign":
        text = _("%(old)s → %(new)s", old=person("from_operator_id"), new=person("to_operator_id"))
    elif entry.action == "unassign":
        text = _("取消 %(name)s 的分配", name=person("from_operator_id"))
    else:  # move
        text = _("%(old)s → %(new)s", old=place("from_department_id"), new=place("to_department_id"))
    if entry.reason:
        text = _("%(text)s；原因：%(reason)s", text=text, reason=entry.reason)
    return text
