"""Server time of GET /kiosk with 50,000 tasks in the database (target: p95 < 30 ms on PostgreSQL).

    DATABASE_URL=postgresql://… .venv/bin/python bench/kiosk_bench.py [--tasks 50000] [--requests 200]

The database must be empty (or pass --reset to drop and recreate every table). The plant is
built with bulk inserts: the preset processes and departments, 60 operators, 2,000 施工单 of
25 tasks — a plant some months into production, so most tasks are finished history and the
open work is a few thousand tasks; nobody holds more than the cap. Then VACUUM ANALYZE (what
autovacuum does after a bulk load), and the busiest operator's /kiosk is requested through
the Flask test client; the per-request wall time is the whole request inside the server.

It is measured twice: as a kiosk sees it while its cards are unchanged (their HTML comes from
the fragment cache, app/templating.py), and with every card rendered anew (the cache emptied before
each request), the worst case right after a change to every card on the screen.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import event, func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.enums import OPEN_TASK_STATUSES  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Customer,
    Department,
    Process,
    Role,
    Task,
    User,
    WorkOrder,
    WorkOrderStep,
    user_departments,
    user_roles,
)
from app.seed import seed_presets  # noqa: E402
from app.services.core import settings  # noqa: E402
from app.services.tasks.cards import claimable_task_ids  # noqa: E402
from app.templating import RENDERED_FRAGMENTS  # noqa: E402
from app.utils.timeutil import plant_today, utcnow  # noqa: E402

TASKS_PER_WORK_ORDER = 25
STEPS_PER_WORK_ORDER = 5
OPERATORS = 60
# Share of the approved 施工单's tasks per state (every tenth 施工单 is unapproved: drafts).
TASK_STATES = [("completed", 80), ("pending", 10), ("in_progress", 5), ("paused", 2), ("cancelled", 3)]


def build_plant(task_count: int, seed: int = 7) -> int:
    """Bulk-insert the plant; return the id of the operator whose kiosk is measured."""
    rng = random.Random(seed)
    now, today = utcnow(), plant_today()
    seed_presets()
    db.session.flush()
    departments = db.session.scalars(select(Department).where(Department.parent_id.is_not(None))).all()
    processes = db.session.scalars(select(Process).order_by(Process.sort_order)).all()
    operator_role = db.session.scalar(select(Role).where(Role.code == "operator"))
    customer = Customer(name="基准测试客户")
    db.session.add(customer)
    db.session.flush()

    users = [{"username": f"bench_op{i}", "name": f"操作员{i}", "employee_no": f"B{i:04d}", "is_active": True,
              "password_hash": "", "created_at": now, "updated_at": now} for i in range(OPERATORS)]
    user_ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users))
    db.session.execute(insert(user_roles), [{"user_id": u, "role_id": operator_role.id} for u in user_ids])
    operators_by_department = {d.id: [] for d in departments}
    for index, user_id in enumerate(user_ids):
        department = departments[index % len(departments)]
        operators_by_department[department.id].append(user_id)
    db.session.execute(insert(user_departments), [
        {"user_id": u, "department_id": d} for d, members in operators_by_department.items() for u in members
    ])

    order_count = max(1, task_count // TASKS_PER_WORK_ORDER)
    orders = []
    for n in range(order_count):
        draft = n % 10 == 0
        orders.append({
            "number": f"SG2026{n // 9999 + 1:02d}{n % 9999 + 1:04d}", "customer_id": customer.id,
            "approval_status": "pending" if draft else "approved",
            "status": "pending" if draft else rng.choice(["in_progress"] * 9 + ["paused"]),
            "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
            "order_date": today - timedelta(days=30), "delivery_date": today + timedelta(days=rng.randint(-5, 30)),
            "production_quantity": 1000, "created_at": now, "updated_at": now, "cmyk_colors": [], "other_colors": [],
        })
    order_ids = list(db.session.scalars(insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True), orders))
    steps = [{"work_order_id": o, "process_id": processes[s * 3].id, "sequence": s * 10, "created_at": now,
              "updated_at": now, "status": "in_progress"}
             for o in order_ids for s in range(STEPS_PER_WORK_ORDER)]
    step_ids = list(db.session.scalars(insert(WorkOrderStep).returning(WorkOrderStep.id, sort_by_parameter_order=True), steps))

    states = [state for state, weight in TASK_STATES for _ in range(weight)]
    cap = settings.get("operator_task_cap")
    open_held = dict.fromkeys(user_ids, 0)
    tasks = []
    for index in range(task_count):
        order_index = index // TASKS_PER_WORK_ORDER
        order = orders[order_index % len(orders)]
        step = index % STEPS_PER_WORK_ORDER
        step_id = step_ids[(order_index % len(orders)) * STEPS_PER_WORK_ORDER + step]
        status = "draft" if order["approval_status"] != "approved" else rng.choice(states)
        department = rng.choice(departments)
        members = operators_by_department[department.id]
        operator_id = None
        if status != "draft" and members and (status != "pending" or rng.random() < 0.3):
            operator_id = rng.choice(members)
            if status in OPEN_TASK_STATUSES:
                if open_held[operator_id] >= cap:  # as in the plant: nobody holds more than the cap
                    operator_id, status = None, "pending"
                else:
                    open_held[operator_id] += 1
        tasks.append({
            "number": f"T{order['number']}-{index % TASKS_PER_WORK_ORDER + 1:02d}",
            "work_order_id": order_ids[order_index % len(orders)], "step_id": step_id,
            "process_id": processes[step * 3].id, "task_type": "general",
            "content": f"基准任务 {index}", "target_quantity": 1000,
            "completed_quantity": 1000 if status == "completed" else rng.randint(0, 900), "defective_quantity": 0,
            "status": status, "department_id": None if status == "draft" else department.id,
            "operator_id": operator_id, "created_at": now, "updated_at": now, "version": 1,
            "production_requirements": "", "notes": "", "pause_note": "", "cancel_reason": "",
            "completion_reason": "", "auto_complete": False,
        })
    for start in range(0, len(tasks), 5000):
        db.session.execute(insert(Task), tasks[start:start + 5000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))

    # Measure the busiest operator: the one holding the most open tasks.
    return db.session.execute(
        select(Task.operator_id).where(Task.status.in_(OPEN_TASK_STATUSES),
                                       Task.operator_id.is_not(None))
        .group_by(Task.operator_id).order_by(func.count().desc()).limit(1)
    ).scalar_one()


def measure(app, operator_id: int, requests: int, before_each=lambda: None) -> tuple[list[float], int, int]:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(operator_id)
        session["_fresh"] = True
        session["kiosk_session"] = True
        session["kiosk_last_seen"] = time.time() + 10 ** 6  # the bench is never idle
    queries = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: queries.append(1))
    for _ in range(5):  # warm up: connections, templates, caches
        assert client.get("/kiosk").status_code == 200
    queries.clear()
    timings = []
    for _ in range(requests):
        before_each()
        started = time.perf_counter()
        response = client.get("/kiosk")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return timings, len(queries) // requests, len(response.get_data())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reset", action="store_true", help="drop and recreate every table first")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL is required (a PostgreSQL database the bench may fill)")

    app = create_app({"WTF_CSRF_ENABLED": False, "METRICS_ENABLED": False,
                      "SECRET_KEY": "kiosk-bench-secret-key-not-for-production"})
    with app.app_context():
        if args.reset:
            db.drop_all()
        db.create_all()
        if db.session.scalar(select(func.count()).select_from(User)):
            sys.exit("the database is not empty; pass --reset to drop and recreate every table")
        started = time.perf_counter()
        operator_id = build_plant(args.tasks)
        total = db.session.scalar(select(func.count()).select_from(Task))
        print(f"built {total} tasks in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")
        held = db.session.scalar(select(func.count()).select_from(Task).where(
            Task.operator_id == operator_id, Task.status.in_(OPEN_TASK_STATUSES)))
        claimable = claimable_task_ids(db.session.get(User, operator_id))[1]

    for title, before_each in (("cards unchanged", lambda: None),
                               ("every card rendered anew", RENDERED_FRAGMENTS.clear)):
        timings, queries, size = measure(app, operator_id, args.requests, before_each)
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(f"GET /kiosk × {len(timings)}, {title} (operator holding {held} open tasks, {claimable} claimable; "
              f"{queries} queries, {size // 1024} KB):")
        print(f"  p50 {statistics.median(timings):.1f} ms   p95 {p95:.1f} ms   max {timings[-1]:.1f} ms   "
              f"(target p95 < 30 ms on PostgreSQL: {'met' if p95 < 30 else 'NOT met'})")


if __name__ == "__main__":
    main()
