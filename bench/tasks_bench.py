"""Server time of GET /tasks (任务中心) with 5,000 施工单 and 50,000 tasks (target: p95 < 50 ms).

    DATABASE_URL=postgresql://… .venv/bin/python bench/tasks_bench.py [--requests 40] [--reset]

Without DATABASE_URL it starts a throwaway PostgreSQL cluster from the local binaries (as the
test suite does). On a given database it needs empty tables (or --reset to drop and recreate
them). The plant is ``flask demo --scale 1`` (app/scale_demo.py: bulk inserts, 200 people, 5,000
施工单 of 10 tasks each, every tenth still waiting for approval, 90 days of mostly finished
history). Then every filter combination below is requested through the Flask test client as
six viewers (admin, supervisor, operator, maker, two salespeople), both as the list region htmx re-fetches
(filters, tabs, pages, live updates) and as the whole page (a link or a reload); the time is
the whole request inside the server, and the query count comes from a ``before_cursor_execute``
listener. It prints p50 / p95 per combination; timing is reported, never asserted (DESIGN.md §6).
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pgdatabase import postgres_database  # noqa: E402


def build_plant() -> dict:
    """The scaled demo plant (``flask demo --scale 1``); return the ids the combinations need."""
    from sqlalchemy import select

    from app import scale_demo
    from app.extensions import db
    from app.models import User
    from app.seed import load_demo, seed_presets

    seed_presets()
    load_demo()
    db.session.commit()
    built = scale_demo.build(1)
    users = dict(db.session.execute(
        select(User.username, User.id).where(User.username.in_(("admin", "sup_cutting", "sales1")))).all())
    return {"admin": users["admin"], "supervisor": users["sup_cutting"], "operator": built["operator"],
            "maker": built["maker"], "salesperson": built["salesperson"], "sales1": users["sales1"],
            "department": built["department"],
            "parent_department": built["parent_department"], "process": built["process"],
            "operator_filter": built["operator"]}


# A salesperson of the scaled plant sees the 施工单 of 4 of the plant's 40 customers; the demo's sales1
# those of two customers (few tasks: where the planner once misjudged the visibility condition).
VIEWERS = ("admin", "supervisor", "operator", "maker", "salesperson", "sales1")


def combinations(ids: dict) -> list[tuple[str, str]]:
    d, parent, p, op = ids["department"], ids["parent_department"], ids["process"], ids["operator_filter"]
    return [
        ("no filter", ""),
        ("status", "status=pending"),
        ("open", "status=open"),
        ("department", f"department={d}"),
        ("parent department", f"department={parent}"),
        ("department + status", f"department={d}&status=in_progress"),
        ("operator", f"operator={op}"),
        ("unassigned pending", "operator=none&status=pending"),
        ("priority", "priority=urgent"),
        ("task type", "task_type=printing"),
        ("process", f"process_id={p}"),
        ("施工单号", "work_order=SG20260102"),
        ("search number", "q=SG20260123"),
        ("search text", "q=手提袋"),
        ("created range", "date_by=created&date_from=2026-01-01&date_to=2026-12-31"),
        ("completed range", "date_by=completed&date_from=2026-06-01&date_to=2026-12-31"),
        ("overdue", "overdue=1"),
        ("drafts only", "drafts=only"),
        ("sort priority", "sort=priority"),
        ("sort delivery", "sort=delivery"),
        ("page 100", "page=100"),
        ("100 per page", "per_page=100"),
        ("everything", f"department={d}&status=pending&priority=high&overdue=1&q=SG&sort=delivery&per_page=50"),
    ]


def measure(app, user_id: int, query: str, requests: int, *, whole_page: bool) -> tuple[list[float], int]:
    from sqlalchemy import event

    from app.extensions import db

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    counted = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: counted.append(1)  # noqa: E731
    url = f"/tasks?{query}" if query else "/tasks"
    headers = {} if whole_page else {"HX-Request": "true"}
    for _ in range(3):  # warm up: connections, templates, plans
        assert client.get(url, headers=headers).status_code == 200
    event.listen(engine, "before_cursor_execute", listener)
    timings = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return timings, len(counted) // requests


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(url: str, requests: int, reset: bool) -> int:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Task, User, WorkOrder

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "METRICS_ENABLED": False,
                      "SECRET_KEY": "tasks-bench-secret-key-not-for-production"})
    with app.app_context():
        if reset:
            db.drop_all()
        db.create_all()
        if db.session.scalar(select(func.count()).select_from(User)):
            print("the database is not empty; pass --reset to drop and recreate every table", file=sys.stderr)
            return 2
        started = time.perf_counter()
        ids = build_plant()
        counts = (db.session.scalar(select(func.count()).select_from(WorkOrder)),
                  db.session.scalar(select(func.count()).select_from(Task)))
        print(f"built {counts[0]} 施工单 and {counts[1]} tasks in {time.perf_counter() - started:.1f} s "
              f"on {db.engine.dialect.name}")
    # As production's workers do once the app is loaded (ops/gunicorn.conf.py, post_worker_init):
    # a full collection would otherwise walk every object of the app inside some request.
    gc.collect()
    gc.freeze()
    worst = {False: 0.0, True: 0.0}  # whole page? → the worst p95
    print(f"GET /tasks, {requests} requests per line and column; server time in ms")
    print(f"{'':<34}{'list region (htmx)':>26}{'whole page':>26}")
    print(f"{'viewer':<12}{'combination':<22}" + f"{'p50':>8}{'p95':>8}{'queries':>10}" * 2)
    for viewer in VIEWERS:
        for name, query in combinations(ids):
            line = f"{viewer:<12}{name:<22}"
            for whole_page in (False, True):
                timings, queries = measure(app, ids[viewer], query, requests, whole_page=whole_page)
                ordered = sorted(timings)
                p95 = percentile(ordered, 0.95)
                worst[whole_page] = max(worst[whole_page], p95)
                line += f"{statistics.median(ordered):>8.1f}{p95:>8.1f}{queries:>10}"
            print(line)
    for whole_page, name in ((False, "list region"), (True, "whole page")):
        print(f"{name}: worst p95 {worst[whole_page]:.1f} ms "
              f"(target p95 < 50 ms: {'met' if worst[whole_page] < 50 else 'NOT met'})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reset", action="store_true", help="drop and recreate every table first")
    args = parser.parse_args()
    with postgres_database("tasks_bench") as url:
        return run(url, args.requests, args.reset)


if __name__ == "__main__":
    sys.exit(main())
