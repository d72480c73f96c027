"""通知中心, the bell and the drop-down: access, own-only, filters, read state, texts."""
import re
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import event, select

from app.models import Notification
from app.notifications.routes import relative_time
from app.services.core import settings as settings_service
from app.services.notifications import inbox, listing
from app.templating import RENDERED_FRAGMENTS
from app.utils.timeutil import utcnow
from factories import NotificationFactory, TaskFactory, UserFactory, WorkOrderFactory

ROLES = ["admin", "salesperson", "maker", "supervisor", "operator", "designer"]
HTMX = {"HX-Request": "true"}
# A signed CSRF token (payload.timestamp.signature): each request signs the session's token anew.
SIGNED_TOKEN = re.compile(r"[\w.-]*\.[\w-]{4,8}\.[\w-]{20,}")


def own_notification(user):
    return NotificationFactory(recipient=user).id


ROUTES = [
    ("GET", lambda user: "/notifications", 200),
    ("GET", lambda user: "/notifications/bell", 200),
    ("GET", lambda user: "/notifications/latest", 200),
    ("POST", lambda user: "/notifications/read-all", 303),
    ("POST", lambda user: f"/notifications/{own_notification(user)}/read", 303),
]


@pytest.mark.parametrize("method,path,expected", ROUTES)
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reaches_its_own_notifications(client, login_as, role, method, path, expected):
    user = login_as(role)
    response = client.open(path(user), method=method)
    assert response.status_code == expected


