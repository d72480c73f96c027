"""Department dispatch (DOMAIN.md §6): which department a task goes to, and sending it there.

``choose_department`` is the one answer: the 施工单 step's explicit department when the user
set one, else the highest-priority enabled rule whose department is active and handles the
process, ties going to the department with the fewest open tasks (待开始 + 进行中 + 已暂停).
The rules page previews with it; approval dispatches with it. It does not read the auto-dispatch
switch — ``dispatch_tasks`` does — so the preview can show what *would* happen when it is off.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import AssignmentRule, Department, Task, department_processes
from app.services.core import audit, settings
from app.services.dispatch import operator_selection
from app.utils.timeutil import utcnow


@dataclass(frozen=True)
class Candidate:
    """An enabled rule whose department may take the process now."""

    department_id: int
    priority: int
    sort_order: int


def eligible_rules(process_ids: Iterable[int]) -> dict[int, list[Candidate]]:
    """Per process, the enabled rules whose department is active and configured for it,
    highest priority first — one query for any number of processes."""
    process_ids = set(process_ids)
    if not process_ids:
        return {}
    rows = db.session.execute(
        select(AssignmentRule.process_id, AssignmentRule.department_id, AssignmentRule.priority,
               Department.sort_order)
        .join(Department, Department.id == AssignmentRule.department_id)
        .join(department_processes, (department_processes.c.department_id == AssignmentRule.department_id)
              & (department_processes.c.process_id == AssignmentRule.process_id))
        .where(AssignmentRule.process_id.in_(process_ids), AssignmentRule.is_active.is_(True),
               Department.is_active.is_(True))
        .order_by(AssignmentRule.priority.desc(), Department.sort_order, Department.id)
    ).all()
    result: dict[int, list[Candidate]] = defaultdict(list)
    for process_id, department_id, priority, sort_order in rows:
        result[process_id].append(Candidate(department_id, priority, sort_order))
    return dict(result)


def department_loads(department_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Open tasks (待开始 + 进行中 + 已暂停) per department."""
    statement = (select(Task.department_id, func.count()).where(Task.status.in_(OPEN_TASK_STATUSES),
                                                                Task.department_id.is_not(None))
                 .group_by(Task.department_id))
    if department_ids is not None:
        statement = statement.where(Task.department_id.in_(list(department_ids)))
    return dict(db.session.execute(statement).all())


def choose_department(process, explicit_department=None, loads: dict[int, int] | None = None, *,
                      rules: dict[int, list[Candidate]] | None = None) -> int | None:
    """The id of the department ``process``'s task goes to, or None (the 待分派 pool).

    ``loads`` (department id → open tasks) breaks ties and is read from the database when not
    given; ``rules`` lets a batch fetch the rules of all its processes once.
    """
    explicit_id = getattr(explicit_department, "id", explicit_department)
    if explicit_id is not None:
        explicit = db.session.get(Department, explicit_id)
        if explicit is not None and explicit.is_active:
            return explicit.id
    candidates = (rules if rules is not None else eligible_rules([process.id])).get(process.id, [])
    if not candidates:
        return None
    top = [c for c in candidates if c.priority == candidates[0].priority]
    if len(top) == 1:
        return top[0].department_id
    if loads is None:
        loads = department_loads(c.department_id for c in top)
    return min(top, key=lambda c: (loads.get(c.department_id, 0), c.sort_order, c.department_id)).department_id


def dispatch_tasks(tasks: Sequence[Task], actor) -> dict[int, int | None]:
    """Send ``tasks`` to their departments: one UPDATE per department, one audit row per task. Returns task
    id → department id (None = pool). The caller announces it (an approval's ``work_order.approved`` names the
    departments reached, what the kiosks' lists gain and the 主管看板's parts it touches).

    With auto-dispatch off only explicitly chosen step departments apply; the rest stay in the pool.
    """
    if not tasks:
        return {}
    auto = bool(settings.get("auto_dispatch_enabled"))
    processes = {task.step.process_id: task.step.process for task in tasks}
    rules = eligible_rules(processes) if auto else {}
    loads = department_loads() if auto and any(_has_tie(rules.get(p, [])) for p in processes) else {}
    chosen: dict[int, int | None] = {}
    for task in tasks:
        step = task.step
        # Without rules only an explicit step department can place the task.
        department_id = choose_department(step.process, step.department_id, loads, rules=rules if auto else {})
        chosen[task.id] = department_id
        if department_id is not None:
            loads[department_id] = loads.get(department_id, 0) + 1

    by_department: dict[int, list[int]] = defaultdict(list)
    for task_id, department_id in chosen.items():
        if department_id is not None:
            by_department[department_id].append(task_id)
    now = utcnow()
    for department_id, task_ids in by_department.items():
        db.session.execute(
            update(Task).where(Task.id.in_(task_ids))
            .values(department_id=department_id, dispatched_at=now, version=Task.version + 1)
            .execution_options(synchronize_session="evaluate")
        )
    audit.record_many(actor, [
        dict(object_type="task", object_id=task.id, action="dispatch", work_order_id=task.work_order_id,
             task_id=task.id, department_id=chosen[task.id], from_status=task.status, to_status=task.status)
        for task in tasks if chosen[task.id] is not None
    ])
    if auto:
        # Rules whose strategy is not 手动 also pick the operator.
        operator_selection.assign_operators(tasks, chosen, actor)
    return chosen


def _has_tie(candidates: list[Candidate]) -> bool:
    return len(candidates) > 1 and candidates[0].priority == candidates[1].priority

