"""No input gives a 5xx, and a refused request changes nothing.

Nothing here is listed by hand. The forms are found by crawling the app as an administrator
(and the kiosk as an operator): every GET rule of ``app.url_map`` without arguments is a start,
every ``href``/``hx-get`` link found is followed (a few URLs per endpoint), and every ``<form>``
and every element with ``hx-post`` gives an action and its fields with the values the page
filled in. Every POST rule of the URL map must have been found that way (the test says which
was not). The API's operations come from ``/api/v1/openapi.json``.

Then each field of each form (one row of a repeated group stands for its siblings) and each
query parameter, body property and path id of each API operation gets every hostile value, one
at a time, as the administrator; the other roles send each form and operation with all its
fields hostile at once, for a few of the values. After each request: no 5xx, and when the
answer is a refusal (4xx) the database is exactly as before (a checksum of every table's rows,
taken again only after a request that committed a statement other than a read: every write goes
through the app's engine, whose commits are watched).
The numbers covered are printed (run with ``-s``) and checked against a floor.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import cycle, islice
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import g
from sqlalchemy import event, select, text
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

import factories as f
from app.extensions import db
from app.models import Department, Task
from factories import ApiTokenFactory, NotificationFactory
from support.workorders import approved, build_plant, create

BIG = "99999999999999999999"
MEGABYTE = "x" * (1024 * 1024)
# Hostile values for a form field or a query parameter (all text on the wire).
FORM_VALUES = {
    "huge": BIG, "int4_overflow": "2147483648", "int4_underflow": "-2147483649", "not_a_number": "abc",
    "superscript_digit": "²", "nan": "NaN", "empty": "", "megabyte": MEGABYTE, "nul": "a\x00b",
    "control": "a\x01\x1b\x7fb", "repeated": ["1", "2"],
}
# By the kind of field the page shows: numbers, ids and choices (selects, hidden fields, check boxes,
# numeric inputs, dates) get the values that break parsing or storing a number; text gets the others.
NUMBER_VALUES = ("huge", "int4_overflow", "int4_underflow", "not_a_number", "superscript_digit", "nan", "empty",
                 "nul", "repeated")
TEXT_VALUES = ("huge", "megabyte", "nul", "control", "repeated")
# A page's filters (GET forms) write nothing: the values that break parsing, not storing.
FILTER_VALUES = ("huge", "superscript_digit", "nul")
# In CI each field gets this many of its kind's values, taken in turn (so that every value meets many
# fields of every form); FUZZ_FULL=1 gives every field every value (about ten times as long).
PER_FIELD = None if os.environ.get("FUZZ_FULL") == "1" else 2
# Hostile values for a JSON property.
JSON_VALUES = {
    "huge": 10**20, "huge_negative": -(10**20), "int4_overflow": 2**31, "negative": -1, "float": 1.5,
    "not_a_number": "abc", "numeric_text": BIG, "null": None, "true": True, "object": {}, "list": [1],
    "megabyte": MEGABYTE, "nul": "a\x00b", "control": "a\x01\x1b\x7fb", "lone_surrogate": "\ud800",
    "deep": json.loads("[" * 30 + "]" * 30),
}
DEEP_JSON = "[" * 5000 + "]" * 5000
# Whole bodies an API operation gets besides its properties one by one.
BODIES = {"deep": DEEP_JSON, "array": "[]", "string": '"x"', "number": "1e400", "broken": "{", "nul": '{"a": "\\u0000"}'}
# What the other roles send: each form and operation once, every field at once with one of these in turn.
SAMPLED = ("huge", "not_a_number", "nul", "superscript_digit", "control")
SAMPLED_JSON = ("huge", "not_a_number", "nul", "lone_surrogate", "object")
SKIPPED_PATHS = ("/logout", "/static/", "/api/", "/ws", "/metrics", "/exports/", "/healthz", "/readyz")


@dataclass
class FormSpec:
    method: str
    path: str
    fields: dict = field(default_factory=dict)  # name → list of values the page filled in
    htmx: bool = False
    text: set = field(default_factory=set)  # the names of free-text fields


class FormParser(HTMLParser):
    """The forms, hx-post elements and links of one page."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page, self.forms, self.links = page, [], []
        self.by_id, self.orphans = {}, []
        self.current: FormSpec | None = None
        self.select: tuple | None = None
        self.textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for attr in ("href", "hx-get"):
            if a.get(attr, "").startswith("/"):
                self.links.append(a[attr])
        if tag == "form":
            post = a.get("hx-post") or ((a.get("action") or self.page) if (a.get("method") or "").lower() == "post"
                                        else None)
            self.current = FormSpec("POST" if post else "GET", post or a.get("action") or a.get("hx-get") or self.page,
                                    htmx="hx-post" in a or "hx-get" in a)
            self.forms.append(self.current)
            if a.get("id"):
                self.by_id[a["id"]] = self.current
            return
        target = self.current
        if a.get("form"):
            self.orphans.append((a["form"], tag, a))
            return
        if a.get("data-sortable-url"):  # static/js/sortable.js posts the rows' ids in their order
            self.forms.append(FormSpec("POST", a["data-sortable-url"], {a.get("data-sortable-field", "id"): ["1", "2"]},
                                       htmx=True))
        if a.get("data-unassign-url") and target:  # static/js/board.js posts the form there
            self.forms.append(FormSpec("POST", a["data-unassign-url"], dict(target.fields)))
        if tag != "form" and a.get("hx-post"):
            spec = FormSpec("POST", a["hx-post"], dict(target.fields) if target else {}, htmx=True)
            if a.get("name"):
                spec.fields[a["name"]] = [a.get("value", "")]
            try:
                spec.fields.update({k: [str(v)] for k, v in json.loads(a.get("hx-vals") or "{}").items()})
            except ValueError:
                pass
            self.forms.append(spec)
            return
        if target is None or not a.get("name"):
            return
        self._field(target, tag, a)

    def _field(self, target, tag, a):
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                values = target.fields.setdefault(name, [])
                if "checked" in a:
                    values.append(a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "file"):
                target.fields.setdefault(name, []).append(a.get("value", ""))
                if kind in ("text", "password", "email", "tel", "search", "url") and a.get("inputmode") not in (
                        "numeric", "decimal"):
                    target.text.add(name)
        elif tag == "select":
            self.select = (target, name, [])
            target.fields.setdefault(name, [])
        elif tag == "option" and self.select:
            option_target, option_name, seen = self.select
            seen.append(a.get("value", ""))
            if "selected" in a:
                option_target.fields[option_name].append(a.get("value", ""))
        elif tag == "textarea":
            self.textarea = [target, name, ""]
            target.text.add(name)
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            target.fields.setdefault(name, []).append(a.get("value", ""))

    def handle_data(self, data):
        if self.textarea:
            self.textarea[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select:
            target, name, seen = self.select
            if not target.fields[name] and seen:
                target.fields[name].append(seen[0])
            self.select = None
        elif tag == "textarea" and self.textarea:
            target, name, content = self.textarea
            target.fields.setdefault(name, []).append(content)
            self.textarea = None

    def close(self):
        super().close()
        for form_id, tag, a in self.orphans:
            if form_id in self.by_id and a.get("name"):
                self._field(self.by_id[form_id], tag, a)


# ---------------------------------------------------------------- the plant and its people

@pytest.fixture()
def plant(seeded):
    plant = build_plant(seeded)
    create(plant.maker, plant.work_order_input())  # a draft: its edit form has every row
    work_order = approved(plant)  # tasks in production
    task = db.session.scalar(select(Task).where(Task.work_order_id == work_order.id).limit(1))
    task.operator_id, task.department_id = plant.operator.id, plant.department("printing").id
    f.WorkOrderMaterialFactory(work_order=work_order, material=plant.paper)
    for user in (plant.admin, plant.operator, plant.supervisor, plant.maker):
        NotificationFactory(recipient=user)
    f.PlateProductFactory(plate=plant.artwork, product=plant.brochure)
    f.ProductProcessFactory(product=plant.brochure, process=plant.process("PRT"))
    f.ProductMaterialFactory(product=plant.brochure, material=plant.paper)
    ApiTokenFactory(owner=plant.admin, secret="wot_" + "0" * 32)
    for role, (user, _kiosk) in roles_of(plant).items():
        if role not in ("admin", "kiosk"):
            ApiTokenFactory(owner=user, secret=f"wot_{role:0<32}")
    f.UserFactory(username="left", name="离职员工", roles=["operator"], is_active=False)
    f.ProcessFactory(code="EXTRA", name="临时工序")
    f.TaskFactory(step=task.step, department=None, status="pending", number="TPOOL-1")  # waits in the pool
    db.session.commit()
    return plant


def roles_of(plant) -> dict:
    """role name → (user, kiosk session)."""
    return {"admin": (plant.admin, False), "supervisor": (plant.supervisor, False), "maker": (plant.maker, False),
            "salesperson": (plant.sales, False), "designer": (plant.designer, False),
            "operator": (plant.operator, False), "kiosk": (plant.operator, True)}


class Session:
    def __init__(self, client, login):
        self.client, self.login, self.who = client, login, None

    def as_(self, user, kiosk=False):
        if self.who != (user.id, kiosk):
            with self.client.session_transaction() as session:
                session.clear()
            self.login(user, kiosk=kiosk)
            self.who = (user.id, kiosk)

    def send(self, method, path, *, data=None, query=None, json_body=None, raw=None, htmx=False, headers=None):
        for name in list(vars(g)):
            delattr(g, name)
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
        kwargs = {"headers": headers, "query_string": query}
        if raw is not None:
            kwargs.update(data=raw, content_type="application/json")
        elif json_body is not None:
            kwargs["json"] = json_body
        elif data is not None:
            kwargs["data"] = data
        return self.client.open(path, method=method, **kwargs)


# ---------------------------------------------------------------- the database's fingerprint

# A refused log-in is counted, by design (the throttle): the one table a refusal writes to.
WRITTEN_BY_REFUSALS = {"auth_failures"}
# A token's last use is recorded at most once a minute, on whichever request comes then, refused or not.
WRITTEN_BY_ANY_REQUEST = {("api_tokens", "last_used_at")}


def _compared(table) -> list:
    return [column for column in table.columns if (table.name, column.name) not in WRITTEN_BY_ANY_REQUEST]


def fingerprint() -> str:
    """A hash of every row of every table, read in one statement."""
    db.session.rollback()
    tables = [table for table in db.metadata.sorted_tables if table.name not in WRITTEN_BY_REFUSALS]
    if db.engine.dialect.name == "postgresql":
        parts = ["(SELECT md5(coalesce(string_agg(row, '|' ORDER BY row), '')) FROM (SELECT "
                 + " || ',' || ".join(f"coalesce(\"{column.name}\"::text, 'NULL')" for column in _compared(table))
                 + f" AS row FROM \"{table.name}\") t)" for table in tables]
    else:
        parts = ["(SELECT group_concat(row, '|') FROM (SELECT "
                 + " || ',' || ".join(f"quote(\"{column.name}\")" for column in _compared(table))
                 + f" AS row FROM \"{table.name}\" ORDER BY 1))" for table in tables]
    values = db.session.execute(text("SELECT " + ", ".join(parts))).one()
    db.session.rollback()
    return hashlib.md5(repr(values).encode()).hexdigest()


# ---------------------------------------------------------------- discovery

def crawl(session, app, start_as) -> list[FormSpec]:
    adapter = app.url_map.bind("localhost")
    queue = [rule.rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(SKIPPED_PATHS)]
    forms = []
    # The TV boards are typed into the screens, not linked: one per department code.
    codes = list(db.session.scalars(select(Department.code).order_by(Department.id).limit(2)))
    queue += [adapter.build(rule.endpoint, {"code": code}) for rule in app.url_map.iter_rules()
              if rule.arguments == {"code"} and "GET" in rule.methods for code in codes]
    for user, kiosk in start_as:
        if user is None:
            with session.client.session_transaction() as cookie:
                cookie.clear()
            session.who = None
        else:
            session.as_(user, kiosk)
        pending = list(queue) + (["/kiosk"] if kiosk else [])
        seen, per_endpoint = set(), defaultdict(int)
        while pending:
            url = pending.pop(0)
            path = urlsplit(url).path
            if url in seen or path.startswith(SKIPPED_PATHS):
                continue
            seen.add(url)
            try:
                endpoint, _args = adapter.match(path, method="GET")
            except Exception:
                continue
            if per_endpoint[endpoint] >= 1:
                continue
            per_endpoint[endpoint] += 1
            response = session.send("GET", url)
            assert response.status_code < 500, (url, response.status_code)
            if response.mimetype != "text/html":
                continue
            parser = FormParser(path)
            parser.feed(response.get_data(as_text=True))
            parser.close()
            forms += parser.forms
            if urlsplit(url).query:  # a link's query string is a form of its page too
                forms.append(FormSpec("GET", path, {k: [v] for k, v in parse_qsl(urlsplit(url).query)}))
            pending += [link for link in parser.links if link not in seen]
    return forms


class RecordingDict(MultiDict):
    """Request form data that notes every name a view asks for."""

    asked: set = set()

    def get(self, key, *args, **kwargs):
        RecordingDict.asked.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key, *args, **kwargs):
        RecordingDict.asked.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key):
        RecordingDict.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingDict.asked.add(key)
        return super().__contains__(key)


