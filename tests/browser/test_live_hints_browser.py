"""In the browser: a kiosk's 可认领 list skips an event whose task neither was nor is claimable (the
`claimable: false` hint, static/js/live.js), and drops in place the card of a task that left the lists
(`claimable: "left"`) when it holds every card, unless the event is about the viewer; anything else, and a
resync, still re-fetches it."""
import re

import pytest
from playwright.sync_api import expect

import factories as f
from app.enums import PRIORITY_RANK
from app.models import User
from app.realtime.hub import HUB
from app.services.tasks import actions as tasks
from app.services.tasks import reading as task_reading
from app.services.tasks.cards import CLAIMABLE_PAGE_SIZE, CLAIMABLE_RESERVE
from support.kiosk_world import build_world

pytestmark = pytest.mark.browser


def test_the_claimable_list_skips_what_it_cannot_show_and_nothing_else(db, open_as):
    world = build_world()
    page = open_as(world.other_operator, "/kiosk")
    fetched = []
    page.on("request", lambda request: "region=claimable" in request.url and fetched.append(request.url))
    mine = []
    page.on("request", lambda request: "region=mine" in request.url and mine.append(request.url))

    def event(n, claimable, user_ids):
        payload = {"type": "task.updated", "id": f"hint-{n}", "task_id": world.task.id,
                   "work_order_id": world.work_order.id, "department_ids": [world.printing.id], "user_ids": user_ids}
        HUB.dispatch(payload if claimable is None else {**payload, "claimable": claimable})

    event(1, False, [world.operator.id])  # a colleague starts their own task: not on this list
    page.wait_for_timeout(1000)
    assert fetched == [] and mine == []

    event(2, True, [world.operator.id])  # a claim: the task leaves the list
    page.wait_for_timeout(1000)
    assert len(fetched) == 1

    event(3, None, [world.operator.id])  # no hint (a before the server could not know): re-fetch
    page.wait_for_timeout(1000)
    assert len(fetched) == 2

    event(4, False, [world.other_operator.id])  # the viewer's own task: their cap may have changed
    page.wait_for_timeout(1000)
    assert len(fetched) == 3 and len(mine) == 1

    page.evaluate("window.appLive.refreshAll()")  # what a resync does: everything, hints or not
    page.wait_for_timeout(1000)
    assert len(fetched) == 4


def claimable_cards(page):
    return page.locator("#kiosk-claimable .task-card")


def test_a_card_claimed_elsewhere_goes_in_place_and_the_list_is_what_the_server_renders(db, open_as):
    world = build_world()
    second = f.TaskFactory(step=world.print_step, task_type="printing", number="TSG2026110001-03",
                           content="印刷：说明书", target_quantity=500, department=world.printing)
    db.session.commit()
    second_id = second.id
    page = open_as(world.other_operator, "/kiosk")
    fetched = []
    page.on("request", lambda request: "region=claimable" in request.url and fetched.append(request.url))
    expect(claimable_cards(page)).to_have_count(2)

    claimer, task_id, version = world.operator.id, world.task.id, world.task.version
    db.session.expunge_all()  # as a request's own session, which loads the task afresh (its before is known)
    tasks.claim(task_reading.get_task(task_id), db.session.get(User, claimer), version)  # on another kiosk
    db.session.commit()

    expect(page.locator(f"#kiosk-claimable #task-{task_id}")).to_have_count(0)
    expect(page.locator("#kiosk-claimable [data-live-count]")).to_have_text("1")
    page.wait_for_timeout(500)
    assert fetched == []  # no request: the hint named the card
    shown = page.locator("#kiosk-claimable").inner_html()
    page.evaluate("window.appLive.refreshAll()")
    expect(page.locator(f"#kiosk-claimable #task-{second_id}")).to_be_visible()
    page.wait_for_timeout(500)
    assert len(fetched) == 1
    assert normalised(page.locator("#kiosk-claimable").inner_html()) == normalised(shown)


def normalised(html):
    """A region's markup without what may differ between two renders of the same list: the CSRF token, and the
    blank text a card taken out of the grid leaves."""
    return re.sub(r"\s+", " ", re.sub(r'name="csrf_token" value="[^"]*"', "", html))


def left(world, n, task_id, user_ids=()):
    HUB.dispatch({"type": "task.claimed", "id": f"left-{n}", "task_id": task_id, "work_order_id": world.work_order.id,
                  "department_ids": [world.printing.id], "user_ids": list(user_ids), "claimable": "left"})


def test_a_card_leaving_is_fetched_when_the_list_cannot_drop_it_itself(db, open_as):
    world = build_world()
    page = open_as(world.other_operator, "/kiosk")
    fetched = []
    page.on("request", lambda request: "region=claimable" in request.url and fetched.append(request.url))
    expect(claimable_cards(page)).to_have_count(1)

    left(world, 1, world.die_task.id)  # a card this list does not show: nothing changed on it
    page.wait_for_timeout(1000)
    assert fetched == []

    left(world, 2, world.task.id)  # the last card: the empty state comes from the server
    page.wait_for_timeout(1000)
    assert len(fetched) == 1

    left(world, 3, world.task.id, user_ids=[world.other_operator.id])  # the viewer's own: their cap may change
    page.wait_for_timeout(1000)
    assert len(fetched) == 2


