"""The kiosk page (我的任务 / 可认领), its live-ready regions, the scan route, and its query count."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event

import factories as f
from app.extensions import db as _db
from app.utils.timeutil import plant_today

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def page(client, url="/kiosk", **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def card_html(html, task):
    """The markup of one card: from its opening tag to the next card or region."""
    start = html.index(f'id="task-{task.id}"')
    ends = [i for i in (html.find('<div id="task-', start), html.find("</section>", start)) if i != -1]
    return html[start:min(ends)]


def section(html, name):
    start = html.index(f'id="kiosk-{name}"')
    return html[start:html.index("</section>", start)]


def own_task(world, status, **kwargs):
    return f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator, status=status,
                         **kwargs)


def test_kiosk_frame_shows_who_scan_logout_and_idle_logout(client, login, world):
    login(world.operator, kiosk=True)
    html = page(client)
    assert '<span class="who">刘师傅</span>' in html
    assert ">退出</button>" in html
    assert 'data-idle-seconds="120"' in html
    assert re.search(r'<form id="idle-logout" method="post" action="/logout" hidden>\s*<input type="hidden" '
                     r'name="csrf_token"', html)
    assert 'action="/scan"' in html and 'id="scan-code"' in html
    assert 'class="mainnav"' not in html  # the kiosk bar replaces the desk navigation
    assert '<body class="kiosk"' in html


def test_my_tasks_are_grouped_and_claimable_lists_only_what_i_may_claim(db, client, login, world):
    running = own_task(world, "in_progress", content="印刷：进行中的")
    paused = own_task(world, "paused", content="印刷：暂停的", pause_reason="plate")
    waiting = own_task(world, "pending", content="印刷：待开始的")
    own_task(world, "completed", content="印刷：已完成的")
    draft_order = f.WorkOrderFactory(approval_status="pending")
    f.TaskFactory(step=f.WorkOrderStepFactory(work_order=draft_order), department=world.printing, status="draft",
                  content="草稿任务")
    paused_order = f.WorkOrderFactory(approval_status="approved", status="paused")
    f.TaskFactory(step=f.WorkOrderStepFactory(work_order=paused_order), department=world.printing,
                  content="暂停施工单的任务")
    f.TaskFactory(step=world.print_step, department=world.printing, operator=world.other_operator,
                  content="别人的任务")
    _db.session.commit()

    login(world.operator, kiosk=True)
    html = page(client)
    mine = section(html, "mine")
    assert [m for m in re.findall(r'<h2 class="kiosk-group">(\S+)', mine)] == ["进行中", "已暂停", "待开始"]
    assert mine.index("印刷：进行中的") < mine.index("印刷：暂停的") < mine.index("印刷：待开始的")
    assert "已完成的" not in html
    assert "暂停原因：等待版" in card_html(html, paused)
    assert ">报工</summary>" in card_html(html, running) and ">暂停</summary>" in card_html(html, running)
    assert ">继续</button>" in card_html(html, paused)
    assert ">开始</button>" in card_html(html, waiting)

    claimable = section(html, "claimable")
    assert re.search(r'可认领 <span class="count" data-live-count>1</span>', claimable)
    assert "印刷：彩盒面纸 四色" in claimable
    for hidden in ("草稿任务", "暂停施工单的任务", "别人的任务", "模切：彩盒"):
        assert hidden not in html


def test_a_card_shows_everything_an_operator_needs(client, login, world):
    login(world.operator, kiosk=True)
    card = card_html(page(client), world.task)
    assert 'class="task-card prio-high"' in card
    assert '<span class="tc-wo">SG2026110001</span>' in card
    assert "印刷：彩盒面纸 四色" in card and '<span class="tc-process">印刷</span>' in card
    assert '<span class="tc-done">0</span><span class="tc-target">/ 1000</span>' in card
    assert "不良 0" in card
    assert '<span class="tc-due due-later">10天后到期</span>' in card
    assert 'style="width: 0%"' in card
    assert card.count('class="btn btn-primary"') == 1 and ">认领</button>" in card


@pytest.mark.parametrize("days,css,text", [(-2, "due-overdue", "逾期 2 天"), (0, "due-today", "今天到期"),
                                           (1, "due-soon", "明天到期"), (3, "due-soon", "3天后到期")])
def test_due_status_on_the_card(db, client, login, world, days, css, text):
    world.work_order.delivery_date = plant_today() + timedelta(days=days)
    _db.session.commit()
    login(world.operator, kiosk=True)
    assert f'<span class="tc-due {css}">{text}</span>' in card_html(page(client), world.task)


def test_at_the_cap_a_claimable_card_says_so_instead_of_offering_claim(db, client, login, world):
    f.SettingFactory(key="operator_task_cap", value=2)
    own_task(world, "pending")
    own_task(world, "in_progress")
    login(world.operator, kiosk=True)
    card = card_html(page(client), world.task)
    assert '<p class="tc-reason" role="status">已达任务上限 2/2</p>' in card
    assert "认领</button>" not in card


def test_an_unfinished_earlier_step_is_shown_but_does_not_block(db, client, login, world):
    world.print_step.status = "in_progress"
    _db.session.commit()
    login(world.outsider, kiosk=True)
    card = card_html(page(client), world.die_task)
    assert "等待前置工序：印刷" in card
    assert ">认领</button>" in card


def test_regions_are_live_ready(client, login, world):
    login(world.operator, kiosk=True)
    html = page(client)
    assert (f'<section id="kiosk-mine" class="kiosk-region" data-live="user:{world.operator.id}"\n'
            f'         hx-get="/kiosk?region=mine"') in html
    assert f'data-live="dept:{world.printing.id}"' in section(html, "claimable") or \
        f'data-live="dept:{world.printing.id}"' in html
    assert html.count('hx-trigger="live-refresh, kiosk-refresh from:body"') == 2
    assert html.count("data-live=") == 2  # one topic set per region, not one per card (docs/LIVE.md rule 6)

    region = page(client, "/kiosk?region=claimable", headers=HTMX)
    assert region.lstrip().startswith('<section id="kiosk-claimable"')
    assert "kiosk-mine" not in region and "<html" not in region


def test_the_task_page_is_one_live_region(client, login, world):
    login(world.supervisor)
    html = page(client, f"/tasks/{world.task.id}")
    assert (f'<div id="task-detail" class="task-detail" data-live="task:{world.task.id}"\n'
            f'     hx-get="/tasks/{world.task.id}" hx-trigger="live-refresh, kiosk-refresh from:body"') in html
    region = page(client, f"/tasks/{world.task.id}", headers=HTMX)
    assert region.lstrip().startswith('<div id="task-detail"') and "<html" not in region


def test_claimable_list_is_paginated_in_the_database(db, client, login, world):
    for n in range(17):
        f.TaskFactory(step=world.print_step, department=world.printing, content=f"印刷：批量{n:02d}")
    login(world.operator, kiosk=True)
    claimable = section(page(client), "claimable")
    shown, reserve = claimable.split('<div class="card-reserve" hidden>')
    assert shown.count('class="task-card') == 12 and reserve.count('class="task-card') == 3  # the next three, hidden
    assert re.search(r'可认领 <span class="count" data-live-count>18</span>', claimable)
    assert "第 1 页，共 <span data-live-count>18</span> 个" in claimable and "下一页" in claimable
    assert 'data-live-drop' in claimable
    second = page(client, "/kiosk?region=claimable&page=2", headers=HTMX)
    assert second.count('class="task-card') == 6 and "上一页" in second and "下一页" not in second
    assert "card-reserve" not in second and "data-live-drop" not in second  # only the first page drops in place
    assert 'hx-get="/kiosk?region=claimable&amp;page=2"' in second  # a live refresh keeps the page
    beyond = page(client, "/kiosk?region=claimable&page=9", headers=HTMX)
    assert beyond.split('<div class="card-reserve" hidden>')[0].count('class="task-card') == 12  # back to page 1
    assert "第 1 页，共 <span data-live-count>18</span> 个" in beyond and 'hx-get="/kiosk?region=claimable"' in beyond


def test_each_card_s_place_orders_the_list_as_the_database_does(db, client, login, world):
    """data-order (live.js compares events with it) agrees with the list's SQL order, ties and all."""
    today = plant_today()
    for priority, days in (("low", 1), ("urgent", 9), ("normal", 3), ("urgent", 2), ("high", 3), ("normal", 3)):
        work_order = f.WorkOrderFactory(approval_status="approved", status="in_progress", priority=priority,
                                        delivery_date=today + timedelta(days=days))
        step = f.WorkOrderStepFactory(work_order=work_order, process=world.print_step.process, sequence=20)
        for _ in range(2):
            f.TaskFactory(step=step, department=world.printing)
    login(world.operator, kiosk=True)
    region = page(client, "/kiosk?region=claimable", headers=HTMX)

    places = [(int(rank), delivery, int(task)) for rank, delivery, task
              in re.findall(r'data-order="(\d+)\|([\d-]+)\|(\d+)"', region)]
    assert len(places) == 12 + 1  # the page and its reserve: world.task too
    assert places == sorted(places, key=lambda place: (-place[0], place[1], place[2]))
    assert places[0][0] == 3 and places[-1][0] == 0


