"""Every demo role logs in through the real pages in Debian's chromium and lands on its page, in Chinese."""
import re

import pytest

from app.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser

DESK_LANDINGS = [
    ("admin", "/", "工作台"),
    ("sales1", "/", "工作台"),
    ("maker1", "/", "工作台"),
    ("designer1", "/", "工作台"),
    ("sup_printing", "/supervisor", "主管看板"),
]


@pytest.fixture()
def demo(demo_plant):
    return demo_plant


@pytest.mark.parametrize("username,path,heading", DESK_LANDINGS)
def test_desk_user_logs_in_and_lands_in_chinese(demo, page_factory, username, path, heading):
    page = page_factory()
    page.goto("/login")
    assert page.locator("h1").inner_text() == "登录"
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(rf"{re.escape(path)}$"))
    assert page.locator("h1").first.inner_text() == heading
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("button", name="退出").is_visible()


def test_operator_logs_in_at_the_kiosk_with_pin(demo, page_factory, screenshot_dir):
    page = page_factory(viewport=(1024, 768))
    page.goto("/kiosk/login")
    page.get_by_label("工号").fill("1003")
    page.get_by_label("PIN").fill("8003")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/kiosk$"))
    assert "刘师傅" in page.content()
    page.screenshot(path=f"{screenshot_dir}/kiosk-landing.png")


def test_wrong_password_shows_chinese_error(demo, page_factory):
    page = page_factory()
    page.goto("/login")
    page.get_by_label("用户名").fill("maker1")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().strip() == "用户名或密码错误"
