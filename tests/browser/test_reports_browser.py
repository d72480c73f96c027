"""数据统计, 任务中心 and the exports in chromium: the charts are drawn (screenshot), every export downloads,
and a bulk action shows its per-task results and refreshes the list."""
import csv
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from support.reports_world import MARCH

pytestmark = pytest.mark.browser


@pytest.fixture()
def world(reports_world):
    return reports_world


def desk_login(page, user):
    page.goto("/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("demo123456")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))


def download(page, click) -> tuple[str, bytes]:
    with page.expect_download() as info:
        click()
    item = info.value
    with open(item.path(), "rb") as handle:
        return item.suggested_filename, handle.read()


def test_statistics_charts_are_drawn_and_the_exports_download(world, page_factory, screenshot_dir):
    page = page_factory(viewport=(1280, 900))
    desk_login(page, world.admin)
    page.goto(f"/stats?date_from={MARCH['date_from']}&date_to={MARCH['date_to']}&granularity=week")
    expect(page.locator("h1")).to_have_text("数据统计")
    expect(page.locator("canvas[data-rendered='true']")).to_have_count(3)
    drawn = page.evaluate("""() => Array.from(document.querySelectorAll('canvas[data-chart]'))
        .map(c => { const chart = Chart.getChart(c); return chart ? chart.data.datasets[0].data.length : 0; })""")
    assert drawn == [6, 3, 3]  # 6 weeks; 3 department rows; 3 operators
    # The chart library is the vendored file, served by this app (offices and kiosks may be offline).
    assert page.evaluate("Chart.version") == "4.6.1"
    expect(page.locator('[data-figure="defect_rate"] .num')).to_have_text("7.8%")
    page.get_by_text("查看数据表").first.click()
    expect(page.locator("#table-completions")).to_contain_text("03-02~03-08")
    page.screenshot(path=f"{screenshot_dir}/stats.png", full_page=True)

    name, data = download(page, lambda: page.get_by_role("link", name="导出完成统计（CSV）").click())
    assert name.startswith("完成统计_") and name.endswith(".csv")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0][0] == "完成日期" and len(lines) == 5

    page.get_by_label("部门", exact=True).select_option(str(world.printing.id))
    page.get_by_role("button", name="筛选").click()
    name, data = download(page, lambda: page.get_by_role("link", name="部门报表（PDF）").click())
    assert name.startswith("部门报表_印刷车间_") and name.endswith(".pdf")
    assert "部门报表：生产部 - 印刷车间" in PdfReader(io.BytesIO(data)).pages[0].extract_text()

    page.goto("/tasks?status=completed")
    name, data = download(page, lambda: page.get_by_role("link", name="导出Excel").click())
    assert name.startswith("任务列表_") and name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(data))["任务列表"]
    assert sheet.max_row == 1 + 5

    # The 施工单 list's own page offers no button yet: follow the link its button would have.
    page.goto("/workorders")
    name, data = download(page, lambda: page.evaluate("window.location.href = '/exports/workorders.xlsx?status=completed'"))
    assert name.startswith("施工单列表_")
    assert load_workbook(io.BytesIO(data))["施工单列表"].max_row == 1 + 2


def test_bulk_cancel_shows_each_result_and_refreshes_the_list(world, page_factory, screenshot_dir):
    page = page_factory(viewport=(1280, 900))
    desk_login(page, world.admin)
    page.goto("/tasks?status=open")
    expect(page.locator("#task-total")).to_have_text("共 3 个任务")
    page.get_by_label(world.t5.number).check()
    page.get_by_label(world.t6.number).check()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.get_by_label("取消原因").fill("客户改单")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="批量取消").click()
    expect(page.locator(".bulk-results li.ok")).to_have_count(2)
    expect(page.locator(".bulk-results")).to_contain_text("成功 2 个，失败 0 个")
    expect(page.locator(".toast-success")).to_contain_text("成功 2 个，失败 0 个")
    expect(page.locator("#task-total")).to_have_text("共 1 个任务")  # the list re-fetched itself
    page.screenshot(path=f"{screenshot_dir}/task-centre-bulk.png", full_page=True)


def test_filters_change_the_list_and_the_address(world, page_factory):
    page = page_factory(viewport=(1280, 900))
    desk_login(page, world.admin)
    page.goto("/tasks")
    page.get_by_label("部门", exact=True).select_option(str(world.die_cutting.id))
    expect(page.locator("#task-total")).to_have_text("共 2 个任务")
    expect(page).to_have_url(re.compile(rf"department={world.die_cutting.id}"))
    page.locator('.status-tabs a[data-status="pending"]').click()
    expect(page.locator("#task-total")).to_have_text("共 1 个任务")
    expect(page).to_have_url(re.compile(r"status=pending"))
