"""The live plant at scale: every open screen re-fetching what an action changed (issue #22).

    .venv/bin/python bench/plant_bench.py [--scale 1] [--kiosks 300] [--supervisors 30] [--boards 10]
        [--desks 30] [--rates 0.5,1,2,3,4] [--seconds 30] [--warmup 15] [--servers 1] [--quick]

On PostgreSQL (DATABASE_URL, else a throwaway cluster) with the plant of `flask demo --scale N`,
gunicorn serves it with production's settings (ops/gunicorn.conf.py, 2 workers; with --servers 2 two
gunicorn masters on their own ports behind nginx with ops/nginx-proxy.conf, as two hosts would). The
bench then opens the plant's screens, each as a browser would hold it:

- 300 kiosk screens (/kiosk) of the scaled plant's operators, in turn, so the workshops get them in
  the proportion the plant has people; 30 主管看板 (/supervisor?department=…) of its supervisors; 10 TV
  boards (/board/<code>?token=…, tokens issued here) of the workshops; 30 desk pages: task centres
  (/tasks), 施工单 pages (/workorders/<id>) and 工作台 (/).
- Each screen loads its page, and everything else comes from that page's markup, as static/js/live.js
  reads it: the socket URL (body[data-live-url]) with the topics of every [data-live] element, and the
  live regions (their data-live topics, data-live-events filter, hx-get, hx-select and hx-trigger).
- On each socket message a region refreshes exactly when live.js would refresh it (its topics meet
  the event's, the event passes its data-live-events, no hint lets it skip the event — data-live-skip, and
  the 主管看板's parts: a data-live-part the event's parts leave out, the board's data-live-parts holding every
  part it names —, its hx-trigger has live-refresh), debounced by
  50 ms, never two requests of a region at once, fetched once more when a change came during its
  request, with htmx's headers; the answer replaces the region (new hx-get, new topics). `resync`
  re-fetches every region. An action's HX-Trigger answer fires the actor's regions that listen for it.

Meanwhile an action stream at R actions per second: the kiosks' operators claim, start, pause,
resume, report and complete through the cards their screens show (the same forms, the same POSTs),
and sup_production approves 施工单 waiting for approval. For every event the bench itself LISTENs on
the database (its arrival there is the commit), and measures the time until every screen that
shows it (its socket joined one of the event's channels and a region of the page wants it) has
re-fetched every such region. Per R: p50/p95/p99 of that time over events (an event with a
screen never updated counts as infinitely late), the share of (event, screen) updates that
arrived, the re-fetch requests per action, and the server's CPU per action (user + system time
of the gunicorn processes from /proc, and of PostgreSQL when the cluster is the bench's own). The
highest R with p95 < 1 s is the verdict. The summary goes to bench-results/plant-<UTC time>.json.

Each run serves a fresh copy of the plant (CREATE DATABASE … TEMPLATE, dropped afterwards): a run's actions
(claims, approvals, tasks at their cap) would otherwise change the plant the next run measures.

Before the first step, --warmup seconds (15) of actions at R = 1 are not measured: the servers then are as a
running plant has them (templates compiled, connections opened, shared renders made).

--quick (CI): 50 kiosks, 5 主管看板, 2 TV boards, 5 desks, R = 1 for 20 s on a small plant, no warm-up.
"""
from __future__ import annotations

import argparse
import heapq
import http.client
import itertools
import json
import math
import os
import random
import re
import selectors
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from load_bench import GUNICORN_CONFIG, GUNICORN_ENV, load_plant, plant_copy
from pgdatabase import postgres_database
from wsproto import ConnectionType, WSConnection
from wsproto.events import CloseConnection, Pong, RejectConnection, Request, TextMessage