def test_the_first_page_of_a_longer_list_moves_the_next_card_up_until_its_reserve_is_spent(db, open_as):
    world = build_world()
    more = [f.TaskFactory(step=world.print_step, task_type="printing", number=f"TSG2026110001-{n:02d}",
                          department=world.printing) for n in range(3, 3 + CLAIMABLE_PAGE_SIZE + CLAIMABLE_RESERVE)]
    db.session.commit()
    listed = [world.task.id] + [task.id for task in more]  # the list's order: one 施工单, by id
    total = len(listed)
    page = open_as(world.other_operator, "/kiosk")
    fetched = []
    page.on("request", lambda request: "region=claimable" in request.url and fetched.append(request.url))
    shown = page.locator("#kiosk-claimable .card-grid").first.locator(".task-card")
    expect(shown).to_have_count(CLAIMABLE_PAGE_SIZE)
    expect(page.locator("#kiosk-claimable .card-reserve .task-card")).to_have_count(CLAIMABLE_RESERVE)
    expect(page.locator("#kiosk-claimable .card-reserve")).to_be_hidden()

    left(world, 1, listed[0])  # the page's first card: the reserve's first moves up to the page's end
    expect(page.locator(f"#kiosk-claimable #task-{listed[0]}")).to_have_count(0)
    expect(shown.last).to_have_id(f"task-{listed[CLAIMABLE_PAGE_SIZE]}")
    expect(shown.last).to_be_visible()
    expect(page.locator("#kiosk-claimable [data-live-count]")).to_have_text([str(total - 1)] * 2)  # head and pager
    left(world, 2, listed[CLAIMABLE_PAGE_SIZE + CLAIMABLE_RESERVE - 1])  # a card of the reserve: the page stays
    expect(page.locator("#kiosk-claimable .card-reserve .task-card")).to_have_count(CLAIMABLE_RESERVE - 2)
    page.wait_for_timeout(500)
    assert fetched == []

    left(world, 3, world.die_task.id)  # not on this page: maybe on a later one, maybe not this list's at all
    page.wait_for_timeout(1000)
    assert len(fetched) == 1


def press_while_the_list_is_refreshed(page, world, button):
    """A finger down on ``button`` while a live answer for its list arrives (held back: docs/LIVE.md §3)."""
    box = button.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    with page.expect_response(lambda response: "region=claimable" in response.url):
        HUB.dispatch({"type": "task.updated", "id": "pressed-1", "task_id": world.die_task.id,
                      "work_order_id": world.work_order.id, "department_ids": [world.printing.id],
                      "user_ids": [world.other_operator.id], "claimable": True})
    page.wait_for_timeout(300)  # the answer is in: had it replaced the list, the release would land on a copy


def test_a_tap_held_while_its_list_is_refreshed_still_claims(db, open_as):
    world = build_world()
    page = open_as(world.operator, "/kiosk")
    press_while_the_list_is_refreshed(
        page, world, page.locator(f"#kiosk-claimable #task-{world.task.id}").get_by_role("button", name="认领"))
    page.mouse.up()
    expect(page.locator(f"#kiosk-mine #task-{world.task.id}")).to_be_visible()
    expect(page.locator(f"#kiosk-claimable #task-{world.task.id}")).to_have_count(0)


def test_an_answer_held_back_by_a_press_is_fetched_again_once_the_finger_lifts(db, open_as):
    world = build_world()
    page = open_as(world.operator, "/kiosk")
    press_while_the_list_is_refreshed(
        page, world, page.locator(f"#kiosk-claimable #task-{world.task.id}").get_by_role("button", name="认领"))
    fetched = []
    page.on("request", lambda request: "region=claimable" in request.url and fetched.append(request.url))
    page.mouse.move(5, 5)  # the finger slides off the button: its release clicks nothing
    page.wait_for_timeout(500)
    assert fetched == []  # still pressed: the list waits
    page.mouse.up()
    page.wait_for_timeout(1000)
    assert len(fetched) == 1  # the answer held back: the list is fetched again once the finger is lifted
    expect(page.locator(f"#kiosk-claimable #task-{world.task.id}")).to_be_visible()  # nothing was claimed


def arrived(world, n, department_ids, order, tasks):
    HUB.dispatch({"type": "work_order.approved", "id": f"arrived-{n}", "task_id": None, "work_order_id": None,
                  "department_ids": department_ids, "user_ids": [],
                  "claimable_arrived": {"order": order, "tasks": tasks}})