def fields_read(session, app, user, endpoints) -> list[FormSpec]:
    """The fields of POST rules no page showed a form for (a script posts them, or the plant is not in the
    state that shows it), as their views read them from an empty post."""
    codes = list(db.session.scalars(select(Department.code).order_by(Department.id).limit(1)))
    adapter = app.url_map.bind("localhost")
    session.as_(user)
    specs, original = [], app.request_class.parameter_storage_class
    app.request_class.parameter_storage_class = RecordingDict
    try:
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint not in endpoints:
                continue
            values = {name: (codes[0] if name == "code" else 1) for name in rule.arguments}
            if "action" in rule.arguments:
                values["action"] = re.search(r"any\((\w+)", rule.rule).group(1)
            path = adapter.build(rule.endpoint, values)
            RecordingDict.asked = set()
            session.send("POST", path, data={})
            specs.append(FormSpec("POST", path, {name: [""] for name in sorted(RecordingDict.asked)}))
    finally:
        app.request_class.parameter_storage_class = original
    db.session.rollback()
    return specs


def merge(app, forms: list[FormSpec]) -> dict:
    """One spec per (method, URL rule, submit-button value), its fields merged from every page that has it."""
    adapter = app.url_map.bind("localhost")
    merged = {}
    for spec in forms:
        path = urlsplit(spec.path).path
        try:
            endpoint = adapter.match(path, method=spec.method)[0]
        except Exception:
            continue
        key = (spec.method, endpoint, tuple(spec.fields.get("action", ())))
        target = merged.setdefault(key, FormSpec(spec.method, path, htmx=spec.htmx))
        for name, values in spec.fields.items():
            target.fields.setdefault(name, values)
        target.text |= spec.text
    return merged


