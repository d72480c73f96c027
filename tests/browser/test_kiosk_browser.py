"""The shop floor in Debian's chromium: PIN login → claim → start → pause → resume → report, two rival claimers,
and screenshots at 1024×768 and at phone width."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import factories as f
from app.extensions import db as _db
from app.models import Notification
from app.services.tasks import actions as tasks
from app.services.tasks import reading as task_reading
from app.utils.timeutil import plant_today
from support.browser import kiosk_login
from support.kiosk_world import build_world, reload

pytestmark = pytest.mark.browser


@pytest.fixture()
def world(db):
    world = build_world()
    urgent = f.WorkOrderFactory(number="SG2026110007", approval_status="approved", status="in_progress",
                                priority="urgent", delivery_date=plant_today() + timedelta(days=1))
    step = f.WorkOrderStepFactory(work_order=urgent, process=world.print_step.process)
    world.urgent_task = f.TaskFactory(step=step, number="TSG2026110007-01", content="印刷：画册内页 专色",
                                      target_quantity=5000, department=world.printing)
    overdue = f.WorkOrderFactory(number="SG2026110003", approval_status="approved", status="in_progress",
                                 priority="normal", delivery_date=plant_today() - timedelta(days=1))
    f.TaskFactory(step=f.WorkOrderStepFactory(work_order=overdue, process=world.print_step.process),
                  number="TSG2026110003-01", content="印刷：手提袋", target_quantity=800, completed_quantity=320,
                  defective_quantity=4, status="in_progress", department=world.printing,
                  operator=world.other_operator)
    _db.session.commit()
    return world


def card(page, task):
    return page.locator(f"#task-{task.id}")


def test_operator_claims_starts_pauses_resumes_and_reports_to_completion(world, page_factory, screenshot_dir):
    page = page_factory(viewport=(1024, 768))
    kiosk_login(page, world.operator)
    expect(page.locator(".kiosk-bar .who")).to_have_text("刘师傅")
    task = world.task

    card(page, task).get_by_role("button", name="认领").click()
    expect(page.locator(f"#kiosk-mine #task-{task.id}")).to_be_visible()
    expect(page.locator(f"#kiosk-claimable #task-{task.id}")).to_have_count(0)

    card(page, task).get_by_role("button", name="开始").click()
    expect(card(page, task).locator(".tag.status-in_progress")).to_have_text("进行中")

    card(page, task).locator("summary", has_text="暂停").click()
    card(page, task).get_by_label("设备故障").check()
    card(page, task).get_by_role("button", name="确认暂停").click()
    expect(card(page, task).locator(".tc-paused")).to_have_text("暂停原因：设备故障")

    card(page, task).get_by_role("button", name="继续").click()
    expect(card(page, task).locator(".tag.status-in_progress")).to_have_text("进行中")

    card(page, task).locator("summary", has_text="报工").click()
    card(page, task).get_by_label("本次良品数量").fill("600")
    card(page, task).get_by_label("本次不良品数量").fill("12")
    card(page, task).get_by_label("不良原因").fill("套色不准")
    card(page, task).get_by_role("button", name="提交报工").click()
    expect(card(page, task).locator(".tc-done")).to_have_text("600")
    expect(card(page, task).locator(".tc-defect")).to_have_text("不良 12")
    expect(page.locator(".toast-success").last).to_contain_text("报工成功：600 / 1000")

    card(page, task).locator("summary", has_text="报工").click()  # leave the panel open for the picture
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=f"{screenshot_dir}/kiosk-1024x768.png")
    assert_touch_targets(page)

    card(page, task).get_by_label("本次良品数量").fill("")
    card(page, task).get_by_role("button", name="剩余 400").click()
    expect(card(page, task).get_by_label("本次良品数量")).to_have_value("400")
    card(page, task).get_by_role("button", name="提交报工").click()
    expect(page.locator(".toast-success").last).to_contain_text("报工成功，任务已完成")
    expect(page.locator(f"#kiosk-mine #task-{task.id}")).to_have_count(0)  # no longer an open task

    task = reload(task)
    assert (task.status, task.completed_quantity, task.defective_quantity) == ("completed", 1000, 12)
    assert reload(world.print_step).status == "completed"
    def notified(kind):
        return set(_db.session.scalars(select(Notification.recipient_id).where(Notification.type == kind)))

    # DOMAIN.md §9: 任务完成 goes to the department's supervisors; the creator hears of the step instead.
    assert notified("task_completed") == {world.supervisor.id, world.head_supervisor.id}
    assert notified("process_completed") == {world.creator.id}


def assert_touch_targets(page):
    """Every visible button and control of the kiosk is at least 48 px high."""
    small = page.evaluate("""() => [...document.querySelectorAll('button, summary, .chip, input[type=number]')]
        .filter(el => el.offsetParent !== null)
        .map(el => [el.textContent.trim() || el.name, el.getBoundingClientRect().height])
        .filter(([, height]) => height < 48)""")
    assert small == []


def test_two_rival_claimers_one_is_told_who_won(world, page_factory):
    first, second = page_factory(viewport=(1024, 768)), page_factory(viewport=(1024, 768))
    # The second kiosk's live push has not arrived yet: its socket is held back, so it still shows the card.
    second.route_web_socket(re.compile(r"/ws"), lambda socket: None)
    kiosk_login(first, world.operator)
    kiosk_login(second, world.other_operator)
    task = world.urgent_task
    expect(card(second, task).get_by_role("button", name="认领")).to_be_visible()

    card(first, task).get_by_role("button", name="认领").click()
    expect(first.locator(f"#kiosk-mine #task-{task.id}")).to_be_visible()
    card(second, task).get_by_role("button", name="认领").click()

    expect(second.locator(".toast-error")).to_contain_text("该任务已被 刘师傅 认领")
    expect(second.locator(f"#kiosk-claimable #task-{task.id}")).to_have_count(0)  # the list refreshed
    assert reload(task).operator_id == world.operator.id


def test_a_claim_made_elsewhere_leaves_my_claimable_list_live(world, page_factory):
    page = page_factory(viewport=(1024, 768))
    kiosk_login(page, world.other_operator)
    task = world.urgent_task
    expect(page.locator(f"#kiosk-claimable #task-{task.id}")).to_be_visible()
    page.wait_for_function("() => !document.getElementById('live-banner') || "
                           "document.getElementById('live-banner').hidden")

    tasks.claim(task_reading.get_task(task.id), world.operator, task.version)  # on another kiosk
    _db.session.commit()

    expect(page.locator(f"#kiosk-claimable #task-{task.id}")).to_have_count(0, timeout=5000)


def test_phone_width_screenshot(world, page_factory, screenshot_dir):
    page = page_factory(viewport=(390, 844))
    kiosk_login(page, world.other_operator)
    expect(page.locator(".kiosk-bar .who")).to_have_text("杨师傅")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing sticks out sideways
    assert_touch_targets(page)
    page.screenshot(path=f"{screenshot_dir}/kiosk-phone.png")
