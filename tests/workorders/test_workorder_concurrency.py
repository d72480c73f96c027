"""Races on PostgreSQL: numbering under 50 concurrent creations, and two approvers at once."""
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, User, WorkOrder
from app.services.core.errors import Conflict
from app.services.workorders import approval, editing
from app.utils.timeutil import plant_now
from support.workorders import build_plant, create, fresh, task_rows

pytestmark = pytest.mark.postgres


def run_in_threads(app, count, work):
    """Run ``work(index)`` in ``count`` threads, each with its own app context and session,
    released together; returns the results or exceptions, by index."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def runner(index):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = work(index)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 — the test inspects what each thread got
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_concurrent_creations_get_fifty_distinct_consecutive_numbers(app, seeded):
    plant = build_plant(seeded)
    maker_id, data = plant.maker.id, plant.work_order_input()

    def create_one(_index):
        return editing.create(db.session.get(User, maker_id), data).number

    numbers = run_in_threads(app, 50, create_one)
    assert all(isinstance(number, str) for number in numbers), numbers
    prefix = f"SG{plant_now().strftime('%Y%m')}"
    assert sorted(numbers) == [f"{prefix}{i:04d}" for i in range(1, 51)]
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 50


def test_two_approvers_at_once_one_wins_the_other_is_told_and_nothing_is_dispatched_twice(app, seeded):
    plant = build_plant(seeded)
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    approvers, version = [plant.sales.id, plant.supervisor.id], work_order.version

    def approve(index):
        return approval.approve(db.session.get(User, approvers[index]), work_order.id, version).approval_status

    results = run_in_threads(app, 2, approve)
    winners = [r for r in results if r == "approved"]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].message == "施工单已被其他人更新，请刷新后重试"
    assert fresh(work_order.id).version == version + 1
    assert [row[4] for row in task_rows(work_order.id)] == ["pending"] * 7
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "dispatch")) == 7
