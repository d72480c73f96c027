"""Three weeks of demo history: 施工单 approved, worked and finished (or still in production, or held by a
paused task), made through the real services as the demo people, then moved back in time.

Every board, dashboard, chart and history then shows something on a first login. Idempotent like the other
demo loaders: each 施工单 carries its marker in 备注 and is made once. Anything missing (a person, a product)
skips that 施工单. It does not commit.

The services stamp everything "now"; the past is made by shifting, per 施工单, its rows back: the 施工单's own
(creation, approval) to its day, each task's (its audit rows, time logs, start and completion) to a later day
of the span, so completions spread over the weeks the way the statistics expect.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import (
    ApprovalLog,
    AuditLog,
    Notification,
    Plate,
    Task,
    TimeLog,
    User,
    WorkOrder,
    WorkOrderStep,
)
from app.seed_workorders import DemoWorkOrder, make_demo_work_order
from app.services.core.errors import DomainError
from app.services.dispatch import assignment
from app.services.tasks import actions as tasks
from app.services.tasks import auto_complete as task_auto_complete
from app.utils.timeutil import utcnow


@dataclass(frozen=True)
class HistoryWorkOrder:
    demo: DemoWorkOrder
    days_ago: int
    # "completed": every task done; "in_progress": the first steps done, the next one half way;
    # "paused": like in_progress, with the working task paused for want of material.
    outcome: str


HISTORY = (
    HistoryWorkOrder(DemoWorkOrder("【演示】历史：宣传册（已完成）", "maker1", "青禾文化传媒", (("PR001", 3000),),
                                   ("ART202611002",), 3000, 10, state="approve"), 21, "completed"),
    HistoryWorkOrder(DemoWorkOrder("【演示】历史：名片（已完成）", "maker1", "青禾文化传媒", (("PR002", 200),),
                                   ("ART202611002",), 100, 7, state="approve"), 17, "completed"),
    HistoryWorkOrder(DemoWorkOrder("【演示】历史：画册（已完成）", "sales1", "青禾文化传媒", (("PR004", 600),),
                                   ("ART202611003", "EP202611001"), 600, 12, "high", "approve"), 13, "completed"),
    HistoryWorkOrder(DemoWorkOrder("【演示】历史：包装盒（生产中）", "maker1", "华美包装有限公司", (("PR005", 4000),),
                                   ("ART202611001", "DIE202611001", "FP202611001"), 1000, 14, "urgent",
                                   "approve"), 8, "in_progress"),
    HistoryWorkOrder(DemoWorkOrder("【演示】历史：宣传册（生产中）", "maker1", "华美包装有限公司", (("PR001", 1500),),
                                   ("ART202611002",), 1500, 9, state="approve"), 5, "paused"),
)
SPOILAGE_PER_THOUSAND = 12  # defective pieces reported with each finished task
WORKED_HOURS = (1.5, 2.25, 3.0, 3.75)  # the length of a task's work period, in turn


def load_demo_history() -> None:
    existing = set(db.session.scalars(select(WorkOrder.notes).where(WorkOrder.notes.like("【演示】历史%"))))
    for item in HISTORY:
        if item.demo.marker in existing:
            continue
        try:
            with db.session.begin_nested():
                _make(item)
        except DomainError:
            continue  # the demo's master data was changed by hand: this 施工单 is left out


def _make(item: HistoryWorkOrder) -> None:
    first_notification = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    work_order = make_demo_work_order(item.demo)
    if work_order is None or work_order.approval_status != "approved":
        return
    for plate in db.session.scalars(select(Plate).where(Plate.code.in_(item.demo.plates))):
        task_auto_complete.complete_plate_tasks(plate, _user("designer1") or _user("admin"))
    steps = list(db.session.scalars(select(WorkOrderStep).where(WorkOrderStep.work_order_id == work_order.id)
                                    .order_by(WorkOrderStep.sequence)))
    done_steps = len(steps) if item.outcome == "completed" else max(1, len(steps) // 2)
    worked: list[Task] = []
    for index, step in enumerate(steps):
        for task in _open_tasks(step):
            if index < done_steps:
                _work(task, finish=True)
                worked.append(task)
            elif index == done_steps:
                _work(task, finish=False, pause=item.outcome == "paused")
                worked.append(task)
            else:
                _assign(task)
    db.session.flush()
    _move_back(work_order, worked, item.days_ago, first_notification)


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def _operators(department_id: int) -> list[User]:
    return [user for user in db.session.scalars(
        select(User).where(User.username.like("op_%"), User.is_active.is_(True)).order_by(User.username))
        if any(d.id == department_id for d in user.departments)]


def _open_tasks(step: WorkOrderStep) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.step_id == step.id, Task.status.in_(OPEN_TASK_STATUSES))
                                   .order_by(Task.id)))


def _assign(task: Task) -> User | None:
    """The department's first operator by assignment, or its second by claiming: both kinds show in history."""
    operators = _operators(task.department_id) if task.department_id else []
    if not operators:
        return None
    if task.operator_id is not None:
        return db.session.get(User, task.operator_id)
    if task.id % 2:
        supervisor = _user("admin")
        assignment.assign(task.id, operators[0].id, supervisor, task.version)
        return operators[0]
    tasks.claim(task, operators[-1], task.version)
    return operators[-1]


