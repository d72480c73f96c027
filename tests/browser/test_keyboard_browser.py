"""The keyboard alone, in Debian's chromium: the kiosk's main flow (claim, start, report with a stepper, a refused
report, pause with a reason, resume, complete) with focus asserted after every step; the scan field and a
keyboard-wedge scanner; a 主管看板 assignment; the board's department choice; the skip link."""
import re

import pytest
from playwright.sync_api import expect

import factories as f
from support.kiosk_world import reload

pytestmark = pytest.mark.browser

# The card's next primary action: the server lists it first.
PRIMARY = ".tc-actions > form > button, .tc-actions > details > summary"


def tab_to(page, locator, limit=60):
    """Press Tab until ``locator`` has the focus (the way a keyboard user gets there)."""
    for _ in range(limit):
        # Resolved afresh each time: a live push may have rendered the card again meanwhile.
        if locator.evaluate("(el) => document.activeElement === el"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{limit} Tabs never reached {locator}")


def settled(page):
    """No htmx request in flight (an action's answer, the lists it refreshes) and the swaps settled."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.wait_for_timeout(100)


def assert_focus_on_primary(page, task, label, region="#kiosk-mine"):
    settled(page)
    card = page.locator(f"{region} #task-{task.id}")
    expect(card.locator(PRIMARY).first).to_have_text(label)
    expect(card.locator(PRIMARY).first).to_be_focused()


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def kiosk_login_by_keyboard(page, user):
    page.goto("/kiosk/login")
    expect(page.get_by_label("工号")).to_be_focused()  # autofocus
    page.keyboard.type(user.employee_no)
    page.keyboard.press("Tab")
    page.keyboard.type(f.PIN)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/kiosk$"))


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["1024x768", "390x844"])
def test_kiosk_main_flow_by_keyboard_keeps_focus_on_the_card(world, page_factory, size):
    page = page_factory(viewport=size)
    kiosk_login_by_keyboard(page, world.operator)
    task = world.task
    card = page.locator(f"#task-{task.id}")

    tab_to(page, card.get_by_role("button", name="认领"))
    page.keyboard.press(" ")  # Space presses a button (the scan field used to take it)
    expect(page.locator(f"#kiosk-mine #task-{task.id}")).to_be_visible()
    assert_focus_on_primary(page, task, "开始")

    page.keyboard.press("Enter")
    expect(card.locator(".tag.status-in_progress")).to_have_text("进行中")
    assert_focus_on_primary(page, task, "报工")

    # A refused report: focus on the first invalid field, marked and described, the message announced.
    page.keyboard.press(" ")  # opens the panel
    expect(card.locator("details[data-action=report]")).to_have_attribute("open", "")
    tab_to(page, card.get_by_role("button", name="提交报工"))
    page.keyboard.press("Enter")
    good = card.get_by_label("本次良品数量")
    expect(good).to_be_focused()
    expect(good).to_have_attribute("aria-invalid", "true")
    error = card.locator(f"#good-{task.id}-error")
    expect(error).to_have_attribute("role", "alert")
    expect(good).to_have_attribute("aria-describedby", f"good-{task.id}-error")
    expect(good).to_have_accessible_description(error.inner_text())

    # A report with the stepper: +100 pressed by Enter and by Space.
    tab_to(page, card.get_by_role("button", name="+100"))
    page.keyboard.press("Enter")
    page.keyboard.press(" ")
    expect(good).to_have_value("200")
    tab_to(page, card.get_by_role("button", name="提交报工"))
    page.keyboard.press("Enter")
    expect(card.locator(".tc-done")).to_have_text("200")
    assert_focus_on_primary(page, task, "报工")

    tab_to(page, card.locator("summary", has_text="暂停"))
    page.keyboard.press("Enter")  # Enter opens a panel too
    expect(card.locator("details[data-action=pause]")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(card.get_by_label("设备故障")).to_be_focused()  # the first reason
    page.keyboard.press(" ")
    tab_to(page, card.get_by_role("button", name="确认暂停"))
    page.keyboard.press("Enter")
    expect(card.locator(".tc-paused")).to_have_text("暂停原因：设备故障")
    assert_focus_on_primary(page, task, "继续")

    page.keyboard.press("Enter")
    expect(card.locator(".tag.status-in_progress")).to_have_text("进行中")
    assert_focus_on_primary(page, task, "报工")

    tab_to(page, card.locator("summary", has_text="完成"))
    page.keyboard.press(" ")
    page.keyboard.press("Tab")
    expect(card.get_by_label("完成原因")).to_be_focused()
    page.keyboard.type("客户减量")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    settled(page)
    expect(page.locator(f"#task-{task.id}")).to_have_count(0)  # no longer an open task of mine
    expect(page.locator("#kiosk-mine .kiosk-h")).to_be_focused()  # the list it left, not <body>
    assert reload(task).status == "completed"


def test_the_scan_field_takes_only_characters_no_control_wants(world, page_factory):
    page = page_factory(viewport=(1024, 768))
    kiosk_login_by_keyboard(page, world.operator)
    scan = page.locator("#scan-code")

    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.type("T")  # nothing focused: the scan field takes it
    expect(scan).to_be_focused()
    expect(scan).to_have_value("T")
    scan.fill("")

    # A card's field keeps what is typed into it.
    card = page.locator(f"#task-{world.task.id}")
    tab_to(page, card.get_by_role("button", name="认领"))
    page.keyboard.press("Enter")
    assert_focus_on_primary(page, world.task, "开始")
    tab_to(page, card.locator("summary", has_text="报工"))
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("12")
    expect(card.get_by_label("本次良品数量")).to_have_value("12")
    expect(scan).to_have_value("")

    # A keyboard-wedge scanner "types" a code and Enter while a card's button has the focus: the code opens.
    page.keyboard.press("Shift+Tab")
    expect(card.locator("summary", has_text="报工")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(card.get_by_role("button", name="开始")).to_be_focused()
    with page.expect_request(re.compile(r"/scan\?code=TSG2026110001-02$")):
        page.keyboard.type(world.die_task.number + "\n")
    assert reload(world.task).status == "pending"  # 开始 was not pressed


def test_a_supervisor_assigns_a_task_on_the_board_by_keyboard(world, page_factory):
    page = page_factory(viewport=(1366, 900))
    page.goto("/login")
    page.get_by_label("用户名").fill(world.supervisor.username)
    page.get_by_label("密码").fill(f.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/supervisor$"))

    # The skip link comes first and jumps over the top bar.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到主要内容")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"]')
    select = card.get_by_label("操作员")
    tab_to(page, select)
    page.keyboard.press("ArrowDown")  # 未分配 → the first operator
    expect(select).to_have_value(str(world.operator.id))
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="分配")).to_be_focused()
    with page.expect_response(lambda response: response.url.endswith(f"/tasks/{world.task.id}/assign")):
        page.keyboard.press("Enter")
    settled(page)

    column = page.locator(f'.sv-column[data-drop-operator="{world.operator.id}"]')
    expect(column.locator(f'.sv-card[data-task-id="{world.task.id}"]')).to_be_visible()
    expect(column.locator(f'.sv-card[data-task-id="{world.task.id}"] select')).to_be_focused()
    assert reload(world.task).operator_id == world.operator.id
    # After the board re-renders (live push), the focus is still in that column.
    page.evaluate("() => htmx.trigger(document.body, 'board-refresh')")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    expect(column.locator(f'.sv-card[data-task-id="{world.task.id}"] select')).to_be_focused()


def test_the_board_department_choice_waits_for_enter(world, page_factory):
    page = page_factory(viewport=(1366, 900))
    page.goto("/login")
    page.get_by_label("用户名").fill(world.head_supervisor.username)
    page.get_by_label("密码").fill(f.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/supervisor$"))
    choice = page.get_by_label("部门")
    first = choice.input_value()
    choice.focus()
    page.keyboard.press("ArrowDown")
    second = choice.input_value()
    assert second != first
    page.wait_for_timeout(400)  # a change by arrow key does not navigate
    assert "department=" not in page.url
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"department={second}"))
    expect(page.get_by_label("部门")).to_have_value(second)
