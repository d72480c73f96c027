"""What a request computes once: the plant settings, translated labels and due texts."""
from contextlib import contextmanager

from sqlalchemy import event

from app.enums import WorkOrderStatus
from app.extensions import db as _db
from app.services.core import settings
from app.services.notifications import inbox as notifications
from app.templating import due_status
from factories import UserFactory, WorkOrderFactory


@contextmanager
def a_request(app, path="/"):
    """A request of its own: a real request has its own application context (and ``g``)."""
    with app.app_context(), app.test_request_context(path):
        yield


def _statements(app, call) -> list[str]:
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    return seen


def test_settings_are_read_once_per_request_and_an_update_is_seen_at_once(app, seeded):
    admin = UserFactory(roles=["admin"])
    with a_request(app):
        reads = _statements(app, lambda: [settings.get("operator_task_cap") for _ in range(3)])
        assert len(reads) == 1
        settings.update(_db.session.get(type(admin), admin.id), {"operator_task_cap": 4})
        assert settings.get("operator_task_cap") == 4
        assert settings.all_values()["operator_task_cap"] == 4
        _db.session.commit()
    with a_request(app):
        assert settings.get("operator_task_cap") == 4


def test_a_cached_label_does_not_leak_into_a_notification_stored_in_the_plant_language(app, db):
    creator = UserFactory(roles=["maker"])
    work_order = WorkOrderFactory(created_by=creator)
    with a_request(app, "/?lang=en"):
        assert WorkOrderStatus.label_of("in_progress") == "In Progress"
        assert due_status(None) == ("", "")
        (notification,) = notifications.notify_approved(work_order, 0)
        assert '状态已变更为"进行中"' in notification.content
        assert WorkOrderStatus.label_of("in_progress") == "In Progress"


def test_due_texts_follow_the_request_language(app, db):
    from datetime import timedelta

    from app.utils.timeutil import plant_today

    tomorrow = plant_today() + timedelta(days=1)
    with a_request(app, "/?lang=en"):
        assert due_status(tomorrow) == ("due-soon", "Due tomorrow")
    with a_request(app):
        assert due_status(tomorrow) == ("due-soon", "明天到期")


def test_restoring_a_page_from_history_gets_the_whole_page(client, login_as):
    login_as("admin")
    region = client.get("/tasks", headers={"HX-Request": "true"}).get_data(as_text=True)
    restored = client.get("/tasks", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert not region.lstrip().lower().startswith("<!doctype")
    assert restored.get_data(as_text=True).lstrip().lower().startswith("<!doctype")