def _work(task: Task, *, finish: bool, pause: bool = False) -> None:
    operator = _assign(task)
    if operator is None:
        return
    tasks.start(task, operator, task.version)
    if finish:
        defective = task.target_quantity * SPOILAGE_PER_THOUSAND // 1000
        tasks.report(task, operator, task.version, task.target_quantity, defective, "套色偏差" if defective else "")
    else:
        tasks.report(task, operator, task.version, task.target_quantity // 3)
        if pause:
            tasks.pause(task, operator, task.version, "material", "等纸")


def _move_back(work_order: WorkOrder, worked: list[Task], days_ago: int, first_notification: int) -> None:
    now = utcnow()
    opened = timedelta(days=days_ago)
    _shift(work_order, opened, "created_at", "updated_at", "submitted_at", "approved_at", "order_date",
           "delivery_date")
    for row in db.session.scalars(select(ApprovalLog).where(ApprovalLog.work_order_id == work_order.id)):
        _shift(row, opened, "created_at")
    own_rows = select(AuditLog).where(AuditLog.work_order_id == work_order.id)
    for row in db.session.scalars(own_rows.where(AuditLog.object_type != "task")):
        _shift(row, opened, "at")
    for row in db.session.scalars(own_rows.where(AuditLog.action.in_(("release", "dispatch", "auto_complete")))):
        _shift(row, opened, "at")
    for notification in db.session.scalars(select(Notification).where(Notification.id > first_notification)):
        _shift(notification, opened, "created_at", "read_at")
    plate_tasks = select(Task).where(Task.work_order_id == work_order.id, Task.task_type == "plate_making")
    for task in db.session.scalars(plate_tasks):  # completed when the approval found their plates confirmed
        _shift(task, opened, "created_at", "updated_at", "dispatched_at", "started_at", "completed_at")
    # Each worked task ends on its own day between the approval and today (a finished one a day before).
    span = opened - timedelta(days=1)
    latest = {}
    for number, task in enumerate(worked, start=1):
        back = opened - span * number / (len(worked) + 1)
        hours = timedelta(hours=WORKED_HOURS[number % len(WORKED_HOURS)])
        _shift(task, back, "created_at", "updated_at", "dispatched_at", "started_at", "completed_at")
        for row in db.session.scalars(select(AuditLog).where(
                AuditLog.task_id == task.id, AuditLog.action.not_in(("release", "dispatch", "auto_complete")))):
            _shift(row, back, "at")
        worked_seconds = 0
        for period in db.session.scalars(select(TimeLog).where(TimeLog.task_id == task.id)):
            _shift(period, back, "started_at", "ended_at")
            if period.ended_at is not None:
                period.started_at = period.ended_at - hours
                worked_seconds += int(hours.total_seconds())
            else:
                period.started_at = now - hours
        task.worked_seconds = worked_seconds or None
        if task.step_id is not None and task.completed_at is not None:
            latest[task.step_id] = max(latest.get(task.step_id, task.completed_at), task.completed_at)
    for step in db.session.scalars(select(WorkOrderStep).where(WorkOrderStep.work_order_id == work_order.id)):
        _shift(step, opened - timedelta(days=1), "started_at")
        if step.completed_at is not None and step.id in latest:
            step.completed_at = latest[step.id]
    if work_order.completed_at is not None and latest:
        work_order.completed_at = max(latest.values())
        work_order.actual_delivery_date = None


def _shift(row, back: timedelta, *columns: str) -> None:
    for column in columns:
        value = getattr(row, column)
        if value is None:
            continue
        setattr(row, column, value - (timedelta(days=back.days) if not isinstance(value, datetime) else back))
