"""Benchmark: replanning (排产) the scaled plant on PostgreSQL (targets: one department < 20 ms, the whole plant < 100 ms).

    DATABASE_URL=postgresql://... .venv/bin/python bench/planning_bench.py [--runs 30] [--reset]

Builds `flask demo --scale 1` (5,000 施工单, 50,000 tasks, the demo workstations and the scaled plant's
extra machines) unless the database already holds it, then times, inside a transaction that is rolled
back afterwards so every run starts from the same plan (planned whole and committed in that minute, as
the minute's first change does), ``engine.replan()`` as triggers.py calls it, writing what changed:

- per workshop: after a report on the head task of its busiest workstation (its quantity changes) —
  what every report from the floor costs before its commit, including the later steps it moves in
  other departments (a partial replan, app/services/planning/partial.py, when it can be one);
- per workshop: after that head task is completed (it leaves its queue: a partial replan too when it
  waits for no queued earlier step of its 施工单, else the whole plant);
- an approval: the replan after each of the oldest pending 施工单 is approved (its tasks arrive: a partial
  replan when each joins the end of its queue, else the whole plant);
- the whole plant rewritten: the same report a few minutes later, so that every queue's head starts
  later and every row of the plan changes (the worst case, met once a minute at most: planned whole).

Each row gives the wall time (p50, p95) and this process's CPU time (``time.thread_time()``, p50: the
replan's own work, without PostgreSQL's, and less moved by neighbours on a shared machine than the
wall time), how many of the timed replans were partial, with the load average when the run ended.

Without DATABASE_URL a throwaway cluster is started from the local binaries (as the tests do).
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pgdatabase import postgres_database  # noqa: E402

WORKSHOPS = ("cutting", "printing", "die_cutting", "packaging")
DEPARTMENT_TARGET_MS, PLANT_TARGET_MS = 20.0, 100.0


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def build(reset: bool) -> None:
    from sqlalchemy import func, select

    from app import scale_demo
    from app.extensions import db
    from app.models import User
    from app.seed import load_demo, seed_presets

    if reset:
        db.drop_all()
    db.create_all()
    if scale_demo.already_built():
        return
    if db.session.scalar(select(func.count()).select_from(User)) and not reset:
        print("the database holds another plant; pass --reset to drop and recreate every table", file=sys.stderr)
        raise SystemExit(2)
    started = time.perf_counter()
    seed_presets()
    load_demo()
    db.session.commit()
    scale_demo.build(1)
    print(f"built the scaled plant in {time.perf_counter() - started:.1f} s")


def head_of_busiest(department_id: int) -> int | None:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import PlanEntry, Workstation

    busiest = db.session.execute(
        select(PlanEntry.workstation_id, func.count()).join(Workstation, Workstation.id == PlanEntry.workstation_id)
        .where(Workstation.department_id == department_id).group_by(PlanEntry.workstation_id)
        .order_by(func.count().desc(), PlanEntry.workstation_id).limit(1)).first()
    if busiest is None:
        return None
    return db.session.scalar(select(PlanEntry.task_id).where(PlanEntry.workstation_id == busiest[0])
                             .order_by(PlanEntry.position).limit(1))


def planned_this_minute():
    """The plan as the plant keeps it: replanned and committed in this minute, as the minute's first change
    does; each timed run then starts from it (and is rolled back) in that same minute. Returns the minute."""
    from app.extensions import db
    from app.services.planning import engine
    from app.utils.timeutil import utcnow

    now = utcnow().replace(second=0, microsecond=0)
    engine.replan(now=now)
    db.session.commit()
    return now


def time_replans(changes) -> tuple[list[float], list[float], int]:
    """Each of ``changes`` (a callable that makes a change and returns engine.replan's keyword arguments, as
    triggers.py would pass them), then the replan it asks for, timed, then a rollback; the first two warm the
    caches. (Wall times, CPU times of this thread, ms, each sorted; how many replans were partial.)"""
    from app.extensions import db
    from app.services.planning import engine

    timings, cpu, partial = [], [], 0
    for run, change in enumerate(changes):
        arguments = change()
        started, started_cpu = time.perf_counter(), time.thread_time()
        result = engine.replan(**arguments)
        db.session.flush()
        elapsed, elapsed_cpu = (time.perf_counter() - started) * 1000, (time.thread_time() - started_cpu) * 1000
        db.session.rollback()
        if run >= 2:
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
            partial += result.partial
    return sorted(timings), sorted(cpu), partial


def timed(task_id: int | None, runs: int, minutes_later: int = 0, completed: bool = False) \
        -> tuple[list[float], list[float], int]:
    """``time_replans`` after a report on the task (the only change, as triggers.py names it), or after it is
    ``completed``; ``minutes_later``: each replan that many minutes (or two or three times as many) after the plan."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.extensions import db
    from app.models import Task

    now = planned_this_minute()

    def change(run: int) -> dict:
        if task_id is not None:
            values = {"status": "completed"} if completed else \
                {"completed_quantity": Task.completed_quantity + 1 + run % 7}
            db.session.execute(update(Task).where(Task.id == task_id).values(**values))
        return {"now": now + timedelta(minutes=minutes_later * (1 + run % 3)),
                "task_ids": None if task_id is None else {task_id}}
    return time_replans(lambda run=run: change(run) for run in range(runs + 2))


