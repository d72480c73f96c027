"""The printable report of one department over a period."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from app.enums import OPEN_TASK_STATUSES
from app.extensions import db
from app.models import (
    Department,
    Task,
    WorkOrder,
)
from app.rules.task_visibility import visible_tasks_where
from app.rules.where import Where
from app.services.core.loading import name_only
from app.services.reports.periods import Period, StatsFilters, rate
from app.services.reports.statistics import (
    CompletionTotals,
    OperatorRow,
    _completions_by_operator,
    completion_totals,
    operator_rows,
)
from app.services.tasks import filtering as task_filtering
from app.utils.timeutil import plant_today

# ---------------------------------------------------------------- the department report

@dataclass
class DepartmentReport:
    department: Department
    period: Period
    counts: dict[str, int]  # open tasks now, per status
    totals: CompletionTotals
    top_operators: list[OperatorRow]
    overdue: list[Task]
    overdue_total: int

    @property
    def open_tasks(self) -> int:
        return sum(self.counts.values())

    @property
    def completion_rate(self) -> float | None:
        return rate(self.totals.tasks, self.totals.tasks + self.open_tasks)


OVERDUE_LISTED = 50
TOP_IN_REPORT = 5


def department_report(user, department: Department, period: Period) -> DepartmentReport:
    filters = StatsFilters(period, department.id)
    scope = visible_tasks_where(user) + filters.department_where()
    counts = dict.fromkeys(OPEN_TASK_STATUSES, 0)
    counts.update(db.session.execute(
        task_filtering.select_tasks(scope + Where.on_tasks(Task.status.in_(OPEN_TASK_STATUSES)), Task.status,
                                  func.count()).group_by(Task.status)).all())
    late = scope + Where.on_work_orders(Task.status.in_(OPEN_TASK_STATUSES), WorkOrder.delivery_date < plant_today())
    overdue_total = db.session.scalar(task_filtering.select_tasks(late, func.count())) or 0
    overdue = list(db.session.scalars(
        task_filtering.select_tasks(late, Task)
        .options(joinedload(Task.work_order), name_only(joinedload(Task.operator)))
        .order_by(WorkOrder.delivery_date, Task.id).limit(OVERDUE_LISTED)
    ))
    completed = _completions_by_operator(user, filters)
    return DepartmentReport(department, period, counts, completion_totals(user, filters, completed),
                            operator_rows(user, filters, completed=completed)[:TOP_IN_REPORT], overdue, overdue_total)
