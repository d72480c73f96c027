"""Load test of the plant's four personas plus approvals (run only as its own process: locust
monkey-patches the process with gevent on import).

    locust -f locustfile.py --headless -u 100 -r 10 -t 60s --host http://127.0.0.1:8000

Needs the demo logins of `flask demo` (password demo123456), best on `flask demo --scale 1`.

Who and how often (the assumption, for a plant of four workshops with one kiosk per two or
three machines): of every ten users five are 操作员 at kiosks, two are 查看者 in the office,
one is a 部门主管, one a 制单员 and one approves 施工单. People act every few seconds, not
every few minutes as on a real floor, so that 100 users make a load worth measuring: a kiosk
user acts every 3–10 s, office users every 2–8 s, the maker and approver every 5–15 s. Each
user logs in once, as one of its persona's seeded users in turn (operators through the kiosk PIN login).

- 查看者 (sales1, admin, designer1): task centre with random filters (full page and htmx list),
  施工单 list pages and details, notifications, statistics.
- 部门主管 (sup_cutting, sup_printing, sup_diecut, sup_packaging): 主管看板, the 待分派 pool, the
  department's pending tasks; assigns an unassigned task and reassigns a waiting one.
- 操作员 (op_*): kiosk page and regions; claims the first claimable card (the same card for every
  operator of a department: deliberate claim races), starts, reports and completes its tasks.
- 制单员 (maker1): creates 施工单 (half submitted at once, half saved as drafts), edits a draft and
  submits it.
- 审核 (sup_production): approves the oldest 施工单 waiting for approval (two approvers race too).

A lost race is the application working: 409 (already claimed, stale version, operator at the
task cap) counts as a success and is tallied as a conflict in the summary. Every other status
≥ 400 is an error.

At exit the SLA is checked and the exit code set to 1 when it fails; defaults 0 errors, p95 <
150 ms, average < 50 ms, overridable by LOAD_SLA_MAX_ERRORS, LOAD_SLA_P95_MS and LOAD_SLA_AVG_MS.
It covers every request except the two login POSTs, which hash the password or PIN on purpose
(tens of milliseconds of CPU each, once per user and shift); they are reported beside it
("all_requests" in the summary) and still count as errors if they fail.
LOAD_SUMMARY_JSON names a file to write the summary (totals, per endpoint, conflicts, SLA) to.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import Counter, defaultdict
from datetime import date, timedelta

from locust import HttpUser, between, events, task
from locust.stats import StatsEntry

PASSWORD = os.environ.get("LOAD_PASSWORD", "demo123456")
SLA_MAX_ERRORS = int(os.environ.get("LOAD_SLA_MAX_ERRORS", "0"))
SLA_P95_MS = float(os.environ.get("LOAD_SLA_P95_MS", "150"))
SLA_AVG_MS = float(os.environ.get("LOAD_SLA_AVG_MS", "50"))
SUMMARY_PATH = os.environ.get("LOAD_SUMMARY_JSON", "")

HTMX = {"HX-Request": "true"}
LOGIN_POSTS = ("/login [POST]", "/kiosk/login [POST]")
CONFLICTS: Counter = Counter()
USERS_STARTED: defaultdict = defaultdict(itertools.count)

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TASK_FORM = re.compile(r'<form[^>]*action="/tasks/(\d+)/(\w+)"[^>]*>(.*?)</form>', re.S)
VERSION = re.compile(r'name="version" value="(\d+)"')
SELECTED = re.compile(r'<option value="(\d+)" selected')
OPTION = re.compile(r'<option value="(\d+)"')
WORK_ORDER_LINK = re.compile(r'href="/workorders/(\d+)"')
TASK_LINK = re.compile(r'href="/tasks/(\d+)"')
REMAINING = re.compile(r'data-set="(\d+)" data-for="good-(\d+)"')
STEP = re.compile(r'name="steps-(\d+)-process_id" type="hidden" value="(\d+)">.*?<label for="steps-\1-selected">([^<]+)</label>',
                  re.S)
STARTED_CARD = re.compile(r'data-task-id="(\d+)" data-version="\d+"\s+data-status="(?:in_progress|paused)"')
CUSTOMER_SELECT = re.compile(r'name="customer_id"[^>]*>(.*?)</select>', re.S)


def task_forms(html: str) -> list[tuple[int, str, str]]:
    """(task id, action, form body) for every task action form on a page."""
    return [(int(task_id), action, body) for task_id, action, body in TASK_FORM.findall(html)]


def version_of(body: str) -> str:
    found = VERSION.search(body)
    return found.group(1) if found else ""


class PlantUser(HttpUser):
    abstract = True
    usernames: tuple[str, ...] = ()

    def on_start(self):
        # In turn, not at random: each seeded user of a persona gets the same share of its users in
        # every run (an admin's pages cost more than a salesperson's; a random draw made runs differ).
        self.username = self.usernames[next(USERS_STARTED[type(self).__name__]) % len(self.usernames)]
        self.login()

    def login(self):
        page = self.client.get("/login", name="/login").text
        self.client.post("/login", name="/login [POST]",
                         data={"csrf_token": CSRF_FIELD.search(page).group(1), "username": self.username,
                               "password": PASSWORD})
        self.refresh_token(self.client.get("/", name="/ (工作台)").text)

    def refresh_token(self, html: str) -> None:
        found = CSRF_META.search(html)
        if found:
            self.csrf = found.group(1)

    def page(self, url: str, name: str | None = None, htmx: bool = False) -> str:
        response = self.client.get(url, name=name or url, headers=HTMX if htmx else None)
        if response.status_code == 401:  # the login itself failed: log in again, as a person would
            self.login()
        elif not htmx:
            self.refresh_token(response.text)
        return response.text

    def post(self, url: str, name: str, data: dict, htmx: bool = True) -> int:
        """POST as the page would (CSRF header from <body hx-headers>); 409 is an expected outcome."""
        headers = {"X-CSRFToken": self.csrf, **(HTMX if htmx else {})}
        with self.client.post(url, name=name, data=data, headers=headers, catch_response=True,
                              allow_redirects=False) as response:
            if response.status_code == 409:
                CONFLICTS[name] += 1
                response.success()
            elif response.status_code < 400:
                response.success()
            return response.status_code


class Viewer(PlantUser):
    """查看者: office staff reading lists, details and figures."""

    weight = 2
    wait_time = between(2, 8)
    usernames = ("sales1", "admin", "designer1")
    FILTERS = ("", "status=pending", "status=open", "status=in_progress", "priority=urgent", "overdue=1",
               "sort=delivery", "task_type=printing", "q=SG", "date_by=completed&date_from={month_ago}")

    @task(4)
    def task_centre(self):
        query = random.choice(self.FILTERS).format(month_ago=(date.today() - timedelta(days=30)).isoformat())
        html = self.page(f"/tasks?{query}", name="/tasks?[filters] (htmx)", htmx=True)
        ids = TASK_LINK.findall(html)
        if ids and random.random() < 0.3:
            self.page(f"/tasks/{random.choice(ids)}", name="/tasks/[id]")

    @task(1)
    def task_centre_page(self):
        self.page("/tasks", name="/tasks")

    @task(3)
    def work_orders(self):
        html = self.page(f"/workorders?page={random.randint(1, 5)}", name="/workorders?page=[n]")
        ids = WORK_ORDER_LINK.findall(html)
        if ids:
            self.page(f"/workorders/{random.choice(ids)}", name="/workorders/[id]")

    @task(1)
    def notifications(self):
        self.page("/notifications")

    @task(1)
    def stats(self):
        self.page("/stats")


class Supervisor(PlantUser):
    """部门主管: the board of the department, the pool, assigning and reassigning."""

    weight = 1
    wait_time = between(2, 8)
    usernames = ("sup_cutting", "sup_printing", "sup_diecut", "sup_packaging")

    @task(3)
    def board_and_assign(self):
        html = self.page("/supervisor", name="/supervisor")
        # Reassigning a task already started needs a reason and takes it from an operator's hands:
        # supervisors move waiting work only.
        started = {int(i) for i in STARTED_CARD.findall(html)}
        forms = [(task_id, body) for task_id, action, body in task_forms(html)
                 if action == "assign" and task_id not in started]
        if not forms:
            return
        task_id, body = random.choice(forms)
        current = SELECTED.search(body)
        choices = [o for o in OPTION.findall(body) if not current or o != current.group(1)]
        if choices:
            name = "/tasks/[id]/assign (reassign)" if current else "/tasks/[id]/assign"
            self.post(f"/tasks/{task_id}/assign", name, {"operator_id": random.choice(choices),
                                                          "version": version_of(body), "reason": ""})

    @task(1)
    def pool(self):
        self.page("/dispatch/pool")

    @task(2)
    def department_tasks(self):
        self.page("/tasks?status=pending&operator=none", name="/tasks?[filters] (htmx)", htmx=True)


class Operator(PlantUser):
    """操作员 at a kiosk: claim (racing the colleagues), start, report, complete."""

    weight = 5
    wait_time = between(3, 10)
    usernames = tuple(f"op_{w}{n}" for w in ("cutting", "printing", "diecut", "packaging") for n in (1, 2))
    PINS = {f"op_{w}{n}": (f"10{i * 2 + n:02d}", f"80{i * 2 + n:02d}")
            for i, w in enumerate(("cutting", "printing", "diecut", "packaging")) for n in (1, 2)}
    MAX_HELD = 5

    def login(self):
        employee_no, pin = self.PINS[self.username]
        page = self.client.get("/kiosk/login", name="/kiosk/login").text
        response = self.client.post("/kiosk/login", name="/kiosk/login [POST]",
                                    data={"csrf_token": CSRF_FIELD.search(page).group(1), "employee_no": employee_no,
                                          "pin": pin})
        self.refresh_token(response.text)

    @task(2)
    def kiosk(self):
        self.page("/kiosk")

    @task(3)
    def claim(self):
        mine = task_forms(self.page("/kiosk?region=mine", name="/kiosk?region=mine", htmx=True))
        if len({task_id for task_id, _, _ in mine}) >= self.MAX_HELD:
            return self.work(mine)
        claimable = [(t, b) for t, a, b in task_forms(
            self.page("/kiosk?region=claimable", name="/kiosk?region=claimable", htmx=True)) if a == "claim"]
        if claimable:
            # The first card most of the time: every operator of the department wants the same one.
            task_id, body = claimable[0] if random.random() < 0.7 else random.choice(claimable)
            self.post(f"/tasks/{task_id}/claim", "/tasks/[id]/claim", {"version": version_of(body)})

    @task(4)
    def work(self, mine=None):
        html = None
        if mine is None:
            html = self.page("/kiosk?region=mine", name="/kiosk?region=mine", htmx=True)
            mine = task_forms(html)
        by_action = {}
        for task_id, action, body in mine:
            by_action.setdefault(action, []).append((task_id, body))
        if by_action.get("start"):
            task_id, body = random.choice(by_action["start"])
            self.post(f"/tasks/{task_id}/start", "/tasks/[id]/start", {"version": version_of(body)})
        elif by_action.get("report"):
            task_id, body = random.choice(by_action["report"])
            remaining = {int(t): int(n) for n, t in REMAINING.findall(body)}.get(task_id, 0)
            if remaining > 0:
                # Usually a part, sometimes the rest (reaching the target completes the task).
                good = remaining if random.random() < 0.4 else max(1, remaining // random.randint(2, 4))
                self.post(f"/tasks/{task_id}/report", "/tasks/[id]/report",
                          {"version": version_of(body), "good": good, "defective": 0})
            elif by_action.get("complete"):
                self.post(f"/tasks/{task_id}/complete", "/tasks/[id]/complete",
                          {"version": version_of(body), "reason": ""})


class Maker(PlantUser):
    """制单员: new 施工单 (submitted or kept as drafts), edits drafts and submits them."""

    weight = 1
    wait_time = between(5, 15)
    usernames = ("maker1",)
    # Processes that need no plate and make a task per product line, so the approval check passes.
    ROUTE = ("过油", "切成品", "包装")

    def on_start(self):
        super().on_start()
        html = self.page("/workorders/new")
        self.steps = {name.strip(): (index, process_id) for index, process_id, name in STEP.findall(html)}
        self.customers = OPTION.findall(CUSTOMER_SELECT.search(html).group(1))
        self.products = OPTION.findall(self.page("/workorders/form/product-row", htmx=True))

    def form(self, intent: str, **extra) -> dict:
        today = date.today()
        data = {"customer_id": random.choice(self.customers), "priority": random.choice(("low", "normal", "high")),
                "order_date": today.isoformat(), "delivery_date": (today + timedelta(days=14)).isoformat(),
                "production_quantity": str(random.randint(1, 50) * 100), "spoilage_quantity": "0",
                "printing_type": "none", "other_colors": "", "notes": "负载测试", "intent": intent,
                "products-0-product_id": random.choice(self.products), "products-0-quantity": "1000", **extra}
        for sequence, name in enumerate(self.ROUTE, start=1):
            index, process_id = self.steps[name]
            data.update({f"steps-{index}-process_id": process_id, f"steps-{index}-selected": "y",
                         f"steps-{index}-sequence": str(sequence)})
        return data

    @task(3)
    def create(self):
        self.page("/workorders/new")
        self.post("/workorders", "/workorders [POST]", self.form(random.choice(("draft", "submit"))), htmx=False)

    @task(2)
    def edit_draft(self):
        html = self.page("/workorders?approval_status=draft", name="/workorders?approval_status=draft")
        ids = WORK_ORDER_LINK.findall(html)
        if not ids:
            return
        work_order_id = random.choice(ids)
        form = self.page(f"/workorders/{work_order_id}/edit", name="/workorders/[id]/edit")
        version, line = VERSION.search(form), re.search(r'name="products-0-line_id"[^>]*value="(\d+)"', form)
        if version and line:
            self.post(f"/workorders/{work_order_id}", "/workorders/[id] [POST]",
                      self.form(random.choice(("draft", "submit")), version=version.group(1),
                                **{"products-0-line_id": line.group(1)}), htmx=False)

    @task(1)
    def own_list(self):
        self.page("/workorders", name="/workorders")


class Approver(PlantUser):
    """审核: approves what waits, oldest first (the approvers race for it)."""

    weight = 1
    wait_time = between(5, 15)
    usernames = ("sup_production",)

    @task
    def approve(self):
        html = self.page("/workorders?approval_status=pending&sort=created",
                         name="/workorders?approval_status=pending")
        ids = WORK_ORDER_LINK.findall(html)
        if not ids:
            return
        work_order_id = ids[0] if random.random() < 0.5 else random.choice(ids)
        detail = self.page(f"/workorders/{work_order_id}", name="/workorders/[id]")
        form = re.search(rf'action="/workorders/{work_order_id}/approve"[^>]*>(.*?)</form>', detail, re.S)
        if form:
            self.post(f"/workorders/{work_order_id}/approve", "/workorders/[id]/approve",
                      {"version": version_of(form.group(1))})


def sla_entry(stats):
    """Every request but the logins' POST: they hash the password on purpose, once per shift."""
    entry = StatsEntry(stats, "SLA (without login POSTs)", None)
    for item in stats.entries.values():
        if item.name not in LOGIN_POSTS:
            entry.extend(item)
    return entry


