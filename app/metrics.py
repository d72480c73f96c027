"""Prometheus metrics at /metrics (request count and latency per endpoint, /ws excluded)."""
import os

from prometheus_flask_exporter import PrometheusMetrics
from prometheus_flask_exporter.multiprocess import GunicornPrometheusMetrics

from app.extensions import csrf


def init_metrics(app):
    exporter = GunicornPrometheusMetrics if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else PrometheusMetrics
    metrics = exporter(app, path="/metrics", excluded_paths=["^/ws", "^/static/"], group_by="url_rule")
    csrf.exempt("prometheus_flask_exporter.prometheus_metrics")
    app.extensions["metrics"] = metrics
    return metrics
