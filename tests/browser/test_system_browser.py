"""系统状态 is live: an error recorded anywhere shows on an open page at the next event, without reload."""
import pytest
from playwright.sync_api import expect

from app.services.admin.system_status import record_server_error
from factories import TaskFactory, UserFactory
from testkit.live import change, session_cookie

pytestmark = pytest.mark.browser


def test_the_system_page_follows_new_errors_live(app, db, page_factory, live_server, screenshot_dir):
    admin = UserFactory(name="信息部", roles=["admin"])
    task = TaskFactory().id
    db.session.commit()
    page = page_factory(viewport=(1280, 900))
    name, value = session_cookie(app, admin.id).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
    page.goto("/admin/system")
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    errors = page.locator("#system-errors td")
    expect(errors).to_have_text("0")

    record_server_error("0123456789abcdef0123456789abcdef", "POST", "/tasks/<int:task_id>/report",
                        RuntimeError("printer on fire"))
    change(db, task, "task.updated", notes="换版")
    expect(errors).to_have_text("1", timeout=5000)
    expect(page.locator("#system-recent-errors")).to_contain_text("0123456789abcdef0123456789abcdef")
    page.screenshot(path=f"{screenshot_dir}/admin-system.png", full_page=True)
