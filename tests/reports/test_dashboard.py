"""工作台 per role: the right blocks, exact numbers, and every number leads to a list showing as many."""
import re
from datetime import timedelta
from html import unescape

import pytest

import factories as f
from app.utils.timeutil import plant_today, utcnow


@pytest.fixture()
def busy_world(world):
    """The plant of reports_world plus a task completed now, one 待审核 and one due tomorrow."""
    f.TaskFactory(step=world.t5.step, number="TSG2026030003-06", department=world.printing, operator=world.yang,
                  status="completed", completed_quantity=1000, completed_at=utcnow())
    f.WorkOrderFactory(number="SG2026030005", customer=world.customer_a, created_by=world.maker,
                       approval_status="pending", delivery_date=plant_today() + timedelta(days=1))
    return world


def cards(html: str) -> dict[str, tuple[str, int]]:
    """key → (link, number) of every card."""
    found = re.findall(r'<a class="stat[^"]*" href="([^"]+)" data-figure="([^"]+)">\s*<span class="label">[^<]*</span>'
                       r'<div class="num">(\d+)</div>', html)
    return {label: (unescape(href), int(value)) for href, label, value in found}


def table_row(html: str, attribute: str, value: int) -> list[int]:
    row = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', html, re.S).group(1)
    return [int(n) for n in re.findall(r'<a class="figure" href="[^"]+">(\d+)</a>', row)]


def test_the_admin_sees_the_whole_plant(client, sign_in, busy_world):
    w = busy_world
    sign_in(w.admin)
    html = client.get("/").get_data(as_text=True)
    figures = {label: value for label, (_href, value) in cards(html).items()}
    assert figures == {
        "approvals": 1, "overdue_work_orders": 1, "due_soon": 1,
        "tasks_pending": 2, "tasks_in_progress": 1, "tasks_paused": 0, "completed_today": 1, "completed_week": 1,
        "overdue_tasks": 3, "pool": 1,
        "approval_draft": 1, "approval_pending": 1, "approval_approved": 3, "approval_rejected": 0,
        "production_pending": 0, "production_in_progress": 1, "production_paused": 0, "production_completed": 2,
        "production_cancelled": 0,
    }
    # department queue: 待开始, 进行中, 已暂停, 今日完成, 逾期 (a parent counts its workshops)
    assert table_row(html, "data-department", w.production.id) == [1, 1, 0, 1, 2]
    assert table_row(html, "data-department", w.printing.id) == [0, 1, 0, 1, 1]
    assert table_row(html, "data-department", w.die_cutting.id) == [1, 0, 0, 0, 1]
    assert table_row(html, "data-department", w.design.id) == [0, 0, 0, 0, 0]
    assert table_row(html, "data-operator", w.liu.id) == [1, 0]
    assert table_row(html, "data-operator", w.yang.id) == [0, 1]


def _task_total(client, href) -> int:
    html = client.get(href).get_data(as_text=True)
    return int(re.search(r"共 (\d+) 个任务", html).group(1))


def test_every_task_number_leads_to_a_list_of_as_many(client, sign_in, busy_world):
    sign_in(busy_world.admin)
    html = client.get("/").get_data(as_text=True)
    links = [(href, value) for href, value in cards(html).values() if href.startswith("/tasks")]
    links += [(unescape(href), int(value)) for href, value in
              re.findall(r'<a class="figure" href="([^"]+)">(\d+)</a>', html)]
    assert len(links) == 7 + 4 * 5 + 3 * 2  # plant cards, department queues, operators
    for href, value in links:
        assert _task_total(client, href) == value, href


def test_work_order_numbers_lead_to_the_work_order_list(client, sign_in, busy_world):
    sign_in(busy_world.admin)
    for href, value in cards(client.get("/").get_data(as_text=True)).values():
        if href.startswith("/workorders") and "due_soon" not in href:
            html = client.get(href).get_data(as_text=True)
            assert int(re.search(r"共 (\d+) 个施工单", html).group(1)) == value, href


