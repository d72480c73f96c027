"""Server time of GET /tasks (任务中心) with 5,000 施工单 and 50,000 tasks (target: p95 < 50 ms).

    DATABASE_URL=postgresql://… .venv/bin/python bench/tasks_bench.py [--requests 40] [--reset]

Without DATABASE_URL it starts a throwaway PostgreSQL cluster from the local binaries (as the
test suite does). On a given database it needs empty tables (or --reset to drop and recreate
them). The plant is built with bulk inserts: the preset processes and departments, 80
operators, a maker and a salesperson, 5,000 施工单 of 10 tasks each (every tenth still a
draft), most tasks finished history. Then ANALYZE, and every filter combination below is
requested through the Flask test client as four viewers (admin, supervisor, operator, maker);
the time is the whole request inside the server, and the query count comes from a
``before_cursor_execute`` listener. It prints p50 / p95 per combination; timing is reported,
never asserted (DESIGN.md §6).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

WORK_ORDERS = 5_000
TASKS_PER_WORK_ORDER = 10
OPERATORS = 80
TASK_STATES = [("completed", 75), ("pending", 10), ("in_progress", 6), ("paused", 3), ("cancelled", 6)]
TASK_TYPES = ["plate_making", "cutting", "printing", "foiling", "embossing", "die_cutting", "packaging", "general"]
WORDS = ["彩盒面纸", "说明书", "手提袋", "不干胶", "画册", "吊牌", "礼盒", "展示架", "信封", "海报"]


def build_plant(seed: int = 11) -> dict:
    """Bulk-insert the plant; return the ids the combinations need."""
    from sqlalchemy import insert, select, text

    from app.enums import OPEN_TASK_STATUSES
    from app.extensions import db
    from app.models import (
        Customer, Department, Process, Role, Task, User, WorkOrder, WorkOrderStep, user_departments, user_roles,
    )
    from app.seed import seed_presets
    from app.utils.timeutil import plant_today, utcnow

    rng = random.Random(seed)
    now, today = utcnow(), plant_today()
    seed_presets()
    db.session.flush()
    roles = {r.code: r.id for r in db.session.scalars(select(Role))}
    departments = db.session.scalars(select(Department).where(Department.parent_id.is_not(None))).all()
    processes = db.session.scalars(select(Process).order_by(Process.sort_order)).all()

    def add_users(rows, role):
        ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows))
        db.session.execute(insert(user_roles), [{"user_id": i, "role_id": roles[role]} for i in ids])
        return ids

    def person(username, name, number):
        return {"username": username, "name": name, "employee_no": number, "is_active": True, "password_hash": "",
                "created_at": now, "updated_at": now}

    operators = add_users([person(f"bench_op{i}", f"操作员{i}", f"B{i:04d}") for i in range(OPERATORS)], "operator")
    members = {d.id: [] for d in departments}
    for index, user_id in enumerate(operators):
        members[departments[index % len(departments)].id].append(user_id)
    db.session.execute(insert(user_departments), [{"user_id": u, "department_id": d}
                                                  for d, users in members.items() for u in users])
    (admin,) = add_users([person("bench_admin", "管理员", "BA01")], "admin")
    (supervisor,) = add_users([person("bench_sup", "主管", "BS01")], "supervisor")
    db.session.execute(insert(user_departments), [{"user_id": supervisor, "department_id": departments[0].id}])
    (maker,) = add_users([person("bench_maker", "制单员", "BM01")], "maker")
    (sales,) = add_users([person("bench_sales", "业务员", "BY01")], "salesperson")
    customers = list(db.session.scalars(insert(Customer).returning(Customer.id, sort_by_parameter_order=True), [
        {"name": f"基准客户{i}", "salesperson_id": sales if i % 4 == 0 else None, "created_at": now,
         "updated_at": now, "contact_person": "", "phone": "", "email": "", "address": "", "notes": ""}
        for i in range(40)]))

    orders = []
    for n in range(WORK_ORDERS):
        draft = n % 10 == 0
        orders.append({
            "number": f"SG2026{n // 9999 + 1:02d}{n % 9999 + 1:04d}", "customer_id": customers[n % len(customers)],
            "approval_status": "pending" if draft else "approved",
            "status": "pending" if draft else rng.choice(["in_progress"] * 6 + ["completed"] * 3 + ["paused"]),
            "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
            "order_date": today - timedelta(days=rng.randint(30, 200)),
            "delivery_date": today + timedelta(days=rng.randint(-60, 40)), "production_quantity": 1000,
            "created_by_id": maker if n % 5 == 0 else None, "created_at": now - timedelta(days=rng.randint(0, 200)),
            "updated_at": now, "cmyk_colors": [], "other_colors": [], "notes": "", "approval_comment": "",
            "cancel_reason": "", "task_counter": TASKS_PER_WORK_ORDER, "version": 1, "spoilage_quantity": 0,
            "total_amount": 0, "printing_type": "none",
        })
    order_ids = list(db.session.scalars(insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True),
                                        orders))
    steps_per_order = 5
    step_ids = list(db.session.scalars(insert(WorkOrderStep).returning(WorkOrderStep.id, sort_by_parameter_order=True), [
        {"work_order_id": o, "process_id": processes[s * 3].id, "sequence": s * 10, "status": "in_progress",
         "created_at": now, "updated_at": now} for o in order_ids for s in range(steps_per_order)]))

    states = [state for state, weight in TASK_STATES for _ in range(weight)]
    held = dict.fromkeys(operators, 0)
    tasks = []
    for o_index, order in enumerate(orders):
        for t in range(TASKS_PER_WORK_ORDER):
            status = "draft" if order["approval_status"] != "approved" else rng.choice(states)
            department = rng.choice(departments)
            operator = None
            if status != "draft" and (status != "pending" or rng.random() < 0.3):
                operator = rng.choice(members[department.id])
                if status in OPEN_TASK_STATUSES:
                    if held[operator] >= 10:
                        operator, status = None, "pending"
                    else:
                        held[operator] += 1
            created = order["created_at"] + timedelta(hours=rng.randint(0, 48))
            tasks.append({
                "number": f"T{order['number']}-{t + 1:02d}", "work_order_id": order_ids[o_index],
                "step_id": step_ids[o_index * steps_per_order + t % steps_per_order],
                "task_type": TASK_TYPES[t % len(TASK_TYPES)],
                "content": f"{rng.choice(WORDS)} {order['number']} 第{t + 1}项", "target_quantity": 1000,
                "completed_quantity": 1000 if status == "completed" else rng.randint(0, 900),
                "defective_quantity": rng.randint(0, 20), "status": status,
                "department_id": None if status == "draft" else department.id, "operator_id": operator,
                "created_at": created, "updated_at": created + timedelta(hours=rng.randint(1, 300)),
                "completed_at": created + timedelta(days=rng.randint(1, 20)) if status == "completed" else None,
                "version": 1, "production_requirements": "", "notes": "", "pause_note": "", "cancel_reason": "",
                "completion_reason": "", "auto_complete": False,
            })
    for start in range(0, len(tasks), 5000):
        db.session.execute(insert(Task), tasks[start:start + 5000])
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    busiest = max(held, key=held.get)
    return {"admin": admin, "supervisor": supervisor, "operator": busiest, "maker": maker,
            "department": departments[0].id, "parent_department": departments[0].parent_id,
            "process": processes[6].id, "operator_filter": busiest}


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


def measure(app, user_id: int, query: str, requests: int) -> tuple[list[float], int]:
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
    for _ in range(3):  # warm up: connections, templates, plans
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    event.listen(engine, "before_cursor_execute", listener)
    timings = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url, headers={"HX-Request": "true"})
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
    worst = 0.0
    print(f"GET /tasks (htmx list region), {requests} requests per line; server time in ms")
    print(f"{'viewer':<11}{'combination':<22}{'p50':>8}{'p95':>8}{'queries':>9}")
    for viewer in ("admin", "supervisor", "operator", "maker"):
        for name, query in combinations(ids):
            timings, queries = measure(app, ids[viewer], query, requests)
            ordered = sorted(timings)
            p95 = percentile(ordered, 0.95)
            worst = max(worst, p95)
            print(f"{viewer:<11}{name:<22}{statistics.median(ordered):>8.1f}{p95:>8.1f}{queries:>9}")
    print(f"worst p95 {worst:.1f} ms (target p95 < 50 ms: {'met' if worst < 50 else 'NOT met'})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reset", action="store_true", help="drop and recreate every table first")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    cluster = None
    if not url:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        from pgcluster import ThrowawayCluster, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            print("需要 PostgreSQL：请设置 DATABASE_URL / set DATABASE_URL to a PostgreSQL database", file=sys.stderr)
            return 2
        cluster = ThrowawayCluster(bin_dir)
        cluster.start()
        url = cluster.create_database("tasks_bench")
    elif url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith("postgresql"):
        print("这个基准只在 PostgreSQL 上运行 / this benchmark runs on PostgreSQL only", file=sys.stderr)
        return 2
    try:
        return run(url, args.requests, args.reset)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
