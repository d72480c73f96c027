"""With ?lang=en every page is English: labels, options, statuses, messages and dates. The walk takes every GET
page of the URL map, as the role that uses it (the desk as an admin, the shop floor as a kiosk operator), and finds
no Chinese character outside the plant's data (every text the database holds is taken out of the page first)."""
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import String, Text, select

from app.extensions import db
from app.models import Task
from app.services.dispatch import assignment
from app.services.tasks import actions as tasks
from support.workorders import approved, build_plant, tasks_of

CJK = re.compile(r"[\u4e00-\u9fff]+")
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
    text = "\n".join(parser.parts)
    for value in [*data, *LANGUAGE_NAMES]:
        text = text.replace(value, "")
    return sorted(set(CJK.findall(text)))


@pytest.fixture()
def plant_in_use(seeded):
    plant = build_plant(seeded)
    work_order = approved(plant)
    printing = plant.department("printing")
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
        "code": "printing",
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
