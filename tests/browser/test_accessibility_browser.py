"""axe-core (vendored under tests/browser/vendor, never a CDN) over every page of the URL map as the role that uses
it — desk pages at 1366×900, kiosk pages at 1024×768 and 390×844 — and over the main open states: the kiosk's
报工 and 暂停 panels and their refused submissions, the draft editor, the reason dialog, the notification
drop-down and empty-form submissions. WCAG 2.1 A and AA rules; a violation of impact serious or critical fails
the test, and the "needs review" (incomplete) results are printed (pytest -s or -rP shows them).

One browser context per role, its page reused from page to page. The CSP forbids inline scripts, which is how
Playwright injects a file, so these contexts bypass the CSP (test-only).
"""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import factories as f
from app.extensions import db as _db
from app.models import Department, Task, User, WorkOrder
from app.seed import DEMO_PASSWORD
from app.services.tasks import actions as tasks
from support.browser import kiosk_login
from support.kiosk_world import build_world

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}
DESK = (1366, 900)
KIOSK_SIZES = [(1024, 768), (390, 844)]

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations", "incomplete"]});
  const brief = (rule) => ({id: rule.id, impact: rule.impact, help: rule.help,
    nodes: rule.nodes.slice(0, 6).map((node) => node.target.join(" ") + " — "
      + (node.failureSummary || "").split("\\n").slice(1, 3).join(" ").trim())});
  return {violations: result.violations.map(brief), incomplete: result.incomplete.map(brief)};
}"""

REPEATED_IDS = """() => {
  const seen = {};
  document.querySelectorAll("[id]").forEach((el) => { seen[el.id] = (seen[el.id] || 0) + 1; });
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""


class Audit:
    """Runs axe on the page as it is now; collects the failing findings of every state it was shown."""

    def __init__(self, page):
        self.page = page
        self.failures = []

    def check(self, state: str):
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        result = page.evaluate(RUN_AXE, WCAG_21_AA)
        size = page.viewport_size
        where = f"{state} @ {size['width']}×{size['height']}"
        # axe 4.x no longer counts a repeated id under WCAG 2.1; a label pointing at the wrong field still hurts.
        repeated = page.evaluate(REPEATED_IDS)
        if repeated:
            self.failures.append(f"{where} · ids used more than once: {repeated}")
        for rule in result["incomplete"]:
            print(f"needs review · {where} · {rule['id']} ({rule['impact']}): {rule['help']}")
            for node in rule["nodes"]:
                print(f"      {node}")
        for rule in result["violations"]:
            if rule["impact"] in FAILING_IMPACTS:
                self.failures.append(f"{where} · {rule['id']} ({rule['impact']}): {rule['help']}\n      "
                                     + "\n      ".join(rule["nodes"]))

    def visit(self, path: str, state: str | None = None):
        self.page.goto(path)
        self.check(state or path)

    def assert_clean(self):
        assert not self.failures, "axe found serious or critical violations:\n" + "\n".join(self.failures)


def audit_page(page_factory, viewport):
    return Audit(page_factory(viewport=viewport, bypass_csp=True))


def desk_login(page, username, password=DEMO_PASSWORD):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/(supervisor)?$"))


@pytest.fixture()
def demo(demo_plant):
    return demo_plant


def demo_work_order(marker: str) -> WorkOrder:
    return _db.session.scalar(select(WorkOrder).where(WorkOrder.notes.like(f"{marker}%")))


def test_login_pages(db, page_factory):
    audit = audit_page(page_factory, DESK)
    audit.visit("/login")
    audit.page.get_by_role("button", name="登录").click()  # an empty submission
    audit.check("/login, empty submission")
    for size in KIOSK_SIZES:
        audit.page.set_viewport_size({"width": size[0], "height": size[1]})
        audit.visit("/kiosk/login")
    audit.page.get_by_role("button", name="登录").click()
    audit.check("/kiosk/login, empty submission")
    audit.assert_clean()


def test_desk_pages_as_admin(demo, page_factory):
    audit = audit_page(page_factory, DESK)
    desk_login(audit.page, "admin")
    approved = demo_work_order("【演示】已审核")
    task = _db.session.scalar(select(Task).join(Task.step).where(Task.step.has(work_order_id=approved.id)).limit(1))
    user = _db.session.scalar(select(User).where(User.username == "maker1"))
    department = _db.session.scalar(select(Department).where(Department.code == "printing"))
    for path in ["/", "/workorders", f"/workorders/{approved.id}", f"/workorders/{approved.id}/print",
                 "/tasks", f"/tasks/{task.id}", "/notifications", "/stats", "/stats/assignments",
                 "/stats/collaboration", "/dispatch/rules", "/dispatch/pool", "/planning", "/planning?view=table",
                 f"/board/{department.code}",
                 "/admin/", "/admin/users", f"/admin/users/{user.id}/edit", "/admin/departments",
                 f"/admin/departments/{department.id}/edit", "/admin/processes", "/admin/processes/new",
                 "/admin/customers", "/admin/customers/new", "/admin/products", "/admin/products/new",
                 "/admin/materials", "/admin/materials/new", "/admin/plates", "/admin/plates/new?kind=artwork",
                 "/admin/plates/new",  # without a kind: the error page
                 "/admin/settings", "/admin/audit"]:
        audit.visit(path)
    audit.visit("/admin/users/new")
    audit.page.locator("main form button[type=submit]").first.click()
    audit.page.wait_for_load_state("load")
    audit.check("/admin/users/new, empty submission")
    audit.page.locator("#bell-menu > summary").click()
    audit.page.wait_for_selector("#bell-panel :is(ul, p.bell-empty, .bell-item, a)")
    audit.check("notification drop-down")
    audit.assert_clean()


def test_desk_pages_as_maker(demo, page_factory):
    audit = audit_page(page_factory, DESK)
    desk_login(audit.page, "maker1")
    draft = demo_work_order("【演示】草稿")
    for path in ["/", "/workorders", "/workorders/new", f"/workorders/{draft.id}", f"/workorders/{draft.id}/edit"]:
        audit.visit(path)
    audit.page.goto(f"/workorders/{draft.id}")
    audit.page.locator(".task-row.is-draft").first.get_by_role("button", name="编辑").click()
    audit.page.wait_for_selector("#draft-editor form")
    audit.check("draft editor")
    audit.page.goto("/workorders/new")
    audit.page.locator("form button[type=submit]").last.click()
    audit.page.wait_for_selector(".field-error, .has-error, [role=alert]")
    audit.check("/workorders/new, empty submission")
    audit.assert_clean()


@pytest.fixture()
def shop(db):
    world = build_world()
    started = f.TaskFactory(step=world.print_step, number="TSG2026110001-03", content="印刷：彩盒底纸",
                            target_quantity=500, department=world.printing)
    # A card of a later step: it shows its 等待前置工序 note.
    f.TaskFactory(step=world.die_step, number="TSG2026110001-04", content="模切：彩盒底纸", target_quantity=500,
                  department=world.printing)
    _db.session.commit()
    tasks.claim(started, world.other_operator, started.version)
    tasks.start(started, world.other_operator, started.version)
    _db.session.commit()
    world.started = started
    return world


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=["1024x768", "390x844"])
def test_kiosk_pages_and_panels(shop, page_factory, size):
    audit = audit_page(page_factory, size)
    page = audit.page
    kiosk_login(page, shop.operator)
    page.locator(".tc-waiting").first.wait_for()
    audit.check("/kiosk")
    page.locator(f"#task-{shop.task.id}").get_by_role("button", name="认领").click()
    card = page.locator(f"#kiosk-mine #task-{shop.task.id}")
    card.wait_for()
    expect(page.locator(f"#kiosk-claimable #task-{shop.task.id}")).to_have_count(0)  # both lists refreshed
    card.get_by_role("button", name="开始").click()
    card.locator(".tag.status-in_progress").wait_for()

    card.locator("summary", has_text="报工").click()
    audit.check("/kiosk, 报工 panel open")
    card.get_by_role("button", name="提交报工").click()
    card.locator(".field-error").first.wait_for()
    audit.check("/kiosk, 报工 refused")

    card.locator("summary", has_text="暂停").click()
    card.get_by_role("button", name="确认暂停").click()
    card.locator(".field-error").first.wait_for()
    audit.check("/kiosk, 暂停 refused")
    audit.visit(f"/tasks/{shop.task.id}")
    audit.visit(f"/scan/{shop.task.number}")
    audit.assert_clean()


def test_supervisor_board_and_reason_dialog(shop, page_factory):
    f.NotificationFactory.create_batch(2, recipient=shop.supervisor)
    _db.session.commit()
    audit = audit_page(page_factory, DESK)
    page = audit.page
    desk_login(page, shop.supervisor.username, f.PASSWORD)
    audit.visit("/supervisor")
    expect(page.locator("#bell-count")).to_have_text("2")
    expect(page.locator("#bell-menu > summary")).to_have_accessible_name("通知 2 条未读")
    card = page.locator(f'.sv-card[data-task-id="{shop.started.id}"]')
    card.get_by_label("操作员").select_option(label=shop.operator.name)
    card.get_by_role("button", name="分配").click()
    page.locator("#reason-dialog[open]").wait_for()
    audit.check("/supervisor, reason dialog")
    audit.assert_clean()
