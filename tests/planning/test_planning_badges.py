"""延期风险 where people look (DOMAIN.md §12): the 施工单 list (badge and filter), the 施工单 page
(预计完工 / 无法预计 / 延期风险) and the 工作台 — batch-loaded, one badge macro."""
from datetime import timedelta

import pytest

import factories as f
from app.extensions import db
from app.services import planning
from app.services.core import settings as plant_settings
from app.utils.timeutil import plant_today
from support.planning_world import build_planned_world, new_print_task

BADGE = '<span class="tag risk-badge"'


@pytest.fixture()
def world(db):
    world = build_planned_world()
    # Due yesterday: whatever the plan, it finishes later.
    world.late = new_print_task(world, "T-LATE")
    world.late.work_order.delivery_date = plant_today() - timedelta(days=1)
    world.late.work_order.number = "SG-LATE"
    world.work_order.delivery_date = plant_today() + timedelta(days=300)
    planning.triggers.mark_work_orders([world.late.work_order_id, world.work_order.id])
    db.session.commit()
    assert planning.at_risk_workorder_ids() == {world.late.work_order_id}
    return world


def rows(page):
    return {chunk.split('"')[0]: chunk for chunk in page.split('data-number="')[1:]}


def test_the_list_marks_the_late_work_order_only(client, login, world):
    login(world.admin)
    listed = rows(client.get("/workorders").get_data(as_text=True))
    assert BADGE in listed["SG-LATE"].split("</tr>")[0]
    assert BADGE not in listed["SG2026110001"].split("</tr>")[0]


def test_the_list_filters_on_risk(client, login, world):
    login(world.admin)
    page = client.get("/workorders?at_risk=y").get_data(as_text=True)
    assert set(rows(page)) == {"SG-LATE"}
    assert 'name="at_risk"' in page


def test_the_list_reads_the_risk_in_one_query_for_the_page(client, login, world, app):
    from sqlalchemy import event

    login(world.admin)
    for n in range(5):
        new_print_task(world, f"T-MORE-{n}")
    statements = []

    def record(conn, cursor, statement, *args):
        if "work_order_projections" in statement:
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get("/workorders")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1


def test_the_work_order_page_shows_the_projection(client, login, world):
    login(world.admin)
    late = client.get(f"/workorders/{world.late.work_order_id}").get_data(as_text=True)
    assert "预计完工" in late and BADGE in late
    fine = client.get(f"/workorders/{world.work_order.id}").get_data(as_text=True)
    assert "预计完工" in fine and BADGE not in fine


def test_an_unplannable_work_order_cannot_be_projected(client, login, world):
    login(world.admin)
    lonely = f.ProcessFactory(code="GLUE", name="糊盒")
    step = f.WorkOrderStepFactory(work_order=world.work_order, process=lonely, sequence=40)
    f.TaskFactory(step=step, number="T-GLUE", department=world.printing)
    planning.triggers.mark_plan_changed()
    planning.triggers.mark_work_orders([world.work_order.id])
    db.session.commit()
    page = client.get(f"/workorders/{world.work_order.id}").get_data(as_text=True)
    assert "预计完工：无法预计" in " ".join(page.split())


def test_planning_off_shows_no_projection(client, login, world):
    plant_settings.update(world.admin, {"planning_enabled": False})
    db.session.commit()
    login(world.admin)
    page = client.get(f"/workorders/{world.late.work_order_id}").get_data(as_text=True)
    assert "预计完工" not in page and BADGE not in page
    assert BADGE not in client.get("/workorders").get_data(as_text=True)


@pytest.mark.parametrize("role", ["maker", "salesperson", "supervisor", "admin"])
def test_the_dashboard_card(client, login, world, role):
    if role == "maker":
        user = world.creator
    elif role == "salesperson":
        user = f.UserFactory(roles=["salesperson"])
        world.late.work_order.customer.salesperson_id = user.id
        db.session.commit()
    elif role == "supervisor":
        user = world.supervisor
    else:
        user = world.admin
    login(user)
    page = client.get("/").get_data(as_text=True)
    card = page.split('id="dash-at-risk"')[1].split("</section>")[0]
    assert set(rows(card)) == {"SG-LATE"} and BADGE in card


def test_a_maker_sees_only_their_own_at_risk_work_orders(client, login, world):
    login(f.UserFactory(roles=["maker"]))
    page = client.get("/").get_data(as_text=True)
    card = page.split('id="dash-at-risk"')[1].split("</section>")[0]
    assert rows(card) == {} and "没有延期风险的施工单" in card


def test_a_designer_has_no_card(client, login, world):
    login(f.UserFactory(roles=["designer"]))
    assert 'id="dash-at-risk"' not in client.get("/").get_data(as_text=True)