TARGET_P95_S = 1.0
IGNORE_HINTS = [False]  # --ignore-hints: re-fetch as live.js did before the events carried hints
DEBOUNCE_S = 0.050  # live.js DEBOUNCE_MS
WARMUP_RATE = 1.0  # actions per second before the first measured step (--warmup seconds of them)
FRESH_ANSWER_S = 1.0  # live.js FRESH_ANSWER_MS
SECRET_KEY = "plant-bench-secret-key-not-for-production-0123"
OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING = 0x1, 0x8, 0x9
HX_TRIGGER_NAME = re.compile(r"([\w-]+)\s+from:body")
TASK_CARD_ID = re.compile(r"task-(\d+)")
TASK_FORM = re.compile(r'<form[^>]*action="/tasks/(\d+)/(\w+)"[^>]*>(.*?)</form>', re.DOTALL)
VERSION = re.compile(r'name="version" value="(\d+)"')
REMAINING = re.compile(r'data-set="(\d+)" data-for="good-(\d+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ACTION_WEIGHTS = {"claim": 30, "start": 15, "resume": 5, "pause": 8, "report": 25, "complete": 12, "approve": 5}
PAUSE_REASONS = ("equipment", "material", "plate", "quality", "other")


# --- the page's markup, read as live.js reads it ------------------------------------------------------------

class LiveMarkup(HTMLParser):
    """body[data-live-url], the CSRF meta, and every [data-live] element's attributes (by id), with what live.js
    finds in it when a card leaves or arrives: the ids of its task cards in order (``cards``; ``reserve``: those of
    the hidden .card-reserve), each card's data-order (``orders``) and its first [data-live-count] (``count``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.live_url = None
        self.csrf = None
        self.elements: list[dict] = []
        self.open: list[list] = []  # [tag, depth of that tag inside it, attributes] of each region still open
        self.reserve_depth = 0  # > 0 inside a .card-reserve (its own <div>s counted)
        self.counting = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "body" and attributes.get("data-live-url") is not None:
            self.live_url = attributes["data-live-url"]
        elif tag == "meta" and attributes.get("name") == "csrf-token":
            self.csrf = attributes.get("content")
        classes = (attributes.get("class") or "").split()
        card = TASK_CARD_ID.fullmatch(attributes.get("id") or "")
        if card and "task-card" in classes:
            for region in self.open:
                region[2]["reserve" if self.reserve_depth else "cards"].append(int(card.group(1)))
                region[2]["orders"][int(card.group(1))] = attributes.get("data-order")
        if tag == "div" and (self.reserve_depth or "card-reserve" in classes):
            self.reserve_depth += 1
        self.counting = "data-live-count" in attributes
        for region in self.open:
            region[1] += region[0] == tag
        if "data-live" in attributes:
            attributes.update(cards=[], reserve=[], orders={})
            self.elements.append(attributes)
            self.open.append([tag, 0, attributes])

    def handle_data(self, data):
        if self.counting and data.strip().isdigit():
            for region in self.open:
                region[2].setdefault("count", int(data))
        self.counting = False

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "div" and self.reserve_depth:
            self.reserve_depth -= 1
        for region in list(self.open):
            if region[0] == tag:
                region[1] -= 1
                if region[1] < 0:
                    self.open.remove(region)


def parse_markup(html: str) -> LiveMarkup:
    parser = LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser


def split_topics(value: str | None) -> list[str]:
    return [topic for topic in re.split(r"[\s,]+", value or "") if topic]


class Region:
    """One [data-live] element and live.js's bookkeeping for it."""

    def __init__(self, screen, attributes: dict):
        self.screen = screen
        self.id = attributes.get("id")
        self.changed_at = 0.0
        self.requested_at = 0.0
        self.deadline = None
        self.in_flight = False
        self.settled_at = -math.inf  # when its last answer was put in place
        self.waiting: list[str] = []  # event ids changed since the last request began
        self.live_refresh = False  # the next request is a live-refresh (not an action's HX-Trigger)
        self.flight: list[str] = []
        self.update(attributes)

    def update(self, attributes: dict) -> None:
        self.topics = set(split_topics(attributes.get("data-live")))
        events = attributes.get("data-live-events")
        self.events = set(split_topics(events)) if events else None
        self.get = attributes.get("hx-get")
        self.select = attributes.get("hx-select")
        self.skip = attributes.get("data-live-skip")
        self.drops = "data-live-drop" in attributes
        self.arrivals = "data-live-arrive" in attributes
        self.cards, self.reserve = list(attributes.get("cards", ())), list(attributes.get("reserve", ()))
        self.orders = dict(attributes.get("orders", {}))
        self.total = attributes.get("count")
        # The 主管看板's parts (docs/LIVE.md §6): a head or a column, and the board that holds them all.
        self.part = attributes.get("data-live-part")
        holds = attributes.get("data-live-parts")
        self.holds = set(split_topics(holds)) if holds is not None else None
        trigger = attributes.get("hx-trigger") or ""
        self.live = "live-refresh" in trigger and bool(self.get)
        self.body_triggers = set(HX_TRIGGER_NAME.findall(trigger))

    def wants(self, event_type: str, topics, message: dict | None = None) -> bool:
        """live.js wants(): the event name passes data-live-events, the topics meet, and no hint lets the region
        skip it (data-live-skip). A card leaving it (``claimable: "left"``) is wanted here: the region drops it
        in place or re-fetches (``dropped_in_place``)."""
        if self.events is not None and event_type not in self.events:
            return False
        if not self.topics & set(topics):
            return False
        parts = None if message is None or IGNORE_HINTS[0] else message.get("parts")
        if self.part and (self.part not in parts if parts is not None else self.held()):
            return False  # a part: only when named; an event naming none refreshes the board that holds it
        if self.holds is not None and parts is not None and set(parts) <= self.holds:
            return False  # the board itself: for an event naming no part, or one it does not hold yet (a new column)
        return not (message is not None and self.claimable_skip(message, topics) and message.get("claimable") is False)

    def claimable_skip(self, message: dict, topics) -> bool:
        """A 可认领 list may use the event's claimable hint: it is not about the viewer."""
        return (self.skip == "claimable" and not IGNORE_HINTS[0]
                and not any(topic.startswith("user:") for topic in topics))

    def dropped_in_place(self, message: dict, now: float) -> bool:
        """live.js droppedInPlace(): the card of a task that left the 可认领 lists goes without a request from the
        first page of a list, the first card of its reserve moving up; a card it does not hold is nothing to a
        list without other pages. Not when it would have to show what it does not hold, nor while an answer is
        on its way."""
        if not (self.claimable_skip(message, message["topics"]) and message.get("claimable") == "left" and self.drops):
            return False
        if self.in_flight or self.total is None:
            return False
        task, shown = message.get("task"), len(self.cards)
        if task not in self.cards and task not in self.reserve:
            return self.total == shown or self.left_beyond_in_place(message, now)
        from_page = task in self.cards
        if from_page and self.total > shown and not self.reserve:
            return False
        left = self.total - 1
        shown_after = shown - 1 if from_page and not self.reserve else shown
        if left == 0 or (self.total > shown) != (left > shown_after):
            return False
        if from_page:
            self.cards.remove(task)
            if self.reserve:
                self.cards.append(self.reserve.pop(0))
        else:
            self.reserve.remove(task)
        self.total = left
        self.screen.dropped.add(task)
        return True

    def left_beyond_in_place(self, message: dict, now: float) -> bool:
        """live.js leftBeyondInPlace(): a task that left from beyond the cards held, standing after the last of
        them, only lowers the count of an unbound, unfiltered first page; not just after an answer came."""
        if not self.arrivals or not message.get("order") or now - self.settled_at < FRESH_ANSWER_S:
            return False
        held = self.cards + self.reserve
        last = order_of(self.orders.get(held[-1])) if held else None
        if last is None or self.total <= len(held):
            return False
        rank, delivery = message["order"]
        if not stands_after((int(rank), str(delivery), int(message["task"])), last):
            return False
        self.total -= 1
        return True

    def arrived_in_place(self, message: dict, now: float) -> bool:
        """live.js arrivedInPlace(): tasks new to the 可认领 lists of the viewer's departments (an approval) that all
        stand after the last card the list holds, in a list holding fewer cards than its count, only raise the count.
        Not while an answer is on its way or just after one came (it may count them already)."""
        if not (self.claimable_skip(message, message["topics"]) and message.get("claimable") == "arrived"
                and self.arrivals):
            return False
        if self.in_flight or now - self.settled_at < FRESH_ANSWER_S:
            return False
        arrived = message.get("arrived") or []
        if not arrived:
            return True
        held = self.cards + self.reserve
        last = order_of(self.orders.get(held[-1])) if held else None
        if self.total is None or last is None or self.total <= len(held) or not message.get("order"):
            return False
        rank, delivery = message["order"]
        if not all(stands_after((int(rank), str(delivery), int(task)), last) for task in arrived):
            return False
        self.total += len(arrived)
        return True

    def held(self) -> bool:
        """live.js heldPart(): a part inside the region that holds it comes with that region's answer (on the
        board page every part is inside the board)."""
        return bool(self.part) and any(r.holds is not None for r in self.screen.regions.values())


def order_of(data_order: str | None) -> tuple | None:
    """A card's place in a 可认领 list from its data-order ("rank|delivery date|id"), as live.js orderOf() reads it."""
    parts = (data_order or "").split("|")
    return (int(parts[0]), parts[1], int(parts[2])) if len(parts) == 3 and parts[1] else None


def stands_after(a: tuple, b: tuple) -> bool:
    """live.js standsAfter(): the most urgent first, then the earliest delivery date, then the task id."""
    if a[0] != b[0]:
        return a[0] < b[0]
    if a[1] != b[1]:
        return a[1] > b[1]
    return a[2] > b[2]


# --- one browser page ---------------------------------------------------------------------------------------

class Screen:
    def __init__(self, index: int, kind: str, user: str | None, cookie: str | None, url: str):
        self.index, self.kind, self.user, self.cookie, self.url = index, kind, user, cookie, url
        self.regions: dict[str, Region] = {}
        self.csrf = None
        self.live_url = None
        self.joined: set[str] = set()
        self.subscribed: list[str] = []
        self.html: dict[str, str] = {}  # latest text per region (the kiosk's cards, for the actions)
        self.dropped: set[int] = set()  # cards live.js took off the page in place since their region's answer
        self.sock = None
        self.ws = None
        self.pending = b""
        self.lock = threading.Lock()
        self.stale_topics = 0  # answers that brought topics the socket does not carry (live.js reconnects)
        self.closed_by = None  # how the server ended the socket: its close code, or "EOF" without one
        self.last_heard = None  # live.js lastHeard / lastOwn: what a live re-fetch names in X-Live-Seen
        self.last_own = None

    def load(self, client: HttpClient) -> None:
        status, html, _ = client.request("GET", self.url, self)
        if status != 200:
            raise RuntimeError(f"{self.kind} {self.url} as {self.user}: HTTP {status}")
        markup = parse_markup(html)
        self.csrf, self.live_url = markup.csrf, markup.live_url
        if not self.live_url:
            raise RuntimeError(f"{self.url} has no data-live-url")
        for attributes in markup.elements:
            if attributes.get("id"):
                self.regions[attributes["id"]] = Region(self, attributes)
        self.html = {region_id: html for region_id in self.regions}
        if not any(region.live for region in self.regions.values()):
            raise RuntimeError(f"{self.url} has no live region")

    def page_topics(self) -> list[str]:
        return sorted({topic for region in self.regions.values() for topic in region.topics})

    def connect(self, host: str, port: int, tls: bool = False) -> None:
        """The socket live.js opens: data-live-url's path and query, plus ?topics=."""
        parts = urlsplit(self.live_url)
        self.subscribed = self.page_topics()
        query = parts.query
        if self.subscribed:
            query = (query + "&" if query else "") + urlencode({"topics": " ".join(self.subscribed)})
        target = parts.path + ("?" + query if query else "")
        self.sock = socket.create_connection((host, port), timeout=30)
        if tls:
            self.sock = unverified_tls().wrap_socket(self.sock, server_hostname=host)
        self.ws = WSConnection(ConnectionType.CLIENT)
        headers = [("Origin", f"{'https' if tls else 'http'}://{host}:{port}")]
        if self.cookie:
            headers.append(("Cookie", self.cookie))
        self.sock.sendall(self.ws.send(Request(host=f"{host}:{port}", target=target, extra_headers=headers)))
        while True:  # until the hello, sent once the socket is subscribed
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"{self.url}: the server closed the socket")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, TextMessage):
                    message = json.loads(event.data)
                    if message["type"] == "hello":
                        self.joined = set(message["topics"])
                        self.server = message.get("server")
                        self.sock.setblocking(False)
                        return
                elif isinstance(event, (CloseConnection, RejectConnection)):
                    raise ConnectionError(f"{self.url}: the socket was refused ({event})")

    def read(self) -> list[dict] | None:
        """The messages that arrived (frames parsed by hand, as bench/ws_bench.py does); None when closed."""
        data = b""
        while True:  # a TLS socket may hold more decrypted bytes than select() can tell
            try:
                chunk = self.sock.recv(262144)
            except (BlockingIOError, ssl.SSLWantReadError):
                break
            if not chunk:
                if not data:
                    self.closed_by = self.closed_by or "EOF"
                    return None
                break
            data += chunk
            if not isinstance(self.sock, ssl.SSLSocket) or not self.sock.pending():
                break
        if not data:
            return []
        buffer, offset, messages = self.pending + data, 0, []
        while len(buffer) - offset >= 2:
            opcode, length, start = buffer[offset] & 0x0F, buffer[offset + 1] & 0x7F, offset + 2
            if length >= 126:
                size = 2 if length == 126 else 8
                if len(buffer) < start + size:
                    break
                length, start = int.from_bytes(buffer[start:start + size], "big"), start + size
            if len(buffer) < start + length:
                break
            payload, offset = buffer[start:start + length], start + length
            if opcode == OPCODE_TEXT:
                messages.append(json.loads(payload))
            elif opcode == OPCODE_PING:
                self.sock.setblocking(True)
                self.sock.sendall(self.ws.send(Pong(payload)))
                self.sock.setblocking(False)
            elif opcode == OPCODE_CLOSE:
                self.closed_by = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else "no code"
                return None
        self.pending = buffer[offset:]
        return messages

    def close(self) -> None:
        try:
            self.sock.setblocking(True)
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except Exception:  # noqa: BLE001, S110 - the server may have gone first
            pass
        self.sock.close()

    def forms(self, action: str) -> list[tuple[int, str]]:
        """The forms of the cards a person at the page sees (not those taken out in place, nor the hidden reserve)."""
        unseen = self.dropped.union(*(region.reserve for region in self.regions.values()))
        found = {}
        for text in self.html.values():
            for task_id, name, body in TASK_FORM.findall(text):
                if name == action and int(task_id) not in unseen:
                    found.setdefault(int(task_id), body)
        return list(found.items())


