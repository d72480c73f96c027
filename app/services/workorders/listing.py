"""The 施工单 list page: its rows as plain values read in one query, and the choices of its filters.

The page showed ORM 施工单 with their customer, product lines, products and steps (three queries and
~20 objects a row) to print ten short cells; a row is now one tuple, and its HTML is reused while
the row is unchanged (app.templating.cached_fragment). The API and the Excel export still read
``queries.list_work_orders``: the same conditions (``queries.list_conditions``), the same order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, false, func, select

from app.enums import FINISHED_STEP_STATUSES
from app.extensions import db
from app.models import Customer, Product, Role, User, WorkOrder, WorkOrderProduct, WorkOrderStep, user_roles
from app.rules.workorder_visibility import visible_workorders_clause
from app.services.core import reference
from app.services.workorders.queries import SORTS, ListFilters, Page, list_conditions


@dataclass(frozen=True)
class ListRow:
    """What a row of the list shows; its HTML is kept under it, so it holds every value the row prints."""

    id: int
    number: str
    customer_name: str
    product_lines: int
    product_name: str   # the product's name when there is one line (queries.product_summary)
    total_quantity: int
    delivery_date: date | None
    priority: str
    approval_status: str
    status: str
    progress: int       # finished steps ÷ all steps (queries.progress_percent)
    at_risk: bool       # 延期风险 (DOMAIN.md §12)


_PRODUCTS = (
    select(func.count(WorkOrderProduct.id)).where(WorkOrderProduct.work_order_id == WorkOrder.id)
    .correlate(WorkOrder).scalar_subquery(),
    select(func.min(Product.name)).select_from(WorkOrderProduct).join(Product, Product.id == WorkOrderProduct.product_id)
    .where(WorkOrderProduct.work_order_id == WorkOrder.id).correlate(WorkOrder).scalar_subquery(),
    select(func.coalesce(func.sum(WorkOrderProduct.quantity), 0)).where(WorkOrderProduct.work_order_id == WorkOrder.id)
    .correlate(WorkOrder).scalar_subquery(),
)
_STEPS = (
    select(func.count(WorkOrderStep.id)).where(WorkOrderStep.work_order_id == WorkOrder.id)
    .correlate(WorkOrder).scalar_subquery(),
    select(func.count(WorkOrderStep.id)).where(WorkOrderStep.work_order_id == WorkOrder.id,
                                               WorkOrderStep.status.in_(FINISHED_STEP_STATUSES))
    .correlate(WorkOrder).scalar_subquery(),
)
_ROW_COLUMNS = (WorkOrder.id, WorkOrder.number, Customer.name, *_PRODUCTS, WorkOrder.delivery_date, WorkOrder.priority,
                WorkOrder.approval_status, WorkOrder.status, *_STEPS)


def list_rows(visible, filters: ListFilters, page: int = 1, per_page: int = 20) -> Page:
    """One page of ``queries.list_work_orders`` as ``ListRow``s: its count, then the page's ids in the
    list's order (from its index) and what their rows show, in one query."""
    from app.services import planning

    conditions = list_conditions(visible, filters)
    total = db.session.scalar(select(func.count()).select_from(WorkOrder).where(*conditions))
    page = max(1, page)
    order = SORTS.get(filters.sort, SORTS["-created"])
    ids = select(WorkOrder.id).where(*conditions).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    at_risk = planning.at_risk_filter() if planning.enabled() else false()
    statement = (select(*_ROW_COLUMNS, at_risk.cast(Integer))
                 .join(Customer, Customer.id == WorkOrder.customer_id)
                 .where(WorkOrder.id.in_(ids.scalar_subquery())).order_by(*order))
    rows = []
    for (id_, number, customer, lines, product, quantity, delivery, priority, approval, status, steps, finished,
         risky) in db.session.execute(statement):
        rows.append(ListRow(id_, number, customer, lines, product or "", int(quantity or 0), delivery, priority,
                            approval, status, finished * 100 // steps if steps else 0, bool(risky)))
    return Page(rows, total, page, per_page)


@dataclass(frozen=True)
class ListChoices:
    customers: tuple[tuple[int, str], ...]     # of the 施工单 the viewer sees
    salespeople: tuple[tuple[int, str], ...]
    makers: tuple[tuple[int, str], ...]


def _people_with_role(*codes) -> tuple[tuple[int, str], ...]:
    return tuple((id_, name) for id_, name in db.session.execute(
        select(User.id, User.name).distinct().join(user_roles, user_roles.c.user_id == User.id)
        .join(Role, Role.id == user_roles.c.role_id).where(Role.code.in_(codes)).order_by(User.name)))


def _people_choices():
    return _people_with_role("salesperson"), _people_with_role("maker", "salesperson", "admin")


def list_choices(user, visible) -> ListChoices:
    """The filters' choices: customers of the 施工单 the viewer sees, salespeople and creators. The people are reference
    data, read once per process and reference version (app.services.core.reference)."""
    customers = select(Customer.id, Customer.name).order_by(Customer.name)
    if not user.has_role("admin", "supervisor", "designer", "maker"):
        customers = customers.where(Customer.id.in_(select(WorkOrder.customer_id).where(visible)))
    salespeople, makers = reference.cached("workorder_list_people", _people_choices)
    return ListChoices(tuple((id_, name) for id_, name in db.session.execute(customers)), salespeople, makers)


@dataclass
class ListPage:
    choices: ListChoices
    page: Page


def list_page(user, filters: ListFilters, page: int = 1, per_page: int = 20, with_choices: bool = True) -> ListPage:
    """What the list page shows ``user``: the filters' choices (not for the list region alone) and a page of rows."""
    visible = visible_workorders_clause(user)
    choices = list_choices(user, visible) if with_choices else ListChoices((), (), ())
    return ListPage(choices, list_rows(visible, filters, page, per_page))
