"""CPU per request of the plant's hottest requests (issue #22), in-process on the scaled plant.

    .venv/bin/python bench/hot_requests_bench.py [--scale 1] [--requests 40] [--warmup 10] [--only 施工单 …]
        [--gunicorn 400]

On PostgreSQL (DATABASE_URL, else a throwaway cluster) with `flask demo --scale N` (a database that
already holds the plant is used as it is), the app in production's configuration (PRODUCTION, a
random SECRET_KEY, JSON logs, HTTPS cookies, behind-proxy), each request through the Flask test client
as its persona. Like a gunicorn worker (ops/gunicorn.conf.py post_worker_init) the process warms up
first and then calls gc.freeze(); each request is timed with time.thread_time() (CPU of this thread,
not the wall clock a shared machine stretches) and the p50 of --requests is printed, with its SQL
statements and size. The figures are the ones issue #22 lists, with its targets beside them, and the
live re-fetches a shared render serves (app/shared_regions.py) and the 工作台's sections. The 主管看板 is
re-fetched in parts (docs/LIVE.md §6): its 未分配 column, its fullest operator's column and its head are
the issue's "a 主管看板 column"; the whole board is what a page load (or a new column, a resync) costs.

Then, with --gunicorn N (default 400; 0 leaves it out), what such requests cost served by gunicorn with
production's settings (ops/gunicorn.conf.py, 2 workers, metrics on), as every live re-fetch of
`make bench-plant` is: N requests one after the other on a keep-alive connection, and the app's CPU per
request from /proc (user + system of the master and its workers). The bell's count is the floor every live
re-fetch pays (the session, the user, the settings, the answer, the log line, the metrics); the kiosk's
我的任务 a small region above it.
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import secrets
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from pgdatabase import postgres_database

HTMX = {"HX-Request": "true"}
# A live re-fetch after an event this process has delivered: served from a render made for another
# viewer of the same region (app/shared_regions.py), which is what all but one screen of a department pay.
LIVE_EVENT_ID = "hot-requests-bench"
LIVE = {**HTMX, "X-Live-Refresh": "1", "X-Live-Seen": LIVE_EVENT_ID}

# label, persona, URL, request headers, the target in ms (None: not one of the figures)
REQUESTS = [
    ("kiosk 我的任务 region", "op_cutting1", "/kiosk?region=mine", HTMX, 3.0),
    ("kiosk 可认领 region", "op_cutting1", "/kiosk?region=claimable", HTMX, 3.0),
    ("kiosk 可认领 region, shared", "op_cutting1", "/kiosk?region=claimable", LIVE, 3.0),
    ("主管看板 region", "sup_cutting", "/supervisor", HTMX, None),  # the whole board: a page load, a new column, a resync
    ("主管看板 region, shared", "sup_cutting", "/supervisor", LIVE, None),
    # The board re-fetches in parts (docs/LIVE.md §6): an event refreshes the columns it touches and the head.
    ("主管看板 column 未分配", "sup_cutting", "/supervisor?column=unassigned", HTMX, 4.0),
    ("主管看板 column 未分配, shared", "sup_cutting", "/supervisor?column=unassigned", LIVE, 4.0),
    ("主管看板 column of an operator", "sup_cutting", "/supervisor?column={board_operator}", HTMX, 4.0),
    ("主管看板 column of an operator, shared", "sup_cutting", "/supervisor?column={board_operator}", LIVE, 4.0),
    ("主管看板 head", "sup_cutting", "/supervisor?column=summary", HTMX, 4.0),
    ("主管看板 head, shared", "sup_cutting", "/supervisor?column=summary", LIVE, 4.0),
    ("task centre list region", "sales1", "/tasks", HTMX, 3.0),
    ("施工单 list", "sales1", "/workorders", {}, 6.0),
    ("a 施工单 page", "admin", "/workorders/{work_order}", {}, 6.0),
    ("notification list", "admin", "/notifications", {}, 2.5),
    ("工作台 page", "admin", "/", {}, None),
    ("工作台 全厂任务 section", "admin", "/", {**HTMX, "HX-Target": "dash-plant"}, None),
    ("工作台 全厂任务, shared", "admin", "/", {**LIVE, "HX-Target": "dash-plant"}, None),
]
# label, persona, URL: requests served by gunicorn as a live re-fetch asks for them (rendered: no X-Live-Seen)
GUNICORN_REQUESTS = [
    ("the bell's count: the floor", "op_cutting1", "/notifications/bell"),
    ("kiosk 我的任务 region", "op_cutting1", "/kiosk?region=mine"),
]


def measure(app, user, url: str, headers: dict, requests: int, warmup: int, engine) -> dict:
    from sqlalchemy import event

    client = app.test_client()
    with client.session_transaction(base_url="https://plant.example") as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["_generation"] = user.session_generation

    def get():
        response = client.get(url, headers=headers, base_url="https://plant.example")
        assert response.status_code == 200, (url, response.status_code, response.data[:3000].decode())
        return response

    for _ in range(warmup):
        get()
    gc.collect()
    gc.freeze()
    statements = []
    def listener(*args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", listener)
    cpu, wall = [], []
    try:
        for _ in range(requests):
            started, started_wall = time.thread_time(), time.perf_counter()
            response = get()
            cpu.append((time.thread_time() - started) * 1000)
            wall.append((time.perf_counter() - started_wall) * 1000)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return {"cpu_ms_p50": round(statistics.median(cpu), 1), "wall_ms_p50": round(statistics.median(wall), 1),
            "queries": len(statements) // requests, "kb": round(len(response.data) / 1024, 1)}


def busiest_board_operator(supervisor) -> int:
    """The operator with the most open tasks on the supervisor's first board: its fullest operator column."""
    from sqlalchemy import func, select

    from app.enums import OPEN_TASK_STATUSES
    from app.extensions import db
    from app.models import Task
    from app.services.dispatch.supervisor_board import board_departments

    department = board_departments(supervisor)[0]
    return db.session.scalar(select(Task.operator_id).where(
        Task.department_id == department.id, Task.operator_id.is_not(None), Task.status.in_(OPEN_TASK_STATUSES))
        .group_by(Task.operator_id).order_by(func.count().desc(), Task.operator_id).limit(1))


