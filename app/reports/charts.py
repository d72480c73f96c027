"""Chart.js configurations of the statistics page, built from the same figures its tables show."""
from __future__ import annotations

from flask_babel import gettext as _

from app.enums import TaskStatus
from app.services.reports import periods as stats_periods
from app.services.reports import statistics

# The colours of the status tags (static/css/app.css), so a chart reads like the lists.
STATUS_COLOURS = {"pending": "#f0a030", "in_progress": "#1860c4", "paused": "#d4b000", "completed": "#2e7d32",
                  "cancelled": "#c62828"}
PRIMARY, SECONDARY = "#1860c4", "#f57c00"


def completions(series: list[statistics.Bucket]) -> dict:
    return {
        "type": "bar",
        "data": {
            "labels": [bucket.label for bucket in series],
            "datasets": [
                {"type": "bar", "label": _("完成任务数"), "data": [b.tasks for b in series],
                 "backgroundColor": PRIMARY, "yAxisID": "y"},
                {"type": "line", "label": _("完成数量"), "data": [b.quantity for b in series],
                 "borderColor": SECONDARY, "backgroundColor": SECONDARY, "yAxisID": "quantity", "tension": 0.2},
            ],
        },
        "options": {"scales": {
            "y": {"beginAtZero": True, "title": {"display": True, "text": _("任务数")}, "ticks": {"precision": 0}},
            "quantity": {"beginAtZero": True, "position": "right", "grid": {"drawOnChartArea": False},
                         "title": {"display": True, "text": _("数量")}},
        }},
    }


def departments(rows: list[statistics.DepartmentStatusRow]) -> dict:
    statuses = [s for s in TaskStatus.values() if s != "draft"]
    return {
        "type": "bar",
        "data": {
            "labels": [row.name for row in rows],
            "datasets": [{"label": TaskStatus.label_of(status), "data": [row.counts.get(status, 0) for row in rows],
                          "backgroundColor": STATUS_COLOURS[status]} for status in statuses],
        },
        "options": {"indexAxis": "y", "scales": {"x": {"stacked": True, "beginAtZero": True, "ticks": {"precision": 0}},
                                                 "y": {"stacked": True}}},
    }


def ranking(rows: list[statistics.OperatorRow]) -> dict:
    top = rows[:stats_periods.TOP_OPERATORS]
    return {
        "type": "bar",
        "data": {
            "labels": [row.operator.name for row in top],
            "datasets": [{"label": _("完成数量"), "data": [row.completed_quantity for row in top],
                          "backgroundColor": PRIMARY}],
        },
        "options": {"indexAxis": "y", "scales": {"x": {"beginAtZero": True}}},
    }
