"""The job ticket (DOMAIN.md §8) behind a card's 详情 and on the task's page, and the design file it opens."""
import re
from urllib.parse import quote

import pytest
from sqlalchemy import event

import factories as f
from app.extensions import db as _db
from app.tasks.routes import PDF_VIEWER_POLICY
from support.ticket_world import PDF_BYTES, attach_design_file, build_ticket_world, tiny_png

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def world(db):
    return build_ticket_world()


def text_of(html: str) -> str:
    """What the operator reads: the markup without tags, each run of white space one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def ticket_text(client, task, **kwargs):
    response = client.get(f"/tasks/{task.id}/ticket", headers=HTMX, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_printing_ticket_shows_products_paper_colours_its_artwork_notes_file_and_steps(client, login, world):
    login(world.operator, kiosk=True)
    html = ticket_text(client, world.task)
    text = text_of(html)
    assert "施工单 SG2026110001 客户 华彩包装有限公司 优先级 高" in text
    assert "产品 彩盒 · 200×150×80mm · 1000 个 吊牌 · 50×90mm · 2000 张" in text
    assert "物料 300g白卡纸 · 尺寸：787×1092mm 开4 · 用量：500张 哑膜 · 用量：80平方米" in text
    assert "印刷 印刷形式 正面印刷 CMYK C M Y K 专色 专色528C，金色" in text
    assert "版 ART2026110001 · 图稿 · 彩盒面纸图稿 · 彩盒 拼版数 4 · 吊牌 拼版数 8" in text
    assert "DIE2026110001" not in text  # the die is the 模切 task's
    assert "生产要求 套准误差≤0.1mm 任务备注 用新橡皮布 施工单备注 客户来取样，首件签样后再批量" in text
    assert f'<img class="jt-image" src="/tasks/{world.task.id}/design-file" alt="设计文件：彩盒面纸.png"' in html
    assert "工序 制版 已完成 开料 进行中 印刷 本工序 模切 待开始" in text
    assert re.search(r'<li class="jt-step jt-current" aria-current="step">\s*<span class="jt-step-name">印刷</span>',
                     html)


def test_a_cutting_ticket_shows_its_own_paper_line_with_the_cut_size_and_no_print_details(client, login, world):
    login(world.operator, kiosk=True)
    text = text_of(ticket_text(client, world.cut_task))
    assert "物料 300g白卡纸 · 开料尺寸：787×1092mm 开4 · 用量：500张 生产要求" in text  # the paper line only
    assert "哑膜" not in text
    assert "印刷形式" not in text and "ART2026110001" not in text and "拼版数" not in text
    assert "工序 制版 已完成 开料 本工序 印刷 待开始 模切 待开始" in text


def test_a_die_cutting_ticket_shows_its_die(client, login, world):
    login(world.outsider, kiosk=True)  # 模切车间's operator
    text = text_of(ticket_text(client, world.die_task))
    assert "版 DIE2026110001 · 刀模 · 彩盒刀模 生产要求" in text
    assert "ART2026110001" not in text and "印刷形式" not in text


def test_a_pdf_design_file_is_a_link_to_the_browsers_viewer(client, login, world):
    attach_design_file(world.work_order, "刀线图.pdf", PDF_BYTES)
    login(world.operator, kiosk=True)
    html = ticket_text(client, world.task)
    assert (f'<a class="btn jt-open" href="/tasks/{world.task.id}/design-file" target="_blank" rel="noopener">'
            "打开设计文件（PDF）：刀线图.pdf</a>") in html
    assert "<img" not in html


def test_each_card_has_a_details_toggle_that_fetches_its_ticket(client, login, world):
    login(world.operator, kiosk=True)
    html = client.get("/kiosk").get_data(as_text=True)
    assert re.search(rf'<details class="tc-ticket" hx-get="/tasks/{world.task.id}/ticket" hx-trigger="toggle once"\s+'
                     r'hx-target="find .tc-ticket-body" hx-swap="innerHTML">\s*'
                     r'<summary class="btn tc-ticket-toggle">详情</summary>', html)
    assert "华彩包装有限公司" not in html  # the ticket itself waits for the toggle


def test_the_task_page_shows_the_ticket_open(client, login, world):
    login(world.operator, kiosk=True)
    html = client.get(f"/tasks/{world.task.id}").get_data(as_text=True)
    assert "版 ART2026110001 · 图稿 · 彩盒面纸图稿 · 彩盒 拼版数 4 · 吊牌 拼版数 8" in text_of(html)
    assert '<body class="kiosk"' in html


def test_another_departments_operator_may_not_read_the_ticket(client, login, world):
    login(world.outsider, kiosk=True)
    response = client.get(f"/tasks/{world.task.id}/ticket", headers=HTMX)
    assert response.status_code == 403
    assert response.headers["X-Message"] == quote("任务 TSG2026110001-01 不属于您的部门")
    assert "华彩包装有限公司" not in response.get_data(as_text=True)
    assert client.get(f"/tasks/{world.task.id}/design-file").status_code == 403


def count_queries(client, url, **kwargs):
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", before)
    try:
        assert client.get(url, **kwargs).status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", before)
    return len(statements)


def test_a_ticket_costs_the_same_queries_however_much_its_work_order_holds(client, login, world):
    login(world.operator, kiosk=True)
    url = f"/tasks/{world.task.id}/ticket"
    _db.session.expire_all()  # both counts start from nothing loaded
    few = count_queries(client, url, headers=HTMX)
    order, artwork = world.work_order, world.task.plate
    for n in range(4):
        product = f.ProductFactory()
        f.WorkOrderProductFactory(work_order=order, product=product)
        f.PlateProductFactory(plate=artwork, product=product, imposition_quantity=n + 2)
        f.WorkOrderMaterialFactory(work_order=order)
        f.WorkOrderStepFactory(work_order=order)
    _db.session.commit()
    _db.session.expire_all()
    assert count_queries(client, url, headers=HTMX) == few
    assert few == 13  # the viewer (3), settings, the task, the ticket's 7 and its plan entry (排产)


# ---------------------------------------------------------------- the design file, for whoever sees the task

def test_an_image_design_file_is_shown_inline(client, login, world):
    login(world.operator, kiosk=True)
    response = client.get(f"/tasks/{world.task.id}/design-file")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == tiny_png()


def test_a_pdf_design_file_opens_in_the_browsers_viewer(client, login, world):
    attach_design_file(world.work_order, "刀线图.pdf", PDF_BYTES)
    login(world.operator, kiosk=True)
    response = client.get(f"/tasks/{world.cut_task.id}/design-file")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Content-Security-Policy"] == PDF_VIEWER_POLICY


def test_other_design_files_are_downloaded(client, login, world):
    attach_design_file(world.work_order, "源文件.zip", b"PK\x03\x04rest")
    login(world.operator, kiosk=True)
    response = client.get(f"/tasks/{world.task.id}/design-file")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]  # the pages' own policy


def test_a_work_order_without_a_design_file_answers_404(client, login, world):
    world.work_order.design_file_path = world.work_order.design_file_name = None
    _db.session.commit()
    login(world.operator, kiosk=True)
    response = client.get(f"/tasks/{world.task.id}/design-file")
    assert response.status_code == 404
    assert "该施工单没有设计文件" in response.get_data(as_text=True)
    assert "设计文件" not in text_of(ticket_text(client, world.task))
