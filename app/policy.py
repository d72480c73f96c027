"""Who may do what: the one answer to ``can(user, action, obj)`` (DOMAIN.md §1).

Routes call ``require(user, action, obj)``; templates call ``can(...)`` to decide which
buttons to show. A rule is never written anywhere else. A rule that also exists as SQL (who sees a
施工单 / a task, who approves, what may be claimed) lives with its query twin in app/rules/.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Department
from app.rules.task_claiming import claims_in_department
from app.rules.task_visibility import can_see_task
from app.rules.workorder_approvers import can_approve_workorder
from app.rules.workorder_visibility import can_see_workorder, is_creator, is_customer_salesperson
from app.services.core import reference
from app.services.core.errors import Forbidden

DESK_ROLES = ("admin", "supervisor", "maker", "salesperson", "designer")


def department_children_map() -> dict[int, list[int]]:
    """parent id → its departments' ids, kept while the reference data is unchanged (read only)."""
    return reference.cached("department_children", _department_children_map)


def _department_children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for dept_id, parent_id in db.session.execute(select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    return children


def with_descendants(department_ids, children: dict[int, list[int]] | None = None) -> set[int]:
    children = children if children is not None else department_children_map()
    result, stack = set(), list(department_ids)
    while stack:
        dept_id = stack.pop()
        if dept_id not in result:
            result.add(dept_id)
            stack.extend(children.get(dept_id, []))
    return result


def led_department_ids(user) -> set[int]:
    """Departments a supervisor acts on: their own and every department below them."""
    if not user.has_role("supervisor"):
        return set()
    cache = g.setdefault("_led_departments", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = with_descendants(user.department_ids)
    return cache[user.id]


def viewer_scope(user) -> tuple:
    """What a decision of RULES about an object nobody holds depends on in ``user``: their roles and
    departments (not who they are). Viewers with the same scope may share a region that lists only
    such objects (app/shared_regions.py)."""
    return (tuple(sorted(user.role_codes)), tuple(sorted(user.department_ids)))


def _edits_work_order(user, work_order) -> bool:
    if user.is_admin:
        return True
    if user.has_role("maker") and is_creator(user, work_order):
        return True
    return user.has_role("salesperson") and (is_creator(user, work_order) or is_customer_salesperson(user, work_order))


def _deletes_work_order(user, work_order) -> bool:
    return user.is_admin or is_creator(user, work_order)


def _supervises_task(user, task) -> bool:
    return user.is_admin or (task.department_id is not None and task.department_id in led_department_ids(user))


def _works_task(user, task) -> bool:
    return task.operator_id == user.id or _supervises_task(user, task)


def _roles(*codes: str) -> Callable:
    return lambda user, obj=None: user.has_role(*codes)


RULES: dict[str, Callable] = {
    # pages
    "dashboard.view": _roles(*DESK_ROLES),
    "admin.access": _roles("admin"),
    "admin.customers": _roles("admin", "salesperson"),
    "admin.plates": _roles("admin", "designer"),
    "kiosk.use": _roles("operator"),
    "supervisor.board": _roles("admin", "supervisor"),
    "dispatch.rules.view": _roles("admin", "supervisor"),
    "dispatch.rules.edit": _roles("admin"),
    "dispatch.pool": _roles("admin", "supervisor"),
    "stats.view": _roles(*DESK_ROLES),
    "task.list": lambda user, obj=None: True,
    "notifications.view": lambda user, obj=None: True,
    # 施工单
    "workorder.list": _roles(*DESK_ROLES),
    "workorder.create": _roles("admin", "maker", "salesperson"),
    "workorder.view": can_see_workorder,
    "workorder.edit": _edits_work_order,
    "workorder.approve": can_approve_workorder,
    "workorder.delete": _deletes_work_order,
    "workorder.manage": lambda user, wo: user.has_role("admin", "supervisor"),
    # Purchasing and cutting progress of material lines: the plant's supervisors and the 施工单's editors.
    "workorder.materials": lambda user, wo: user.has_role("admin", "supervisor") or _edits_work_order(user, wo),
    # tasks
    "task.view": can_see_task,
    "task.supervise": _supervises_task,
    "task.work": _works_task,
    "task.claim": claims_in_department,
    # plates
    "plate.confirm": _roles("admin", "designer"),
    # live updates and the TV board (issue 7); obj is a Department or a department id
    "department.watch": lambda user, department: user.has_role("admin", "supervisor")
    or getattr(department, "id", department) in user.department_ids,
    "board.manage": _roles("admin"),
    "live.all": _roles("admin", "supervisor"),
    # 施工单 life cycle (issue 4)
    "workorder.submit": _edits_work_order,
    "workorder.edit_drafts": _edits_work_order,
    "workorder.withdraw": lambda user, wo: can_approve_workorder(user, wo) or _edits_work_order(user, wo),
    # pause / resume / cancel production
    "workorder.control": can_approve_workorder,
    # obj is a Customer: makers and admins order for anyone, a salesperson for their own customers
    "workorder.order_for": lambda user, customer: user.has_role("admin", "maker") or (
        user.has_role("salesperson") and customer is not None and customer.salesperson_id == user.id),
    # master data (issue 3); obj is a Customer: admins edit every customer, a salesperson their own
    "customer.edit": lambda user, customer: user.is_admin or (
        user.has_role("salesperson") and customer is not None and customer.salesperson_id == user.id),
    "customer.assign_salesperson": _roles("admin"),
    # task centre, statistics and exports (issue 8); bulk actions are offered to these roles, and each
    # task is still checked by the service that acts on it
    "task.bulk_supervise": _roles("admin", "supervisor"),
    "task.bulk_drafts": _roles("admin", "maker", "salesperson"),
    "export.tasks": _roles(*DESK_ROLES),
    "export.workorders": _roles(*DESK_ROLES),
    "stats.collaboration": _roles("admin", "supervisor"),
    "stats.assignments": _roles("admin", "supervisor"),
    # obj is a Department: supervisors see every department's tasks (read-only), so every report
    "report.department": _roles("admin", "supervisor"),
    # 排产 (issue 23); obj is a department id: supervisors of the department (and admins) change the
    # plan, every desk role reads it
    "planning.view": _roles(*DESK_ROLES),
    "planning.edit": lambda user, department_id: user.is_admin or (
        department_id is not None and getattr(department_id, "id", department_id) in led_department_ids(user)),
    # JSON API (issue 9): the department tree is what every client needs to name a department
    "department.list": lambda user, obj=None: True,
}


def can(user, action: str, obj=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    try:
        rule = RULES[action]
    except KeyError:
        raise KeyError(f"unknown policy action {action!r}") from None
    return bool(rule(user, obj))


# Why an action is refused, said to the person refused: every action of RULES names who may do it, so a 403
# (page, htmx toast or API error) tells what the person lacks, never a bare "no" (issue 20).
REFUSALS = {
    # pages
    "dashboard.view": _l("工作台只对管理员、部门主管、制单员、业务员和设计员开放"),
    "admin.access": _l("只有管理员可以进入系统管理"),
    "admin.customers": _l("只有管理员和业务员可以管理客户"),
    "admin.plates": _l("只有管理员和设计员可以管理版型"),
    "kiosk.use": _l("只有操作员可以使用工位终端"),
    "supervisor.board": _l("只有管理员和部门主管可以查看主管看板"),
    "dispatch.rules.view": _l("只有管理员和部门主管可以查看分派规则"),
    "dispatch.rules.edit": _l("只有管理员可以修改分派规则和自动分派设置"),
    "dispatch.pool": _l("只有管理员和部门主管可以分派待分派的任务"),
    "stats.view": _l("数据统计只对管理员、部门主管、制单员、业务员和设计员开放"),
    "task.list": _l("请先登录，再查看任务"),
    "notifications.view": _l("请先登录，再查看通知"),
    # 施工单
    "workorder.list": _l("施工单只对管理员、业务员、制单员、部门主管和设计员开放"),
    "workorder.create": _l("只有管理员、制单员和业务员可以新建施工单"),
    "workorder.view": _l("您只能查看自己创建的施工单或自己负责客户的施工单"),
    "workorder.edit": _l("只有该施工单的制单人、该客户的业务员或管理员可以修改施工单"),
    "workorder.submit": _l("只有该施工单的制单人、该客户的业务员或管理员可以提交审核"),
    "workorder.edit_drafts": _l("只有该施工单的制单人、该客户的业务员或管理员可以编辑草稿任务"),
    "workorder.approve": _l("只有管理员、部门主管和该客户的业务员可以审核施工单"),
    "workorder.withdraw": _l("只有审核人、该施工单的制单人或该客户的业务员可以撤回审核"),
    "workorder.control": _l("只有管理员、部门主管和该客户的业务员可以暂停、恢复或取消施工单"),
    "workorder.delete": _l("只有该施工单的制单人或管理员可以删除施工单"),
    "workorder.manage": _l("只有管理员和部门主管可以管理施工单的生产"),
    "workorder.materials": _l("只有管理员、部门主管和该施工单的编辑人可以更新物料状态"),
    "workorder.order_for": _l("只能为自己负责的客户创建或修改施工单"),
    # tasks
    "task.view": _l("您只能查看自己部门的任务、自己的任务或自己施工单的任务"),
    "task.supervise": _l("只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"),
    "task.work": _l("这不是您的任务：只有认领它的操作员、该部门的主管或管理员可以操作"),
    "task.claim": _l("只有该任务所在部门的操作员或主管可以认领此任务"),
    "task.bulk_supervise": _l("只有管理员和部门主管可以批量分配或取消任务"),
    "task.bulk_drafts": _l("只有管理员、制单员和业务员可以批量编辑草稿任务"),
    # plates, live updates, the TV board
    "plate.confirm": _l("只有管理员和设计员可以确认版已制作完成"),
    "department.watch": _l("您只能查看自己部门的实时动态"),
    "board.manage": _l("只有管理员可以管理电视看板链接"),
    "live.all": _l("只有管理员和部门主管可以查看全厂的实时动态"),
    # master data
    "customer.edit": _l("只有管理员或该客户的业务员可以修改客户"),
    "customer.assign_salesperson": _l("只有管理员可以指定客户的业务员"),
    # statistics, reports and exports
    "export.tasks": _l("只有管理员、部门主管、制单员、业务员和设计员可以导出任务"),
    "export.workorders": _l("只有管理员、部门主管、制单员、业务员和设计员可以导出施工单"),
    "stats.collaboration": _l("只有管理员和部门主管可以查看协作统计"),
    "stats.assignments": _l("只有管理员和部门主管可以查看分派历史"),
    "report.department": _l("只有管理员和部门主管可以查看和导出部门报表"),
    # 排产
    "planning.view": _l("排产只对管理员、部门主管、制单员、业务员和设计员开放"),
    "planning.edit": _l("只有本部门主管或管理员可以调整排产"),
    # JSON API
    "department.list": _l("请先登录，再查看部门"),
}

# Said only when an action has no reason yet (a test keeps REFUSALS complete).
GENERIC_REFUSAL = _l("您没有权限执行此操作")


def refusal(action: str):
    """Why ``action`` is refused: the one text a 403 for it says, wherever it is raised (views or services)."""
    return REFUSALS.get(action, GENERIC_REFUSAL)


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        raise Forbidden(refusal(action), code="forbidden")


def require_task_view(user, task) -> None:
    """``require(user, "task.view", task)``, telling an operator when the task is another department's."""
    if can(user, "task.view", task):
        return
    if user.has_role("operator") and task.department_id not in user.department_ids:
        raise Forbidden(_l("任务 %(number)s 不属于您的部门", number=task.number), code="other_department")
    require(user, "task.view", task)


def landing_endpoint(user) -> str:
    """Where a user lands after login (issue 2): operators the kiosk, supervisors the board."""
    if user.has_role("admin"):
        return "main.index"
    if user.has_role("supervisor"):
        return "supervision.board"
    if user.has_role("operator") and not user.has_role(*DESK_ROLES):
        return "kiosk.index"
    return "main.index"
