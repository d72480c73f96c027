"""The walk-through in a real browser: maker1 creates and submits a 施工单 through the form,
sales1 approves it on its page, and every task lands in the department the preset rules choose."""
import re

import pytest
from playwright.sync_api import expect

from app.services.workorders import approval, queries
from app.services.workorders import drafts as workorder_drafts
from app.utils.timeutil import plant_today
from factories import PASSWORD
from support.workorders import build_plant, create

pytestmark = pytest.mark.browser


def log_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))


def add_product(page, label, quantity):
    rows = page.locator("#product-lines .product-line")
    count = rows.count()
    page.get_by_role("button", name="添加产品").click()
    rows.nth(count).wait_for()
    rows.nth(count).locator("select").select_option(label=label)
    page.wait_for_load_state("networkidle")  # the product's defaults are filled in
    rows.nth(count).locator("input[name$='-quantity']").fill(str(quantity))


def cell_texts(cells):
    """The cells' text with whitespace collapsed: a cell read while the live page re-renders its region
    can come back with its template's raw line breaks (innerText of a cell not laid out yet)."""
    return [" ".join(text.split()) for text in cells.all_inner_texts()]


def test_create_submit_and_approve_through_the_pages(seeded, page_factory, screenshot_dir):
    plant = build_plant(seeded)
    page = page_factory()
    log_in(page, "maker1")
    page.goto("/workorders")
    page.get_by_role("link", name="新建施工单").click()
    page.get_by_label("客户", exact=True).select_option(label=plant.customer.name)
    page.get_by_label("交货日期").fill(plant_today().replace(day=28).isoformat()
                                     if plant_today().day < 28 else plant_today().isoformat())
    page.get_by_label("生产数量").fill("500")
    add_product(page, "PR001 宣传册", 800)
    add_product(page, "PR003 海报", 300)
    for process in ("印刷", "覆光膜", "模切", "包装"):
        page.get_by_label(process, exact=True).check()
    page.get_by_label(re.compile("ART202611001")).check()
    page.get_by_label(re.compile("DIE202611001")).check()
    page.get_by_label(re.compile("DIE202611001")).uncheck()
    # The live check names the missing die before anything is saved.
    page.locator("#form-check").get_by_text("选择了需要刀模的工序（模切），请至少选择一个刀模").wait_for()
    page.get_by_label(re.compile("DIE202611001")).check()
    page.locator("#form-check").get_by_text("请至少选择一个刀模").wait_for(state="detached")
    page.screenshot(path=f"{screenshot_dir}/workorder-form.png", full_page=True)
    page.get_by_role("button", name="提交审核").click()

    page.wait_for_url(re.compile(r"/workorders/\d+$"))
    detail_url = page.url
    header = page.locator("#wo-detail .page-head")
    assert "待审核" in header.inner_text()
    drafts = page.locator("tr.task-row.is-draft")
    assert drafts.count() == 7
    contents = cell_texts(page.locator("tr.task-row td:nth-child(3)"))
    assert sum("制版审核" in c for c in contents) == 2 and any(c.startswith("覆光膜：SG") for c in contents)
    assert {c for c in contents if c.endswith("包装")} == {"宣传册包装", "海报包装"}
    page.get_by_role("button", name="退出").click()

    log_in(page, "sales1")
    page.goto(detail_url)
    page.locator("summary", has_text="通过审核").click()
    page.get_by_label("审核意见（可选）").fill("同意生产")
    page.locator("#wo-actions form").get_by_role("button", name="通过审核").click()
    page.locator("#toasts").get_by_text("审核通过：7 个任务已分派到部门").wait_for()
    assert "已通过" in page.locator("#wo-detail .page-head").inner_text()
    assert page.locator("tr.task-row.is-draft").count() == 0
    departments = {}
    for step in page.locator(".step-card").all():
        name = step.locator("h3").inner_text().split("\n")[0]
        departments[re.sub(r"^\d+\.\s*", "", name).split()[0]] = set(cell_texts(step.locator("tr.task-row td:nth-child(4)")))
    assert departments == {"制版": {"设计部"}, "印刷": {"印刷车间"}, "覆光膜": {"印刷车间"}, "模切": {"模切车间"},
                           "包装": {"包装车间"}}
    page.screenshot(path=f"{screenshot_dir}/workorder-approved.png", full_page=True)


