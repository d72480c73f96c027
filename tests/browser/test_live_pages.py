"""Two people, two pages: a supervisor's department board and an operator's kiosk follow each
other's changes without reload, and both come back after a server restart."""
import pytest
from playwright.sync_api import expect

from app.realtime.hub import HUB
from app.utils.timeutil import utcnow
from factories import DepartmentFactory, TaskFactory, UserFactory, WorkOrderFactory
from testkit.live import change

pytestmark = pytest.mark.browser


def test_board_and_kiosk_follow_each_other_and_resync_after_a_restart(db, open_as, screenshot_dir):
    department = DepartmentFactory(code="printing", name="印刷车间")
    supervisor = UserFactory(name="印刷主管", roles=["supervisor"], departments=[department])
    operator = UserFactory(name="刘师傅", roles=["operator"], departments=[department])
    work_order = WorkOrderFactory(approval_status="approved", status="in_progress")
    first = TaskFactory(work_order=work_order, step__work_order=work_order, department=department,
                        content="印刷：彩盒A").id
    second = TaskFactory(work_order=work_order, step__work_order=work_order, department=department,
                         content="印刷：彩盒B").id
    board = open_as(supervisor, "/board/printing")
    kiosk = open_as(operator, "/kiosk", viewport=(1024, 768))
    mine = kiosk.locator("#kiosk-mine")
    expect(mine).not_to_contain_text("印刷：彩盒A")

    # The supervisor assigns → the operator's kiosk shows it without reload.
    change(db, first, "task.assigned", operator_id=operator.id)
    expect(mine).to_contain_text("印刷：彩盒A", timeout=1000)

    # The operator completes it → the board's counts change.
    change(db, first, "task.completed", status="completed", completed_quantity=1000, completed_at=utcnow())
    expect(board.locator(".board-stat-completed .num")).to_have_text("1", timeout=1000)
    expect(board.locator(".board-stat-pending .num")).to_have_text("1")

    # A restart: both pages lose their socket, show the banner, come back and catch up on what
    # happened while they were down.
    HUB.close_all(1012, "server restart")
    expect(board.locator("#live-banner")).to_be_visible()
    expect(kiosk.locator("#live-banner")).to_be_visible()
    change(db, second, "task.assigned", operator_id=operator.id)

    expect(kiosk.locator("#live-banner")).to_be_hidden(timeout=5000)
    expect(board.locator("#live-banner")).to_be_hidden(timeout=5000)
    expect(mine).to_contain_text("印刷：彩盒B")
    expect(board.locator(".board-column-pending")).to_contain_text("刘师傅")
    kiosk.screenshot(path=f"{screenshot_dir}/live-kiosk-after-resync.png")


def test_task_centre_follows_a_completion_made_elsewhere(db, open_as):
    department = DepartmentFactory(code="diecut", name="模切车间")
    supervisor = UserFactory(name="模切主管", roles=["supervisor"], departments=[department])
    operator = UserFactory(name="王师傅", roles=["operator"], departments=[department])
    work_order = WorkOrderFactory(approval_status="approved", status="in_progress")
    task_id = TaskFactory(work_order=work_order, step__work_order=work_order, department=department,
                          operator=operator, status="in_progress", content="模切：彩盒A").id
    page = open_as(supervisor, "/tasks")
    row = page.locator(f"#task-row-{task_id}")
    expect(row).to_contain_text("进行中")

    change(db, task_id, "task.completed", status="completed", completed_quantity=1000, completed_at=utcnow())

    expect(row).to_contain_text("已完成", timeout=1500)
    expect(page.locator('.status-tabs [data-status="completed"] .count')).to_have_text("1")