def timed_approvals(runs: int) -> tuple[list[float], list[float], int, int]:
    """``time_replans`` after approving each of the oldest pending 施工单 (through the service, not timed), as
    triggers.py asks for it: the approval's tasks named; and how many 施工单 were timed."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Task, User, WorkOrder
    from app.services.workorders import approval

    now = planned_this_minute()
    approver = db.session.scalar(select(User).where(User.username == "sup_production"))
    pending = db.session.scalars(select(WorkOrder.id).where(WorkOrder.approval_status == "pending")
                                 .order_by(WorkOrder.id).limit(runs + 2)).all()

    def change(work_order_id: int) -> dict:
        drafts = set(db.session.scalars(select(Task.id).where(Task.work_order_id == work_order_id,
                                                              Task.status == "draft")))
        approval.approve(approver, work_order_id, db.session.get(WorkOrder, work_order_id).version)
        db.session.flush()
        return {"work_order_ids": {work_order_id}, "now": now, "task_ids": drafts}
    return (*time_replans(lambda work_order_id=work_order_id: change(work_order_id) for work_order_id in pending),
            max(0, len(pending) - 2))


def run(url: str, runs: int, reset: bool) -> int:
    from sqlalchemy import func, select

    from app import create_app
    from app.enums import OPEN_TASK_STATUSES
    from app.extensions import db
    from app.models import Department, PlanEntry, Task, Workstation

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "METRICS_ENABLED": False,
                      "SECRET_KEY": "planning-bench-secret-key-not-for-production"})
    worst_department = 0.0
    with app.app_context():
        build(reset)
        gc.collect()
        gc.freeze()
        # The plan as the plant keeps it: replanned (and committed) this minute, as every report does;
        # each timed run then starts from it and is rolled back.
        from app.services.planning import engine

        engine.replan()
        db.session.commit()
        departments = {d.code: d for d in db.session.scalars(select(Department).where(Department.code.in_(WORKSHOPS)))}
        print(f"replanning on {db.engine.dialect.name}, {runs} runs each; ms")
        print(f"{'department':<14}{'machines':>9}{'queued':>8}{'open':>7}{'p50':>9}{'p95':>9}{'cpu p50':>9}"
              f"{'partial':>9}")
        heads = {}
        for code in WORKSHOPS:
            department = departments[code]
            machines = db.session.scalar(select(func.count()).select_from(Workstation)
                                         .where(Workstation.department_id == department.id))
            queued = db.session.scalar(select(func.count()).select_from(PlanEntry).join(Workstation)
                                       .where(Workstation.department_id == department.id))
            open_tasks = db.session.scalar(select(func.count()).select_from(Task).where(
                Task.department_id == department.id, Task.status.in_(OPEN_TASK_STATUSES)))
            heads[code] = head_of_busiest(department.id)
            ordered, cpu, partial = timed(heads[code], runs)
            p95 = percentile(ordered, 0.95)
            worst_department = max(worst_department, p95)
            print(f"{department.name:<12}{machines:>9}{queued:>8}{open_tasks:>7}"
                  f"{statistics.median(ordered):>9.1f}{p95:>9.1f}{statistics.median(cpu):>9.1f}{partial:>9}")
        for code in WORKSHOPS:
            ordered, cpu, partial = timed(heads[code], runs, completed=True)
            worst_department = max(worst_department, percentile(ordered, 0.95))
            print(f"{departments[code].name[:2] + ' 队首完成':<12}{'':>24}{statistics.median(ordered):>9.1f}"
                  f"{percentile(ordered, 0.95):>9.1f}{statistics.median(cpu):>9.1f}{partial:>9}")
        ordered, cpu, partial, approved = timed_approvals(runs)
        if approved:
            print(f"{f'审核 ({approved})':<14}{'':>24}{statistics.median(ordered):>9.1f}{percentile(ordered, 0.95):>9.1f}"
                  f"{statistics.median(cpu):>9.1f}{partial:>9}")
        ordered, cpu, partial = timed(heads["printing"], runs, minutes_later=5)
        plant_p95 = percentile(ordered, 0.95)
        print(f"{'every row':<14}{'':>24}{statistics.median(ordered):>9.1f}{plant_p95:>9.1f}{statistics.median(cpu):>9.1f}"
              f"{partial:>9}")
    print(f"a report or a head completed in one department: worst p95 {worst_department:.1f} ms (target < {DEPARTMENT_TARGET_MS:.0f} ms: "
          f"{'met' if worst_department < DEPARTMENT_TARGET_MS else 'NOT met'}); the whole plant rewritten: p95 {plant_p95:.1f} ms "
          f"(target < {PLANT_TARGET_MS:.0f} ms: {'met' if plant_p95 < PLANT_TARGET_MS else 'NOT met'}); "
          f"load average {os.getloadavg()[0]:.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reset", action="store_true", help="drop and recreate every table first")
    args = parser.parse_args()
    with postgres_database("planning_bench") as url:
        return run(url, args.runs, args.reset)


if __name__ == "__main__":
    raise SystemExit(main())