def test_a_supervisor_sees_their_departments_and_operators(client, sign_in, busy_world):
    w = busy_world
    sign_in(w.supervisor)
    html = client.get("/").get_data(as_text=True)
    assert set(map(int, re.findall(r'<tr data-department="(\d+)">', html))) == {w.printing.id}
    assert set(map(int, re.findall(r'<tr data-operator="(\d+)">', html))) == {w.liu.id, w.yang.id}
    assert set(cards(html)) == {"approvals"}  # no plant-wide or 施工单 cards
    assert f'data-live="dept:{w.printing.id}' in html
    sign_in(w.head)
    html = client.get("/").get_data(as_text=True)
    assert set(map(int, re.findall(r'<tr data-department="(\d+)">', html))) == {
        w.production.id, w.printing.id, w.die_cutting.id}
    assert set(map(int, re.findall(r'<tr data-operator="(\d+)">', html))) == {w.liu.id, w.yang.id, w.huang.id}


WORK_ORDER_CARDS = ("approval_draft", "approval_pending", "approval_approved", "approval_rejected",
                    "production_pending", "production_in_progress", "production_paused", "production_completed",
                    "production_cancelled", "overdue_work_orders", "due_soon")


@pytest.mark.parametrize("who, expected", [
    ("maker", [1, 1, 2, 0, 0, 0, 0, 2, 0, 0, 1]),
    ("sales", [1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1]),  # 客户甲's: WO1, WO4 and the new 待审核 one
    ("other_maker", [0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]),
])
def test_makers_and_salespeople_see_their_work_orders(client, sign_in, busy_world, who, expected):
    sign_in(getattr(busy_world, who))
    html = client.get("/").get_data(as_text=True)
    found = cards(html)
    assert {key: value for key, (_href, value) in found.items() if key != "approvals"} == dict(
        zip(WORK_ORDER_CARDS, expected))
    assert ("approvals" in found) == (who == "sales")  # a salesperson approves their customers' 施工单
    if who == "sales":
        assert found["approvals"] == ("/workorders?approval_status=pending", 1)
    assert "data-department" not in html and "data-operator" not in html
    assert found["overdue_work_orders"][0] == "/workorders?overdue=1"
    assert found["due_soon"][0] == "/workorders?due_soon=1"
    assert found["approval_draft"][0] == "/workorders?approval_status=draft"
    assert found["production_completed"][0] == "/workorders?approval_status=approved&status=completed"


def test_the_dashboard_is_the_same_after_a_live_refresh(client, sign_in, busy_world):
    sign_in(busy_world.admin)
    html = client.get("/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="dash-plant" data-live="all"' in html and 'hx-select="#dash-plant"' in html


def section_of(html: str, region: str) -> str:
    start = html.index(f'<section class="dash-section" id="{region}"')
    return html[start:html.index("</section>", start) + len("</section>")]


# A supervisor's 工作台 has no 全厂任务.
@pytest.mark.parametrize(("who", "region"), [("admin", "dash-at-risk"), ("admin", "dash-plant"),
                                             ("admin", "dash-departments"), ("supervisor", "dash-at-risk"),
                                             ("supervisor", "dash-departments")])
def test_a_live_section_is_answered_alone_and_as_on_the_page(client, sign_in, busy_world, who, region):
    user = busy_world.admin if who == "admin" else busy_world.supervisor
    sign_in(user)
    page = client.get("/").get_data(as_text=True)

    alone = client.get("/", headers={"HX-Request": "true", "HX-Target": region}).get_data(as_text=True)

    assert alone.strip() == section_of(page, region)
    assert "<html" not in alone and alone.count("<section") == 1


def test_the_operator_table_costs_the_same_queries_for_any_number_of_operators(client, sign_in, busy_world):
    from sqlalchemy import event

    from app.extensions import db

    def queries() -> int:
        db.session.expire_all()  # a real request starts with an empty session
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    sign_in(busy_world.admin)
    before = queries()
    for _ in range(5):
        f.UserFactory(roles=["operator"], departments=[busy_world.printing])
    db.session.commit()
    assert queries() == before
