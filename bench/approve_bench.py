"""Benchmark: approving a 施工单 with 100 draft tasks, dispatch included (target < 300 ms).

    DATABASE_URL=postgresql://... .venv/bin/python bench/approve_bench.py [--runs 20]

Without DATABASE_URL it starts a throwaway PostgreSQL cluster from the local binaries (as the
test suite does). On a given DATABASE_URL it creates the tables if missing and adds its own
bench users, customer, products and plates (names starting with "bench") plus one approved
施工单 per run — point it at a scratch database. Each run builds and submits a fresh 施工单
(not timed), then times ``approve`` and its commit: one request's worth of work.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pgdatabase import postgres_database  # noqa: E402

ARTWORKS = 25       # CTP 25 + PRT 25
PRODUCT_LINES = 49  # PACK 49, plus one general LAM_G task: 100 drafts


def build_fixture():
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Customer, Plate, Product, Role, User
    from app.seed import seed_presets

    seed_presets()
    role = {r.code: r for r in db.session.scalars(select(Role))}

    def user(username, role_code):
        found = db.session.scalar(select(User).where(User.username == username))
        if found is None:
            found = User(username=username, name=username, roles=[role[role_code]], is_active=True)
            db.session.add(found)
        return found

    maker, approver = user("bench_maker", "maker"), user("bench_sales", "salesperson")
    db.session.flush()
    customer = db.session.scalar(select(Customer).where(Customer.name == "bench客户"))
    if customer is None:
        customer = Customer(name="bench客户", salesperson_id=approver.id)
        db.session.add(customer)
    products = []
    for index in range(PRODUCT_LINES):
        code = f"BENCH{index:03d}"
        product = db.session.scalar(select(Product).where(Product.code == code))
        if product is None:
            product = Product(code=code, name=f"bench产品{index}", unit="个")
            db.session.add(product)
        products.append(product)
    plates = []
    for index in range(ARTWORKS):
        code = f"BENCHART{index:03d}"
        plate = db.session.scalar(select(Plate).where(Plate.code == code))
        if plate is None:
            plate = Plate(kind="artwork", base_code=code, version=1, code=code, name=f"bench图稿{index}")
            db.session.add(plate)
        plates.append(plate)
    db.session.commit()
    return maker.id, approver.id, customer.id, [p.id for p in products], [p.id for p in plates]


def work_order_input(customer_id, product_ids, plate_ids):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Process
    from app.services.workorders import inputs
    from app.utils.timeutil import plant_today

    processes = db.session.scalars(select(Process).where(Process.code.in_(("PRT", "LAM_G", "PACK")))).all()
    return inputs.WorkOrderInput(
        customer_id=customer_id, order_date=plant_today(), delivery_date=plant_today() + timedelta(days=7),
        production_quantity=1000, products=[inputs.ProductLineInput(pid, 100) for pid in product_ids],
        steps=[inputs.StepInput(p.id, p.sort_order) for p in processes], plate_ids=plate_ids,
    )


def run(url: str, runs: int) -> list[float]:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Task, User
    from app.services.workorders import approval, editing

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": False})
    timings = []
    with app.app_context():
        db.create_all()
        maker_id, approver_id, customer_id, product_ids, plate_ids = build_fixture()
        data = work_order_input(customer_id, product_ids, plate_ids)
        for _ in range(runs):
            maker = db.session.get(User, maker_id)
            work_order = editing.create(maker, data, submit=True)
            db.session.commit()
            work_order_id, version = work_order.id, work_order.version
            drafts = db.session.scalar(select(func.count()).select_from(Task).where(Task.work_order_id == work_order_id))
            assert drafts == 100, drafts
            db.session.remove()  # a new request starts with an empty session

            started = time.perf_counter()
            approval.approve(db.session.get(User, approver_id), work_order_id, version)
            db.session.commit()
            timings.append((time.perf_counter() - started) * 1000)
            db.session.remove()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with postgres_database("approve_bench") as url:
        timings = run(url, args.runs)
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    print(f"approve 100 draft tasks (dispatch included), {len(timings)} runs:")
    print(f"  min {ordered[0]:.1f} ms   median {statistics.median(ordered):.1f} ms   p95 {p95:.1f} ms   "
          f"max {ordered[-1]:.1f} ms   (target < 300 ms: {'OK' if p95 < 300 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