def test_tasks_arriving_after_every_card_the_list_holds_only_raise_its_count_as_the_server_would(db, open_as):
    world = build_world()
    more = [f.TaskFactory(step=world.print_step, task_type="printing", number=f"TSG2026110001-{n:02d}",
                          department=world.printing) for n in range(3, 3 + CLAIMABLE_PAGE_SIZE + CLAIMABLE_RESERVE)]
    db.session.commit()
    total = 1 + len(more)
    page = open_as(world.other_operator, "/kiosk")
    fetched = []
    page.on("request", lambda request: "region=claimable" in request.url and fetched.append(request.url))
    counts = page.locator("#kiosk-claimable [data-live-count]")
    expect(counts).to_have_text([str(total)] * 2)  # head and pager: the list holds all but one of its cards

    def approved(number, priority, tasks):
        """A 施工单 approved elsewhere: its tasks are claimable from the commit on, and then the event comes."""
        work_order = f.WorkOrderFactory(number=number, approval_status="approved", status="in_progress",
                                        priority=priority, delivery_date=world.work_order.delivery_date)
        step = f.WorkOrderStepFactory(work_order=work_order, process=world.print_step.process, sequence=20)
        new = [f.TaskFactory(step=step, task_type="printing", number=f"T{number}-{n:02d}", department=world.printing)
               for n in range(1, tasks + 1)]
        db.session.commit()
        return [PRIORITY_RANK[priority], work_order.delivery_date.isoformat()], [task.id for task in new]

    order, newcomers = approved("SG2026110009", "normal", 2)  # a normal 施工单: after every high one
    page.wait_for_timeout(1100)  # past the time an answer may already count what arrives
    arrived(world, 1, [world.printing.id, world.die_cutting.id], order, {str(world.printing.id): newcomers})
    expect(counts).to_have_text([str(total + 2)] * 2)
    arrived(world, 2, [world.printing.id, world.die_cutting.id], order,
            {str(world.die_cutting.id): [world.die_task.id]})  # nothing new to this list
    page.wait_for_timeout(800)
    assert fetched == []  # no request: every newcomer stands after the last card held
    shown = page.locator("#kiosk-claimable").inner_html()
    page.evaluate("window.appLive.refreshAll()")
    page.wait_for_timeout(800)
    assert len(fetched) == 1
    assert normalised(page.locator("#kiosk-claimable").inner_html()) == normalised(shown)

    order, newcomers = approved("SG2026110010", "urgent", 1)
    page.wait_for_timeout(1100)
    arrived(world, 3, [world.printing.id], order, {str(world.printing.id): newcomers})
    expect(page.locator("#kiosk-claimable .card-grid .task-card").first).to_contain_text("SG2026110010")
    expect(counts).to_have_text([str(total + 3)] * 2)  # an urgent one goes first: fetched
    assert len(fetched) == 2


def test_a_card_claimed_from_beyond_the_cards_held_only_lowers_the_count_as_the_server_would(db, open_as):
    world = build_world()
    more = [f.TaskFactory(step=world.print_step, task_type="printing", number=f"TSG2026110001-{n:02d}",
                          department=world.printing) for n in range(3, 3 + CLAIMABLE_PAGE_SIZE + CLAIMABLE_RESERVE + 1)]
    db.session.commit()
    total, beyond = 1 + len(more), more[-1]  # the list's order: one 施工单, by id; the last is on the next page
    page = open_as(world.other_operator, "/kiosk")
    fetched = []
    page.on("request", lambda request: "region=claimable" in request.url and fetched.append(request.url))
    counts = page.locator("#kiosk-claimable [data-live-count]")
    expect(counts).to_have_text([str(total)] * 2)
    expect(page.locator(f"#kiosk-claimable #task-{beyond.id}")).to_have_count(0)
    page.wait_for_timeout(1100)  # past the time an answer may already leave the card out

    beyond.operator_id, beyond.status = world.operator.id, "in_progress"  # claimed and started on another kiosk
    db.session.commit()
    order = [PRIORITY_RANK[world.work_order.priority], world.work_order.delivery_date.isoformat()]
    HUB.dispatch({"type": "task.claimed", "id": "beyond-1", "task_id": beyond.id, "work_order_id": world.work_order.id,
                  "department_ids": [world.printing.id], "user_ids": [world.operator.id], "claimable": "left",
                  "order": order})
    expect(counts).to_have_text([str(total - 1)] * 2)
    page.wait_for_timeout(800)
    assert fetched == []  # no request: it stood after the last card held
    shown = page.locator("#kiosk-claimable").inner_html()
    page.evaluate("window.appLive.refreshAll()")
    page.wait_for_timeout(800)
    assert len(fetched) == 1
    assert normalised(page.locator("#kiosk-claimable").inner_html()) == normalised(shown)

    HUB.dispatch({"type": "task.claimed", "id": "beyond-2", "task_id": world.die_task.id,
                  "work_order_id": world.work_order.id, "department_ids": [world.printing.id], "user_ids": [],
                  "claimable": "left"})  # no place given (its 施工单 is not on the lists): fetched
    page.wait_for_timeout(1000)
    assert len(fetched) == 2
