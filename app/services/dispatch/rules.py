"""The 分派规则 page's writes and reads: rules per process, reorder, the auto-dispatch switch, and
the preview — which asks ``dispatch.choose_department`` itself, so it cannot disagree with approval."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.enums import OperatorStrategy
from app.extensions import db
from app.models import AssignmentRule, Department, Process, department_processes
from app.services.core import audit, settings
from app.services.core.errors import Invalid, NotFound
from app.services.core.locking import for_update
from app.services.dispatch.auto_dispatch import choose_department, department_loads, eligible_rules
from app.utils.fields import lenient_int

PRIORITY_RANGE = (0, 100)


@dataclass
class RuleCard:
    rule: AssignmentRule
    load: int
    recommended: bool


def active_processes(search: str = "") -> list[Process]:
    statement = select(Process).where(Process.is_active.is_(True)).order_by(Process.sort_order, Process.id)
    if search:
        pattern = f"%{search}%"
        statement = statement.where(Process.name.ilike(pattern) | Process.code.ilike(pattern))
    return list(db.session.scalars(statement))


def rule_cards(process: Process) -> list[RuleCard]:
    """The process's rules by priority; 推荐 marks the tie-break winner among equal top priorities."""
    rules = list(db.session.scalars(
        select(AssignmentRule).options(joinedload(AssignmentRule.department))
        .where(AssignmentRule.process_id == process.id)
        .order_by(AssignmentRule.priority.desc(), AssignmentRule.id)
    ))
    loads = department_loads(rule.department_id for rule in rules)
    chosen = choose_department(process, loads=loads)
    candidates = eligible_rules([process.id]).get(process.id, [])
    tie = len(candidates) > 1 and candidates[0].priority == candidates[1].priority
    return [RuleCard(rule, loads.get(rule.department_id, 0), tie and rule.department_id == chosen) for rule in rules]


def preview() -> list[tuple[Process, Department | None]]:
    """For every active process, the department its next task would go to right now."""
    processes = active_processes()
    rules = eligible_rules(p.id for p in processes)
    loads = department_loads()
    departments = {d.id: d for d in db.session.scalars(select(Department))}
    return [(process, departments.get(choose_department(process, loads=loads, rules=rules)))
            for process in processes]


def handling_departments(process: Process) -> list[Department]:
    return list(db.session.scalars(
        select(Department).join(department_processes, department_processes.c.department_id == Department.id)
        .where(department_processes.c.process_id == process.id, Department.is_active.is_(True))
        .order_by(Department.sort_order, Department.id)
    ))


def get_rule(rule_id: int) -> AssignmentRule:
    rule = db.session.get(AssignmentRule, rule_id)
    if rule is None:
        raise NotFound(_l("分派规则不存在"), code="rule_not_found")
    return rule


def save_rule(actor, process: Process, form: dict, rule: AssignmentRule | None = None) -> AssignmentRule:
    """Create (rule None) or edit a rule; every field is checked before anything is written."""
    errors = {}
    department_id = _int(form.get("department_id"))
    if department_id is None:
        errors["department_id"] = _l("请选择部门")
    elif department_id not in {d.id for d in handling_departments(process)}:
        errors["department_id"] = _l("该部门不处理此工序")
    elif _has_other_rule(process, department_id, rule):
        errors["department_id"] = _l("该部门已有此工序的规则")
    priority = _int(form.get("priority"))
    if priority is None or not PRIORITY_RANGE[0] <= priority <= PRIORITY_RANGE[1]:
        errors["priority"] = _l("优先级必须是 0 到 100 之间的整数")
    strategy = form.get("operator_strategy") or "manual"
    if strategy not in OperatorStrategy.values():
        errors["operator_strategy"] = _l("请选择有效的分配策略")
    if errors:
        raise Invalid(_l("请修正标出的错误"), fields=errors, code="rule_invalid")

    before = _snapshot(rule) if rule else None
    if rule is None:
        rule = AssignmentRule(process_id=process.id)
        db.session.add(rule)
    rule.department_id = department_id
    rule.priority = priority
    rule.is_active = bool(form.get("is_active"))
    rule.operator_strategy = strategy
    db.session.flush()
    audit.record(actor, "assignment_rule", rule.id, "create" if before is None else "update",
                 department_id=department_id, detail={"before": before, "after": _snapshot(rule)})
    return rule


def delete_rule(actor, rule: AssignmentRule) -> None:
    audit.record(actor, "assignment_rule", rule.id, "delete", department_id=rule.department_id,
                 detail={"before": _snapshot(rule)})
    db.session.delete(rule)


def reorder(actor, process: Process, rule_ids: list[int]) -> None:
    """Priorities rewritten 100, 99, … in the dragged order; the list must be the process's rules."""
    rules = {rule.id: rule for rule in db.session.scalars(
        for_update(select(AssignmentRule).where(AssignmentRule.process_id == process.id)))}
    if sorted(rule_ids) != sorted(rules):
        raise Invalid(_l("规则列表已变化，请刷新后重试"), code="rules_changed")
    for offset, rule_id in enumerate(rule_ids):
        rules[rule_id].priority = max(PRIORITY_RANGE[0], PRIORITY_RANGE[1] - offset)
    audit.record(actor, "assignment_rule", None, "reorder", detail={"process_id": process.id, "order": rule_ids})


def set_auto_dispatch(actor, enabled: bool) -> None:
    settings.update(actor, {"auto_dispatch_enabled": enabled})


def _has_other_rule(process: Process, department_id: int, rule: AssignmentRule | None) -> bool:
    statement = select(AssignmentRule.id).where(AssignmentRule.process_id == process.id,
                                                AssignmentRule.department_id == department_id)
    if rule is not None:
        statement = statement.where(AssignmentRule.id != rule.id)
    return db.session.scalar(statement) is not None


def _snapshot(rule: AssignmentRule) -> dict:
    return {"department_id": rule.department_id, "priority": rule.priority, "is_active": rule.is_active,
            "operator_strategy": rule.operator_strategy}


def _int(value) -> int | None:
    value = str(value if value is not None else "").strip()
    return lenient_int(value)
