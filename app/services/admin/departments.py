"""部门管理: a tree of at most three levels; the code is fixed once created."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AssignmentRule, Department, Process, Task, user_departments
from app.policy import department_children_map, with_descendants
from app.services.admin.master_data import (
    DELETE_RACE,
    FieldErrors,
    ListQuery,
    SlicePage,
    check_unique,
    flush_or_conflict,
    get_or_404,
    ids,
    integer,
    record_change,
    required_text,
    search_clause,
    snapshot,
    text,
    yes_no_filter,
)
from app.services.core.errors import Conflict
from app.utils.wording import join_list

CODE_PATTERN = re.compile(r"^[a-z0-9_]{2,20}$")
CODE_RULE = _l("部门编码只能包含小写字母、数字和下划线")
CODE_IMMUTABLE = _l("部门编码不可修改")
TOO_DEEP = _l("部门层级不能超过3级")
OWN_PARENT = _l("不能将自己设为上级部门")
CYCLE = _l("不能将子部门设为上级部门，这会造成循环引用")
AUDITED = ("code", "name", "sort_order", "is_active")
SIBLING_ORDER = {
    "sort": lambda d: (d.sort_order, d.code),
    "name": lambda d: (d.name, d.code),
    "code": lambda d: (d.code,),
}


@dataclass
class TreeRow:
    department: Department
    depth: int
    members: int


def get_department(department_id: int) -> Department:
    return get_or_404(Department, department_id, _l("部门不存在"))


def _parents() -> dict[int, int | None]:
    return dict(db.session.execute(select(Department.id, Department.parent_id)).all())


def _depths(parents: dict[int, int | None]) -> dict[int, int]:
    depths: dict[int, int] = {}

    def depth(dept_id: int) -> int:
        if dept_id not in depths:
            parent = parents.get(dept_id)
            depths[dept_id] = 1 if parent is None or parent not in parents else depth(parent) + 1
        return depths[dept_id]

    for dept_id in parents:
        depth(dept_id)
    return depths


def tree(query: ListQuery) -> SlicePage:
    """The matching departments as an indented tree, paged after flattening.

    A tree cannot be cut by SQL OFFSET without orphaning children from their parents, and the
    plant has a few dozen departments, so the database filters and Python orders and pages.
    """
    statement = select(Department).options(selectinload(Department.processes))
    if query.search:
        statement = statement.where(search_clause(query.search, Department.name, Department.code))
    statement = yes_no_filter(statement, query, "active", Department.is_active)
    matched = {d.id: d for d in db.session.scalars(statement)}
    key, descending = query.sort_key(SIBLING_ORDER, "sort")
    depths = _depths(_parents())
    members = dict(db.session.execute(
        select(user_departments.c.department_id, func.count()).group_by(user_departments.c.department_id)).all())

    children: dict[int | None, list[Department]] = {}
    for department in matched.values():
        # A match whose parent did not match is shown as a root, still indented at its real depth.
        parent = department.parent_id if department.parent_id in matched else None
        children.setdefault(parent, []).append(department)
    rows: list[TreeRow] = []

    def walk(parent_id):
        for department in sorted(children.get(parent_id, []), key=SIBLING_ORDER[key], reverse=descending):
            rows.append(TreeRow(department, depths.get(department.id, 1), members.get(department.id, 0)))
            walk(department.id)

    walk(None)
    return SlicePage.of(rows, max(query.page, 1), query.per_page)


def parent_options(department: Department | None = None) -> list[tuple[Department, int]]:
    """Possible parents in tree order, without the department itself and its descendants."""
    excluded = with_descendants([department.id]) if department is not None else set()
    everything = list(db.session.scalars(select(Department).order_by(Department.sort_order, Department.code)))
    depths = _depths({d.id: d.parent_id for d in everything})
    children: dict[int | None, list[Department]] = {}
    for candidate in everything:
        children.setdefault(candidate.parent_id, []).append(candidate)
    options: list[tuple[Department, int]] = []

    def walk(parent_id):
        for candidate in children.get(parent_id, []):
            if candidate.id not in excluded:
                options.append((candidate, depths[candidate.id]))
                walk(candidate.id)

    walk(None)
    return options


def all_processes() -> list[Process]:
    return list(db.session.scalars(select(Process).order_by(Process.sort_order, Process.id)))


def _state(department: Department) -> dict:
    state = snapshot(department, AUDITED)
    parent = db.session.get(Department, department.parent_id) if department.parent_id else None
    state["parent"] = parent.code if parent else None
    state["processes"] = sorted(process.code for process in department.processes)
    return state


def _check_parent(errors: FieldErrors, department: Department | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    parents = _parents()
    if parent_id not in parents:
        errors["parent_id"] = _l("上级部门不存在")
        return
    if department is not None:
        if parent_id == department.id:
            errors["parent_id"] = OWN_PARENT
            return
        descendants = with_descendants([department.id], department_children_map())
        if parent_id in descendants:
            errors["parent_id"] = CYCLE
            return
    depths = _depths(parents)
    # Moving a department moves its whole subtree: the deepest descendant must stay within 3 levels.
    subtree_height = 1
    if department is not None:
        subtree_height = max(depths[d] for d in with_descendants([department.id])) - depths[department.id] + 1
    if depths[parent_id] + subtree_height > Department.MAX_DEPTH:
        errors["parent_id"] = TOO_DEEP


def _validate(data: dict, department: Department | None) -> tuple[dict, FieldErrors]:
    errors = FieldErrors()
    clean = {
        "name": required_text(errors, data, "name", _l("部门名称"), 50, 2),
        "sort_order": integer(errors, data, "sort_order", _l("排序"), 0, 99999, default=0),
        "is_active": bool(data.get("is_active")),
    }
    if department is None:
        clean["code"] = required_text(errors, data, "code", _l("部门编码"), 20, 2)
        if "code" not in errors and not CODE_PATTERN.match(clean["code"]):
            errors["code"] = CODE_RULE
    else:
        # The edit form shows the code read-only; a changed value is refused, not ignored.
        posted = text(data, "code")
        if posted and posted != department.code:
            errors["code"] = CODE_IMMUTABLE
        clean["code"] = department.code
    exclude = department.id if department else None
    check_unique(errors, "code", Department, Department.code, clean["code"], exclude,
                 lambda other: _l("编码 %(value)s 已被部门「%(name)s」使用", value=other.code, name=other.name))
    check_unique(errors, "name", Department, Department.name, clean["name"], exclude,
                 lambda other: _l("名称 %(value)s 已被部门 %(code)s 使用", value=other.name, code=other.code))
    parent_ids = ids([data.get("parent_id")])
    clean["parent_id"] = parent_ids[0] if parent_ids else None
    _check_parent(errors, department, clean["parent_id"])
    wanted = ids(data.get("processes"))
    clean["processes"] = list(db.session.scalars(select(Process).where(Process.id.in_(wanted)))) if wanted else []
    return clean, errors


def _apply(department: Department, clean: dict) -> None:
    for name in ("code", "name", "sort_order", "is_active", "parent_id", "processes"):
        setattr(department, name, clean[name])


def create_department(actor, data: dict) -> Department:
    clean, errors = _validate(data, None)
    errors.raise_if_any()
    department = Department()
    _apply(department, clean)
    db.session.add(department)
    flush_or_conflict()
    record_change(actor, "department", department.id, "create", None, _state(department),
                  department_id=department.id)
    return department


def update_department(actor, department: Department, data: dict) -> Department:
    clean, errors = _validate(data, department)
    errors.raise_if_any()
    before = _state(department)
    _apply(department, clean)
    flush_or_conflict()
    record_change(actor, "department", department.id, "update", before, _state(department),
                  department_id=department.id)
    return department


def deletion_blockers(department: Department) -> list[str]:
    """Why the department cannot be deleted: members, children, tasks, rules (empty: it can)."""
    def counted(model_or_table, column):
        return select(func.count()).select_from(model_or_table).where(column == department.id)

    checks = [
        (counted(user_departments, user_departments.c.department_id), lambda n: _l("%(n)s 名成员", n=n)),
        (counted(Department, Department.parent_id), lambda n: _l("%(n)s 个子部门", n=n)),
        (counted(Task, Task.department_id), lambda n: _l("%(n)s 个任务", n=n)),
        (counted(AssignmentRule, AssignmentRule.department_id), lambda n: _l("%(n)s 条分派规则", n=n)),
    ]
    return [str(describe(number)) for statement, describe in checks if (number := db.session.scalar(statement))]


def delete_department(actor, department: Department) -> None:
    blockers = deletion_blockers(department)
    if blockers:
        raise Conflict(_l("部门「%(name)s」不能删除：还有%(what)s", name=department.name, what=join_list(blockers)),
                       code="department_in_use")
    record_change(actor, "department", department.id, "delete", _state(department), None,
                  department_id=department.id)
    db.session.delete(department)
    flush_or_conflict(DELETE_RACE)