def run(url: str, args) -> list[dict]:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import User, WorkOrder

    sys.path.insert(0, os.path.join(ROOT, "bench"))
    from load_bench import load_plant

    load_plant(url, args.scale)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PRODUCTION": True, "SECRET_KEY": secrets.token_hex(32),
                      "METRICS_ENABLED": False})
    logging.getLogger("app.request").setLevel(logging.ERROR)  # the per-request lines, not their cost
    results = []
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        ids = {"work_order": db.session.scalar(select(func.max(WorkOrder.id)).where(WorkOrder.status == "in_progress")),
               "board_operator": busiest_board_operator(users["sup_cutting"])}
        engine = db.engine
        db.session.expunge_all()
    # Outside the app context: a request inside one would share its flask.g (and Flask-Login's user) with
    # every other request, as no worker thread ever does.
    from app.realtime import events

    events.deliver({"id": LIVE_EVENT_ID, "type": "bench"})
    for label, username, page, headers, target in REQUESTS:
        if args.only and not any(word in label for word in args.only):
            continue
        result = measure(app, users[username], page.format(**ids), headers, args.requests, args.warmup, engine)
        result.update(label=label, user=username, url=page.format(**ids), target_ms=target)
        results.append(result)
        aim = f"(target ≤ {target} ms)" if target else ""
        print(f"{label:<38}{username:<14}{result['url']:<28}CPU p50 {result['cpu_ms_p50']:>6.1f} ms "
              f"{aim:<19}  wall p50 {result['wall_ms_p50']:>6.1f} ms  {result['queries']:>3} SQL  "
              f"{result['kb']:>6.1f} KB", flush=True)
    return results


def through_gunicorn(url: str, requests: int) -> None:
    """Each of GUNICORN_REQUESTS ``requests`` times, one after the other, on one keep-alive connection to gunicorn
    with production's settings; the app's CPU per request (master and workers, from /proc)."""
    import http.client

    from load_bench import GUNICORN_CONFIG, GUNICORN_ENV
    from plant_bench import process_tree_cpu
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import User
    from testkit.live import Gunicorn

    secret = secrets.token_hex(32)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": False, "SECRET_KEY": secret})
    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        cookies = {name: "session=" + serializer.dumps({"_user_id": str(u.id), "_fresh": True,
                                                        "_generation": u.session_generation})
                   for name, u in users.items()}
    with Gunicorn(url, workers=2, threads=16, extra_env={**GUNICORN_ENV, "SECRET_KEY": secret},
                  config=GUNICORN_CONFIG) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        def get(page: str, headers: dict, times: int) -> None:
            for _ in range(times):
                connection.request("GET", page, headers=headers)
                response = connection.getresponse()
                response.read()
                assert response.status == 200, (page, response.status)
                # As a browser keeps it: the first answer marks the session (Flask-Login's _fresh, _id), and a
                # cookie without those marks would be signed and sent again on every request.
                renewed = response.getheader("Set-Cookie")
                if renewed:
                    headers["Cookie"] = renewed.split(";", 1)[0]

        for label, username, page in GUNICORN_REQUESTS:
            headers = {"Cookie": cookies[username], "HX-Request": "true", "X-Live-Refresh": "1"}
            get(page, headers, 50)  # every worker thread warmed up and past its gc.freeze()
            before, started = process_tree_cpu([server.process.pid]), time.perf_counter()
            get(page, headers, requests)
            cpu, wall = process_tree_cpu([server.process.pid]) - before, time.perf_counter() - started
            print(f"gunicorn: {label:<30}{username:<14}{page:<28}app CPU {cpu * 1000 / requests:>6.2f} ms/request  "
                  f"{requests / wall:>5.0f} requests/s one at a time", flush=True)
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--gunicorn", type=int, default=400, metavar="N",
                        help="requests per row served by gunicorn (0: leave that part out)")
    parser.add_argument("--only", action="append", default=[],
                        help="measure only the requests whose label holds this text (repeatable)")
    args = parser.parse_args()
    with postgres_database("hot_requests") as url:
        run(url, args)
        if args.gunicorn:
            through_gunicorn(url, args.gunicorn)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (CPU time, not wall time, is the figure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
