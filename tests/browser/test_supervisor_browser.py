"""主管看板 in chromium: drag a task onto an operator, assign with the select, and a touch-size screenshot."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Task
from support.kiosk_world import reload

pytestmark = pytest.mark.browser


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def desk_login(page, user):
    page.goto("/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("demo123456")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/supervisor"))


def column(page, operator_id=""):
    return page.locator(f'.sv-column[data-drop-operator="{operator_id}"]')


def test_supervisor_drags_a_task_onto_an_operator(world, page_factory, screenshot_dir):
    page = page_factory()
    desk_login(page, world.supervisor)
    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"]')
    expect(column(page).locator(card)).to_have_count(1)
    expect(page.locator(f'[data-load="{world.operator.id}"]')).to_have_text("0/10")

    card.drag_to(column(page, world.operator.id))

    expect(column(page, world.operator.id).locator(f'.sv-card[data-task-id="{world.task.id}"]')).to_have_count(1)
    expect(page.locator(f'[data-load="{world.operator.id}"]')).to_have_text("1/10")
    expect(page.locator(".toast")).to_contain_text("已分配给 刘师傅")
    page.screenshot(path=f"{screenshot_dir}/supervisor-board-drag.png", full_page=True)
    assert reload(world.task).operator_id == world.operator.id


def test_supervisor_assigns_with_the_select_on_a_small_screen(world, page_factory, screenshot_dir):
    page = page_factory(viewport=(768, 1024))
    desk_login(page, world.supervisor)
    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"]')

    card.get_by_label("操作员").select_option(str(world.other_operator.id))
    card.get_by_role("button", name="分配").click()

    expect(page.locator(f'[data-load="{world.other_operator.id}"]')).to_have_text("1/10")
    page.screenshot(path=f"{screenshot_dir}/supervisor-board-select.png", full_page=True)
    assert reload(world.task).operator_id == world.other_operator.id


def test_reassigning_a_started_task_asks_for_a_reason(world, page_factory):
    from app.extensions import db
    from app.services.dispatch import assignment
    from app.services.tasks import actions as tasks

    assignment.assign(world.task.id, world.operator.id, world.supervisor, 1)
    tasks.start(db.session.get(Task, world.task.id), world.operator, 2)
    db.session.commit()
    page = page_factory()
    desk_login(page, world.supervisor)

    page.locator(f'.sv-card[data-task-id="{world.task.id}"]').drag_to(column(page, world.other_operator.id))
    dialog = page.locator("#reason-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("原因").fill("刘师傅请假")
    dialog.get_by_role("button", name="确认").click()

    expect(page.locator(f'[data-load="{world.other_operator.id}"]')).to_have_text("1/10")
    task = reload(world.task)
    assert (task.operator_id, task.status) == (world.other_operator.id, "in_progress")


def test_admin_reorders_rules_by_dragging_and_the_preview_follows(seeded, page_factory, screenshot_dir):
    from sqlalchemy import select

    import factories as f
    from app.extensions import db
    from app.models import AssignmentRule, Department, Process

    admin = f.UserFactory(roles=["admin"])
    db.session.commit()
    prt = db.session.scalar(select(Process).where(Process.code == "PRT"))
    page = page_factory()
    page.goto("/login")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill("demo123456")
    page.get_by_role("button", name="登录").click()
    page.goto(f"/dispatch/rules?process={prt.id}")
    expect(page.locator('#dispatch-preview tr[data-process="PRT"] td').nth(1)).to_have_text("印刷车间")
    cards = page.locator(".rule-card")
    expect(cards.first.locator("h3")).to_contain_text("印刷车间")
    page.screenshot(path=f"{screenshot_dir}/dispatch-rules.png", full_page=True)

    cards.nth(2).drag_to(cards.first, target_position={"x": 20, "y": 5})

    expect(page.locator('#dispatch-preview tr[data-process="PRT"] td').nth(1)).not_to_have_text("印刷车间")
    db.session.expire_all()
    priorities = sorted(db.session.scalars(select(AssignmentRule.priority).where(AssignmentRule.process_id == prt.id)),
                        reverse=True)
    assert priorities == [100, 99, 98]
    top = db.session.scalar(select(AssignmentRule).where(AssignmentRule.process_id == prt.id,
                                                         AssignmentRule.priority == 100))
    assert db.session.get(Department, top.department_id).name != "印刷车间"


def test_touch_drag_with_pointer_events(world, page_factory):
    page = page_factory(viewport=(1024, 768))
    desk_login(page, world.supervisor)
    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"] .sv-card-title .tag').element_handle()
    start, end = card.bounding_box(), column(page, world.operator.id).bounding_box()
    points = [(start["x"] + 5, start["y"] + 5), (start["x"] + 40, start["y"] + 20),
              (end["x"] + end["width"] / 2, end["y"] + end["height"] / 2)]

    for kind, (x, y) in zip(["pointerdown", "pointermove", "pointermove"], points):
        card.evaluate("""(el, [kind, x, y]) => el.dispatchEvent(new PointerEvent(kind, {
            bubbles: true, cancelable: true, pointerId: 7, pointerType: "touch", clientX: x, clientY: y}))""",
                      [kind, x, y])
    page.evaluate("""([x, y]) => document.dispatchEvent(new PointerEvent("pointerup", {
        bubbles: true, pointerId: 7, pointerType: "touch", clientX: x, clientY: y}))""", list(points[-1]))

    expect(page.locator(f'[data-load="{world.operator.id}"]')).to_have_text("1/10")
    assert reload(world.task).operator_id == world.operator.id


def assign_requests(page):
    sent = []
    page.on("request", lambda request: sent.append(request.url)
            if request.method == "POST" and "/tasks/" in request.url else None)
    return sent


def test_a_task_of_a_paused_work_order_offers_no_control_and_cannot_be_dragged(world, page_factory):
    from app.extensions import db

    world.work_order.status = "paused"
    world.task.status = "paused"
    db.session.commit()
    page = page_factory()
    desk_login(page, world.supervisor)
    sent = assign_requests(page)
    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"]')
    expect(card.locator(".sv-blocked")).to_have_text("施工单已暂停")
    expect(card.get_by_label("操作员")).to_have_count(0)
    expect(card.get_by_role("button", name="分配")).to_have_count(0)

    card.drag_to(column(page, world.operator.id))

    page.wait_for_timeout(500)
    expect(column(page).locator(card)).to_have_count(1)
    assert sent == [] and reload(world.task).operator_id is None


def test_an_operator_at_the_cap_is_marked_as_refused_before_the_drop(world, page_factory, screenshot_dir):
    import factories as f
    from app.extensions import db
    from app.services.core import settings

    settings.update(world.admin, {"operator_task_cap": 1})
    f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator, status="pending",
                  number="T-HELD")
    db.session.commit()
    page = page_factory()
    desk_login(page, world.supervisor)
    sent = assign_requests(page)
    full = column(page, world.operator.id)
    expect(full).to_have_attribute("data-refusal", "已达任务上限 1/1")
    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"]')
    expect(card.locator(f'option[value="{world.operator.id}"]')).to_be_disabled()

    card.locator(".sv-card-title .tag").hover()
    page.mouse.down()
    box = full.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40, steps=8)
    expect(full).to_have_class(re.compile(r"\bdrop-refused\b"))
    expect(full).not_to_have_class(re.compile(r"\bdrop-target\b"))
    page.screenshot(path=f"{screenshot_dir}/supervisor-board-cap.png")
    page.mouse.up()

    expect(page.locator(".toast")).to_contain_text("已达任务上限 1/1")
    expect(column(page).locator(card)).to_have_count(1)
    # The other operator is still a target.
    card.drag_to(column(page, world.other_operator.id))
    expect(page.locator(f'[data-load="{world.other_operator.id}"]')).to_have_text("1/1")
    assert len(sent) == 1 and reload(world.task).operator_id == world.other_operator.id


def test_a_mouse_drag_reassigns_a_card_to_exactly_the_operator_of_the_column(world, page_factory):
    """Pressed on a card in one operator's column, moved in steps over another's and let go there: the column is
    marked as a target on the way, and one POST gives the task to that operator, with the card's version and the
    same fields the select sends."""
    from urllib.parse import parse_qs

    from app.extensions import db
    from app.services.dispatch import assignment

    assignment.assign(world.task.id, world.operator.id, world.supervisor, 1)
    db.session.commit()
    version = reload(world.task).version
    page = page_factory()
    desk_login(page, world.supervisor)
    posts = []
    page.on("request", lambda request: posts.append((request.url, request.post_data))
            if request.method == "POST" else None)
    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"]')
    expect(column(page, world.operator.id).locator(card)).to_have_count(1)
    target = column(page, world.other_operator.id)

    card.locator(".sv-card-title .tag").hover()
    page.mouse.down()
    box = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=10)
    expect(target).to_have_class(re.compile(r"\bdrop-target\b"))
    page.mouse.up()

    expect(target.locator(card)).to_have_count(1)
    expect(page.locator(f'[data-load="{world.other_operator.id}"]')).to_have_text("1/10")
    expect(page.locator(f'[data-load="{world.operator.id}"]')).to_have_text("0/10")
    assert len(posts) == 1
    url, body = posts[0]
    fields = parse_qs(body, keep_blank_values=True)
    assert url.endswith(f"/tasks/{world.task.id}/assign")
    assert sorted(fields) == ["csrf_token", "operator_id", "reason", "version"]
    assert (fields["operator_id"], fields["version"], fields["reason"]) == ([str(world.other_operator.id)],
                                                                          [str(version)], [""])
    task = reload(world.task)
    assert (task.operator_id, task.status, task.version) == (world.other_operator.id, "pending", version + 1)


def test_a_card_of_a_cancelled_work_order_does_not_follow_the_mouse(world, page_factory):
    """SortableJS filters the blocked card out before a drag can start: no target is marked, the card stays, and
    nothing is sent."""
    from app.extensions import db

    world.work_order.status = "cancelled"
    db.session.commit()
    page = page_factory()
    desk_login(page, world.supervisor)
    sent = assign_requests(page)
    card = page.locator(f'.sv-card[data-task-id="{world.task.id}"]')
    expect(card.locator(".sv-blocked")).to_have_text("施工单已取消")
    target = column(page, world.operator.id)

    card.locator(".sv-blocked").hover()
    page.mouse.down()
    box = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=10)
    expect(page.locator(".sv-column.drop-target, .sv-column.drop-refused")).to_have_count(0)
    expect(card).not_to_have_class(re.compile(r"\b(dragging|sortable-chosen)\b"))
    page.mouse.up()

    page.wait_for_timeout(500)
    expect(column(page).locator(card)).to_have_count(1)
    expect(target.locator(".sv-card")).to_have_count(0)
    assert sent == [] and reload(world.task).operator_id is None


def board_fetches(page):
    """The board's own GETs (its parts, or the whole board) a page sends from now on."""
    sent = []
    page.on("request", lambda request: sent.append(request.url.split("?", 1)[1])
            if request.method == "GET" and "/supervisor?" in request.url else None)
    return sent


