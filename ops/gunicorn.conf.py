"""gunicorn settings for the plant (gthread: every WebSocket holds one thread).

Sizing (DESIGN.md §3): each open page keeps one WebSocket, and flask-sock holds a worker thread
for it for as long as it is open. So per worker:

    threads >= (open pages served by this worker) + HTTP headroom (about 8)

Example for one 2-core server: 60 kiosks + 30 desk users = 90 pages -> 2 workers (one per core)
x 64 threads = 128 threads, i.e. 45 sockets per worker plus ~19 threads for ordinary requests.
Raise WEB_THREADS when you add screens; add workers only with cores. Events reach every worker
through PostgreSQL LISTEN/NOTIFY, so the socket a page holds may live in any worker.
"""
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "64"))
# Sockets are long-lived; the sync timeout only guards against a stuck request thread.
timeout = 60
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "10"))
keepalive = 5
max_requests = 0  # restarting a worker would drop every kiosk's socket
# gunicorn would create its control socket under $HOME (/opt/workorder, not writable by the service)
# and log a permission error; systemctl reload/restart is how the plant is managed.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "app:create_app()"


def child_exit(server, worker):
    """Prometheus multiprocess mode: forget the metrics files of a worker that has gone."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_flask_exporter.multiprocess import GunicornPrometheusMetrics

        GunicornPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)
