"""The job ticket and a kiosk that never throws the operator out, in Debian's chromium at both kiosk sizes."""
import re

import pytest
from playwright.sync_api import expect

from support.browser import kiosk_login
from support.ticket_world import build_ticket_world

pytestmark = pytest.mark.browser

KIOSK_SIZES = [pytest.param((1024, 768), id="1024x768"), pytest.param((390, 844), id="390x844")]


@pytest.fixture()
def world(db):
    return build_ticket_world()


def box(locator):
    locator.scroll_into_view_if_needed()
    return locator.bounding_box()


@pytest.mark.parametrize("viewport", KIOSK_SIZES)
def test_the_job_ticket_opens_below_the_cards_action_and_on_the_task_page(world, page_factory, screenshot_dir,
                                                                        viewport):
    page = page_factory(viewport=viewport)
    kiosk_login(page, world.operator)
    card = page.locator(f"#kiosk-claimable #task-{world.task.id}")
    claim, toggle = card.get_by_role("button", name="认领"), card.locator("summary", has_text="详情")
    expect(card.locator(".job-ticket")).to_have_count(0)  # nothing of the ticket is loaded before it is opened
    # The card stays glanceable: the quantities, then the one primary action, then 详情 below them.
    quantities_at, claim_at, toggle_at = box(card.locator(".tc-qty")), box(claim), box(toggle)
    assert quantities_at["y"] < claim_at["y"] < toggle_at["y"]
    assert toggle_at["height"] >= 48 and toggle_at["width"] >= 48

    toggle.click()
    ticket = card.locator(".job-ticket")
    expect(ticket.locator(".jt-customer")).to_have_text("华彩包装有限公司")
    expect(ticket.locator(".jt-products li")).to_have_text(["彩盒 · 200×150×80mm · 1000 个", "吊牌 · 50×90mm · 2000 张"])
    expect(ticket.locator(".jt-printing")).to_contain_text("正面印刷")
    expect(ticket.locator(".jt-cmyk")).to_have_text("C M Y K")
    expect(ticket.locator(".jt-spot")).to_have_text("专色528C，金色")
    expect(ticket.locator(".jt-plates li")).to_have_text(
        ["ART2026110001 · 图稿 · 彩盒面纸图稿 · 彩盒 拼版数 4 · 吊牌 拼版数 8"])
    expect(ticket.locator(".jt-requirements")).to_have_text("套准误差≤0.1mm")
    expect(ticket.locator(".jt-wo-notes")).to_have_text("客户来取样，首件签样后再批量")
    expect(ticket.locator(".jt-current")).to_contain_text("印刷")
    image = ticket.locator("img.jt-image")
    image.scroll_into_view_if_needed()
    page.wait_for_function("image => image.complete && image.naturalWidth === 60", arg=image.element_handle())
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]  # nothing sticks out sideways
    page.screenshot(path=f"{screenshot_dir}/kiosk-ticket-{viewport[0]}x{viewport[1]}.png", full_page=True)

    claim.click()  # the card is drawn again, in 我的任务: its ticket stays open
    mine = page.locator(f"#kiosk-mine #task-{world.task.id}")
    expect(mine.get_by_role("button", name="开始")).to_be_visible()
    expect(mine.locator(".job-ticket .jt-customer")).to_have_text("华彩包装有限公司")

    cut_card = page.locator(f"#kiosk-claimable #task-{world.cut_task.id}")
    cut_card.locator("summary", has_text="详情").click()
    expect(cut_card.locator(".jt-materials li")).to_have_text(["300g白卡纸 · 开料尺寸：787×1092mm 开4 · 用量：500张"])
    expect(cut_card.locator(".jt-printing")).to_have_count(0)

    mine.locator(".tc-title a").click()
    page.wait_for_url(f"**/tasks/{world.task.id}")
    expect(page.locator(".kiosk-bar")).to_be_visible()
    expect(page.locator(".task-ticket .jt-plates li")).to_have_text(
        ["ART2026110001 · 图稿 · 彩盒面纸图稿 · 彩盒 拼版数 4 · 吊牌 拼版数 8"])
    expect(page.locator(".task-ticket .jt-current")).to_contain_text("印刷")
    expect(page.locator(".task-detail .tc-ticket")).to_be_hidden()  # no second, folded copy on the card


def expect_kiosk_error(page, message):
    expect(page.locator(".kiosk-error .error-message")).to_have_text(message)
    expect(page.locator(".kiosk-bar .who")).to_have_text("刘师傅")
    expect(page.locator(".mainnav")).to_have_count(0)
    expect(page.locator("#scan-code")).to_be_focused()


@pytest.mark.parametrize("viewport", KIOSK_SIZES)
def test_wrong_scans_and_refused_pages_stay_in_the_kiosk_with_the_scan_field_ready(world, page_factory,
                                                                                 screenshot_dir, viewport):
    page = page_factory(viewport=viewport)
    kiosk_login(page, world.operator)

    page.locator("#scan-code").fill("XYZ123")
    page.locator("#scan-code").press("Enter")
    expect_kiosk_error(page, "未找到编号为 XYZ123 的任务或施工单")
    page.screenshot(path=f"{screenshot_dir}/kiosk-scan-unknown-{viewport[0]}x{viewport[1]}.png")

    page.keyboard.type(world.die_task.number)  # the focused scan field takes the next scan at once
    page.keyboard.press("Enter")
    expect_kiosk_error(page, f"任务 {world.die_task.number} 不属于您的部门")

    page.goto(f"/tasks/{world.die_task.id}")
    expect_kiosk_error(page, f"任务 {world.die_task.number} 不属于您的部门")
    page.goto("/tasks/999999")
    expect_kiosk_error(page, "任务不存在")
    page.goto(f"/workorders/{world.work_order.id}")
    expect_kiosk_error(page, "您只能查看自己创建的施工单或自己负责客户的施工单")

    page.keyboard.type(world.task.number)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/kiosk\?highlight={world.task.id}"))
    expect(page.locator(f"#kiosk-scanned #task-{world.task.id}")).to_be_visible()