def test_an_open_work_order_page_follows_an_approval_made_elsewhere(seeded, page_factory, db):
    plant = build_plant(seeded)
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    page = page_factory()
    log_in(page, "maker1")
    page.goto(f"/workorders/{work_order.id}")
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    expect(page.locator("tr.task-row.is-draft")).to_have_count(7)

    approval.approve(plant.sales, work_order.id, work_order.version)
    db.session.commit()
    expect(page.locator("#wo-detail .page-head")).to_contain_text("已通过", timeout=1500)
    expect(page.locator("tr.task-row.is-draft")).to_have_count(0)


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and \
        box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"]


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_the_draft_editor_opens_in_view_where_the_user_clicked(seeded, db, page_factory, screenshot_dir, viewport):
    plant = build_plant(seeded)
    work_order = create(plant.maker, plant.work_order_input())
    last = queries.get(work_order.id).steps[-1].tasks[-1]
    page = page_factory(viewport=viewport)
    log_in(page, "maker1")
    page.goto(f"/workorders/{work_order.id}")
    edit = page.locator(f"#task-row-{last.id}").get_by_role("button", name="编辑")
    edit.scroll_into_view_if_needed()
    edit.click()

    editor = page.locator("#draft-editor")
    expect(editor).to_be_visible()
    expect(editor.get_by_role("heading")).to_have_text(f"编辑草稿任务 {last.number}")
    quantity = editor.get_by_label("数量")
    assert in_viewport(page, quantity) and in_viewport(page, editor.get_by_role("button", name="保存"))
    expect(quantity).to_be_focused()
    page.screenshot(path=f"{screenshot_dir}/workorder-draft-editor-{viewport[0]}.png")

    quantity.fill("777")
    editor.get_by_role("button", name="保存").click()
    page.locator("#toasts").get_by_text("草稿任务已保存").wait_for()
    expect(page.locator("#draft-editor")).to_be_hidden()
    expect(page.locator(f"#task-row-{last.id}")).to_contain_text("777")

    # A change made elsewhere meanwhile does not throw the open editor away; 取消 closes it without
    # saving, and then the page catches up.
    page.locator(f"#task-row-{last.id}").get_by_role("button", name="编辑").click()
    expect(page.locator("#draft-editor")).to_be_visible()
    page.locator("#draft-editor").get_by_label("数量").fill("5")
    step = queries.get(work_order.id).steps[0]
    workorder_drafts.add_draft(plant.sales, work_order.id, step.id, quantity=3, content="补做样张")
    db.session.commit()
    page.wait_for_timeout(1000)
    expect(page.locator("#draft-editor").get_by_label("数量")).to_have_value("5")
    page.locator("#draft-editor").get_by_role("button", name="取消").click()
    expect(page.locator("#draft-editor")).to_be_hidden()
    expect(page.locator("tr.task-row", has_text="补做样张")).to_have_count(1)
    expect(page.locator(f"#task-row-{last.id}")).to_contain_text("777")


def test_the_draft_editor_opens_when_a_live_refresh_replaced_the_page_while_it_was_on_its_way(seeded, db,
                                                                                             page_factory):
    plant = build_plant(seeded)
    work_order = create(plant.maker, plant.work_order_input())
    last = queries.get(work_order.id).steps[-1].tasks[-1]
    page = page_factory()
    log_in(page, "maker1")
    page.goto(f"/workorders/{work_order.id}")
    held = []
    page.route(re.compile(rf"/workorders/{work_order.id}/drafts/{last.id}/edit"), lambda route: held.append(route))

    page.locator(f"#task-row-{last.id}").get_by_role("button", name="编辑").click()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1  # the editor's content is on its way
    workorder_drafts.add_draft(plant.sales, work_order.id, queries.get(work_order.id).steps[0].id, quantity=3,
                               content="补做样张")
    db.session.commit()
    expect(page.locator("tr.task-row", has_text="补做样张")).to_have_count(1)  # the page (button, dialog) replaced
    held[0].continue_()

    editor = page.locator("#draft-editor")
    expect(editor).to_be_visible()
    expect(editor.get_by_role("heading")).to_have_text(f"编辑草稿任务 {last.number}")
