"""The user manual's pictures: the main screens with the demo data, in Debian's chromium.

Each test walks one part of docs/USER_MANUAL.md, checks that the page shows what the manual says it
shows, and takes the picture. With UPDATE_MANUAL_SCREENSHOTS=1 the pictures replace those in
docs/images/ (they are committed); otherwise they go to the test's tmp dir, so CI still walks every screen.
"""
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import WorkOrder
from app.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
DESK = (1280, 800)
KIOSK = (1024, 768)



@pytest.fixture()
def demo(demo_plant):
    """The demo plant; the numbers of its draft, pending and approved 施工单 (app/seed_workorders.py),
    found by their markers (the demo's history is numbered before them)."""
    db = demo_plant
    numbers = dict(db.session.execute(select(WorkOrder.notes, WorkOrder.number).where(
        WorkOrder.notes.in_(["【演示】草稿：宣传册", "【演示】待审核：包装盒", "【演示】已审核：画册"]))).all())
    return SimpleNamespace(draft=numbers["【演示】草稿：宣传册"], pending=numbers["【演示】待审核：包装盒"],
                           approved=numbers["【演示】已审核：画册"])


@pytest.fixture()
def shoot(tmp_path):
    folder = DOCS_IMAGES if os.environ.get("UPDATE_MANUAL_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def _shoot(page, name):
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(folder / f"{name}.png"))

    return _shoot


def log_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def kiosk_log_in(page, employee_no, pin):
    page.goto("/kiosk/login")
    page.get_by_label("工号").fill(employee_no)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/kiosk$"))


def act_on_kiosk(page, button):
    """Click, then wait for the live refresh of 我的任务 the change triggers, so it cannot redraw a card mid-step."""
    with page.expect_response(lambda response: "region=mine" in response.url):
        button.click()


def heading(page):
    return page.locator("h1").first


def open_work_order(page, number):
    page.goto("/workorders")
    page.get_by_role("link", name=number).click()
    expect(heading(page)).to_have_text(f"施工单 {number}")


def test_login_pages(demo, page_factory, shoot):
    page = page_factory(DESK)
    page.goto("/login")
    expect(heading(page)).to_have_text("登录")
    expect(page.get_by_label("用户名")).to_be_visible()
    shoot(page, "login")

    kiosk = page_factory(KIOSK)
    kiosk.goto("/kiosk/login")
    expect(kiosk.get_by_label("工号")).to_be_visible()
    expect(kiosk.get_by_label("PIN")).to_be_visible()
    shoot(kiosk, "kiosk-login")


# username, the manual's picture, what the role's 工作台 shows besides the common tiles
DASHBOARDS = [
    ("maker1", "dashboard-maker", "您的角色：制单员"),
    ("sales1", "dashboard-sales", "待我审核"),
    ("designer1", "dashboard-designer", "您的角色：设计员"),
    ("sup_printing", "dashboard-supervisor", "您的角色：部门主管"),
    ("admin", "dashboard-admin", "操作员负荷"),
]


@pytest.mark.parametrize("username,name,shows", DASHBOARDS)
def test_dashboard_per_role(demo, page_factory, shoot, username, name, shows):
    page = page_factory(DESK)
    log_in(page, username)
    page.goto("/")
    expect(heading(page)).to_have_text("工作台")
    expect(page.locator("main")).to_contain_text(shows)
    shoot(page, name)


def test_work_order_list_form_and_drafts(demo, page_factory, shoot):
    page = page_factory(DESK)
    log_in(page, "maker1")
    page.goto("/workorders")
    expect(heading(page)).to_have_text("施工单")
    expect(page.get_by_role("link", name="新建施工单")).to_be_visible()
    expect(page.get_by_role("link", name=demo.draft)).to_be_visible()
    shoot(page, "workorders-list")

    page.get_by_role("link", name="新建施工单").click()
    expect(heading(page)).to_have_text("新建施工单")
    page.get_by_label("客户", exact=True).select_option(label="青禾文化传媒")
    page.get_by_label("生产数量").fill("2000")
    page.get_by_role("button", name="添加产品").click()
    product = page.locator("#product-lines .product-line select").first
    product.wait_for()
    # Choosing the product ticks its default processes.
    with page.expect_response(re.compile(r"/workorders/form/prefill$")):
        product.select_option(label="PR001 宣传册")
    expect(page.get_by_label("印刷", exact=True)).to_be_checked()
    expect(page.get_by_label("包装", exact=True)).to_be_checked()
    page.locator("#product-lines").scroll_into_view_if_needed()
    shoot(page, "workorder-new")

    open_work_order(page, demo.draft)
    expect(page.locator("tr.task-row.is-draft")).to_have_count(6)
    expect(page.get_by_role("button", name="提交审核")).to_be_visible()
    page.get_by_role("heading", name="工序与任务").scroll_into_view_if_needed()
    shoot(page, "workorder-drafts")


