"""`flask demo --scale N`: a large, consistent plant built with bulk inserts (load tests, benchmarks).

At N = 1: 5,000 施工单 of 10 tasks each (5 steps of 2 tasks), 200 people (180 operators in the four
workshops, 10 supervisors, 5 makers, 5 salespeople), 40 customers, 90 days of history. Smaller or
larger N scales the 施工单, people and customers (N = 0.01 gives 50 施工单).

The plant is what the services would have left behind, so every page and action works on it:
- a 施工单's age decides its state: half of those of the last three days still wait for
  approval (draft tasks), nearly all older than a week are finished, the rest are in production;
- a few pending tasks have no department (the 待分派 pool: no rule applied);
- task quantities match the status (completed = target, 0 < started < target, else 0),
  an operator never holds more than ``HELD_PER_OPERATOR`` open tasks, below the default cap;
- completed and paused tasks have one closed time log, in-progress ones exactly one open;
- steps and 施工单 are rolled up from their tasks by the rules of ``tasks.refresh_step_and_work_order``;
- 施工单号 continue the monthly counters, so new 施工单 made through the app never collide.

The demo logins (`flask demo`) are made first; the scaled people do not log in (no password).
It refuses to run twice: the scaled people's usernames mark the data as present.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text, update

from app.extensions import db
from app.models import (
    Counter,
    Customer,
    Department,
    Process,
    Product,
    Role,
    Task,
    TimeLog,
    User,
    WorkOrder,
    WorkOrderProduct,
    WorkOrderStep,
    user_departments,
    user_roles,
)
from app.services.core import reference, work_periods
from app.utils.timeutil import plant_zone, utcnow

WORK_ORDERS = 5_000
OPERATORS = 180
SUPERVISORS = 10
DESK_PEOPLE = 5  # makers, and as many salespeople
CUSTOMERS = 40
HISTORY_DAYS = 90
TASKS_PER_STEP = 2
HELD_PER_OPERATOR = 4  # one task at the machine and a few queued; the default cap (10) leaves room to claim
USERNAME_PREFIX = "scale_"
WORKSHOPS = ("cutting", "printing", "die_cutting", "packaging")

# A route is the processes of a 施工单 in order, with the demo product it makes. The routes of
# approved 施工单 use plates (never re-checked after approval); the one of 施工单 waiting for
# approval needs none, so the approval check passes and the load test can approve them.
APPROVED_ROUTES = (("PR005", ("CUT", "PRT", "FOIL_G", "DIE", "PACK")),
                   ("PR004", ("PRT", "LAM_M", "EMB", "TRIM", "BOX")))
PENDING_ROUTE = ("PR002", ("CUT", "VAN", "SCORE", "TRIM", "PACK"))
TASK_TYPE_OF = {"CUT": "cutting", "PRT": "printing", "FOIL_G": "foiling", "DIE": "die_cutting", "EMB": "embossing",
                "PACK": "packaging"}
# Workshop of each process in the routes (seed.MAIN_RULES, restricted to the four workshops).
WORKSHOP_OF = {"CUT": "cutting", "SCORE": "cutting", "TRIM": "cutting", "PRT": "printing", "VAN": "printing",
               "LAM_M": "printing", "FOIL_G": "die_cutting", "EMB": "die_cutting", "DIE": "die_cutting",
               "PACK": "packaging", "BOX": "packaging"}
# Status weights of the tasks of a 施工单 still in production.
ACTIVE_TASK_STATES = (("completed", 40), ("pending", 35), ("in_progress", 12), ("paused", 5), ("cancelled", 3))
OPEN = ("pending", "in_progress", "paused")
WORDS = ("彩盒面纸", "说明书", "手提袋", "不干胶", "画册", "吊牌", "礼盒", "展示架", "信封", "海报")


class AlreadyBuilt(Exception):
    """The scaled plant is already in this database."""


def already_built() -> bool:
    return db.session.scalar(select(User.id).where(User.username.like(f"{USERNAME_PREFIX}%")).limit(1)) is not None


def plant_date(at: datetime) -> date:
    """The shop-floor date of a naive UTC time."""
    return at.replace(tzinfo=UTC).astimezone(plant_zone()).date()


def scaled(count: int, scale: float, least: int) -> int:
    return max(least, round(count * scale))


def build(scale: float, seed: int = 11) -> dict:
    """Bulk-insert the plant at ``scale`` and commit; return counts and the ids benchmarks need.

    Needs the presets and demo data (``seed_presets``, ``load_demo``) in the session.
    """
    if already_built():
        raise AlreadyBuilt
    plant = _Plant(scale, random.Random(seed))
    plant.people()
    plant.work_orders()
    from app.services.planning.demo import add_scaled_workstations

    add_scaled_workstations(scale)  # the whole plant is planned before the commit (issue 23)
    db.session.commit()
    # A plant in use is vacuumed by autovacuum; right after a bulk load nothing is marked visible
    # yet, and the index-only counts of the task centre would read every row until it comes by.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
    return plant.summary()


class _Plant:
    def __init__(self, scale: float, rng: random.Random):
        self.scale, self.rng = scale, rng
        self.now = utcnow()
        self.roles = {r.code: r.id for r in db.session.scalars(select(Role))}
        self.departments = {d.code: d.id for d in db.session.scalars(select(Department))}
        self.processes = {p.code: p.id for p in db.session.scalars(select(Process))}
        self.products = {p.code: p for p in db.session.scalars(select(Product))}
        self.members: dict[int, list[int]] = defaultdict(list)
        self.held: dict[int, int] = {}
        self.counts: dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------ people and customers

    def _add_users(self, kind: str, count: int, name: str, role: str, departments=()) -> list[int]:
        rows = [{"username": f"{USERNAME_PREFIX}{kind}{i}", "name": f"{name}{i}",
                 "employee_no": f"S{kind[:2].upper()}{i:04d}", "is_active": True, "password_hash": "", "created_at": self.now, "updated_at": self.now}
                for i in range(count)]
        ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows))
        db.session.execute(insert(user_roles), [{"user_id": i, "role_id": self.roles[role]} for i in ids])
        if departments:
            links = [{"user_id": user_id, "department_id": departments[n % len(departments)]}
                     for n, user_id in enumerate(ids)]
            db.session.execute(insert(user_departments), links)
        self.counts["people"] += count
        reference.replace_version()  # bulk inserts pass by the ORM's flush, which would version them
        return ids

    def people(self) -> None:
        workshops = [self.departments[code] for code in WORKSHOPS]
        operators = self._add_users("op", scaled(OPERATORS, self.scale, 8), "操作员", "operator", workshops)
        self.held = dict.fromkeys(operators, 0)
        for n, operator in enumerate(operators):  # as _add_users linked them
            self.members[workshops[n % len(workshops)]].append(operator)
        self._add_users("sup", scaled(SUPERVISORS, self.scale, 1), "主管", "supervisor", workshops)
        self.makers = self._add_users("maker", scaled(DESK_PEOPLE, self.scale, 1), "制单员", "maker",
                                      [self.departments["business"]])
        self.sales = sales = self._add_users("sales", scaled(DESK_PEOPLE, self.scale, 1), "业务员", "salesperson",
                                             [self.departments["business"]])
        rows = [{"name": f"规模客户{i}", "salesperson_id": sales[i % len(sales)] if i % 2 == 0 else None,
                 "contact_person": "", "phone": "", "email": "", "address": "", "notes": "",
                 "created_at": self.now, "updated_at": self.now}
                for i in range(scaled(CUSTOMERS, self.scale, 3))]
        self.customers = list(db.session.scalars(insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                                                 rows))

    # ------------------------------------------------------------ 施工单, steps, tasks

    def _numbers(self, created: list) -> list[str]:
        """施工单号 in creation order, continuing each month's counter (numbering.monthly_code)."""
        counters = {c.key: c for c in db.session.scalars(select(Counter).where(Counter.key.like("SG%")))}
        last: dict[str, int] = {}
        numbers = []
        for at in created:
            key = f"SG{plant_date(at):%Y%m}"
            if key not in last:
                last[key] = counters[key].value if key in counters else 0
            last[key] += 1
            numbers.append(f"{key}{last[key]:04d}")
        for key, value in last.items():
            if key in counters:
                db.session.execute(update(Counter).where(Counter.key == key).values(value=value))
            else:
                db.session.execute(insert(Counter).values(key=key, value=value))
        return numbers

    def work_orders(self) -> None:
        rng, now = self.rng, self.now
        count = scaled(WORK_ORDERS, self.scale, 1)
        created = sorted(now - timedelta(days=HISTORY_DAYS * rng.random()) for _ in range(count))
        numbers = self._numbers(created)
        orders, plans = [], []
        for n, (at, number) in enumerate(zip(created, numbers)):
            age_days = (now - at).total_seconds() / 86400
            # Approval takes hours: half the 施工单 of the last three days are still waiting.
            waiting = age_days < 3 and rng.random() < 0.5
            product, route = PENDING_ROUTE if waiting else APPROVED_ROUTES[n % len(APPROVED_ROUTES)]
            quantity = rng.choice((500, 1000, 2000, 3000, 5000))
            orders.append({
                "number": number, "customer_id": self.customers[n % len(self.customers)],
                "approval_status": "pending" if waiting else "approved", "status": "pending",
                "priority": rng.choice(("low", "normal", "normal", "normal", "high", "urgent")),
                "order_date": plant_date(at), "delivery_date": plant_date(at) + timedelta(days=rng.randint(7, 30)),
                "production_quantity": quantity, "created_by_id": self.makers[n % len(self.makers)],
                "created_at": at, "updated_at": at, "submitted_at": at,
                "approved_at": None if waiting else min(now, at + timedelta(hours=rng.randint(1, 24))),
                "cmyk_colors": [], "other_colors": [], "notes": "", "approval_comment": "", "cancel_reason": "",
                "task_counter": len(route) * TASKS_PER_STEP, "version": 1, "spoilage_quantity": 0,
                "total_amount": 0, "printing_type": "none",
            })
            # Production takes days: none finished within two days, nearly all after a week.
            finished = not waiting and rng.random() < min(0.99, max(0.0, (age_days - 2) / 6))
            plans.append((product, route, waiting, finished))
        order_ids = list(db.session.scalars(
            insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True), orders))
        db.session.execute(insert(WorkOrderProduct), [
            {"work_order_id": order_id, "product_id": self.products[plan[0]].id, "quantity": order["production_quantity"],
             "unit": self.products[plan[0]].unit, "specification": "", "sort_order": 0}
            for order_id, order, plan in zip(order_ids, orders, plans)])
        step_ids = list(db.session.scalars(
            insert(WorkOrderStep).returning(WorkOrderStep.id, sort_by_parameter_order=True),
            [{"work_order_id": order_id, "process_id": self.processes[code], "sequence": (s + 1) * 10,
              "status": "pending", "created_at": order["created_at"], "updated_at": order["created_at"]}
             for order_id, order, plan in zip(order_ids, orders, plans) for s, code in enumerate(plan[1])]))

        tasks, step_updates, order_updates = [], [], []
        steps = iter(step_ids)
        for order_id, order, (_, route, waiting, finished) in zip(order_ids, orders, plans):
            order_tasks = []
            for code in route:
                step_id = next(steps)
                step_tasks = [self._task(order, order_id, step_id, code, len(order_tasks) + t + 1, waiting, finished)
                              for t in range(TASKS_PER_STEP)]
                order_tasks += step_tasks
                step_updates.append(_step_roll_up(step_id, step_tasks))
            tasks += order_tasks
            order_updates.append(_order_roll_up(order_id, order, step_updates[-len(route):]))
        task_ids = []
        for start in range(0, len(tasks), 5000):
            task_ids += db.session.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True),
                                           tasks[start:start + 5000])
        self._time_logs(zip(task_ids, tasks))
        db.session.execute(update(WorkOrderStep), step_updates)
        db.session.execute(update(WorkOrder), order_updates)
        self.counts.update(work_orders=count, tasks=len(tasks))

    def _task(self, order: dict, order_id: int, step_id: int, code: str, sequence: int, waiting: bool,
              finished: bool) -> dict:
        rng, target = self.rng, order["production_quantity"]
        if waiting:
            status = "draft"
        elif finished:
            status = "cancelled" if rng.random() < 0.03 else "completed"
        else:
            status = rng.choices([s for s, _ in ACTIVE_TASK_STATES], [w for _, w in ACTIVE_TASK_STATES])[0]
        undispatched = waiting or (status == "pending" and rng.random() < 0.02)
        department = None if undispatched else self.departments[WORKSHOP_OF[code]]
        operator = None
        if status in ("completed", "in_progress", "paused") or (
                department is not None and status == "pending" and rng.random() < 0.3):
            operator = rng.choice(self.members[department])
            if status in OPEN:
                if self.held[operator] >= HELD_PER_OPERATOR:
                    operator, status = None, "pending"  # that operator is full: the task waits in the pool
                else:
                    self.held[operator] += 1
        dispatched = order["approved_at"]
        started = completed = None
        if status in ("completed", "in_progress", "paused"):
            started = min(self.now, dispatched + timedelta(hours=rng.uniform(1, 72)))
        if status == "completed":
            completed = min(self.now, started + timedelta(hours=rng.uniform(1, 96)))
        done = {"completed": target, "in_progress": rng.randint(1, target - 1),
                "paused": rng.randint(1, target - 1)}.get(status, 0)
        paused = status == "paused"
        return {
            "number": f"T{order['number']}-{sequence:02d}", "work_order_id": order_id, "step_id": step_id,
            "process_id": self.processes[code],
            "task_type": TASK_TYPE_OF.get(code, "general"),
            "content": f"{rng.choice(WORDS)} {order['number']} 第{sequence}项", "target_quantity": target,
            "completed_quantity": done, "defective_quantity": rng.randint(0, target // 50) if done else 0,
            "status": status, "department_id": department, "operator_id": operator,
            "dispatched_at": None if department is None else dispatched, "started_at": started, "completed_at": completed,
            "pause_reason": "material" if paused else None, "status_before_pause": "in_progress" if paused else None,
            "created_at": order["created_at"], "updated_at": completed or started or order["created_at"],
            "version": 1, "production_requirements": "", "notes": "", "pause_note": "", "cancel_reason": "",
            "completion_reason": "", "auto_complete": False, "plate_id": None, "material_line_id": None,
            "product_line_id": None,
        }

    def _time_logs(self, tasks) -> None:
        """One period per task that was worked on: closed unless the task is still in progress."""
        logs = [{"task_id": task_id, "operator_id": task["operator_id"], "started_at": task["started_at"],
                 "ended_at": task["completed_at"] if task["status"] == "completed"
                 else min(self.now, task["started_at"] + timedelta(hours=2)) if task["status"] == "paused" else None}
                for task_id, task in tasks if task["started_at"] is not None]
        for start in range(0, len(logs), 5000):
            db.session.execute(insert(TimeLog), logs[start:start + 5000])
        work_periods.recount()
        self.counts["time_logs"] = len(logs)

    def summary(self) -> dict:
        busiest = max(self.held, key=self.held.get)
        workshop = self.departments[WORKSHOPS[0]]
        return {**self.counts, "operator": busiest, "maker": self.makers[0], "salesperson": self.sales[0], "department": workshop,
                "parent_department": self.departments["production"], "process": self.processes["PRT"]}


def _step_roll_up(step_id: int, tasks: list[dict]) -> dict:
    """The step as ``tasks.refresh_step_and_work_order`` leaves it after its tasks' history."""
    statuses = {t["status"] for t in tasks if t["status"] != "draft"}
    started = [t["started_at"] for t in tasks if t["started_at"]]
    row = {"id": step_id, "status": "pending", "started_at": min(started) if started else None, "completed_at": None}
    if statuses and statuses <= {"completed", "cancelled"}:
        row["status"] = "completed" if "completed" in statuses else "skipped"
        ends = [t["completed_at"] for t in tasks if t["completed_at"]]
        row["completed_at"] = max(ends) if ends else max(t["dispatched_at"] for t in tasks)
        row["started_at"] = row["started_at"] or row["completed_at"]
    elif started:
        row["status"] = "in_progress"
    return row


def _order_roll_up(order_id: int, order: dict, steps: list[dict]) -> dict:
    """Approved 施工单 are 进行中 until every step is finished, then 已完成."""
    row = {"id": order_id, "status": "pending", "completed_at": None}
    if order["approval_status"] == "approved":
        if all(s["status"] in ("completed", "skipped") for s in steps):
            row.update(status="completed", completed_at=max(s["completed_at"] for s in steps))
        else:
            row["status"] = "in_progress"
    return row
