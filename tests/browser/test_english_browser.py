"""English in Debian's chromium (issue 20): the language chosen on the login page survives login on the desk and on
the kiosk (both kiosk sizes), and a refusal — a desk 403, the kiosk's scan of another department's task, its 403 —
says why, in English, inside the right layout."""
import re

import pytest
from playwright.sync_api import expect

from app.policy import REFUSALS
from support.ticket_world import build_ticket_world

pytestmark = pytest.mark.browser

KIOSK_SIZES = [pytest.param((1024, 768), id="1024x768"), pytest.param((390, 844), id="390x844")]
NOT_ENGLISH = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]")


@pytest.fixture()
def world(db):
    return build_ticket_world()


def english(reason) -> str:
    from flask_babel import force_locale

    with force_locale("en"):
        return str(reason)


def test_the_desk_keeps_english_through_login_and_a_403_says_why(app, world, page_factory):
    page = page_factory()
    page.goto("/login?lang=en")
    page.locator("input[name=username]").fill(world.creator.username)
    page.locator("input[name=password]").fill("demo123456")
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("html").get_attribute("lang") == "en"

    response = page.goto("/admin/users")
    assert response.status == 403
    with app.test_request_context():
        reason = english(REFUSALS["admin.access"])
    assert reason.startswith("Only administrators") and not NOT_ENGLISH.search(reason)
    expect(page.locator(".error-page .error-message")).to_have_text(reason)
    expect(page.locator(".mainnav")).to_have_count(1)  # the desk's layout, its navigation and 退出 in reach
    expect(page.get_by_role("button", name="Log Out")).to_be_visible()


@pytest.mark.parametrize("viewport", KIOSK_SIZES)
def test_the_kiosk_keeps_english_through_login_and_refusals_stay_in_the_kiosk(world, page_factory, viewport):
    page = page_factory(viewport=viewport)
    page.goto("/kiosk/login?lang=en")
    page.locator("input[name=employee_no]").fill(world.operator.employee_no)
    page.locator("input[name=pin]").fill("1234")
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/kiosk$"))
    assert page.locator("html").get_attribute("lang") == "en"

    page.locator("#scan-code").fill(world.die_task.number)
    page.locator("#scan-code").press("Enter")
    expect(page.locator(".kiosk-error .error-message")).to_have_text(
        f"Task {world.die_task.number} does not belong to your department")
    expect(page.locator("#scan-code")).to_be_focused()

    page.goto(f"/workorders/{world.work_order.id}")
    expect(page.locator(".kiosk-error .error-message")).to_have_text(
        "You can only see work orders you created or those of your own customers")
    expect(page.locator(".mainnav")).to_have_count(0)
    expect(page.locator("#scan-code")).to_be_focused()
    assert page.locator("html").get_attribute("lang") == "en"