def test_a_page_number_below_one_shows_the_first_page(db, client, login, world):
    for n in range(17):
        f.TaskFactory(step=world.print_step, department=world.printing, content=f"印刷：批量{n:02d}")
    login(world.operator, kiosk=True)
    for asked in ("0", "-3"):
        region = page(client, f"/kiosk?region=claimable&page={asked}", headers=HTMX)
        assert "第 1 页，共 <span data-live-count>18</span> 个" in region and "上一页" not in region
        assert 'hx-get="/kiosk?region=claimable"' in region and "data-live-drop" in region


def test_filter_to_one_work_order(db, client, login, world):
    other_order = f.WorkOrderFactory(approval_status="approved", status="in_progress", number="SG2026110002")
    f.TaskFactory(step=f.WorkOrderStepFactory(work_order=other_order), department=world.printing,
                  content="另一张施工单的任务")
    login(world.operator, kiosk=True)
    html = page(client, f"/kiosk?wo={world.work_order.id}")
    assert "仅显示施工单 SG2026110001 的任务" in html
    assert "印刷：彩盒面纸 四色" in html and "另一张施工单的任务" not in html
    assert f"hx-get=\"/kiosk?region=claimable&amp;wo={world.work_order.id}\"" in html


def test_a_scanned_task_is_shown_on_top_and_highlighted(client, login, world):
    login(world.operator, kiosk=True)
    html = page(client, f"/kiosk?highlight={world.task.id}")
    scanned = section(html, "scanned")
    assert "扫码结果" in scanned and 'class="task-card prio-high highlighted"' in scanned


