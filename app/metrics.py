"""Prometheus metrics at /metrics.

- request count and latency per endpoint (prometheus-flask-exporter, grouped by URL rule; /ws and
  static files are not counted)
- ``workorder_websocket_connections``: open WebSockets (app/realtime/socket.py)
- ``workorder_event_delivery_seconds``: from an event's creation (publish) to its send on a socket
- ``workorder_open_tasks``: open tasks by status and department, counted by the database at scrape time
- ``workorder_db_pool_checked_out``: database connections in use
- ``workorder_database_up``: 1 when the scrape could query the database (the scrape answers either way)
- ``workorder_event_listener_down`` / ``_reconnects_total`` / ``_last_event_timestamp_seconds``: the
  LISTEN connection of each worker (app/realtime/listener.py)
- ``workorder_plan_lock_wait_seconds``: a change's wait for the plant's plan lock (PostgreSQL);
  ``workorder_plan_replan_seconds{kind="partial"|"whole"}``: a replan's time once it holds the lock
  (app/services/planning/engine.py)

Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR set (ops/gunicorn.conf.py does it), every worker
writes its samples to files there and any worker's /metrics sums them; gauges of live state count only
living workers (``livesum``; the child_exit hook forgets a dead worker's files).

Access: only clients whose address is in METRICS_ALLOW (default 127.0.0.1 and ::1; CIDR ranges allowed)
or that send ``Authorization: Bearer <METRICS_TOKEN>`` when a token is configured.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from datetime import UTC, datetime

from flask import Flask, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy import event, func, select

from app.enums import OPEN_TASK_STATUSES
from app.errors.handlers import DATABASE_UNAVAILABLE
from app.extensions import db

# Registered in no registry of their own: the /metrics view gathers them (see _scrape_registry).
WEBSOCKETS_OPEN = Gauge("workorder_websocket_connections", "Open WebSocket connections (/ws)",
                        multiprocess_mode="livesum", registry=None)
EVENT_DELIVERY = Histogram("workorder_event_delivery_seconds",
                           "Time from an event's creation to its send on a WebSocket",
                           buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=None)
DB_POOL_CHECKED_OUT = Gauge("workorder_db_pool_checked_out", "Database connections checked out of the pool",
                            multiprocess_mode="livesum", registry=None)
# The LISTEN connection of each worker (app/realtime/listener.py): 1 while a started listener is down,
# its reconnects, and when it last received an event (0 before the first).
LISTENER_DOWN = Gauge("workorder_event_listener_down", "Event listeners whose LISTEN connection is lost",
                      multiprocess_mode="livesum", registry=None)
LISTENER_RECONNECTS = Counter("workorder_event_listener_reconnects", "Reconnections of the LISTEN connection",
                              registry=None)
LISTENER_LAST_EVENT = Gauge("workorder_event_listener_last_event_timestamp_seconds",
                            "Unix time of the last event the LISTEN connection received",
                            multiprocess_mode="livemax", registry=None)
# The plant's plan (排产, app/services/planning/engine.py): changes replan one at a time under the plan lock
# (PostgreSQL), so the lock's wait is what the floor's actions feel when replans pile up.
PLAN_LOCK_WAIT = Histogram("workorder_plan_lock_wait_seconds", "Time a change waited for the plant's plan lock",
                           buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=None)
PLAN_REPLAN = Histogram("workorder_plan_replan_seconds",
                        "Time a replan took once it held the plan lock, by kind (partial or whole)", ["kind"],
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=None)
for kind in ("partial", "whole"):
    PLAN_REPLAN.labels(kind)  # exported from the start, at zero: the dashboard's query finds both kinds
PROCESS_METRICS = (WEBSOCKETS_OPEN, EVENT_DELIVERY, DB_POOL_CHECKED_OUT, LISTENER_DOWN, LISTENER_RECONNECTS,
                   LISTENER_LAST_EVENT, PLAN_LOCK_WAIT, PLAN_REPLAN)


def observe_event_delivery(created_at: float | None) -> None:
    """Record one send of an event created at ``created_at`` (a Unix time; None when unknown)."""
    if created_at is not None:
        EVENT_DELIVERY.observe(max(0.0, time.time() - created_at))


def event_created_at(payload: dict) -> float | None:
    """The Unix time of an event payload's ``at`` (naive UTC, app/realtime/events.py)."""
    try:
        return datetime.fromisoformat(payload["at"]).replace(tzinfo=UTC).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


class OpenTasksCollector:
    """Open tasks by status and department: one grouped COUNT per scrape, served by the tasks indexes.

    While the database is away the scrape still answers, without the counts and with
    ``workorder_database_up 0``: the other metrics (the 503s among them) are what one wants to see then.
    """

    def describe(self):
        return []

    def collect(self):
        from app.models import Department, Task

        family = GaugeMetricFamily("workorder_open_tasks", "Open tasks by status and department",
                                   labels=["status", "department"])
        try:
            rows = db.session.execute(
                select(Task.status, Department.code, func.count())
                .outerjoin(Department, Department.id == Task.department_id)
                .where(Task.status.in_(OPEN_TASK_STATUSES))
                .group_by(Task.status, Department.code)
            ).all()
        except DATABASE_UNAVAILABLE:
            db.session.rollback()
            rows = None
        yield GaugeMetricFamily("workorder_database_up", "1 when this scrape could query the database, else 0",
                                value=0 if rows is None else 1)
        if rows is None:
            return
        for status, department, count in rows:
            family.add_metric([status, department or ""], count)
        yield family


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def _scrape_registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    if _multiprocess():
        MultiProcessCollector(registry)  # every worker's request and process metrics, summed
    else:
        registry.register(app.extensions["metrics"].registry)
    registry.register(OpenTasksCollector())
    return registry


def _client_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(allowed, strict=False)
               for allowed in current_app.config.get("METRICS_ALLOW", ()))


def _count_pool_checkouts() -> None:
    event.listen(db.engine, "checkout", lambda *_: DB_POOL_CHECKED_OUT.inc())
    event.listen(db.engine, "checkin", lambda *_: DB_POOL_CHECKED_OUT.dec())


def init_metrics(app: Flask) -> PrometheusMetrics:
    # A registry per app, so that several apps in one process (tests) do not collide.
    registry = CollectorRegistry()
    if not _multiprocess():
        for metric in PROCESS_METRICS:
            registry.register(metric)
    metrics = PrometheusMetrics(app, path=None, registry=registry, excluded_paths=["^/ws", "^/static/"],
                                group_by="url_rule")
    app.extensions["metrics"] = metrics
    with app.app_context():
        _count_pool_checkouts()

    @app.route("/metrics")
    @metrics.do_not_track()
    def prometheus_metrics():
        from flask_babel import gettext as _

        if not _client_allowed():
            return _("无权访问监控指标"), 403, {"Content-Type": "text/plain; charset=utf-8"}
        return generate_latest(_scrape_registry(app)), 200, {"Content-Type": CONTENT_TYPE_LATEST}

    return metrics
