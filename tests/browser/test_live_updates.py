"""In the browser: the bell and the TV board change without reload; a dropped socket shows the
banner, reconnects and re-fetches what it missed."""
import pytest
from playwright.sync_api import expect

from app.models import Task
from app.realtime import events
from app.realtime.hub import HUB
from app.services.notifications import inbox as notifications
from factories import DepartmentFactory, TaskFactory, UserFactory
from testkit.live import change, wait_for

pytestmark = pytest.mark.browser


def notify(db, user, title):
    notifications.notify([user], "system", title, "内容")
    db.session.commit()


def test_a_notification_for_one_user_updates_only_their_bell_without_reload(db, open_as):
    maker, supervisor = UserFactory(roles=["maker"]), UserFactory(roles=["supervisor"])
    maker_page = open_as(maker, "/notifications")
    supervisor_page = open_as(supervisor, "/notifications")
    expect(supervisor_page.locator("#bell-count")).to_be_hidden()

    notify(db, supervisor, "新的通知")

    expect(supervisor_page.locator("#bell-count")).to_have_text("1", timeout=1000)
    expect(supervisor_page.locator("#notification-list")).to_contain_text("新的通知", timeout=1000)
    expect(maker_page.locator("#bell-count")).to_be_hidden()
    assert maker_page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded


def test_the_drop_down_shows_the_latest_and_marks_all_read(db, open_as, screenshot_dir):
    user = UserFactory(roles=["maker"])
    notify(db, user, "第一条")
    page = open_as(user, "/notifications")

    page.locator("#bell-menu summary").click()
    expect(page.locator("#bell-panel")).to_contain_text("第一条")
    page.screenshot(path=f"{screenshot_dir}/live-bell-dropdown.png")
    page.locator("#bell-panel").get_by_role("button", name="全部已读").click()

    expect(page.locator("#bell-count")).to_be_hidden()
    expect(page.locator("#notification-list .is-unread")).to_have_count(0)


def test_a_dropped_socket_shows_the_banner_then_reconnects_and_resyncs(db, open_as, screenshot_dir):
    user = UserFactory(roles=["supervisor"])
    page = open_as(user, "/notifications")
    banner = page.locator("#live-banner")
    expect(banner).to_be_hidden()

    HUB.close_all(1012, "server restart")  # what gunicorn's stop signal does
    expect(banner).to_be_visible()
    expect(banner).to_have_text("连接已断开，正在重连…")
    page.screenshot(path=f"{screenshot_dir}/live-disconnected.png")
    notify(db, user, "断线期间的通知")  # sent while nobody listens: only the resync can show it

    expect(banner).to_be_hidden(timeout=5000)
    expect(page.locator("#bell-count")).to_have_text("1")
    expect(page.locator("#notification-list")).to_contain_text("断线期间的通知")


def test_a_change_during_a_region_fetch_is_fetched_again_once_the_answer_settles(db, open_as):
    department = DepartmentFactory(code="printing", name="印刷车间")
    supervisor = UserFactory(roles=["supervisor"], departments=[department])
    first = TaskFactory(department=department, status="pending", content="印刷：彩盒A")
    second = TaskFactory(department=department, status="pending", content="印刷：彩盒B")
    page = open_as(supervisor, "/board/printing")
    held = []

    def hold_the_first_answer(route):  # fetched now (before the second change), delivered later
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route("**/board/printing*", hold_the_first_answer)
    change(db, first.id, "task.started", status="in_progress")
    while not held:
        page.wait_for_timeout(50)  # lets Playwright run the route handler
    change(db, second.id, "task.started", status="in_progress")
    page.wait_for_timeout(500)  # the second event arrives while the first answer is still held
    route, answer = held[0]
    route.fulfill(response=answer)

    expect(page.locator(".board-stat-in_progress .num")).to_have_text("2")
    expect(page.locator(".board-stat-pending .num")).to_have_text("0")


def test_the_tv_board_follows_a_task_change_without_reload(db, open_as, screenshot_dir):
    department = DepartmentFactory(code="printing", name="印刷车间")
    supervisor = UserFactory(roles=["supervisor"], departments=[department])
    task = TaskFactory(department=department, status="pending", content="印刷：彩盒A")
    page = open_as(supervisor, "/board/printing")
    expect(page.locator(".board-stat-in_progress .num")).to_have_text("0")
    refetches = []
    page.on("request", lambda request: "/board/printing" in request.url and refetches.append(request.headers))

    db.session.get(Task, task.id).status = "in_progress"
    events.publish("task.started", task=task)
    db.session.commit()

    expect(page.locator(".board-stat-in_progress .num")).to_have_text("1", timeout=1000)
    expect(page.locator(".board-column-in_progress")).to_contain_text("印刷：彩盒A")
    # live.js names the event it heard (so a render another screen asked for may be shared) and says the
    # re-fetch is no person's activity.
    assert [(headers.get("x-live-refresh"), bool(headers.get("x-live-seen"))) for headers in refetches] == [("1", True)]
    assert wait_for(lambda: page.locator(".board-stat-pending .num").inner_text() == "0")
    page.screenshot(path=f"{screenshot_dir}/live-board.png", full_page=True)