@pytest.mark.parametrize("method,path,expected", ROUTES)
def test_anonymous_is_sent_to_the_login(client, db, method, path, expected):
    response = client.open(path(UserFactory()), method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_someone_elses_notification_is_not_found_and_stays_unread(client, login_as):
    login_as("maker")
    theirs = NotificationFactory(recipient=UserFactory())

    response = client.post(f"/notifications/{theirs.id}/read", headers=HTMX)

    assert response.status_code == 404
    assert unquote(response.headers["X-Message"]) == "通知不存在"
    assert client.application.extensions["sqlalchemy"].session.get(Notification, theirs.id).is_read is False


def test_the_list_shows_only_mine_with_links_and_relative_times(client, login_as):
    user = login_as("maker")
    work_order = WorkOrderFactory()
    task = TaskFactory()
    NotificationFactory(recipient=user, title="任务通知", task_id=task.id, work_order_id=task.work_order_id,
                        created_at=utcnow() - timedelta(minutes=5))
    NotificationFactory(recipient=user, title="施工单通知", work_order_id=work_order.id,
                        created_at=utcnow() - timedelta(hours=3))
    NotificationFactory(recipient=UserFactory(), title="别人的通知")

    html = client.get("/notifications").get_data(as_text=True)

    assert "任务通知" in html and "施工单通知" in html and "别人的通知" not in html
    assert f"next=/tasks/{task.id}" in html and f"/workorders/{work_order.id}" in html
    assert "5分钟前" in html and "3小时前" in html


def test_filters_by_read_state_and_type(client, login_as):
    user = login_as("maker")
    NotificationFactory(recipient=user, title="未读的审核", type="approval_passed")
    NotificationFactory(recipient=user, title="已读的审核", type="approval_passed", is_read=True)
    NotificationFactory(recipient=user, title="未读的任务", type="task_assigned")

    unread = client.get("/notifications?read=unread").get_data(as_text=True)
    read = client.get("/notifications?read=read").get_data(as_text=True)
    by_type = client.get("/notifications?type=task_assigned", headers=HTMX).get_data(as_text=True)
    nonsense = client.get("/notifications?read=maybe&type=nope&page=x").get_data(as_text=True)

    assert ("未读的审核" in unread, "已读的审核" in unread, "未读的任务" in unread) == (True, False, True)
    assert ("未读的审核" in read, "已读的审核" in read, "未读的任务" in read) == (False, True, False)
    assert ("未读的审核" in by_type, "未读的任务" in by_type) == (False, True)
    assert not by_type.lstrip().startswith("<!doctype")  # the htmx partial only
    assert all(title in nonsense for title in ("未读的审核", "已读的审核", "未读的任务"))


def test_empty_state(client, login_as):
    login_as("operator")
    assert "暂无通知" in client.get("/notifications").get_data(as_text=True)
    assert "暂无通知" in client.get("/notifications/latest").get_data(as_text=True)


def test_mark_one_read_by_htmx_tells_the_regions_to_refresh(client, login_as, db):
    user = login_as("maker")
    notification_id = NotificationFactory(recipient=user).id

    response = client.post(f"/notifications/{notification_id}/read", headers=HTMX)

    assert (response.status_code, response.headers["HX-Trigger"]) == (200, "notifications-changed")
    row = db.session.get(Notification, notification_id)
    assert row.is_read is True and row.read_at is not None


def test_opening_a_notification_marks_it_read_and_goes_to_its_target(client, login_as, db):
    user = login_as("operator")
    notification_id = NotificationFactory(recipient=user).id

    response = client.post(f"/notifications/{notification_id}/read?next=/tasks/9")
    evil = client.post(f"/notifications/{notification_id}/read?next=//evil.example/")

    assert (response.status_code, response.headers["Location"]) == (303, "/tasks/9")
    assert evil.headers["Location"] == "/notifications"
    assert db.session.get(Notification, notification_id).is_read is True


def test_mark_all_read_only_touches_mine(client, login_as, db):
    user = login_as("maker")
    for _ in range(2):
        NotificationFactory(recipient=user)
    NotificationFactory(recipient=user, is_read=True)
    theirs = NotificationFactory(recipient=UserFactory())

    response = client.post("/notifications/read-all", headers=HTMX)

    assert unquote(response.headers["X-Message"]) == "已将 2 条通知标记为已读"
    assert db.session.scalar(select(Notification.is_read).where(Notification.id == theirs.id)) is False
    mine = db.session.scalars(select(Notification.is_read).where(Notification.recipient_id == user.id)).all()
    assert mine == [True, True, True]


@pytest.mark.parametrize("count,badge", [(0, None), (5, "5"), (99, "99"), (120, "99+")])
def test_the_bell_badge(client, login_as, count, badge):
    user = login_as("supervisor")
    for _ in range(count):
        NotificationFactory(recipient=user)
    html = client.get("/notifications/bell").get_data(as_text=True)
    assert 'id="bell-count"' in html and f'data-live="user:{user.id}"' in html
    if badge is None:
        assert "hidden" in html
    else:
        assert f">{badge}</span>" in html and "hidden" not in html


def test_every_page_carries_the_bell_with_the_count_and_the_socket_url(client, login_as):
    user = login_as("maker")
    NotificationFactory(recipient=user)
    html = client.get("/notifications").get_data(as_text=True)
    assert ">1</span>" in html
    assert 'data-live-url="ws://' in html and '/ws">' in html
    assert "连接已断开，正在重连…" in html


def test_the_drop_down_lists_the_latest_eight(client, login_as):
    user = login_as("maker")
    for number in range(10):
        NotificationFactory(recipient=user, title=f"通知{number:02d}", created_at=utcnow() - timedelta(minutes=number))
    html = client.get("/notifications/latest").get_data(as_text=True)
    assert [f"通知{n:02d}" in html for n in range(10)] == [True] * 8 + [False] * 2


@pytest.mark.parametrize("seconds,text", [(5, "刚刚"), (59, "刚刚"), (60, "1分钟前"), (3599, "59分钟前"),
                                          (3600, "1小时前"), (86399, "23小时前"), (86400, "1天前"), (29 * 86400, "29天前")])
def test_relative_time(app, seconds, text):
    now = datetime(2026, 11, 20, 8, 0, 0)
    with app.test_request_context():
        assert relative_time(now - timedelta(seconds=seconds), now) == text


def _statements(db, call):
    seen = []

    def listener(*args):
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return result, len(seen)


@pytest.mark.parametrize("read,type_", [(None, None), ("unread", None), ("read", None), (None, "task_assigned")])
def test_a_page_its_total_and_the_unread_count_come_in_one_query_and_match_the_orm_list(app, db, read, type_):
    user, other = UserFactory(), UserFactory()
    for number in range(25):
        NotificationFactory(recipient=user, title=f"通知{number}", is_read=number % 3 == 0,
                            type="task_assigned" if number % 2 else "approval_passed",
                            created_at=utcnow() - timedelta(minutes=number))
    NotificationFactory(recipient=user, title="过期", created_at=utcnow() - timedelta(days=400))
    NotificationFactory(recipient=other, title="别人的")
    db.session.commit()
    with app.test_request_context():
        settings_service.all_values()  # read once per request, whatever the page
        assert user.id  # loaded again after the commit
        for page in (1, 2):
            rows, statements = _statements(db, lambda page=page: listing.page_for(
                user, read=read, type_=type_, page=page, per_page=5, with_unread=True))
            orm = inbox.list_for(user, read=read, type_=type_, page=page, per_page=5)
            assert statements == 1
            assert [(r.id, r.title, r.is_read, r.type, r.created_at) for r in rows.items] == \
                [(n.id, n.title, n.is_read, n.type, n.created_at) for n in orm.items]
            assert (rows.total, rows.pages, list(rows.iter_pages())) == (orm.total, orm.pages, list(orm.iter_pages()))
            assert rows.unread == inbox.unread_count(user) == 16


def test_a_page_past_the_end_is_empty_with_the_total_and_the_unread_count(app, db):
    user = UserFactory()
    for number in range(3):
        NotificationFactory(recipient=user, is_read=number == 0)
    db.session.commit()
    with app.test_request_context():
        settings_service.all_values()
        assert user.id
        far, statements = _statements(db, lambda: listing.page_for(user, page=9, with_unread=True))
        nothing = listing.page_for(UserFactory(), with_unread=True)
    assert statements == 2
    assert (far.items, far.total, far.unread, far.page) == ([], 3, 2, 9)
    assert (nothing.items, nothing.total, nothing.unread, nothing.pages) == ([], 0, 0, 0)


def test_the_bell_of_a_filtered_list_counts_every_unread_notification(client, login_as):
    user = login_as("maker")
    NotificationFactory(recipient=user, title="已读的", is_read=True)
    for _ in range(4):
        NotificationFactory(recipient=user, type="task_assigned")
    html = client.get("/notifications?read=read").get_data(as_text=True)
    assert "已读的" in html and 'title="未读通知">4</span>' in html


def _page(client, url, headers=None) -> str:
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    return SIGNED_TOKEN.sub("TOKEN", response.get_data(as_text=True))


# Each changes one thing an item shows (its relative time too: the moment it was created).
NOTICE_CHANGES = {
    "title": lambda n, w: setattr(n, "title", "改过的标题"),
    "content": lambda n, w: setattr(n, "content", "改过的内容"),
    "read": lambda n, w: setattr(n, "is_read", True),
    "type": lambda n, w: setattr(n, "type", "task_cancelled"),
    "priority": lambda n, w: setattr(n, "priority", "urgent"),
    "its task": lambda n, w: setattr(n, "task_id", None),
    "its 施工单": lambda n, w: (setattr(n, "task_id", None), setattr(n, "work_order_id", w.id)),
    "relative time": lambda n, w: setattr(n, "created_at", n.created_at - timedelta(hours=2)),
}


@pytest.mark.parametrize("url,headers", [("/notifications", None), ("/notifications", HTMX),
                                         ("/notifications/latest", HTMX)], ids=["page", "region", "drop-down"])
@pytest.mark.parametrize("change", NOTICE_CHANGES.values(), ids=NOTICE_CHANGES.keys())
def test_a_changed_notification_is_rendered_anew_and_matches_an_uncached_render(client, login_as, db, change,
                                                                                url, headers):
    user = login_as("maker")
    task, work_order = TaskFactory(), WorkOrderFactory()
    changed = NotificationFactory(recipient=user, title="原标题", content="原内容", task_id=task.id,
                                  work_order_id=task.work_order_id, created_at=utcnow() - timedelta(minutes=5))
    NotificationFactory(recipient=user, title="不变的", created_at=utcnow() - timedelta(hours=1))
    db.session.commit()
    RENDERED_FRAGMENTS.clear()
    before = _page(client, url, headers)
    assert len(RENDERED_FRAGMENTS) == 2

    change(changed, work_order)
    db.session.commit()
    cached = _page(client, url, headers)
    RENDERED_FRAGMENTS.clear()
    fresh = _page(client, url, headers)

    assert cached == fresh
    assert cached != before


def test_an_unchanged_list_is_served_from_the_cache_and_equals_an_uncached_render(client, login_as, db):
    user = login_as("maker")
    for number in range(3):
        NotificationFactory(recipient=user, title=f"通知{number}", created_at=utcnow() - timedelta(minutes=number))
    db.session.commit()
    RENDERED_FRAGMENTS.clear()
    first = _page(client, "/notifications")
    entries = len(RENDERED_FRAGMENTS)
    cached = _page(client, "/notifications")
    assert (entries, len(RENDERED_FRAGMENTS)) == (3, 3)
    RENDERED_FRAGMENTS.clear()
    assert cached == first == _page(client, "/notifications")


@pytest.mark.parametrize("change", ["filters", "retention"])
def test_the_filter_form_is_rendered_anew_for_other_filters_or_another_retention(client, login_as, db, change):
    from app.templating import LAYOUT_FRAGMENTS

    login_as("admin")
    LAYOUT_FRAGMENTS.clear()
    before = _page(client, "/notifications")
    assert _page(client, "/notifications") == before  # the form now from the cache
    if change == "filters":
        url = "/notifications?read=unread&type=task_assigned"
    else:
        url = "/notifications"
        settings_service.update(None, {"notification_retention_days": 7})
        db.session.commit()
    cached = _page(client, url)
    LAYOUT_FRAGMENTS.clear()
    fresh = _page(client, url)

    assert cached == fresh
    if change == "filters":
        assert '<option value="unread" selected>' in cached and '<option value="task_assigned" selected>' in cached
    else:
        assert "只显示最近 7 天的通知" in cached and "只显示最近 30 天的通知" in before