def test_a_change_refetches_only_the_columns_it_touches_and_no_other_departments_board(world, open_as):
    """Assigned elsewhere (another supervisor's screen): this board re-fetches the 未分配 column, the operator's
    column and its head — not the other operator's column, not the whole board; the 模切 board nothing."""
    from app.extensions import db
    from app.services.dispatch import assignment

    p = world.printing.id
    watching = open_as(world.supervisor, f"/supervisor?department={p}")
    elsewhere = open_as(world.other_supervisor, f"/supervisor?department={world.die_cutting.id}")
    fetched, other = board_fetches(watching), board_fetches(elsewhere)

    assignment.assign(world.task.id, world.operator.id, world.head_supervisor, world.task.version)
    db.session.commit()

    card = watching.locator(f'.sv-card[data-task-id="{world.task.id}"]')
    expect(column(watching, world.operator.id).locator(card)).to_have_count(1)
    expect(column(watching).locator(card)).to_have_count(0)
    expect(watching.locator(f'[data-load="{world.operator.id}"]')).to_have_text("1/10")
    watching.wait_for_timeout(500)  # anything else the event would make it fetch has been asked for by now
    assert sorted(fetched) == sorted([f"department={p}&column=unassigned", f"department={p}&column={world.operator.id}",
                                      f"department={p}&column=summary"])
    assert other == []


