"""Issue 20 on the kiosk, measured in Debian's chromium: every interactive element of a kiosk page is at least
48 × 48 px at 1024×768 and at 390×844 (the card title and the header links included), and toasts never cover
the work — on a phone not the open report form's steppers, on a desk page not the bell, the name or 退出."""
import re

import pytest
from playwright.sync_api import expect

import factories as f
from app.extensions import db as _db
from app.services.tasks import actions as tasks
from support.browser import kiosk_login
from support.kiosk_world import build_world

pytestmark = pytest.mark.browser

KIOSK_SIZES = [(1024, 768), (390, 844)]

# Every visible element a finger can hit; a radio or checkbox is hit through its label (the chip).
UNDERSIZED = """() => {
  const selector = "a[href], button, summary, select, textarea, input:not([type=hidden]), [tabindex]:not([tabindex='-1'])";
  return [...document.querySelectorAll(selector)]
    .map((el) => (el.type === "radio" || el.type === "checkbox") && el.closest("label") ? el.closest("label") : el)
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
    .map((el) => [el.tagName + " " + (el.textContent.trim().slice(0, 20) || el.name || el.id),
                  Math.round(el.getBoundingClientRect().width), Math.round(el.getBoundingClientRect().height)])
    .filter(([, width, height]) => width < 48 || height < 48);
}"""


@pytest.fixture()
def shop(db):
    world = build_world()
    world.started = f.TaskFactory(step=world.print_step, number="TSG2026110001-03", content="印刷：彩盒底纸",
                                  target_quantity=500, department=world.printing)
    _db.session.commit()
    tasks.claim(world.started, world.operator, world.started.version)
    tasks.start(world.started, world.operator, world.started.version)
    _db.session.commit()
    return world


def assert_all_targets_large(page, where):
    assert page.evaluate(UNDERSIZED) == [], where


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=["1024x768", "390x844"])
def test_every_kiosk_target_is_at_least_48_by_48(shop, page_factory, size):
    page = page_factory(viewport=size)
    page.goto("/kiosk/login")
    assert_all_targets_large(page, "/kiosk/login")
    kiosk_login(page, shop.operator)
    assert_all_targets_large(page, "/kiosk")

    started = page.locator(f"#task-{shop.started.id}")
    started.locator("summary", has_text="报工").click()
    started.locator("summary", has_text="暂停").click()
    page.evaluate("window.appToast('报工成功', 'success')")
    assert_all_targets_large(page, "/kiosk with the 报工 and 暂停 panels open and a toast")

    page.goto(f"/tasks/{shop.started.id}")
    assert_all_targets_large(page, "the task page")
    page.goto(f"/scan/{shop.task.number}")
    assert_all_targets_large(page, "a scanned task")


def overlaps(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] \
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_on_a_phone_a_toast_never_covers_the_report_steppers(shop, page_factory, screenshot_dir):
    page = page_factory(viewport=(390, 844))
    kiosk_login(page, shop.operator)
    started = page.locator(f"#task-{shop.started.id}")
    started.locator("summary", has_text="报工").click()
    steppers = started.locator(".stepper")
    expect(steppers).to_have_count(2)
    bar = page.locator(".kiosk-bar")

    # A real toast (认领 of another card) while the form is open, then one long error on top of it.
    page.locator(f"#task-{shop.task.id}").get_by_role("button", name="认领").click()
    expect(page.locator(".toast-success")).to_contain_text("认领")
    page.evaluate("window.appToast('网络连接失败，请检查网络后重试。网络连接失败，请检查网络后重试', 'error')")
    expect(started.locator("details.tc-panel[data-action=report]")).to_have_attribute("open", "")

    page.screenshot(path=f"{screenshot_dir}/kiosk-phone-toast.png")
    viewport_height = page.viewport_size["height"]
    bar_bottom = bar.bounding_box()["y"] + bar.bounding_box()["height"]
    for index in range(steppers.count()):
        stepper = steppers.nth(index)
        box = stepper.bounding_box()
        # The stepper just below the bar, then at the foot of the screen: wherever the operator has it.
        for top in (bar_bottom + 4, viewport_height - box["height"] - 4):
            page.evaluate("(dy) => window.scrollBy(0, dy)", box["y"] - top)
            box = stepper.bounding_box()
            for toast in page.locator(".toast").all():
                if toast.is_visible():
                    assert not overlaps(toast.bounding_box(), box), (index, top, toast.inner_text())


def test_on_a_desk_page_toasts_leave_the_bell_the_name_and_logout_visible(shop, page_factory):
    page = page_factory(viewport=(1366, 900))
    page.goto("/login")
    page.get_by_label("用户名").fill(shop.supervisor.username)
    page.get_by_label("密码").fill(f.PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/supervisor$"))
    for kind in ("error", "success", "error"):
        page.evaluate("(kind) => window.appToast('该任务已被 刘师傅 认领，列表已刷新，请重新选择任务', kind)", kind)
    header = [page.locator(".userbox .bell"), page.locator(".userbox .who"),
              page.locator(".userbox").get_by_role("button", name="退出")]
    for toast in page.locator(".toast").all():
        for item in header:
            assert not overlaps(toast.bounding_box(), item.bounding_box())
