"""The 施工单 list reuses the HTML of its rows and of its filter toolbar (app.templating.cached_fragment):
a change to anything a row or a choice shows must be rendered anew. The check of the suite
(VERIFY_CACHED_FRAGMENTS) is off here, as in production, so a stale fragment would be served."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Customer, Product, WorkOrder, WorkOrderStep
from app.templating import RENDERED_FRAGMENTS
from factories import CustomerFactory
from support.workorders import build_plant, create


@pytest.fixture()
def plant(seeded, app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    RENDERED_FRAGMENTS.clear()
    return build_plant(seeded)


def _rename_product(plant, work_order):
    db.session.execute(update(Product).where(Product.id == plant.poster.id).values(name="大海报"))


def _rename_customer(plant, work_order):
    db.session.execute(update(Customer).where(Customer.id == plant.customer.id).values(name="华美新包装"))


def _finish_a_step(plant, work_order):
    step = min(work_order.steps, key=lambda step: step.sequence)
    db.session.execute(update(WorkOrderStep).where(WorkOrderStep.id == step.id).values(status="completed"))


def _move_the_delivery(plant, work_order):
    db.session.execute(update(WorkOrder).where(WorkOrder.id == work_order.id).values(
        delivery_date=work_order.delivery_date + timedelta(days=3)))


def _raise_the_priority(plant, work_order):
    db.session.execute(update(WorkOrder).where(WorkOrder.id == work_order.id).values(priority="urgent"))


@pytest.mark.parametrize("change", [_rename_product, _rename_customer, _finish_a_step, _move_the_delivery,
                                    _raise_the_priority])
def test_a_changed_list_row_is_rendered_anew_and_matches_an_uncached_render(plant, client, login, change):
    work_order = create(plant.maker, plant.work_order_input(products=[(plant.poster, 10)]))
    login(plant.admin)
    before = client.get("/workorders").get_data(as_text=True)
    assert f'data-number="{work_order.number}"' in before

    change(plant, work_order)
    db.session.commit()
    cached = client.get("/workorders").get_data(as_text=True)
    RENDERED_FRAGMENTS.clear()
    fresh = client.get("/workorders").get_data(as_text=True)

    def without_tokens(page):  # each request signs the session's CSRF token anew
        return "\n".join(line for line in page.splitlines() if "csrf" not in line.lower())

    assert without_tokens(cached) == without_tokens(fresh)
    assert without_tokens(cached) != without_tokens(before)


def test_the_toolbar_shows_a_renamed_salesperson_and_a_new_customer_at_once(plant, client, login):
    create(plant.maker, plant.work_order_input())
    login(plant.admin)
    page = client.get("/workorders").get_data(as_text=True)
    assert ">王业务</option>" in page and "新客户" not in page

    plant.sales.name = "王大业务"  # as the admin pages do: the flush replaces the reference version
    CustomerFactory(name="新客户", salesperson=None)
    db.session.commit()
    page = client.get("/workorders").get_data(as_text=True)
    assert ">王大业务</option>" in page and ">王业务</option>" not in page
    assert ">新客户</option>" in page


def test_a_salesperson_sees_only_the_customers_of_their_work_orders_in_the_toolbar(plant, client, login):
    create(plant.maker, plant.work_order_input(customer=plant.other_customer))
    create(plant.sales, plant.work_order_input())
    login(plant.admin)
    assert ">远航物流集团</option>" in client.get("/workorders").get_data(as_text=True)
    login(plant.sales)
    page = client.get("/workorders").get_data(as_text=True)
    assert ">华美包装有限公司</option>" in page and ">远航物流集团</option>" not in page
