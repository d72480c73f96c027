"""The main pages still work under the Content-Security-Policy: no violation, no script error, and the
behaviours that used inline handlers (remove a 施工单 line, the department switch, the bell) still act."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import WorkOrder
from app.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser

# Runs before any page script; CSP does not apply to scripts Playwright injects.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture()
def demo(demo_plant):
    return demo_plant


def _is_problem(message) -> bool:
    # The browser asks for /favicon.ico by itself; the plant has none, and that 404 is not a page's fault.
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture()
def watched_page(page_factory):
    """A page factory whose pages record CSP violations, console errors and uncaught exceptions."""
    problems = []

    def _new(**kwargs):
        page = page_factory(**kwargs)
        page.context.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda msg: _is_problem(msg) and problems.append(f"console: {msg.text} {msg.location}"))
        page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
        return page

    def _check(page):
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__cspViolations || []")
        found = [f"csp: {v}" for v in violations] + problems
        problems.clear()
        return found

    _new.check = _check
    return _new


def _log_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/(supervisor)?$"))


def test_login_page_has_no_violation(demo, watched_page):
    page = watched_page()
    page.goto("/login")
    assert watched_page.check(page) == []


def test_desk_pages_run_under_the_policy(demo, watched_page, db):
    page = watched_page()
    _log_in(page, "admin")
    assert watched_page.check(page) == []
    work_order_id = db.session.scalars(select(WorkOrder.id).order_by(WorkOrder.id)).first()
    for path in ("/workorders", f"/workorders/{work_order_id}", f"/workorders/{work_order_id}/print", "/tasks",
                 "/stats", "/admin/users", "/admin/users/new", "/admin/processes", "/admin/products/new",
                 "/admin/plates", "/admin/settings", "/admin/audit", "/notifications", "/dispatch/rules",
                 "/dispatch/pool", "/board/printing", "/admin/api-tokens", "/admin/api-tokens/new", "/admin/system",
                 "/"):
        page.goto(path)
        assert (path, watched_page.check(page)) == (path, [])

    # The bell loads its panel when opened (was an eval'd hx-trigger filter).
    page.locator("#bell-menu summary").click()
    expect(page.locator("#bell-panel .bell-empty", has_text="加载中")).to_have_count(0)
    assert watched_page.check(page) == []


def test_workorder_form_add_and_remove_lines_under_the_policy(demo, watched_page):
    page = watched_page()
    _log_in(page, "maker1")
    page.goto("/workorders/new")
    for button, rows in (("添加产品", "#product-lines .line-row"), ("添加物料", "#material-lines .line-row")):
        lines = page.locator(rows)
        before = lines.count()
        page.get_by_role("button", name=button).click()
        expect(lines).to_have_count(before + 1)
        lines.nth(before).get_by_role("button", name="移除").click()
        expect(lines).to_have_count(before)
    assert watched_page.check(page) == []


def test_supervisor_board_switches_department_under_the_policy(demo, watched_page, db):
    from app.models import Department

    page = watched_page()
    _log_in(page, "admin")
    page.goto("/supervisor")
    assert watched_page.check(page) == []
    cutting = db.session.scalars(select(Department).filter_by(code="cutting")).one()
    page.locator("#board-department").select_option(str(cutting.id))
    page.wait_for_url(re.compile(rf"department={cutting.id}"))
    assert watched_page.check(page) == []


def test_kiosk_runs_under_the_policy(demo, watched_page):
    page = watched_page(viewport=(1024, 768))
    page.goto("/kiosk/login")
    page.get_by_label("工号").fill("1003")
    page.get_by_label("PIN").fill("8003")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/kiosk$"))
    assert watched_page.check(page) == []


def test_deleting_a_dispatch_rule_asks_first_under_the_policy(demo, watched_page):
    page = watched_page()
    _log_in(page, "admin")
    page.goto("/dispatch/rules")
    delete_buttons = page.get_by_role("button", name="删除")
    before = delete_buttons.count()
    questions = []

    def answer_no(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer_no)
    delete_buttons.first.click()
    page.wait_for_load_state("networkidle")
    assert questions == ["确定删除该分派规则吗？"]
    assert page.get_by_role("button", name="删除").count() == before
    assert watched_page.check(page) == []


def test_api_documentation_renders_under_the_policy(demo, watched_page):
    page = watched_page()
    _log_in(page, "admin")
    page.goto("/api/docs")
    expect(page.locator(".opblock-summary-description", has_text="认领任务")).to_have_count(1)
    assert watched_page.check(page) == []