def test_a_scanned_task_is_shown_once_so_its_ids_are_unique(client, login, world):
    login(world.operator, kiosk=True)
    html = page(client, f"/kiosk?highlight={world.task.id}")
    assert html.count(f'id="task-{world.task.id}"') == 1
    assert f'id="task-{world.task.id}"' in section(html, "scanned")
    assert f'id="task-{world.task.id}"' not in page(client, f"/kiosk?region=claimable&highlight={world.task.id}",
                                                    headers={"HX-Request": "true"})


# ---------------------------------------------------------------- /scan/<code>

def test_scan_routes_each_code_to_its_page(db, client, login, world):
    task, order = world.task, world.work_order
    login(world.operator, kiosk=True)
    assert client.get(f"/scan/{task.number}").headers["Location"] == f"/kiosk?highlight={task.id}#task-{task.id}"
    assert client.get(f"/scan/{order.number}").headers["Location"] == f"/kiosk?wo={order.id}"
    assert client.get(f"/scan/http://plant.local/scan/{task.number.lower()}").headers["Location"] == \
        f"/kiosk?highlight={task.id}#task-{task.id}"
    assert client.get(f"/scan?code={order.number}").headers["Location"] == f"/scan/{order.number}"

    from flask import g

    g.pop("_login_user", None)
    login(world.supervisor)
    assert client.get(f"/scan/{task.number}").headers["Location"] == f"/tasks/{task.id}"
    assert client.get(f"/scan/{order.number}").headers["Location"] == f"/workorders/{order.id}"


def test_scanning_an_unknown_code_is_a_chinese_404(client, login, world):
    login(world.operator, kiosk=True)
    response = client.get("/scan/XYZ123")
    assert response.status_code == 404
    assert "未找到编号为 XYZ123 的任务或施工单" in response.get_data(as_text=True)


def test_scanning_another_departments_task_stays_on_the_kiosk(client, login, world):
    login(world.operator, kiosk=True)
    response = client.get(f"/scan/{world.die_task.number}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "任务 TSG2026110001-02 不属于您的部门" in html
    assert '<body class="kiosk"' in html and 'class="mainnav"' not in html  # tests/kiosk/test_kiosk_errors.py


def test_scanning_anonymously_goes_to_the_kiosk_login_and_back(client, world):
    response = client.get(f"/scan/{world.task.number}")
    assert response.headers["Location"] == f"/kiosk/login?next=/scan/{world.task.number}"


# ---------------------------------------------------------------- no N+1

def count_queries(client, url):
    engine = _db.engine
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_kiosk_queries_do_not_grow_with_the_number_of_tasks(db, client, login, world):
    login(world.operator, kiosk=True)
    for status in ("in_progress", "paused", "pending"):
        own_task(world, status)
    few = count_queries(client, "/kiosk")
    for _ in range(6):
        order = f.WorkOrderFactory(approval_status="approved", status="in_progress")
        step = f.WorkOrderStepFactory(work_order=order)
        f.TaskFactory(step=step, department=world.printing, operator=world.operator, status="in_progress")
        f.TaskFactory(step=step, department=world.printing)
    _db.session.expire_all()
    many = count_queries(client, "/kiosk")
    assert many == few
    assert few <= 15
