"""客户管理: admins manage every customer; a salesperson their own (DOMAIN.md §1)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Customer, Role, User, WorkOrder, user_roles
from app.policy import can
from app.services.admin.master_data import (
    FieldErrors,
    ListQuery,
    assign,
    audited_create,
    audited_delete,
    audited_update,
    check_unique,
    get_or_404,
    ids,
    optional_text,
    paginate,
    required_text,
    search_clause,
    snapshot,
)
from app.services.core.errors import Conflict, Forbidden

AUDITED = ("name", "contact_person", "phone", "email", "address", "notes")
SORTS = {"name": Customer.name, "contact": Customer.contact_person, "created": Customer.created_at}
REASSIGN_REFUSED = _l("不能将客户指派给其他业务员")
IN_USE = _l("该客户已有施工单，不可删除")


def get_customer(customer_id: int) -> Customer:
    return get_or_404(Customer, customer_id, _l("客户不存在"))


def salespeople() -> list[User]:
    return list(db.session.scalars(
        select(User).join(user_roles, user_roles.c.user_id == User.id).join(Role, Role.id == user_roles.c.role_id)
        .where(Role.code == "salesperson", User.is_active.is_(True)).order_by(User.name)))


def list_customers(actor, query: ListQuery):
    statement = select(Customer).options(joinedload(Customer.salesperson))
    if not can(actor, "customer.assign_salesperson"):
        statement = statement.where(Customer.salesperson_id == actor.id)
    elif query.filters.get("salesperson"):
        statement = statement.where(Customer.salesperson_id == query.filters["salesperson"])
    if query.search:
        statement = statement.where(search_clause(query.search, Customer.name, Customer.contact_person,
                                                  Customer.phone))
    return paginate(statement, query, SORTS, "name", Customer.id)


def _salesperson_id(errors: FieldErrors, actor, data: dict, customer: Customer | None) -> int | None:
    posted = ids([data.get("salesperson_id")])
    wanted = posted[0] if posted else None
    if not can(actor, "customer.assign_salesperson"):
        # A salesperson's customers are theirs; the form has no choice, and a forged one is refused.
        if wanted is not None and wanted != actor.id:
            raise Forbidden(REASSIGN_REFUSED, code="customer_reassign")
        return customer.salesperson_id if customer is not None else actor.id
    if wanted is not None and wanted not in {user.id for user in salespeople()}:
        errors["salesperson_id"] = _l("请选择有效的业务员")
    return wanted


def _validate(actor, data: dict, customer: Customer | None) -> tuple[dict, FieldErrors]:
    errors = FieldErrors()
    clean = {
        "name": required_text(errors, data, "name", _l("客户名称"), 100),
        "contact_person": optional_text(errors, data, "contact_person", _l("联系人"), 50),
        "phone": optional_text(errors, data, "phone", _l("联系电话"), 30),
        "email": optional_text(errors, data, "email", _l("邮箱"), 120),
        "address": optional_text(errors, data, "address", _l("地址"), 255),
        "notes": optional_text(errors, data, "notes", _l("备注"), 2000),
        "salesperson_id": _salesperson_id(errors, actor, data, customer),
    }
    if clean["email"] and "@" not in clean["email"]:
        errors["email"] = _l("请输入有效的邮箱地址")
    check_unique(errors, "name", Customer, Customer.name, clean["name"], customer.id if customer else None,
                 lambda other: _l("客户「%(name)s」已存在", name=other.name))
    return clean, errors


def _state(customer: Customer) -> dict:
    salesperson = db.session.get(User, customer.salesperson_id) if customer.salesperson_id else None
    return snapshot(customer, AUDITED) | {"salesperson": salesperson.name if salesperson else None}


def create_customer(actor, data: dict) -> Customer:
    clean, errors = _validate(actor, data, None)
    errors.raise_if_any()
    return audited_create(actor, "customer", Customer(**clean), _state)


def update_customer(actor, customer: Customer, data: dict) -> Customer:
    clean, errors = _validate(actor, data, customer)
    errors.raise_if_any()
    return audited_update(actor, "customer", customer, _state, lambda: assign(customer, clean))


def delete_customer(actor, customer: Customer) -> None:
    if db.session.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.customer_id == customer.id)):
        raise Conflict(IN_USE, code="customer_in_use")
    audited_delete(actor, "customer", customer, _state)
