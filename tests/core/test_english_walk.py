"""With ?lang=en every page is English: labels, options, statuses, messages, dates and punctuation. The walk takes
every GET page of the URL map as every role of the plant (admin, supervisor, maker, designer, salesperson — the
customer's approver —, the kiosk operator, anonymous), and the htmx fragments each page loads, and finds no Chinese
character and no full-width punctuation outside the plant's data (every text the database holds is taken out of the
page first). A page a role may not open answers with its refusal, in English too."""
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from sqlalchemy import String, Text, select

from app.extensions import db
from app.models import Task, Workstation, WorkstationProcess
from app.services.dispatch import assignment
from app.services.tasks import actions as tasks
from support.workorders import approved, build_plant, tasks_of

CJK = re.compile(r"[\u4e00-\u9fff]+")
# Chinese on an English page: ideographs, CJK punctuation (、。《》「」 and the ideographic space U+3000) and
# full-width forms (：（），；！？). Not “ ”: English quotes with them too.
NOT_ENGLISH = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]+")
# The language switch names each language in itself.
LANGUAGE_NAMES = ["中文"]
# Not pages: the JSON API and its (Chinese by design) docs, downloads, probes, static files, the WebSocket.
NOT_PAGES = ("api.", "static", "realtime.", "main.healthz", "main.readyz", "reports.export_",
             "workorders.design_file", "tasks.design_file")  # files, not pages
# Pages that need a query to be asked for at all.
QUERIES = {"admin.plate_new": "kind=artwork"}
KIOSK_PAGES = {"kiosk.index", "kiosk.scan_form", "kiosk.scan"}
ANONYMOUS_PAGES = {"auth.login", "auth.kiosk_login"}


class _Visible(HTMLParser):
    """What a person reads: text, and the attributes shown or spoken (placeholder, title, aria-label, alt, value
    of buttons); not scripts, styles or data attributes."""

    SPOKEN = {"placeholder", "title", "aria-label", "alt"}

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        self.parts.extend(value for name, value in attrs if name in self.SPOKEN and value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _data_texts() -> list[str]:
    """Every Chinese text the database holds (names, task contents, reasons, notifications…), longest first."""
    texts = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text)):
                texts.update(value for value in db.session.scalars(select(column).distinct())
                             if isinstance(value, str) and CJK.search(value))
    return sorted(texts, key=len, reverse=True)


def chinese_left(html: str, data: list[str]) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return text_left("\n".join(parser.parts), data)


def text_left(text: str, data: list[str]) -> list[str]:
    """What is not English in a text once the plant's data is taken out."""
    for value in [*data, *LANGUAGE_NAMES]:
        text = text.replace(value, "")
    return sorted(set(NOT_ENGLISH.findall(text)))


@pytest.fixture()
def plant_in_use(seeded):
    plant = build_plant(seeded)
    printing = plant.department("printing")
    # A workstation, so the 排产 pages and the workstation admin pages have something to show.
    db.session.add(Workstation(department=printing, code="PRT-01", name="Press 1", capabilities=[
        WorkstationProcess(process=plant.process("PRT"), rate_per_hour=8000, setup_minutes=30)]))
    db.session.commit()
    work_order = approved(plant)
    task = next(t for t in tasks_of(work_order.id) if t.department_id == printing.id)
    assignment.assign(task.id, plant.operator.id, plant.supervisor, task.version)
    db.session.commit()
    task = db.session.get(Task, task.id)
    tasks.start(task, plant.operator, task.version)
    tasks.pause(task, plant.operator, task.version, "equipment", "")
    db.session.commit()
    return plant, work_order, task


