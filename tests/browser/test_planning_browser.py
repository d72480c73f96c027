"""排产 in chromium (PostgreSQL): drag a block onto another workstation, move with the keyboard, a
refused move with its reason, a second browser following live, the bound kiosk's queue."""
import re

import pytest
from playwright.sync_api import expect

from support.browser import undersized_targets
from support.planning_world import build_planned_world, entry, new_print_task, queue

pytestmark = pytest.mark.browser


@pytest.fixture()
def world(db):
    return build_planned_world()


def desk_login(page, user, landing=r"/(supervisor)?$"):
    page.goto("/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("demo123456")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(landing))


def open_planning(page, world, view="lanes"):
    page.goto(f"/planning?department={world.printing.id}&view={view}")
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")


def lane(page, workstation):
    return page.locator(f'.plan-lane[data-workstation-id="{workstation.id}"]')


def block(page, task):
    return page.locator(f'.plan-block[data-task-id="{task.id}"]')


def drag(page, source, target):
    """A mouse drag in small steps (SortableJS runs its own pointer-driven drag)."""
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + 10, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 20, start["y"] + start["height"] / 2, steps=5)
    page.mouse.move(end["x"] + 12, end["y"] + end["height"] / 2, steps=20)
    page.mouse.up()


def other_press(world, task):
    return world.press_2 if entry(task).workstation_id == world.press_1.id else world.press_1


def test_a_block_dragged_onto_another_workstation_moves_and_stays(world, page_factory, screenshot_dir):
    page = page_factory()
    desk_login(page, world.supervisor)
    open_planning(page, world)
    target = other_press(world, world.second)
    page.evaluate("""window.committed = [];
        document.addEventListener("live:committed", function (event) { window.committed.push(event.detail); });""")

    with page.expect_response(lambda response: response.request.method == "POST") as move:
        drag(page, block(page, world.second), lane(page, target))

    expect(lane(page, target).locator(f'[data-task-id="{world.second.id}"]')).to_have_count(1)
    expect(page.locator(".toast")).to_contain_text("排产已调整")
    # live.js learns the event the move committed, as after an htmx action (its next re-fetch names it)
    assert page.evaluate("window.committed") == [move.value.headers["x-live-event-id"]]
    page.screenshot(path=f"{screenshot_dir}/planning-drag.png", full_page=True)
    assert entry(world.second).workstation_id == target.id
    page.reload()
    expect(lane(page, target).locator(f'[data-task-id="{world.second.id}"]')).to_have_count(1)


def test_the_keyboard_moves_a_task_and_keeps_the_focus(world, page_factory):
    page = page_factory()
    desk_login(page, world.supervisor)
    open_planning(page, world, view="table")
    target = other_press(world, world.second)

    select = page.locator(f"#move-{world.second.id}")
    select.focus()
    select.select_option(str(target.id))
    page.keyboard.press("Tab")
    expect(page.locator(f'[data-plan-key="move-{world.second.id}"]')).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(f'tr[data-task-id="{world.second.id}"]')).to_have_attribute(
        "data-workstation-id", str(target.id))
    expect(page.locator(f'[data-plan-key="move-{world.second.id}"]')).to_be_focused()
    assert entry(world.second).workstation_id == target.id


def test_a_refused_move_shows_the_reason_and_the_block_goes_back(world, page_factory):
    page = page_factory()
    desk_login(page, world.supervisor)
    open_planning(page, world)
    source = entry(world.second).workstation_id

    drag(page, block(page, world.second), lane(page, world.cutter))

    expect(page.locator(".toast-error")).to_contain_text("机台 C1 不能做工序 印刷")
    expect(page.locator(f'.plan-lane[data-workstation-id="{source}"] [data-task-id="{world.second.id}"]')).to_have_count(1)
    expect(lane(page, world.cutter).locator(".plan-block")).to_have_count(0)
    assert entry(world.second).workstation_id == source


def test_a_second_browser_sees_the_move_live(world, page_factory):
    watcher = page_factory()
    desk_login(watcher, world.admin, landing=r"/$")
    open_planning(watcher, world)
    mover = page_factory()
    desk_login(mover, world.supervisor)
    open_planning(mover, world)
    target = other_press(world, world.second)

    drag(mover, block(mover, world.second), lane(mover, target))
    expect(lane(mover, target).locator(f'[data-task-id="{world.second.id}"]')).to_have_count(1)

    expect(lane(watcher, target).locator(f'[data-task-id="{world.second.id}"]')).to_have_count(1)
    assert world.second.id in queue(target)


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["1024x768", "390x844"])
def test_the_kiosk_bound_to_a_workstation_shows_its_queue_in_order(world, page_factory, screenshot_dir, size):
    third = new_print_task(world, "T-THIRD")
    assert third.id in queue(world.press_1) + queue(world.press_2)
    page = page_factory(viewport=size)
    page.goto("/kiosk/login")
    assert undersized_targets(page) == []
    page.get_by_label("工号").fill(world.operator.employee_no)
    page.get_by_label("PIN").fill("1234")
    page.get_by_label("本机机台（可选）").select_option(str(world.press_1.id))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/kiosk$"))

    expected = queue(world.press_1)
    items = page.locator("#kiosk-queue > li")
    expect(items).to_have_count(len(expected))
    assert [int(n) for n in items.evaluate_all("els => els.map(el => el.dataset.taskId)")] == expected
    expect(items.first.locator(".kiosk-plan-next")).to_have_text("下一个")
    assert undersized_targets(page) == []
    page.screenshot(path=f"{screenshot_dir}/planning-kiosk-bound-{size[0]}.png", full_page=True)
