"""CPU time of the kiosk's regions, a task's page and the task centre, rendered with and without
``app.views.memoized_gettext`` (does the memo earn its place?).

    .venv/bin/python bench/gettext_bench.py [--renders 200]

In process, on a throwaway SQLite file, with the tests' plant (tests/support/kiosk_world.py) grown by
the factories: an operator holding 18 open tasks and 40 more to claim (a kiosk of 18 + 12 cards), and
100 tasks for the task centre's 100-row page. Each region is requested through the test client as htmx
does, alternately with and without the memo, and ``time.thread_time()`` of each request is kept; the
p50s are printed, with every card and row rendered anew (the fragment cache emptied before each
request: the worst case, after a change to all of them) and from a warm cache (a live refresh in
which nothing changed). Timing is reported, never asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from app import create_app  # noqa: E402
from app import views as app_views  # noqa: E402
from app.extensions import db  # noqa: E402
from app.kiosk import routes as kiosk_routes  # noqa: E402
from app.tasks import centre as centre_routes  # noqa: E402
from app.tasks import routes as task_routes  # noqa: E402
from app.templating import RENDERED_FRAGMENTS  # noqa: E402

# Whether the next request renders with the memo; the routes' render_page is wrapped to obey it.
MEMO = {"on": True}


def _render_page(*args, gettext=None, **context):
    if MEMO["on"]:
        context["gettext"] = app_views.memoized_gettext()
    return app_views.render_page(*args, **context)


def build(app) -> dict:
    import factories as f
    from support.kiosk_world import build_world

    with app.app_context():
        db.create_all()
        world = build_world()
        statuses = ["in_progress"] * 4 + ["paused"] * 4 + ["pending"] * 10
        for n, status in enumerate(statuses):
            f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator, status=status,
                          number=f"TSG2026110001-M{n:02d}", content=f"印刷：我的任务 {n}", target_quantity=1000,
                          completed_quantity=10 * n, defective_quantity=n % 3,
                          pause_reason="plate" if status == "paused" else None,
                          production_requirements="先打样" if n % 2 else "")
        for n in range(40):
            f.TaskFactory(step=world.print_step, department=world.printing, status="pending",
                          number=f"TSG2026110001-C{n:02d}", content=f"印刷：可认领 {n}", target_quantity=500)
        for n in range(50):
            f.TaskFactory(step=world.die_step, department=world.die_cutting, status="pending",
                          number=f"TSG2026110001-D{n:02d}", content=f"模切：{n}", target_quantity=800)
        from app.services.core import settings

        settings.update(world.admin, {"operator_task_cap": 30})
        db.session.commit()
        return {"operator": world.operator.id, "admin": world.admin.id, "task": world.task.id}


def client_for(app, user_id: int, kiosk: bool):
    client = app.test_client()
    with client.session_transaction() as session:
        session.update({"_user_id": str(user_id), "_fresh": True})
        if kiosk:
            session.update({"kiosk_session": True, "kiosk_last_seen": 9e12})
    return client


def measure(client, url: str, renders: int, cold: bool) -> dict[bool, list[float]]:
    times: dict[bool, list[float]] = {True: [], False: []}
    for memo in (True, False):  # warm both up
        MEMO["on"] = memo
        client.get(url, headers={"HX-Request": "true"})
    for i in range(renders * 2):
        memo = (i % 2 == 0) ^ (i // 2 % 2 == 0)  # alternate, not always the same one first
        MEMO["on"] = memo
        if cold:
            RENDERED_FRAGMENTS.clear()
        start = time.thread_time()
        response = client.get(url, headers={"HX-Request": "true"})
        times[memo].append((time.thread_time() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    from factories import CHEAP_HASH_METHOD

    folder = tempfile.mkdtemp(prefix="gettext-bench-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db", "WTF_CSRF_ENABLED": False,
                      "METRICS_ENABLED": False, "TESTING": True, "SECRET_KEY": "gettext-bench-" + "x" * 32,
                      "PASSWORD_HASH_METHOD": CHEAP_HASH_METHOD, "LOG_LEVEL": "WARNING"})
    for module in (kiosk_routes, task_routes, centre_routes):
        module.render_page = _render_page
    ids = build(app)
    operator, admin = client_for(app, ids["operator"], kiosk=True), client_for(app, ids["admin"], kiosk=False)
    pages = [
        ("kiosk mine (18 cards)", operator, "/kiosk?region=mine"),
        ("kiosk claimable (12 cards)", operator, "/kiosk?region=claimable"),
        ("kiosk whole page (30 cards)", operator, "/kiosk"),
        ("task page (1 card)", operator, f"/tasks/{ids['task']}"),
        ("task centre (100 rows)*", admin, "/tasks?per_page=100"),
    ]
    print(f"p50 CPU ms per request ({args.renders} each), SQLite in process")
    print(f"{'':34} {'cache':6} {'memo':>8} {'no memo':>8} {'saved':>7}")
    for label, client, url in pages:
        for cold in (True, False):
            times = measure(client, url, args.renders, cold)
            with_memo, without = statistics.median(times[True]), statistics.median(times[False])
            print(f"{label:34} {'cold' if cold else 'warm':6} {with_memo:8.2f} {without:8.2f} "
                  f"{(without - with_memo) / without:7.1%}")
    print("* the task centre does not use the memo today; measured to see whether it would help")
    return 0


if __name__ == "__main__":
    sys.exit(main())