def _pages(app, plant, work_order, task) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET page, its arguments filled from the plant."""
    values = {
        "work_order_id": work_order.id, "task_id": task.id, "department_id": plant.department("printing").id,
        "user_id": plant.operator.id, "customer_id": plant.customer.id, "product_id": plant.brochure.id,
        "material_id": plant.paper.id, "plate_id": plant.artwork.id, "process_id": plant.process("PRT").id,
        "code": "printing", "workstation_id": db.session.scalar(select(Workstation.id).limit(1)),
    }
    pages = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.startswith(NOT_PAGES) or "<path:" in rule.rule:
            continue
        arguments = {name: values[name] for name in rule.arguments if name in values}
        if set(arguments) != set(rule.arguments):
            pytest.fail(f"no sample value for {rule.rule}")
        pages.append((rule.endpoint, adapter.build(rule.endpoint, arguments, method="GET")))
    pages.append(("kiosk.scan", f"/scan/{task.number}"))
    return sorted(set(pages))


def test_every_page_is_english(app, client, login, plant_in_use):
    plant, work_order, task = plant_in_use
    data = _data_texts()
    leaks = {}
    for endpoint, path in _pages(app, plant, work_order, task):
        with client.session_transaction() as session:
            session.clear()
        if endpoint not in ANONYMOUS_PAGES:
            login(plant.operator if endpoint in KIOSK_PAGES else plant.admin, kiosk=endpoint in KIOSK_PAGES)
        query = "&".join(filter(None, ["lang=en", QUERIES.get(endpoint)]))
        response = client.get(f"{path}?{query}", follow_redirects=True)
        if response.status_code != 200:
            leaks[path] = response.status_code
            continue
        left = chinese_left(response.get_data(as_text=True), data)
        if left:
            leaks[path] = left
    assert leaks == {}, "\n".join(f"{path}: {left}" for path, left in sorted(leaks.items()))


def test_the_kiosk_task_page_is_english(client, login, plant_in_use):
    plant, _work_order, task = plant_in_use
    login(plant.operator, kiosk=True)
    response = client.get(f"/tasks/{task.id}", query_string={"lang": "en"})
    assert chinese_left(response.get_data(as_text=True), _data_texts()) == []


def test_the_chosen_language_survives_login_on_desk_and_kiosk(client, plant_in_use):
    plant, _work_order, _task = plant_in_use
    plant.admin.set_password("secret-pass-1")
    plant.operator.employee_no = "E1001"
    plant.operator.set_pin("4321")
    db.session.commit()
    client.get("/login?lang=en")
    response = client.post("/login", data={"username": plant.admin.username, "password": "secret-pass-1"},
                           follow_redirects=True)
    assert response.status_code == 200 and '<html lang="en">' in response.get_data(as_text=True)
    client.post("/logout", follow_redirects=True)
    page = client.get("/kiosk/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    response = client.post("/kiosk/login", data={"employee_no": "E1001", "pin": "4321"}, follow_redirects=True)
    assert response.status_code == 200 and '<html lang="en">' in response.get_data(as_text=True)


# Every role of the plant (app/enums.py RoleCode; the salesperson is the approver of their customers' 施工单),
# the operator on the kiosk, and nobody signed in.
ROLES = ["supervisor", "maker", "designer", "sales", "other_sales", "operator", "anonymous"]
HX_GET = re.compile(r'hx-get="([^"]+)"')


def _sign_in(client, login, user, kiosk=False):
    with client.session_transaction() as session:
        session.clear()
        session["lang"] = "en"
    if user is not None:
        login(user, kiosk=kiosk)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_and_fragment_is_english_for_every_role(app, client, login, plant_in_use, role):
    """Each role opens every page: what it may see is English, and so is the refusal of what it may not (403 in
    the desk's or the kiosk's layout, 404 for what does not exist for it); then the htmx fragments its pages load."""
    from html import unescape

    plant, work_order, task = plant_in_use
    user = None if role == "anonymous" else getattr(plant, role)
    kiosk = role == "operator"
    data = _data_texts()
    leaks, fragments = {}, set()
    for endpoint, path in _pages(app, plant, work_order, task):
        _sign_in(client, login, user, kiosk)
        query = "&".join(filter(None, ["lang=en", QUERIES.get(endpoint)]))
        response = client.get(f"{path}?{query}", follow_redirects=True)
        html = response.get_data(as_text=True)
        if response.status_code not in (200, 403, 404):
            leaks[path] = response.status_code
            continue
        left = chinese_left(html, data) + text_left(unquote(response.headers.get("X-Message", "")), data)
        if left:
            leaks[path] = left
        if response.status_code == 200:
            fragments.update(unescape(url) for url in HX_GET.findall(html) if not url.startswith("http"))
    _sign_in(client, login, user, kiosk)
    for url in sorted(fragments):
        response = client.get(url, headers={"HX-Request": "true"})
        if response.status_code not in (200, 204, 403, 404):
            leaks[f"fragment {url}"] = response.status_code
            continue
        left = chinese_left(response.get_data(as_text=True), data) + \
            text_left(unquote(response.headers.get("X-Message", "")), data)
        if left:
            leaks[f"fragment {url}"] = left
    assert leaks == {}, "\n".join(f"{path}: {left}" for path, left in sorted(leaks.items()))


def test_toasts_of_actions_and_refusals_are_english(client, login, plant_in_use):
    """The htmx toasts (X-Message) and API errors a person meets: a refusal on the desk, on the kiosk and in the
    API, and an action that succeeds."""
    plant, work_order, task = plant_in_use
    data = _data_texts()
    said = {}

    def toast(user, method, url, form=None, kiosk=False):
        _sign_in(client, login, user, kiosk)
        response = client.open(url, method=method, data=form, headers={"HX-Request": "true"})
        said[(user.username, url)] = (response.status_code, unquote(response.headers.get("X-Message", "")))

    toast(plant.maker, "POST", f"/tasks/{task.id}/cancel", {"version": task.version, "reason": "x"})
    toast(plant.maker, "GET", "/admin/users")
    toast(plant.designer, "GET", f"/tasks/{task.id}")
    toast(plant.other_sales, "POST", f"/workorders/{work_order.id}/pause")
    toast(plant.operator, "GET", "/supervisor", kiosk=True)
    toast(plant.operator, "POST", f"/tasks/{task.id}/resume", {"version": task.version}, kiosk=True)
    _sign_in(client, login, plant.maker)
    api = client.post(f"/api/v1/tasks/{task.id}/cancel?lang=en", json={"version": task.version, "reason": "x"})
    said[("maker", "api")] = (api.status_code, api.get_json()["error"]["message"])
    assert [status for status, _message in said.values()] == [403, 403, 403, 403, 403, 200, 403]
    assert all(message for _status, message in said.values())
    assert {key: text_left(message, data) for key, (_status, message) in said.items() if text_left(message, data)} == {}
