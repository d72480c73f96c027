"""The task centre's list region is reused whole only while everything it shows is unchanged: its rows,
the status counts, the page, the filters and the address, and the viewer's rights and live channels
(app.tasks.centre.list_key, app.templating.cached_region)."""
import re

import pytest

import factories as f
from app.extensions import db as _db
from app.templating import REGION_FRAGMENTS, RENDERED_FRAGMENTS
from support.kiosk_world import build_world

# A signed CSRF token: payload.timestamp.signature (the timestamp makes each request's differ).
SIGNED_TOKEN = re.compile(r"[\w.-]*\.[\w-]{4,8}\.[\w-]{20,}")
HTMX = {"HX-Request": "true"}


@pytest.fixture()
def world(db):
    REGION_FRAGMENTS.clear()
    world = build_world()
    world.running = f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator,
                                  status="in_progress", number="TSG2026110001-03", content="印刷：进行中")
    _db.session.commit()
    return world


def region(client, url: str) -> str:
    response = client.get(url, headers=HTMX)
    assert response.status_code == 200
    return SIGNED_TOKEN.sub("TOKEN", response.get_data(as_text=True))


def _uncached(client, url: str) -> str:
    REGION_FRAGMENTS.clear()
    RENDERED_FRAGMENTS.clear()
    return region(client, url)


# Each changes something the region shows besides its rows (the rows' own changes: tests/core/test_fragment_cache.py).
CHANGES = {
    # the tab counts: a task not on this page (the list shows 进行中 only) changes status
    "counts": ("admin", "/tasks?status=in_progress", lambda w: setattr(w.task, "status", "paused")),
    # the live channels: the operator's departments (production holds no task: the rows stay)
    "a department more": ("operator", "/tasks", lambda w: w.operator.departments.append(w.production)),
    # the export button and the 施工单 links: a desk role more
    "a role more": ("operator", "/tasks", lambda w: w.operator.roles.append(f.role("designer"))),
}


@pytest.mark.parametrize("who,url,change", CHANGES.values(), ids=CHANGES.keys())
def test_a_changed_region_is_rendered_anew_and_matches_an_uncached_render(client, login, world, who, url, change):
    login(getattr(world, who))
    before = region(client, url)
    assert region(client, url) == before and len(REGION_FRAGMENTS) == 1  # the second from the cache

    change(world)
    _db.session.commit()
    cached = region(client, url)

    assert cached == _uncached(client, url)
    assert cached != before


def test_an_unchanged_region_is_served_from_the_cache_and_equals_an_uncached_render(client, login, world):
    login(world.admin)
    first = region(client, "/tasks")
    cached = region(client, "/tasks")
    assert len(REGION_FRAGMENTS) == 1
    assert cached == first == _uncached(client, "/tasks")


def test_two_viewers_with_the_same_rows_get_their_own_regions(client, login, world):
    """Two operators of one workshop see the same tasks; each region carries its viewer's own live channel."""
    login(world.operator)
    mine = region(client, "/tasks")
    login(world.other_operator)
    theirs = region(client, "/tasks")
    assert len(REGION_FRAGMENTS) == 2
    assert f'data-live="user:{world.operator.id} dept:{world.printing.id}' in mine
    assert f'data-live="user:{world.other_operator.id} dept:{world.printing.id}' in theirs
    assert theirs == _uncached(client, "/tasks")
