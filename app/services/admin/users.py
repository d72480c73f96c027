"""人员管理: accounts, roles, departments, password and kiosk PIN; delete only without history."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select

from app.extensions import db
from app.models import (
    ApprovalLog,
    AuditLog,
    Customer,
    Department,
    Notification,
    Plate,
    Role,
    Task,
    TimeLog,
    User,
    WorkOrder,
    user_departments,
    user_roles,
)
from app.services.admin.master_data import (
    DELETE_RACE,
    FieldErrors,
    ListQuery,
    check_unique,
    flush_or_conflict,
    get_or_404,
    ids,
    optional_text,
    paginate,
    record_change,
    required_text,
    search_clause,
    snapshot,
    text,
)
from app.services.auth.sessions import end_sessions, revoke_api_tokens
from app.services.core.errors import Conflict, Forbidden
from app.services.core.passwords import password_problem
from app.utils.wording import join_list

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,50}$")
PIN_PATTERN = re.compile(r"^\d{4,6}$")
PIN_RULE = _l("4到6位数字")
OWN_ADMIN_ROLE = _l("不能移除自己的管理员角色")
OWN_DEACTIVATION = _l("不能停用自己的账号")
AUDITED = ("username", "name", "employee_no", "email", "phone", "is_active", "roles", "departments")
# A change of these ends every session of the person (their pages show what the roles and
# departments allowed; an account turned off must be off everywhere at once).
ENDS_SESSIONS = ("is_active", "roles", "departments")

SORTS = {"username": User.username, "name": User.name, "employee_no": User.employee_no,
         "created": User.created_at, "last_login": User.last_login_at}

# (label, how to find a row that ties the user to the plant's history)
HISTORY = [
    (_l("任务"), lambda uid: exists().where(Task.operator_id == uid)),
    (_l("工时记录"), lambda uid: exists().where(TimeLog.operator_id == uid)),
    (_l("操作日志"), lambda uid: exists().where(AuditLog.user_id == uid)),
    (_l("施工单"), lambda uid: exists().where(or_(WorkOrder.created_by_id == uid, WorkOrder.approved_by_id == uid))),
    (_l("审核记录"), lambda uid: exists().where(ApprovalLog.user_id == uid)),
    (_l("通知"), lambda uid: exists().where(Notification.recipient_id == uid)),
    (_l("客户"), lambda uid: exists().where(Customer.salesperson_id == uid)),
    (_l("版型确认"), lambda uid: exists().where(Plate.confirmed_by_id == uid)),
]


def get_user(user_id: int) -> User:
    return get_or_404(User, user_id, _l("用户不存在"))


def all_roles() -> list[Role]:
    return list(db.session.scalars(select(Role).order_by(Role.id)))


def list_users(query: ListQuery):
    statement = select(User)
    if query.search:
        statement = statement.where(search_clause(query.search, User.name, User.username, User.employee_no))
    role = query.filters.get("role")
    if role:
        statement = statement.where(User.id.in_(
            select(user_roles.c.user_id).join(Role, Role.id == user_roles.c.role_id).where(Role.code == role)))
    department_id = query.filters.get("department")
    if department_id:
        statement = statement.where(User.id.in_(
            select(user_departments.c.user_id).where(user_departments.c.department_id == department_id)))
    active = query.filters.get("active")
    if active in ("1", "0"):
        statement = statement.where(User.is_active.is_(active == "1"))
    return paginate(statement, query, SORTS, "username", User.id)


def _state(user: User) -> dict:
    state = snapshot(user, AUDITED[:-2])
    state["roles"] = sorted(role.code for role in user.roles)
    state["departments"] = sorted(department.code for department in user.departments)
    return state


def _validate(data: dict, user: User | None, actor) -> tuple[dict, FieldErrors]:
    errors = FieldErrors()
    clean = {
        "username": required_text(errors, data, "username", _l("用户名"), 50, 3),
        "name": required_text(errors, data, "name", _l("姓名"), 50),
        "employee_no": optional_text(errors, data, "employee_no", _l("工号"), 30) or None,
        "email": optional_text(errors, data, "email", _l("邮箱"), 120),
        "phone": optional_text(errors, data, "phone", _l("电话"), 30),
        "is_active": bool(data.get("is_active")),
    }
    if "username" not in errors and not USERNAME_PATTERN.match(clean["username"]):
        errors["username"] = _l("用户名只能包含字母、数字、下划线、点和连字符")
    if clean["email"] and "@" not in clean["email"]:
        errors["email"] = _l("请输入有效的邮箱地址")
    exclude = user.id if user else None
    check_unique(errors, "username", User, User.username, clean["username"], exclude,
                 lambda other: _l("用户名 %(value)s 已被用户「%(name)s」使用", value=other.username, name=other.name))
    check_unique(errors, "employee_no", User, User.employee_no, clean["employee_no"], exclude,
                 lambda other: _l("工号 %(value)s 已被用户「%(name)s」使用", value=other.employee_no, name=other.name))

    roles = {role.code: role for role in all_roles()}
    clean["roles"] = [roles[code] for code in data.get("roles") or () if code in roles]
    wanted = ids(data.get("departments"))
    clean["departments"] = list(db.session.scalars(select(Department).where(Department.id.in_(wanted)))) \
        if wanted else []

    password, pin = text(data, "password"), text(data, "pin")
    problem = password and password_problem(password, clean["username"])
    if problem:
        errors["password"] = problem
    if pin and not PIN_PATTERN.match(pin):
        errors["pin"] = _l("PIN 必须是4到6位数字")
    clean["password"], clean["pin"] = password, pin

    if user is not None and user.id == actor.id:
        if user.is_admin and "admin" not in {role.code for role in clean["roles"]}:
            errors["roles"] = OWN_ADMIN_ROLE
        if not clean["is_active"]:
            errors["is_active"] = OWN_DEACTIVATION
    return clean, errors


def _apply(user: User, clean: dict) -> None:
    for name in ("username", "name", "employee_no", "email", "phone", "is_active", "roles", "departments"):
        setattr(user, name, clean[name])
    if clean["password"]:
        user.set_password(clean["password"])
    if clean["pin"]:
        user.set_pin(clean["pin"])


def _secrets_changed(clean: dict) -> dict:
    """The audit says that a password or PIN was set, never what it is."""
    return {name: True for name in ("password", "pin") if clean[name]}


def create_user(actor, data: dict) -> User:
    clean, errors = _validate(data, None, actor)
    errors.raise_if_any()
    user = User()
    _apply(user, clean)
    db.session.add(user)
    flush_or_conflict()
    after = _state(user) | {f"{name}_set": value for name, value in _secrets_changed(clean).items()}
    record_change(actor, "user", user.id, "create", None, after)
    return user


def update_user(actor, user: User, data: dict) -> User:
    """Save the form; a new password or PIN, other roles or departments, or deactivation end every
    session of the person (the caller keeps its own session when editing itself: app/views.py)."""
    clean, errors = _validate(data, user, actor)
    errors.raise_if_any()
    before = _state(user)
    _apply(user, clean)
    flush_or_conflict()
    after = _state(user)
    secrets = _secrets_changed(clean)
    if secrets or any(before[name] != after[name] for name in ENDS_SESSIONS):
        end_sessions(user)
    if before["is_active"] and not after["is_active"]:
        revoke_api_tokens(actor, user)
    if secrets:
        before |= {f"{name}_set": "" for name in secrets}
        after |= {f"{name}_set": True for name in secrets}
    record_change(actor, "user", user.id, "update", before, after)
    return user


def set_active(actor, user: User, active: bool) -> None:
    if not active and user.id == actor.id:
        raise Forbidden(OWN_DEACTIVATION, code="own_account")
    if user.is_active == active:
        return
    user.is_active = active
    record_change(actor, "user", user.id, "activate" if active else "deactivate",
                  {"is_active": not active}, {"is_active": active})
    if not active:
        end_sessions(user)
        revoke_api_tokens(actor, user)


def history(user: User) -> list[str]:
    """What ties the user to the plant's records (empty: the account may be deleted)."""
    return [str(label) for label, clause in HISTORY if db.session.scalar(select(clause(user.id)))]


def delete_user(actor, user: User) -> None:
    if user.id == actor.id:
        raise Forbidden(_l("不能删除自己的账号"), code="own_account")
    found = history(user)
    if found:
        raise Conflict(_l("用户「%(name)s」已有业务记录（%(what)s），不能删除，请改为停用",
                          name=user.name, what=join_list(found)), code="user_has_history")
    record_change(actor, "user", user.id, "delete", _state(user), None)
    end_sessions(user)  # its open sockets close; its cookies already find nobody
    db.session.delete(user)
    flush_or_conflict(DELETE_RACE)
