"""The top bar of every page (templates/base.html) is reused only while everything it shows is
unchanged: the person (id, name, roles: the navigation), the current entry, the bell's count, the
language (app.templating.cached_layout)."""
import re

import pytest

import factories as f
from app.extensions import db as _db
from app.templating import LAYOUT_FRAGMENTS
from support.caches import cached_and_fresh

# A signed CSRF token (payload.timestamp.signature): each request signs the session's token anew.
SIGNED_TOKEN = re.compile(r"[\w.-]*\.[\w-]{4,8}\.[\w-]{20,}")
TOPBAR = re.compile(r'<header class="topbar">.*?</header>', re.S)


def topbar(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    found = TOPBAR.search(SIGNED_TOKEN.sub("TOKEN", response.get_data(as_text=True)))
    assert found is not None
    return found.group(0)


# Each changes one thing the top bar shows.
CHANGES = {
    "name": lambda user: setattr(user, "name", "改过的名字"),
    "a role more (navigation)": lambda user: user.roles.append(f.role("supervisor")),
    "a notification (the bell)": lambda user: f.NotificationFactory(recipient=user),
    "every notification read (the bell)": lambda user: [setattr(n, "is_read", True) for n in
                                                       _db.session.query(f.m.Notification).filter_by(recipient_id=user.id)],
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_changed_top_bar_is_rendered_anew_and_matches_an_uncached_render(client, login, make_user, change):
    user = login(make_user("maker"))
    f.NotificationFactory(recipient=user)
    _db.session.commit()
    LAYOUT_FRAGMENTS.clear()
    before = topbar(client, "/notifications")
    assert topbar(client, "/notifications") == before  # now from the cache

    cached, fresh = cached_and_fresh(lambda: change(user), lambda: topbar(client, "/notifications"), LAYOUT_FRAGMENTS)

    assert cached == fresh
    assert cached != before


def test_each_page_marks_its_own_entry(client, login, make_user):
    login(make_user("maker"))
    LAYOUT_FRAGMENTS.clear()
    tasks, work_orders = topbar(client, "/tasks"), topbar(client, "/workorders")
    assert '<a href="/tasks" aria-current="page">' in tasks and '<a href="/workorders" >' in tasks
    assert '<a href="/workorders" aria-current="page">' in work_orders and '<a href="/tasks" >' in work_orders


def test_two_people_in_one_browser_each_get_their_own_top_bar(client, login, make_user):
    """One session, one person after the other: the key, not the session, tells their bars apart."""
    LAYOUT_FRAGMENTS.clear()
    login(make_user("maker", name="制单员甲"))
    maker = topbar(client, "/notifications")
    admin = login(make_user("admin", name="管理员乙"))
    bar = topbar(client, "/notifications")
    assert "制单员甲" in maker and "系统管理" not in maker
    assert "管理员乙" in bar and "系统管理" in bar and f'data-live="user:{admin.id}"' in bar


def test_each_language_has_its_own_top_bar(client, login, make_user):
    login(make_user("maker"))
    LAYOUT_FRAGMENTS.clear()
    chinese = topbar(client, "/notifications")
    english = topbar(client, "/notifications?lang=en")
    assert "任务中心" in chinese and "任务中心" not in english
