"""gunicorn settings for the plant (gthread: every WebSocket holds one thread).

Sizing (DESIGN.md §3): each open page keeps one WebSocket, and flask-sock holds a worker thread
for it for as long as it is open. So per worker:

    threads >= (open pages served by this worker) + HTTP headroom (about 8)

Example for one 2-core server: 60 kiosks + 30 desk users = 90 pages -> 2 workers (one per core)
x 64 threads = 128 threads, i.e. 45 sockets per worker plus ~19 threads for ordinary requests.
Raise WEB_THREADS when you add screens; add workers only with cores. Events reach every worker
through PostgreSQL LISTEN/NOTIFY, so the socket a page holds may live in any worker.
"""
import faulthandler
import gc
import os
import shutil
import tempfile

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
errorlog = "-"
# Production logs JSON lines (app/observability.py), one per request written by the app itself: gunicorn's
# own access line would only repeat it as text, and its messages (worker boot, timeout) become JSON too.
json_logs = os.environ.get("LOG_FORMAT", "json" if os.environ.get("APP_ENV") == "production" else "console") == "json"
accesslog = None if json_logs else "-"
if json_logs:
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},  # the app puts its own handler on the root logger
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False, "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False, "qualname": "gunicorn.access"},
        },
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": ["levelname", "name", "message"],
                                "rename_fields": {"levelname": "level", "name": "logger"}, "timestamp": "time",
                                "json_ensure_ascii": False}},
    }
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "app:create_app()"


def on_starting(server):
    """Prometheus multiprocess mode: every worker writes its samples under PROMETHEUS_MULTIPROC_DIR and
    /metrics sums them. Start from an empty directory (old files would add a previous run's counts);
    without the variable (systemd sets it) use a fresh temporary one, inherited by the workers."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        server.temporary_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix="workorder-metrics-")
        return
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def post_worker_init(worker):
    """Freeze what the worker has loaded (the app, SQLAlchemy's mappers, the templates: ~160,000
    objects) out of the garbage collector's reach. Otherwise every full collection walks them all,
    about 75 ms with the GIL held, in which none of the worker's requests move; requests that load
    hundreds of rows trigger one every few seconds under load."""
    gc.collect()
    gc.freeze()
    # A worker that crashes in C code (a segmentation fault) leaves only "was sent SIGSEGV" in the log, and
    # every socket it held drops at once: print the crashing thread's Python stack first, to stderr (the
    # journal). That thread's only: faulthandler prints at most 100 threads, newest first, and a worker holding
    # its pages' sockets runs hundreds, so with all of them the one that crashed was mostly left out.
    # Unless something enabled it already (PYTHONFAULTHANDLER, a test runner), with its own file.
    if not faulthandler.is_enabled():
        faulthandler.enable(all_threads=False)


def child_exit(server, worker):
    """Prometheus multiprocess mode: forget the metrics files of a worker that has gone."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    temporary = getattr(server, "temporary_metrics_dir", None)
    if temporary:
        shutil.rmtree(temporary, ignore_errors=True)
