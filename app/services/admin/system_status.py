"""系统状态 (/admin/system): what the plant's IT person checks first, without Prometheus.

Each item is read at request time from where it really lives: the package and git for the version,
Alembic's scripts and the database for the migrations, a fresh connection for the database's latency,
this process's LISTEN thread, the Prometheus multiprocess files for every worker's sockets, the textfile
ops/backup.sh writes for the node exporter, and the ``server_errors`` table the 500 handler writes.
"""
from __future__ import annotations

import glob
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from sqlalchemy import delete, func, insert, select, text

from app.extensions import db
from app.models import ServerError
from app.services.core import settings as plant_settings
from app.utils.timeutil import utcnow

log = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parents[3]
MIGRATIONS_DIR = BASE_DIR / "migrations"
ERROR_RETENTION = timedelta(days=30)
SHOWN_SETTINGS = ("auto_dispatch_enabled", "operator_task_cap")


# ---------------------------------------------------------------- errors

def record_server_error(request_id: str | None, method: str, route: str, error: BaseException) -> None:
    """One row per unexpected error, on a connection of its own (the request's transaction was rolled
    back). Never raises: the database may be the very thing that failed."""
    description = f"{type(error).__name__}: {error}"[:200]
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(ServerError).values(
                occurred_at=utcnow(), request_id=(request_id or "")[:64], method=method[:10], route=route[:200],
                error=description))
            connection.execute(delete(ServerError).where(ServerError.occurred_at < utcnow() - ERROR_RETENTION))
    except Exception:  # noqa: BLE001 — reported in the log line of the error itself
        log.warning("could not record the server error in server_errors", exc_info=True)


# ---------------------------------------------------------------- the status

@dataclass
class DatabaseStatus:
    reachable: bool
    latency_ms: float | None = None
    revision: str | None = None
    problem: str | None = None


@dataclass
class ListenerStatus:
    state: str  # "in_process" (SQLite), "not_started", "connected", "reconnecting"
    reconnects: int = 0
    last_event_at: datetime | None = None
    problem: str | None = None


@dataclass
class BackupStatus:
    finished_at: datetime | None = None
    size_bytes: int | None = None
    source: str = ""


@dataclass
class SystemStatus:
    version: str
    commit: str | None
    migration_heads: list[str]
    database: DatabaseStatus
    listener: ListenerStatus
    sockets_by_worker: dict[int, int]
    backup: BackupStatus
    errors_last_hour: int | None
    recent_errors: list = field(default_factory=list)
    settings: list[tuple[str, object]] = field(default_factory=list)

    @property
    def migrations_current(self) -> bool:
        return self.database.revision is not None and self.database.revision in self.migration_heads


@lru_cache(maxsize=1)
def _version_and_commit() -> tuple[str, str | None]:
    try:
        version = metadata.version("workorder-tracker")
    except metadata.PackageNotFoundError:
        version = "?"
    commit = os.environ.get("APP_COMMIT") or None
    if commit is None:
        try:
            commit = subprocess.run(["git", "-C", str(BASE_DIR), "rev-parse", "--short=12", "HEAD"],
                                    capture_output=True, text=True, timeout=2, check=True).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            commit = None  # installed from an archive, not a checkout
    return version, commit


@lru_cache(maxsize=1)
def migration_heads() -> list[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return list(ScriptDirectory.from_config(config).get_heads())


def _database() -> DatabaseStatus:
    try:
        with db.engine.connect() as connection:
            started = time.perf_counter()
            connection.execute(text("SELECT 1"))
            latency = (time.perf_counter() - started) * 1000
            try:
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:  # noqa: BLE001 — tables made without Alembic (db.create_all)
                revision = None
        return DatabaseStatus(True, round(latency, 2), revision)
    except Exception as error:  # noqa: BLE001 — unreachable is the answer, not a failure of the page
        return DatabaseStatus(False, problem=str(error).splitlines()[0][:200])


def _listener() -> ListenerStatus:
    from app.realtime import listener

    if db.engine.url.get_backend_name() != "postgresql":
        return ListenerStatus("in_process")
    current = listener.current()
    if current is None or not current.is_alive():
        return ListenerStatus("not_started")
    last = datetime.fromtimestamp(current.last_event_at, UTC).replace(tzinfo=None) \
        if current.last_event_at else None
    state = "connected" if current.listening.is_set() else "reconnecting"
    return ListenerStatus(state, max(0, current.connections_made - 1), last,
                          None if state == "connected" else current.last_error)


def _sockets_by_worker() -> dict[int, int]:
    """Open WebSockets of every living gunicorn worker (their metrics files), or of this process alone."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client.multiprocess import MultiProcessCollector

        counts = {}
        # The per-worker samples, before the collector sums them (prometheus_client has no public API for it).
        metrics = MultiProcessCollector._read_metrics(glob.glob(os.path.join(directory, "gauge_livesum_*.db")))
        sockets = metrics.get("workorder_websocket_connections")
        for sample in sockets.samples if sockets else ():
            counts[int(dict(sample.labels)["pid"])] = int(sample.value)
        return dict(sorted(counts.items()))
    from app.realtime.hub import HUB

    return {os.getpid(): len(HUB.connections())}


def _backup(metrics_file: str) -> BackupStatus:
    from prometheus_client.parser import text_string_to_metric_families

    try:
        exposition = Path(metrics_file).read_text()
    except OSError:
        return BackupStatus(source=metrics_file)
    values = {sample.name: sample.value for family in text_string_to_metric_families(exposition)
              for sample in family.samples}
    finished = values.get("workorder_backup_last_success_timestamp_seconds")
    size = values.get("workorder_backup_last_size_bytes")
    return BackupStatus(datetime.fromtimestamp(finished, UTC).replace(tzinfo=None) if finished else None,
                        int(size) if size is not None else None, metrics_file)


def _errors(database: DatabaseStatus) -> tuple[int | None, list]:
    if not database.reachable:
        return None, []
    since = utcnow() - timedelta(hours=1)
    count = db.session.scalar(select(func.count()).select_from(ServerError).where(ServerError.occurred_at >= since))
    recent = db.session.scalars(select(ServerError).order_by(ServerError.occurred_at.desc()).limit(10)).all()
    return count, list(recent)


def gather(backup_metrics_file: str) -> SystemStatus:
    version, commit = _version_and_commit()
    database = _database()
    errors_last_hour, recent = _errors(database)
    values = plant_settings.all_values() if database.reachable else {}
    settings = [(plant_settings.SETTINGS[key][1], values[key]) for key in SHOWN_SETTINGS if key in values]
    return SystemStatus(version=version, commit=commit, migration_heads=migration_heads(), database=database,
                        listener=_listener(), sockets_by_worker=_sockets_by_worker(),
                        backup=_backup(backup_metrics_file), errors_last_hour=errors_last_hour,
                        recent_errors=recent, settings=settings)