def summary(environment) -> dict:
    stats = environment.stats
    total = sla_entry(stats)

    def entry(item) -> dict:
        return {"method": item.method, "name": item.name, "requests": item.num_requests,
                "failures": item.num_failures, "rps": round(item.total_rps, 2),
                "avg_ms": round(item.avg_response_time, 1), "p50_ms": item.get_response_time_percentile(0.5),
                "p95_ms": item.get_response_time_percentile(0.95), "p99_ms": item.get_response_time_percentile(0.99),
                "max_ms": round(item.max_response_time or 0, 1)}

    result = {
        "users": environment.runner.user_count if environment.runner else None,
        "total": entry(total),
        "all_requests": entry(stats.total),
        "endpoints": [entry(item) for item in sorted(stats.entries.values(), key=lambda i: (i.name, i.method))],
        "conflicts": dict(CONFLICTS),
        "errors": [{"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
                   for e in stats.errors.values()],
        "sla": {"max_errors": SLA_MAX_ERRORS, "p95_ms": SLA_P95_MS, "avg_ms": SLA_AVG_MS},
    }
    failed = []
    if stats.total.num_failures > SLA_MAX_ERRORS:
        failed.append(f"{stats.total.num_failures} errors > {SLA_MAX_ERRORS}")
    if total.get_response_time_percentile(0.95) >= SLA_P95_MS:
        failed.append(f"p95 {total.get_response_time_percentile(0.95)} ms >= {SLA_P95_MS} ms")
    if total.avg_response_time >= SLA_AVG_MS:
        failed.append(f"average {total.avg_response_time:.1f} ms >= {SLA_AVG_MS} ms")
    if not total.num_requests:
        failed.append("no requests")
    result["sla"]["failed"] = failed
    return result


@events.quitting.add_listener
def check_sla(environment, **_kwargs):
    result = summary(environment)
    if SUMMARY_PATH:
        with open(SUMMARY_PATH, "w", encoding="utf-8") as handle:
            json.dump(result, handle, ensure_ascii=False, indent=2)
    total = result["total"]
    print(f"SLA: {total['requests']} requests, {total['failures']} errors, average {total['avg_ms']} ms, "
          f"p95 {total['p95_ms']} ms, conflicts {sum(CONFLICTS.values())} (expected)")
    if result["sla"]["failed"]:
        print("SLA FAILED: " + "; ".join(result["sla"]["failed"]))
        environment.process_exit_code = 1
    else:
        print("SLA met")