# --- HTTP, as htmx sends it --------------------------------------------------------------------------------

class HttpClient:
    """Keep-alive connections, one per thread of the pool."""

    def __init__(self, host: str, port: int, tls: bool = False):
        self.host, self.port, self.tls = host, port, tls
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = (
                http.client.HTTPSConnection(self.host, self.port, timeout=60, context=unverified_tls()) if self.tls
                else http.client.HTTPConnection(self.host, self.port, timeout=60))
        return connection

    def request(self, method: str, path: str, screen: Screen | None, headers: dict | None = None,
                body: str | None = None) -> tuple[int, str, http.client.HTTPMessage]:
        headers = dict(headers or {})
        if screen is not None and screen.cookie:
            headers["Cookie"] = screen.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        cookie = _session_cookie(response.headers)
        if cookie and screen is not None:
            screen.cookie = cookie
        return response.status, text, response.headers


def unverified_tls() -> ssl.SSLContext:
    """nginx's certificate is a throwaway self-signed one."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def _session_cookie(headers) -> str | None:
    for header in headers.get_all("Set-Cookie") or ():
        if header.startswith("session="):
            return header.split(";", 1)[0]
    return None


def htmx_headers(screen: Screen, region: Region, base: str, live: bool) -> dict:
    headers = {"HX-Request": "true", "HX-Current-URL": base + screen.url, "HX-Target": region.id,
               "HX-Trigger": region.id}
    if live:  # live.js htmx:configRequest
        headers["X-Live-Refresh"] = "1"
        if screen.last_heard:
            headers["X-Live-Seen"] = " ".join(filter(None, (screen.last_heard, screen.last_own)))
    return headers


# --- the plant's screens -----------------------------------------------------------------------------------

def plan_screens(url: str, kiosks: int, supervisors: int, boards: int, desks: int) -> tuple[list[Screen], dict]:
    """Who looks at what, with a signed session cookie per person (the scaled people have no password)."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Department, Role, Task, User, WorkOrder
    from app.services.dispatch import board as board_service
    from app.services.dispatch.supervisor_board import board_departments

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": False, "SECRET_KEY": SECRET_KEY})
    serializer = app.session_interface.get_signing_serializer(app)

    def cookie(user) -> str:
        return "session=" + serializer.dumps({"_user_id": str(user.id), "_fresh": True,
                                              "_generation": user.session_generation})

    with app.app_context():
        def with_role(code):
            return list(db.session.scalars(select(User).join(User.roles).where(
                Role.code == code, User.is_active.is_(True)).order_by(User.id)).unique())

        by_name = {u.username: u for u in db.session.scalars(select(User))}
        operators = [u for u in with_role("operator") if u.department_ids]
        chiefs = [u for u in with_role("supervisor") if board_departments(u)]
        screens: list[Screen] = []

        def add(kind, user, url_):
            screens.append(Screen(len(screens), kind, user.username if user else None,
                                  cookie(user) if user else None, url_))

        for i in range(kiosks):
            add("kiosk", operators[i % len(operators)], "/kiosk")
        for i in range(supervisors):
            chief = chiefs[i % len(chiefs)]
            departments = board_departments(chief)
            add("supervisor", chief, f"/supervisor?department={departments[(i // len(chiefs)) % len(departments)].id}")
        workshops = list(db.session.scalars(select(Department).where(Department.id.in_(
            select(Task.department_id).distinct())).order_by(Department.id)))
        admin = by_name["admin"]
        tokens = {d.code: board_service.issue_token(admin, d) for d in workshops}
        db.session.commit()
        for i in range(boards):
            department = workshops[i % len(workshops)]
            add("board", None, f"/board/{department.code}?token={tokens[department.code]}")
        in_production = list(db.session.scalars(select(WorkOrder.id).where(
            WorkOrder.approval_status == "approved", WorkOrder.status == "in_progress").order_by(
            WorkOrder.id.desc()).limit(max(1, desks))))
        # Who opens which desk page: the task centre and 工作台 of several roles; 施工单 pages of those who
        # may see any (a salesperson sees only the 施工单 of their customers).
        desk_people = {"tasks": ("admin", "sup_cutting", "sales1", "sup_printing", "sup_diecut"),
                       "workorder": ("admin", "sup_production"),
                       "home": ("admin", "sup_packaging", "maker1", "sales1", "sup_production")}
        for i in range(desks):
            kind = ("tasks", "workorder", "home")[i % 3]
            people = [by_name[n] for n in desk_people[kind] if n in by_name]
            person = people[(i // 3) % len(people)]
            target = {"tasks": "/tasks", "home": "/",
                      "workorder": f"/workorders/{in_production[(i // 3) % len(in_production)]}"}[kind]
            add(kind, person, target)
        approver = by_name["sup_production"]
        waiting = list(db.session.scalars(select(WorkOrder.id).where(WorkOrder.approval_status == "pending")
                                          .order_by(WorkOrder.created_at)))
        extra = {"approver": Screen(-1, "approver", approver.username, cookie(approver), "/workorders"),
                 "waiting_work_orders": waiting}
        db.session.remove()
        db.engine.dispose()
    return screens, extra


# --- the bench's own LISTEN: the commit of every event -----------------------------------------------------

class CommitLog(threading.Thread):
    def __init__(self, url: str):
        super().__init__(daemon=True, name="commit-log")
        from sqlalchemy.engine import make_url

        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.events: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.stopping = False

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            connection.execute("LISTEN wo_events")
            self.ready.set()
            while not self.stopping:
                for notification in connection.notifies(timeout=0.5):
                    now = time.perf_counter()
                    payload = json.loads(notification.payload)
                    with self.lock:
                        known = self.events.get(payload["id"])
                        if known is None:
                            self.events[payload["id"]] = dict(payload, committed=now)
                        else:  # a large event split by user ids
                            known["user_ids"] = sorted(set(known["user_ids"]) | set(payload["user_ids"]))


def channels_of(payload: dict) -> set[str]:
    from app.realtime import events

    return events.channels_of(payload)


def message_hints(payload: dict, topics) -> dict:
    from app.realtime import events

    return events.message_hints(payload, sorted(topics))


# --- the browsers: sockets, debounce, re-fetches -----------------------------------------------------------

class Plant:
    def __init__(self, screens: list[Screen], client: HttpClient, base: str, fetch_threads: int = 48):
        self.screens = screens
        self.client = client
        self.base = base
        self.pool = ThreadPoolExecutor(fetch_threads, thread_name_prefix="fetch")
        self.selector = selectors.DefaultSelector()
        self.timers: list = []
        self.sequence = itertools.count()
        self.completions: list = []
        self.completions_lock = threading.Lock()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.stop = threading.Event()
        # (event id, screen index) -> {"received": t, "regions": {ids still to fetch}, "done": t or None}
        self.updates: dict[tuple[str, int], dict] = {}
        self.fetches: list[dict] = []  # {"at": t, "ms": …, "status": …, "bytes": …, "kind": …}
        self.messages = Counter()
        self.triggers: list[tuple[float, int]] = []  # (arrival, regions the message refreshes)
        self.closed_sockets = Counter()  # how many sockets the server ended, by screen kind and close code
        self.thread = threading.Thread(target=self.run, daemon=True, name="browsers")

    def start(self) -> None:
        for screen in self.screens:
            self.selector.register(screen.sock, selectors.EVENT_READ, screen)
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)
        self.thread.start()

    # live.js refresh(): note the change, (re)start the region's 150 ms timer
    def refresh(self, region: Region, now: float, immediately: bool = False) -> None:
        region.changed_at = now
        region.live_refresh = True
        region.deadline = now + (0 if immediately else DEBOUNCE_S)
        heapq.heappush(self.timers, (region.deadline, next(self.sequence), region))

    def on_message(self, screen: Screen, message: dict, now: float) -> None:
        kind = message.get("type")
        self.messages[kind] += 1
        if kind == "event" and message.get("topics"):
            screen.last_heard = message.get("id")
            if screen.last_heard == screen.last_own:
                screen.last_own = None
            wanting = [r for r in screen.regions.values()
                       if r.live and r.wants(message.get("event"), message["topics"], message)]
            fetching = [r for r in wanting if not r.dropped_in_place(message, now) and not r.arrived_in_place(message, now)]
            self.triggers.append((now, len(fetching)))
            if not wanting:
                return
            self.updates[(message["id"], screen.index)] = {"received": now, "regions": {r.id for r in fetching},
                                                           "done": None if fetching else now}
            for region in fetching:
                region.waiting.append(message["id"])
                self.refresh(region, now)
        elif kind == "resync":
            screen.last_heard = None
            for region in screen.regions.values():
                if region.live and not region.held():
                    self.refresh(region, now)

    def fire(self, region: Region, now: float) -> None:
        """The timer ran out: htmx.trigger(live-refresh). htmx sends no second request of a region
        while one is in flight; the answer's afterSettle fetches again if a change came meanwhile."""
        if region.in_flight or not any(region is r for r in region.screen.regions.values()):
            return
        region.in_flight = True
        region.requested_at = now
        region.flight, region.waiting = region.waiting, []
        live, region.live_refresh = region.live_refresh, False
        self.pool.submit(self.fetch, region, live)

    def fetch(self, region: Region, live: bool) -> None:
        screen = region.screen
        started = time.perf_counter()
        try:
            status, text, _ = self.client.request("GET", region.get, screen,
                                                  htmx_headers(screen, region, self.base, live))
        except Exception as error:  # noqa: BLE001 - reported, not fatal
            status, text = 599, str(error)
        finished = time.perf_counter()
        with self.completions_lock:
            self.completions.append((region, status, text, started, finished))
        self.wake_w.send(b"x")

    def on_fetched(self, region: Region, status: int, text: str, started: float, finished: float) -> None:
        screen = region.screen
        self.fetches.append({"at": finished, "ms": (finished - started) * 1000, "status": status,
                             "bytes": len(text.encode()), "kind": screen.kind, "region": region.id})
        region.in_flight = False
        region.settled_at = finished
        if status == 200:
            markup = parse_markup(text)
            for attributes in markup.elements:  # the answer replaces the region (and hx-select's pick)
                if attributes.get("id") == region.id:
                    region.update(attributes)
                    screen.dropped -= {*region.cards, *region.reserve}
                    if not region.topics <= set(screen.subscribed):
                        screen.stale_topics += 1
                elif region.holds is not None and attributes.get("id"):  # the board's answer brings its parts anew
                    held = screen.regions.get(attributes["id"])
                    if held is None:
                        screen.regions[attributes["id"]] = Region(screen, attributes)
                    else:
                        held.update(attributes)
            screen.html[region.id] = text
            for event_id in region.flight:
                update = self.updates.get((event_id, screen.index))
                if update is not None:
                    update["regions"].discard(region.id)
                    if not update["regions"] and update["done"] is None:
                        update["done"] = finished
        else:
            region.waiting = region.flight + region.waiting  # not shown yet: still waiting
        region.flight = []
        if region.changed_at > region.requested_at:  # live.js afterSettle
            self.refresh(region, finished)

    def trigger_from_body(self, screen: Screen, names: list[str]) -> None:
        """An answer's HX-Trigger: the screen's regions listening for it fetch at once (thread-safe)."""
        with self.completions_lock:
            self.completions.append(("trigger", screen, names))
        self.wake_w.send(b"x")

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.perf_counter()
            while self.timers and self.timers[0][0] <= now:
                deadline, _, region = heapq.heappop(self.timers)
                if region.deadline == deadline:
                    region.deadline = None
                    self.fire(region, now)
            timeout = max(0.0, min(0.1, self.timers[0][0] - now)) if self.timers else 0.1
            for key, _ in self.selector.select(timeout):
                if key.data is None:
                    try:
                        self.wake_r.recv(65536)
                    except BlockingIOError:
                        pass
                    continue
                screen = key.data
                arrived = time.perf_counter()
                messages = screen.read()
                if messages is None:
                    self.closed_sockets[f"{screen.kind} {screen.closed_by}"] += 1
                    self.selector.unregister(key.fileobj)
                    continue
                for message in messages:
                    self.on_message(screen, message, arrived)
            with self.completions_lock:
                done, self.completions = self.completions, []
            for item in done:
                if item[0] == "trigger":
                    _, screen, names = item
                    for region in screen.regions.values():
                        if region.body_triggers & set(names):
                            region.changed_at = time.perf_counter()
                            region.live_refresh = False
                            self.fire(region, region.changed_at)
                else:
                    self.on_fetched(*item)

    def busy(self) -> bool:
        return bool(self.timers) or any(r.in_flight for s in self.screens for r in s.regions.values())

    def shutdown(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.pool.shutdown(wait=True)
        for screen in self.screens:
            screen.close()


# --- the action stream -------------------------------------------------------------------------------------

class Actions:
    def __init__(self, plant: Plant, client: HttpClient, approver: Screen, waiting: list[int], rng: random.Random):
        self.plant, self.client, self.approver, self.waiting, self.rng = plant, client, approver, list(waiting), rng
        self.kiosks = [s for s in plant.screens if s.kind == "kiosk"]
        self.pool = ThreadPoolExecutor(8, thread_name_prefix="action")
        self.outcomes: list[dict] = []
        self.lock = threading.Lock()

    def run(self, rate: float, seconds: float) -> None:
        """Actions at ``rate`` per second, evenly spaced, each on its own thread so a slow answer never
        holds the stream back."""
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.pool.submit(self.one)

    def wait(self) -> None:
        self.pool.shutdown(wait=True)
        self.pool = ThreadPoolExecutor(8, thread_name_prefix="action")

    def one(self) -> None:
        names = list(ACTION_WEIGHTS)
        wanted = self.rng.choices(names, weights=[ACTION_WEIGHTS[n] for n in names])[0]
        started = time.perf_counter()
        try:
            kind, status = self.approve() if wanted == "approve" else self.task_action(wanted)
        except Exception as error:  # noqa: BLE001
            kind, status = wanted, f"error: {error}"
        with self.lock:
            self.outcomes.append({"kind": kind, "status": status, "at": started,
                                  "ms": (time.perf_counter() - started) * 1000})

    def task_action(self, wanted: str):
        order = [wanted] + [n for n in ("report", "start", "resume", "claim", "complete", "pause") if n != wanted]
        kiosks = self.rng.sample(self.kiosks, len(self.kiosks))
        for action in order:
            for screen in kiosks:
                forms = screen.forms(action)
                if forms:
                    task_id, body = self.rng.choice(forms)
                    return action, self.post_task(screen, task_id, action, body)
        return "nothing", None

    def post_task(self, screen: Screen, task_id: int, action: str, body: str):
        version = VERSION.search(body)
        data = {"version": version.group(1) if version else ""}
        if action == "pause":
            data.update(reason=self.rng.choice(PAUSE_REASONS), note="")
        elif action == "report":
            remaining = {int(t): int(n) for n, t in REMAINING.findall(body)}.get(task_id, 0)
            good = remaining if self.rng.random() < 0.4 else max(1, remaining // self.rng.randint(2, 4))
            data.update(good=str(max(good, 1)), defective="0", defect_reason="", note="")
        elif action == "complete":
            data.update(reason="负载测试")
        status, _, headers = self.client.request(
            "POST", f"/tasks/{task_id}/{action}", screen,
            {"X-CSRFToken": screen.csrf or "", "HX-Request": "true", "HX-Current-URL": self.plant.base + screen.url},
            urlencode(data))
        if headers.get("X-Live-Event-Id"):  # live.js htmx:afterRequest
            screen.last_own = headers["X-Live-Event-Id"]
        triggers = headers.get("HX-Trigger")
        if triggers and status < 400:
            names = list(json.loads(triggers)) if triggers.startswith("{") else split_topics(triggers)
            self.plant.trigger_from_body(screen, names)
        return status

    def approve(self):
        with self.lock:
            if not self.waiting:
                return "approve", None
            work_order_id = self.waiting.pop(0)
        status, html, _ = self.client.request("GET", f"/workorders/{work_order_id}", self.approver)
        form = re.search(rf'action="/workorders/{work_order_id}/approve"[^>]*>(.*?)</form>', html, re.DOTALL)
        csrf = CSRF_META.search(html)
        if status != 200 or not form:
            return "approve", f"no form ({status})"
        version = VERSION.search(form.group(1))
        status, _, _ = self.client.request(
            "POST", f"/workorders/{work_order_id}/approve", self.approver,
            {"X-CSRFToken": csrf.group(1) if csrf else "", "HX-Request": "true"},
            urlencode({"version": version.group(1) if version else ""}))
        return "approve", status


# --- figures -----------------------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else math.nan


def expected_screens(plant: Plant, payload: dict) -> list[Screen]:
    """The screens that show the event: told by the hub, with a live region that wants it."""
    channels = channels_of(payload)
    found = []
    for screen in plant.screens:
        told = screen.joined & channels
        hints = message_hints(payload, told)  # as the hub tells this screen (app/realtime/hub.py)
        if told and any(r.live and r.wants(payload["type"], told, hints) for r in screen.regions.values()):
            found.append(screen)
    return found


def undelivered(plant: Plant, log: CommitLog, window: tuple[float, float]) -> bool:
    """Whether an event of the step has not reached a screen that shows it yet: the drain waits for it too (a
    late socket message under load is slow, not missed)."""
    start, end = window
    with log.lock:
        committed = [e for e in log.events.values() if start <= e["committed"] < end]
    heard = plant.updates.copy()  # the browsers' thread adds to it (a dict's copy is atomic in CPython)
    return any((event["id"], screen.index) not in heard for event in committed for screen in expected_screens(plant, event))


def summarise(plant: Plant, log: CommitLog, actions: Actions, window: tuple[float, float], cpu: dict,
              rate: float) -> dict:
    start, end = window
    with log.lock:
        committed = [e for e in log.events.values() if start <= e["committed"] < end]
    per_event, per_screen, expected_pairs, arrived_pairs = [], [], 0, 0
    by_event_type = defaultdict(list)  # event type -> (screens, the time until the last was updated)
    missed_by_kind = Counter()
    missed_examples = []
    for event in committed:
        screens = expected_screens(plant, event)
        if not screens:
            continue
        worst = 0.0
        for screen in screens:
            expected_pairs += 1
            update = plant.updates.get((event["id"], screen.index))
            if update is None or update["done"] is None:
                worst = math.inf
                missed_by_kind[screen.kind] += 1
                if len(missed_examples) < 10:
                    missed_examples.append({"event": event["type"], "event_id": event["id"], "screen": screen.url,
                                            "user": screen.user, "told": sorted(screen.joined & channels_of(event)),
                                            "received": update is not None,
                                            "regions_left": sorted(update["regions"]) if update else None})
                continue
            arrived_pairs += 1
            latency = update["done"] - event["committed"]
            per_screen.append(latency)
            worst = max(worst, latency)
        per_event.append(worst)
        by_event_type[event["type"]].append((len(screens), worst))
    outcomes = [o for o in actions.outcomes if start <= o["at"] < end]
    statuses = Counter(str(o["status"]) for o in outcomes)
    succeeded = sum(1 for o in outcomes if isinstance(o["status"], int) and o["status"] < 400)
    fetches = [f for f in plant.fetches if start <= f["at"] < end + 30]
    by_kind = defaultdict(list)
    for fetch in fetches:
        by_kind[fetch["kind"]].append(fetch)
    seconds = end - start

    def ms(value):
        return None if value is None or math.isnan(value) else (math.inf if math.isinf(value) else round(value * 1000, 1))

    return {
        "rate": rate, "seconds": round(seconds, 1),
        "actions": len(outcomes), "actions_succeeded": succeeded, "action_statuses": dict(statuses),
        "actions_by_kind": dict(Counter(o["kind"] for o in outcomes)),
        "action_ms_p50": round(percentile([o["ms"] for o in outcomes], 0.5), 1) if outcomes else None,
        "events": len(committed), "events_shown": len(per_event),
        "screens_per_event": round(expected_pairs / len(per_event), 1) if per_event else 0,
        "all_updated_ms": {"p50": ms(percentile(per_event, 0.5)), "p95": ms(percentile(per_event, 0.95)),
                           "p99": ms(percentile(per_event, 0.99))},
        "per_screen_ms": {"p50": ms(percentile(per_screen, 0.5)), "p95": ms(percentile(per_screen, 0.95)),
                          "p99": ms(percentile(per_screen, 0.99))},
        "share_arrived": round(arrived_pairs / expected_pairs, 4) if expected_pairs else None,
        # Which changes are late: per event type, how many, the screens each reached, every screen updated.
        "by_event_type": {kind: {"events": len(v), "screens": round(sum(n for n, _ in v) / len(v), 1),
                                 "p50_ms": ms(percentile([w for _, w in v], 0.5)),
                                 "max_ms": ms(max(w for _, w in v))}
                          for kind, v in sorted(by_event_type.items())},
        "missed_by_screen": dict(missed_by_kind), "missed_examples": missed_examples,
        "region_refreshes_per_action": round(sum(n for at, n in plant.triggers if start <= at < end + 30)
                                             / succeeded, 1) if succeeded else None,
        "refetches": len(fetches), "refetch_errors": sum(1 for f in fetches if f["status"] != 200),
        "refetches_per_action": round(len(fetches) / succeeded, 1) if succeeded else None,
        "refetch_ms_p50": round(percentile([f["ms"] for f in fetches], 0.5), 1) if fetches else None,
        "refetch_ms_p95": round(percentile([f["ms"] for f in fetches], 0.95), 1) if fetches else None,
        "refetch_kb_per_action": round(sum(f["bytes"] for f in fetches) / 1024 / succeeded, 1) if succeeded else None,
        "refetches_by_screen": {k: {"requests": len(v), "ms_p50": round(percentile([f["ms"] for f in v], 0.5), 1),
                                    "kb_avg": round(sum(f["bytes"] for f in v) / len(v) / 1024, 1)}
                                for k, v in sorted(by_kind.items())},
        # Which regions they were (an operator's 主管看板 column under one name): what a change costs most.
        "refetches_by_region": dict(Counter(f"{f['kind']} {re.sub(r'[0-9]+', 'N', f['region'])}"
                                            for f in fetches).most_common()),
        "app_cpu_s": round(cpu["app"], 2), "db_cpu_s": round(cpu["db"], 2) if cpu.get("db") is not None else None,
        "app_cpu_s_per_action": round(cpu["app"] / succeeded, 3) if succeeded else None,
        "db_cpu_s_per_action": round(cpu["db"] / succeeded, 3) if succeeded and cpu.get("db") is not None else None,
        "app_cores_busy": round(cpu["app"] / seconds, 2) if seconds else None,
        # The screens are simulated on the same cores as the servers: what they take is not the servers'.
        "bench_cpu_s_per_action": round(cpu["bench"] / succeeded, 3) if succeeded else None,
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def print_step(step: dict) -> None:
    a, s = step["all_updated_ms"], step["per_screen_ms"]
    share = step["share_arrived"]
    print(f"R {step['rate']:>4} /s: {step['actions_succeeded']}/{step['actions']} actions ok "
          f"{step['action_statuses']}, {step['events_shown']} events shown on {step['screens_per_event']} screens each; "
          f"commit → every screen updated p50 {a['p50']} / p95 {a['p95']} / p99 {a['p99']} ms "
          f"(one screen: p50 {s['p50']} / p95 {s['p95']} ms), arrived {share if share is None else f'{share:.2%}'}; "
          f"{step['region_refreshes_per_action']} region refreshes asked/action, "
          f"{step['refetches_per_action']} re-fetches/action ({step['refetch_kb_per_action']} KB, "
          f"p50 {step['refetch_ms_p50']} ms, p95 {step['refetch_ms_p95']} ms); "
          f"app CPU {step['app_cpu_s_per_action']} s/action ({step['app_cores_busy']} cores busy), "
          f"PostgreSQL CPU {step['db_cpu_s_per_action']} s/action, the simulated screens' CPU "
          f"{step['bench_cpu_s_per_action']} s/action; load {step['load_average']}", flush=True)
    print("    by screen: " + ", ".join(f"{k} {v['requests']} req p50 {v['ms_p50']} ms {v['kb_avg']} KB"
                                        for k, v in step["refetches_by_screen"].items()), flush=True)
    print("    by region: " + ", ".join(f"{k} {v}" for k, v in step["refetches_by_region"].items()), flush=True)
    print("    by event: " + ", ".join(f"{k} ×{v['events']} on {v['screens']} screens p50 {v['p50_ms']} / max {v['max_ms']} ms"
                                       for k, v in step["by_event_type"].items()), flush=True)


# --- servers -----------------------------------------------------------------------------------------------

def process_tree_cpu(root_pids: list[int]) -> float:
    """User + system CPU seconds of the processes and their children, those still running and those
    that ended and were reaped (PostgreSQL's backends come and go: /proc's cutime and cstime keep theirs)."""
    ticks = 0
    for root in root_pids:
        found = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True, check=False)
        for pid in [root, *(int(p) for p in found.stdout.split())]:
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile: its time is in its parent's cutime now
                continue
            ticks += int(fields[11]) + int(fields[12])
            if pid == root:
                ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pid(url: str) -> int | None:
    """The postmaster of a cluster on this machine (for its CPU): from the data directory it serves."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            data = connection.execute(text("SHOW data_directory")).scalar()
        with open(os.path.join(data, "postmaster.pid")) as handle:
            return int(handle.readline())
    except Exception:  # noqa: BLE001 - another host, or no permission: no database CPU
        return None
    finally:
        engine.dispose()


class Nginx:
    """nginx with production's configuration (ops/nginx.conf: TLS, /ws upgrade, nginx-proxy.conf) in front
    of one or more app servers: its ``upstream workorder_app`` gets one ``server`` line each, as
    docs/DEPLOYMENT.md §13 sets up several hosts. A self-signed certificate; ``https_port`` is where it serves."""

    def __init__(self, upstreams: list[str], binary: str = "/usr/sbin/nginx"):
        from testkit.live import free_port

        self.binary = binary
        self.http_port, self.https_port = free_port(), free_port()
        self.directory = tempfile.mkdtemp(prefix="nginx-")
        os.chmod(self.directory, 0o755)  # its workers run as www-data (ops/nginx.conf)
        self.config_path = render_nginx_config(self.directory, upstreams, self.http_port, self.https_port)
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen([self.binary, "-c", self.config_path, "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not start")

    def __exit__(self, *exc):
        import shutil

        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


def render_nginx_config(directory: str, upstreams: list[str], http_port: int, https_port: int) -> str:
    """ops/nginx.conf with its placeholders filled as docs/DEPLOYMENT.md §8.2 and §13 do (other ports)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=plant.example", "-keyout", key, "-out", cert], check=True, capture_output=True)
    for name in ("logs", "temp"):
        os.makedirs(os.path.join(directory, name))
        os.chmod(os.path.join(directory, name), 0o777)
    with open(os.path.join(ROOT, "ops", "nginx.conf"), encoding="utf-8") as handle:
        config = handle.read()
    config = config.replace("server @UPSTREAM@;", "\n        ".join(f"server {u};" for u in upstreams))
    replacements = {"@RUN_DIR@": directory, "@LOG_DIR@": os.path.join(directory, "logs"),
                    "@TEMP_DIR@": os.path.join(directory, "temp"), "@MIME_TYPES@": "/etc/nginx/mime.types",
                    "@SERVER_NAME@": "plant.example", "@TLS_CERT@": cert, "@TLS_KEY@": key, "@APP_DIR@": ROOT}
    for placeholder, value in replacements.items():
        config = config.replace(placeholder, value)
    config = re.sub(r"listen (\[::\]:)?80;", rf"listen \g<1>{http_port};", config)
    config = re.sub(r"listen (\[::\]:)?443 ", rf"listen \g<1>{https_port} ", config)
    if os.geteuid() != 0:
        config = config.replace("user www-data;", "")
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(config)
    return path


def server_messages(server, lines: int = 60) -> str:
    """What a server printed besides a line per request (the access log's and app.request's): its workers
    booting and exiting, timeouts, errors."""
    from testkit.live import ACCESS_LOG_LINE

    with open(server.log.name, encoding="utf-8", errors="replace") as handle:
        kept = [line for line in handle if "app.request" not in line and not ACCESS_LOG_LINE.match(line)]
    crash = next((index for index, line in enumerate(kept) if line.startswith("Fatal Python error")), None)
    if crash is None:
        return "".join(kept[-lines:])
    # A crash's stack (faulthandler, ops/gunicorn.conf.py: the crashing thread's, "Stack"), whole; with every
    # thread's (PYTHONFAULTHANDLER) the crashing one, marked "Current thread", first.
    dump = kept[crash:]
    end = next((index for index, line in enumerate(dump) if index and not line.startswith(_DUMP_LINES)), len(dump))
    dump = dump[:end]
    current = next((index for index, line in enumerate(dump) if line.startswith("Current thread")), None)
    if current is not None:
        stop = next((index for index in range(current + 1, len(dump)) if not dump[index].startswith("  ")), len(dump))
        dump = dump[:1] + dump[current:stop] + ["\n"] + dump[1:current] + dump[stop:]
    return "".join(dump)


# The lines of faulthandler's dump (a blank line between threads).
_DUMP_LINES = ("Fatal Python error", "Stack (most recent", "Thread 0x", "Current thread 0x", "  File ", "  <", "\n",
               "Extension modules", "  Garbage-collecting", "Python runtime state", "...")


# --- the run -----------------------------------------------------------------------------------------------

def simulate(url: str, args, out=print) -> dict:
    """Serve ``url`` (a database holding the plant), open the screens, run the rates; the summary."""
    from contextlib import ExitStack

    from testkit.live import Gunicorn

    screens, extra = plan_screens(url, args.kiosks, args.supervisors, args.boards, args.desks)
    threads = len(screens) + 32  # every socket holds a thread; the kernel may put most on one worker
    env = {**GUNICORN_ENV, "SECRET_KEY": SECRET_KEY}
    report = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "screens": dict(Counter(s.kind for s in screens)), "servers": args.servers,
              "ignore_hints": args.ignore_hints, "rates": args.rates, "seconds": args.seconds, "warmup": args.warmup,
              "gunicorn": {"workers": 2, "threads": threads, "config": "ops/gunicorn.conf.py"}, "steps": []}
    with ExitStack() as stack:
        servers = [stack.enter_context(Gunicorn(url, workers=2, threads=threads, extra_env=env, config=GUNICORN_CONFIG))
                   for _ in range(args.servers)]
        tls = args.servers > 1 or args.nginx
        if tls:
            proxy = stack.enter_context(Nginx([f"127.0.0.1:{s.port}" for s in servers]))
            host, port = "127.0.0.1", proxy.https_port
        else:
            host, port = "127.0.0.1", servers[0].port
        base = f"{'https' if tls else 'http'}://{host}:{port}"
        client = HttpClient(host, port, tls)
        db_pid = postgres_pid(url)
        log = CommitLog(url)
        log.start()
        log.ready.wait(10)

        opened = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda s: s.load(client), screens))
            list(pool.map(lambda s: s.connect(host, port, tls), screens))
        pids = {pid: i for i, server in enumerate(servers) for pid in server.worker_pids()}
        report["sockets_per_server"] = dict(Counter(f"server {pids.get(s.server, '?') + 1 if s.server in pids else '?'}"
                                                    for s in screens))
        approver = extra["approver"]
        approver.load_page = client.request("GET", "/workorders?approval_status=pending", approver)
        out(f"sockets per app server: {report['sockets_per_server']}")
        out(f"{len(screens)} screens {report['screens']} loaded and connected in {time.perf_counter() - opened:.1f} s; "
            f"live regions per screen: " + ", ".join(
                f"{kind} {sorted(r.id for r in next(s for s in screens if s.kind == kind).regions.values() if r.live)}"
                for kind in report["screens"]))
        plant = Plant(screens, client, base)
        plant.start()
        actions = Actions(plant, client, approver, extra["waiting_work_orders"], random.Random(22))
        try:
            if args.warmup:
                # Servers as a running plant has them (templates compiled, connections opened, shared renders
                # made): a first step measured cold was up to three times slower at its p95.
                actions.run(WARMUP_RATE, args.warmup)
                actions.wait()
                settled = time.perf_counter() + args.drain
                while time.perf_counter() < settled and plant.busy():
                    time.sleep(0.25)
                out(f"warmed up: {args.warmup:g} s at R = {WARMUP_RATE:g}/s, not measured")
            for rate in args.rates:
                roots = [s.process.pid for s in servers]
                app_before = process_tree_cpu(roots)
                db_before = process_tree_cpu([db_pid]) if db_pid else None
                bench_before = time.process_time()
                start = time.perf_counter()
                actions.run(rate, args.seconds)
                actions.wait()
                end = time.perf_counter()
                drain = time.perf_counter() + args.drain
                while time.perf_counter() < drain and (plant.busy() or time.perf_counter() < end + 1.0
                                                       or undelivered(plant, log, (start, end))):
                    time.sleep(0.25)
                cpu = {"app": process_tree_cpu(roots) - app_before,
                       "db": process_tree_cpu([db_pid]) - db_before if db_pid else None,
                       "bench": time.process_time() - bench_before}
                step = summarise(plant, log, actions, (start, end), cpu, rate)
                step["stale_topics"] = sum(s.stale_topics for s in screens)
                step["sockets_closed"] = dict(plant.closed_sockets)
                if plant.closed_sockets:
                    out(f"    sockets the servers ended: {dict(plant.closed_sockets)}")
                report["steps"].append(step)
                print_step(step)
                p95 = step["all_updated_ms"]["p95"]
                if p95 is None or p95 > 3000 or (step["share_arrived"] or 0) < 0.9:
                    out(f"stopping: p95 {p95} ms, arrived {step['share_arrived']} — saturated")
                    break
        finally:
            log.stopping = True
            plant.shutdown()
        report["messages"] = dict(plant.messages)
        report["server_errors"] = [server_messages(s) for s in servers] if any(
            step["refetch_errors"] or step["sockets_closed"] for step in report["steps"]) else []
        for server, errors in zip(servers, report["server_errors"]):
            out(f"what {server.url} printed besides its requests' lines (a crash's dump, else the last 60):\n{errors}")
    good = [s["rate"] for s in report["steps"] if s["all_updated_ms"]["p95"] is not None
            and s["all_updated_ms"]["p95"] < TARGET_P95_S * 1000 and s["share_arrived"] == 1.0]
    report["highest_rate_p95_under_1s"] = max(good) if good else None
    out(f"highest R with p95 < 1 s and every screen updated: {report['highest_rate_p95_under_1s']} actions/s "
        f"on {os.cpu_count()} cores")
    return report


