"""Fixtures of the browser tests."""
import pytest
from playwright.sync_api import expect

from testkit.live import session_cookie


@pytest.fixture()
def open_as(app, page_factory, live_server):
    """A page in its own browser context, logged in as ``user``, opened at ``path`` with its socket up."""

    def _open(user, path, viewport=(1280, 900)):
        page = page_factory(viewport=viewport)
        name, value = session_cookie(app, user.id).split("=", 1)
        page.context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
        page.goto(path)
        expect(page.locator("body")).to_have_attribute("data-live-state", "open")
        return page

    return _open