def test_approval_with_automatic_dispatch_off_fills_the_pool(demo, page_factory, shoot):
    admin = page_factory(DESK)
    log_in(admin, "admin")
    admin.goto("/dispatch/rules")
    expect(heading(admin)).to_have_text("分派规则")
    expect(admin.get_by_role("heading", name="分派预览")).to_be_visible()
    shoot(admin, "dispatch-rules")
    admin.get_by_role("button", name="关闭自动分派").click()
    expect(admin.get_by_text("自动分派已关闭：新任务进入待分派池。")).to_be_visible()

    sales = page_factory(DESK)
    log_in(sales, "sales1")
    open_work_order(sales, demo.pending)
    sales.locator("summary", has_text="通过审核").click()
    sales.get_by_label("审核意见（可选）").fill("同意生产")
    expect(sales.locator("#wo-actions form").get_by_role("button", name="通过审核")).to_be_visible()
    shoot(sales, "workorder-approval")
    sales.locator("#wo-actions form").get_by_role("button", name="通过审核").click()
    expect(sales.locator("#wo-detail .page-head")).to_contain_text("已通过")

    supervisor = page_factory(DESK)
    log_in(supervisor, "sup_production")
    supervisor.goto("/dispatch/pool")
    expect(heading(supervisor)).to_have_text("待分派")
    expect(supervisor.get_by_text(f"T{demo.pending}-01")).to_be_visible()
    expect(supervisor.get_by_role("button", name="分派所选任务")).to_be_visible()
    shoot(supervisor, "dispatch-pool")


def test_approved_work_order_and_the_supervisor_board(demo, page_factory, shoot):
    page = page_factory(DESK)
    log_in(page, "sup_printing")
    expect(heading(page)).to_have_text("主管看板")
    expect(page.locator("main")).to_contain_text("未分配")
    expect(page.locator("main")).to_contain_text("刘师傅")
    shoot(page, "supervisor-board")

    open_work_order(page, demo.approved)
    expect(page.locator("#wo-detail .page-head")).to_contain_text("已通过")
    expect(page.locator("tr.task-row")).not_to_have_count(0)
    expect(page.locator("tr.task-row.is-draft")).to_have_count(0)
    shoot(page, "workorder-detail")


def test_kiosk_report_then_task_centre_stats_and_notifications(demo, page_factory, shoot):
    task_number = f"T{demo.approved}-03"  # 印刷 in 印刷车间
    kiosk = page_factory(KIOSK)
    kiosk_log_in(kiosk, "1003", "8003")
    expect(kiosk.locator(".kiosk-bar .who")).to_have_text("刘师傅")
    card = kiosk.locator(".task-card", has_text=task_number)
    act_on_kiosk(kiosk, card.get_by_role("button", name="认领"))
    card = kiosk.locator("#kiosk-mine .task-card", has_text=task_number)
    act_on_kiosk(kiosk, card.get_by_role("button", name="开始"))
    expect(card.locator(".tag.status-in_progress")).to_have_text("进行中")
    kiosk.evaluate("window.scrollTo(0, 0)")
    shoot(kiosk, "kiosk-my-tasks")

    card.locator("summary", has_text="报工").click()
    card.get_by_role("button", name="剩余 800").click()
    expect(card.get_by_label("本次良品数量")).to_have_value("800")
    card.get_by_label("本次不良品数量").fill("6")
    card.get_by_label("不良原因").fill("套色不准")
    card.scroll_into_view_if_needed()
    shoot(kiosk, "kiosk-report")
    card.get_by_role("button", name="提交报工").click()
    expect(kiosk.locator(".toast-success").last).to_contain_text("报工成功，任务已完成")
    expect(kiosk.locator("#kiosk-mine .task-card", has_text=task_number)).to_have_count(0)

    desk = page_factory(DESK)
    log_in(desk, "sup_printing")
    desk.goto("/tasks")
    expect(heading(desk)).to_have_text("任务中心")
    expect(desk.get_by_role("link", name=task_number)).to_be_visible()
    expect(desk.get_by_role("link", name="导出Excel")).to_be_visible()
    shoot(desk, "tasks")

    desk.goto("/notifications")
    expect(heading(desk)).to_have_text("通知中心")
    expect(desk.locator("main")).to_contain_text(f"任务完成：{demo.approved}印刷")
    shoot(desk, "notifications")

    desk.goto("/stats")
    expect(heading(desk)).to_have_text("数据统计")
    expect(desk.get_by_role("link", name="导出完成统计（CSV）")).to_be_visible()
    expect(desk.locator("main")).to_contain_text("刘师傅")  # the operator ranking
    shoot(desk, "stats")

    desk.goto("/board/printing")
    expect(desk.locator("main")).to_contain_text("生产看板")
    expect(desk.locator("main")).to_contain_text("印刷车间")
    shoot(desk, "board")


def test_admin_users_and_departments(demo, page_factory, shoot):
    page = page_factory(DESK)
    log_in(page, "admin")
    page.goto("/admin/users")
    expect(heading(page)).to_have_text("人员")
    expect(page.locator("main")).to_contain_text("共 17 人")
    expect(page.get_by_role("link", name="新建人员")).to_be_visible()
    shoot(page, "admin-users")

    page.goto("/admin/departments")
    expect(heading(page)).to_have_text("部门")
    expect(page.locator("main")).to_contain_text("└ 印刷车间")
    expect(page.locator("main")).to_contain_text("第 2 级")
    shoot(page, "admin-departments")
