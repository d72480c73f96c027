"""In the browser: a kiosk's 可认领 list skips an event whose task neither was nor is claimable (the
`claimable: false` hint, static/js/live.js), unless the event is about the viewer; anything else, and a
resync, still re-fetches it."""
import pytest

from app.realtime.hub import HUB
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