def test_a_change_that_names_no_part_refetches_the_whole_board_once(world, open_as):
    """A 施工单 paused (its event names no part): one answer brings every part, not one re-fetch per column."""
    from app.extensions import db
    from app.realtime import events

    p = world.printing.id
    watching = open_as(world.supervisor, f"/supervisor?department={p}")
    fetched = board_fetches(watching)

    events.publish("workorder.paused", work_order=world.task.work_order, department_ids=[p])
    db.session.commit()

    watching.wait_for_timeout(800)
    assert fetched == [f"department={p}"]
    expect(column(watching).locator(f'.sv-card[data-task-id="{world.task.id}"]')).to_have_count(1)


def test_an_own_move_refreshes_its_two_columns_and_the_head_with_the_choices(world, page_factory):
    """The cap reached by a drag shows at once in every card's operator choices (the head's template)."""
    import factories as f
    from app.extensions import db
    from app.services.core import settings

    settings.update(world.admin, {"operator_task_cap": 1})
    second = f.TaskFactory(step=world.print_step, department=world.printing, number="T-SECOND")
    db.session.commit()
    page = page_factory()
    desk_login(page, world.supervisor)
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    other_card = page.locator(f'.sv-card[data-task-id="{second.id}"]')
    expect(other_card.locator(f'option[value="{world.operator.id}"]')).to_be_enabled()
    fetched = board_fetches(page)

    page.locator(f'.sv-card[data-task-id="{world.task.id}"]').drag_to(column(page, world.operator.id))

    expect(column(page, world.operator.id)).to_have_attribute("data-refusal", "已达任务上限 1/1")
    expect(other_card.locator(f'option[value="{world.operator.id}"]')).to_be_disabled()
    page.wait_for_timeout(500)
    p = world.printing.id
    assert set(fetched) == {f"department={p}&column=unassigned", f"department={p}&column={world.operator.id}",
                            f"department={p}&column=summary"}
