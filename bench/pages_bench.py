"""Server time and query count of every page the load test's personas request, on the scaled plant.

    DATABASE_URL=postgresql://… .venv/bin/python bench/pages_bench.py [--scale 1] [--requests 20]
        [--profile "/supervisor"] [--only URL …]

Without DATABASE_URL it starts a throwaway PostgreSQL cluster and loads `flask demo --scale N`
(an empty database given by DATABASE_URL is loaded the same way; one already holding the plant
is used as it is). Each page is requested through the Flask test client as its persona's user;
it prints p50 / p95 in ms, the SQL statements per request and the response size, so a fix shows
its effect without the noise of a shared machine. --profile URL prints a pyinstrument profile of
that page. Timing is reported, never asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# persona user, URL, htmx request
PAGES = [
    ("op_cutting1", "/kiosk", False),
    ("op_cutting1", "/kiosk?region=mine", True),
    ("op_cutting1", "/kiosk?region=claimable", True),
    ("sup_cutting", "/supervisor", False),
    ("sup_printing", "/supervisor", False),
    ("sup_cutting", "/dispatch/pool", False),
    ("sup_cutting", "/tasks?status=pending&operator=none", True),
    ("sales1", "/", False),
    ("admin", "/", False),
    ("sales1", "/tasks", False),
    ("sales1", "/tasks?status=open", True),
    ("admin", "/tasks?q=SG", True),
    ("sales1", "/workorders", False),
    ("sales1", "/workorders?page=3", False),
    ("admin", "/workorders/{work_order}", False),
    ("admin", "/tasks/{task}", False),
    ("admin", "/notifications", False),
    ("sales1", "/stats", False),
    ("admin", "/stats", False),
    ("maker1", "/workorders/new", False),
    ("maker1", "/workorders?approval_status=draft", False),
    ("sup_production", "/workorders?approval_status=pending&sort=created", False),
]


def measure(app, user_id: int, url: str, htmx: bool, requests: int, engine) -> tuple[list[float], int, int]:
    from sqlalchemy import event

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    headers = {"HX-Request": "true"} if htmx else {}
    for _ in range(2):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
    counted = []
    listener = lambda *args: counted.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    timings = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return timings, len(counted) // requests, len(response.data)


def run(url: str, scale: float, requests: int, profile: str | None, args_only: list[str]) -> int:
    from sqlalchemy import func, select

    from app import create_app, scale_demo
    from app.extensions import db
    from app.models import Task, User, WorkOrder
    from app.seed import load_demo, seed_presets

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "METRICS_ENABLED": False,
                      "SECRET_KEY": "pages-bench-secret-key-not-for-production"})
    with app.app_context():
        db.create_all()
        if not scale_demo.already_built():
            seed_presets()
            load_demo()
            db.session.commit()
            scale_demo.build(scale)
        users = dict(db.session.execute(select(User.username, User.id)).all())
        ids = {"work_order": db.session.scalar(select(func.max(WorkOrder.id)).where(WorkOrder.status == "in_progress")),
               "task": db.session.scalar(select(func.max(Task.id)).where(Task.status == "in_progress"))}
        engine = db.engine
    print(f"{'user':<15}{'page':<52}{'p50':>8}{'p95':>8}{'queries':>9}{'KB':>8}")
    for username, page, htmx in PAGES:
        target = page.format(**ids)
        if args_only and target not in args_only:
            continue
        if profile and target != profile:
            continue
        if profile:
            from pyinstrument import Profiler

            with Profiler(interval=0.0005) as profiler:
                measure(app, users[username], target, htmx, requests, engine)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            continue
        timings, queries, size = measure(app, users[username], target, htmx, requests, engine)
        ordered = sorted(timings)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        label = target + (" (htmx)" if htmx else "")
        print(f"{username:<15}{label[:51]:<52}{statistics.median(ordered):>8.1f}{p95:>8.1f}{queries:>9}"
              f"{size / 1024:>8.0f}", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile", help="print a pyinstrument profile of this URL instead")
    parser.add_argument("--only", nargs="*", default=[], help="measure only these URLs")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    cluster = None
    if not url:
        from testkit.pgcluster import ThrowawayCluster, find_bin_dir

        cluster = ThrowawayCluster(find_bin_dir())
        cluster.start()
        url = cluster.create_database("pages_bench")
    elif url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        return run(url, args.scale, args.requests, args.profile, args.only)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