def write_report(report: dict, name: str = "plant") -> str:
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    path = os.path.join(ROOT, "bench-results", f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2, default=str)
    return path


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--kiosks", type=int, default=300)
    parser.add_argument("--supervisors", type=int, default=30)
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--desks", type=int, default=30)
    parser.add_argument("--rates", default="0.5,1,2,3,4", help="actions per second, one step each")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=15, help="seconds of actions at R = 1 before the first step")
    parser.add_argument("--drain", type=float, default=30, help="seconds to wait for the last re-fetches of a step")
    parser.add_argument("--servers", type=int, default=1, help="gunicorn masters (more than one: behind nginx)")
    parser.add_argument("--nginx", action="store_true", help="serve through nginx (ops/nginx.conf, TLS) even with one")
    parser.add_argument("--ignore-hints", action="store_true",
                        help="skip no region on an event's hint (live.js before data-live-skip): the before of a comparison")
    parser.add_argument("--quick", action="store_true", help="CI: 50 kiosks, a few other screens, R = 1 for 20 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.kiosks, args.supervisors, args.boards, args.desks = 50, 5, 2, 5
        args.rates, args.seconds, args.scale, args.warmup = "1", 20, min(args.scale, 0.05), 0
    args.rates = [float(r) for r in str(args.rates).split(",")]
    IGNORE_HINTS[0] = args.ignore_hints
    return args


def main() -> int:
    args = arguments()
    with postgres_database("plant_bench") as url:
        counts = load_plant(url, args.scale)
        print(f"plant (scale {args.scale}): {counts['work_orders']} 施工单, {counts['tasks']} tasks, "
              f"{counts['people']} people", flush=True)
        # A run claims, starts, completes and approves: on a copy, so that the next run measures the same plant.
        with plant_copy(url, "plant_bench_run") as copy:
            report = simulate(copy, args)
        report["plant"] = counts
    path = write_report(report)
    print(f"summary written to {os.path.relpath(path, ROOT)}")
    return 0 if report["highest_rate_p95_under_1s"] else 1


if __name__ == "__main__":
    sys.exit(main())