def fuzzed_fields(spec: FormSpec) -> list[str]:
    patterns, names = set(), []
    for name in spec.fields:
        pattern = re.sub(r"-\d+-", "-N-", name)
        if pattern not in patterns and name != "csrf_token":
            patterns.add(pattern)
            names.append(name)
    return names


def openapi_operations(session, admin) -> list[tuple]:
    session.as_(admin)
    document = session.send("GET", "/api/v1/openapi.json").get_json()
    operations = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = [(p["in"], p["name"]) for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "$ref" in body:
                body = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
            operations.append((method.upper(), path, parameters, sorted((body or {}).get("properties", {}))))
    return operations


# ---------------------------------------------------------------- the test

# The statements that cannot change a row; any other one, committed, may have.
READS = ("SELECT", "SHOW", "SET", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "LISTEN", "UNLISTEN")


class CommitWatch:
    """Counts the commits of the engine's transactions that ran a statement other than a read."""

    def __init__(self, engine):
        self.engine, self.commits = engine, 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(READS):
            conn.info["wrote"] = True

    def _commit(self, conn):
        if conn.info.pop("wrote", False):
            self.commits += 1

    def _rollback(self, conn):
        conn.info.pop("wrote", None)


class Referee:
    """Sends a request, checks the answer and the database, and keeps count."""

    def __init__(self, session, watch: CommitWatch):
        self.session, self.watch, self.before = session, watch, fingerprint()
        self.requests, self.failures, self.statuses = 0, [], defaultdict(int)
        self.timing = defaultdict(float)
        self.last_printed = None

    def check(self, label, method, path, **kwargs):
        started = time.monotonic()
        commits = self.watch.commits
        response = self.session.send(method, path, **kwargs)
        middle = time.monotonic()
        self.requests += 1
        self.statuses[response.status_code] += 1
        after = fingerprint() if self.watch.commits != commits else self.before
        self.timing[path.split("?")[0]] += middle - started
        self.timing["fingerprint"] += time.monotonic() - middle
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {label}")
        elif response.status_code >= 400 and after != self.before:
            self.failures.append(f"{response.status_code} but the database changed: {label}")
        if self.failures and os.environ.get("FUZZ_TIMING") and self.failures[-1] != self.last_printed:
            self.last_printed = self.failures[-1]
            print("FAIL", self.last_printed, flush=True)
        self.before = after
        return response


def fill(path: str, value) -> str:
    """``path`` of a rule (``<int:id>`` or OpenAPI's ``{id}``) with every argument ``value``."""
    return re.sub(r"<[^>]+>|\{\w+\}", str(value), path)


def test_no_input_gives_a_5xx_and_a_refusal_changes_nothing(app, client, login, plant, request):
    app.config["PROPAGATE_UNEXPECTED"] = False  # a crash is a 500 to count, not an exception
    started = time.monotonic()
    session = Session(client, login)
    roles = roles_of(plant)
    found = crawl(session, app, [(None, False), roles["admin"], roles["supervisor"], roles["kiosk"]])
    # Every POST rule of the URL map has a form, bar the API (fuzzed from its document) and log-out.
    adapter = app.url_map.bind("localhost")
    post_rules = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods
                  and not rule.rule.startswith(("/api/", "/logout"))}

    def reached(specs):
        return {adapter.match(urlsplit(spec.path).path, method="POST")[0] for spec in specs if spec.method == "POST"}

    unshown = post_rules - reached(found)
    forms = merge(app, found + fields_read(session, app, plant.admin, unshown))
    assert post_rules - reached(forms.values()) == set()
    operations = openapi_operations(session, plant.admin)
    assert len(operations) == 23

    discovered = time.monotonic()
    watch = CommitWatch(db.engine)
    request.addfinalizer(watch.close)
    referee = Referee(session, watch)
    counts = defaultdict(int)
    turns = {kind: cycle(values) for kind, values in (("GET", FILTER_VALUES), ("text", TEXT_VALUES),
                                                      ("number", NUMBER_VALUES))}
    # Destructive forms last, so that the others still find their objects.
    order = sorted(forms.values(), key=lambda s: (s.method == "POST" and s.path.endswith(("/delete", "/cancel")),
                                                  s.method, s.path))

    # 1. Every role but the administrator, before anything is deleted: each form and each operation once,
    # all its fields hostile at once.
    for role, (user, kiosk) in roles.items():
        if role == "admin":
            continue
        for index, spec in enumerate(spec for spec in order if spec.method == "POST"):
            label = SAMPLED[index % len(SAMPLED)]
            session.as_(user, kiosk)
            referee.check(f"{role} POST {spec.path} all={label}", "POST", spec.path, htmx=spec.htmx,
                          data={name: FORM_VALUES[label] for name in spec.fields})
        secret = f"wot_{'operator' if role == 'kiosk' else role:0<32}"
        for index, (method, path, _parameters, properties) in enumerate(operations):
            label = SAMPLED_JSON[index % len(SAMPLED_JSON)]
            body = {name: JSON_VALUES[label] for name in properties} if method != "GET" else None
            referee.check(f"{role} {method} {path} all={label}", method, "/api/v1" + fill(path, 1), json_body=body,
                          headers={"Authorization": f"Bearer {secret}"})

    # 2. The API, with the administrator's token (before the forms revoke it): query and path parameters,
    # body properties, whole bodies.
    token = {"Authorization": "Bearer wot_" + "0" * 32}
    for method, path, parameters, properties in operations:
        url = "/api/v1" + fill(path, 1)
        for where, name in parameters:
            counts[f"API {where} parameters"] += 1
            for label in FILTER_VALUES:
                value = FORM_VALUES[label]
                if where == "query":
                    referee.check(f"{method} {path} ?{name}={label}", method, url, query={name: value}, headers=token)
                elif where == "path" and isinstance(value, str):
                    referee.check(f"{method} {path} {name}={label}", method,
                                  "/api/v1" + path.replace("{" + name + "}", value), headers=token)
        for name in properties:
            counts["API body properties"] += 1
            for label, value in JSON_VALUES.items():
                referee.check(f"{method} {path} .{name}={label}", method, url, json_body={name: value}, headers=token)
        if method != "GET":
            for label, body in BODIES.items():
                referee.check(f"{method} {path} body={label}", method, url, raw=body, headers=token)

    # 3. The administrator: every field of every form, one hostile value at a time.
    for spec in order:
        if os.environ.get("FUZZ_TIMING"):
            print(f"{time.monotonic() - started:6.1f} {referee.requests:5d} {referee.timing['fingerprint']:5.1f} "
                  f"{spec.method} {spec.path} {len(fuzzed_fields(spec))}", flush=True)
        base = {name: values[0] if len(values) == 1 else values for name, values in spec.fields.items() if values}
        for name in fuzzed_fields(spec):
            counts[f"{spec.method} fields"] += 1
            kind = "GET" if spec.method == "GET" else "text" if name in spec.text else "number"
            counts[f"{spec.method} {kind} fields"] += 1
            every = {"GET": FILTER_VALUES, "text": TEXT_VALUES, "number": NUMBER_VALUES}[kind]
            labels = every if PER_FIELD is None else tuple(islice(turns[kind], min(PER_FIELD, len(every))))
            for label in labels:
                session.as_(*roles["admin"])
                data = {**base, name: FORM_VALUES[label]}
                where = {"query": data} if spec.method == "GET" else {"data": data}
                referee.check(f"{spec.method} {spec.path} {name}={label}", spec.method, spec.path, htmx=spec.htmx,
                              **where)

    # 4. Ids in paths beyond the database's integer: every rule with an <int:…>.
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values()) and not rule.rule.startswith(
                SKIPPED_PATHS[:2]):
            counts["rules with path ids"] += 1
            url = re.sub(r"<any\((\w+)[^>]*>", r"\1", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                referee.check(f"{method} {url}", method, fill(url, BIG), data={})

    elapsed = time.monotonic() - started
    post_forms = sum(1 for spec in forms.values() if spec.method == "POST")
    print(f"\nfuzz ({db.engine.dialect.name}): {post_forms} POST forms ({len(unshown)} found by reading the view) with {counts['POST fields']} fields "
          f"({counts['POST number fields']} numbers/ids/choices × {PER_FIELD or len(NUMBER_VALUES)} of "
          f"{len(NUMBER_VALUES)} hostile values, {counts['POST text fields']} text × {PER_FIELD or len(TEXT_VALUES)} "
          f"of {len(TEXT_VALUES)}); {len(forms) - post_forms} GET forms with {counts['GET fields']} fields × "
          f"{PER_FIELD or len(FILTER_VALUES)} of {len(FILTER_VALUES)}; {counts['rules with path ids']} rules with "
          f"path ids × 1; "
          f"{len(operations)} API operations: {counts['API query parameters']} query and "
          f"{counts['API path parameters']} path parameters × {len(FILTER_VALUES)}, "
          f"{counts['API body properties']} body properties × {len(JSON_VALUES)}, {len(BODIES)} whole bodies each; "
          f"{len(roles) - 1} other roles × every form and operation once; {referee.requests} requests, "
          f"discovery {discovered - started:.1f} s, total {elapsed:.1f} s; statuses {dict(sorted(referee.statuses.items()))}")
    if os.environ.get("FUZZ_TIMING"):
        print(sorted(referee.timing.items(), key=lambda kv: -kv[1])[:25])
    assert referee.failures == [], "\n".join(referee.failures[:200])
    assert counts["POST fields"] >= 150 and counts["API body properties"] >= 15
