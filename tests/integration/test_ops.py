"""The deployment files work when run, not merely exist: nginx accepts its config, backups restore."""
import fcntl
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=plant.example",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def render_nginx_config(folder: Path) -> Path:
    cert, key = _self_signed_certificate(folder)
    (folder / "logs").mkdir()
    replacements = {
        "@RUN_DIR@": str(folder), "@LOG_DIR@": str(folder / "logs"), "@MIME_TYPES@": "/etc/nginx/mime.types",
        "@UPSTREAM@": "127.0.0.1:8000", "@SERVER_NAME@": "plant.example", "@TLS_CERT@": str(cert),
        "@TLS_KEY@": str(key), "@APP_DIR@": str(ROOT),
    }
    config = (ROOT / "ops" / "nginx.conf").read_text()
    for placeholder, value in replacements.items():
        config = config.replace(placeholder, value)
    assert not re.search(r"@[A-Z_]+@", config)
    target = folder / "nginx.conf"
    target.write_text(config)
    return target


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (apt-get install nginx)")
        pytest.skip("nginx is not installed")
    result = subprocess.run([nginx, "-t", "-c", str(render_nginx_config(tmp_path))], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def _table_fingerprint(url: str) -> dict:
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )).scalars().all()
        counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
        checksum = conn.execute(text(
            "SELECT md5(string_agg(concat_ws('|', id, number, status, target_quantity, completed_quantity, "
            "defective_quantity, department_id, operator_id, version), ',' ORDER BY id)) FROM tasks"
        )).scalar()
    engine.dispose()
    return {"counts": counts, "tasks_md5": checksum}


PASSWORD = "s3cret-Pass/word"  # the throwaway cluster trusts local connections: any password is accepted


def _recording_tools(folder: Path, bin_dir: str) -> Path:
    """pg_dump, pg_restore and psql that write their arguments to a file, then run the real one."""
    folder.mkdir()
    for tool in ("pg_dump", "pg_restore", "psql"):
        wrapper = folder / tool
        wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{folder}/arguments"\nexec {bin_dir}/{tool} "$@"\n')
        wrapper.chmod(0o755)
    return folder


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def drill(pg_cluster, tmp_path):
    """A demo plant in its own database, its uploads, and the environment the scripts run with."""
    from app import create_app
    from app.extensions import db
    from app.seed import load_demo, seed_presets

    import factories

    url = pg_cluster.create_database(f"backup_drill_{uuid.uuid4().hex[:8]}")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": False,
                      "SECRET_KEY": "x" * 40, "PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD})
    with app.app_context():
        db.create_all()
        seed_presets()
        load_demo()
        db.session.commit()
        for _ in range(5):
            factories.TaskFactory()
        db.session.remove()
        db.engine.dispose()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "design.pdf").write_bytes(b"%PDF-1.4 demo")
    tools = _recording_tools(tmp_path / "tools", pg_cluster.bin_dir)
    with_password = url.replace("postgresql+psycopg://postgres@", f"postgresql://postgres:{quote(PASSWORD, safe='')}@")
    env = {**os.environ, "DATABASE_URL": with_password, "UPLOAD_FOLDER": str(uploads),
           "BACKUP_DIR": str(tmp_path / "backups"), "TEXTFILE_COLLECTOR_DIR": str(tmp_path),
           "APP_URL": f"http://127.0.0.1:{_closed_port()}", "PATH": f"{tools}:{os.environ['PATH']}"}
    return SimpleNamespace(url=url, uploads=uploads, env=env, backups=tmp_path / "backups",
                           arguments=tools / "arguments", textfile=tmp_path / "workorder_backup.prom")


def _run(script: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "ops" / script), *args], env=env, capture_output=True, text=True)


def _execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


@pytest.mark.postgres
def test_backup_wipe_restore_round_trip_without_a_password_on_any_command_line(drill):
    before = _table_fingerprint(drill.url)
    assert before["counts"]["users"] == 17

    backup = _run("backup.sh", drill.env)
    assert backup.returncode == 0, backup.stderr
    folder = backup.stdout.strip().splitlines()[-1]
    assert sorted(os.listdir(drill.backups)) == [".lock", Path(folder).name]
    metrics = drill.textfile.read_text()
    assert re.search(r"^workorder_backup_last_success_timestamp_seconds \d{10}$", metrics, re.M)
    assert re.search(r"^workorder_backup_last_size_bytes [1-9]\d*$", metrics, re.M)

    # After the backup: a newer migration's table, changed rows, a new upload. None of it survives.
    _execute(drill.url, "CREATE TABLE newer_feature (id integer); DELETE FROM audit_logs; "
                        "UPDATE tasks SET completed_quantity = completed_quantity + 1")
    (drill.uploads / "later.pdf").write_bytes(b"later")
    restore = _run("restore.sh", drill.env, folder)
    assert restore.returncode == 0, restore.stderr
    assert _table_fingerprint(drill.url) == before
    assert sorted(p.name for p in drill.uploads.iterdir()) == ["design.pdf"]
    assert (drill.uploads / "design.pdf").read_bytes() == b"%PDF-1.4 demo"

    arguments = drill.arguments.read_text()
    assert arguments.count("--dbname=postgresql://postgres@/backup_drill_") == 2  # pg_dump and psql
    assert PASSWORD not in arguments and quote(PASSWORD, safe="") not in arguments


@pytest.mark.postgres
def test_a_failed_backup_leaves_no_folder_and_retention_deletes_only_backups(drill):
    old = time.time() - 40 * 86400
    drill.backups.mkdir()
    for name in ("20200101T000000Z", "keep-me"):
        (drill.backups / name).mkdir()
    (drill.backups / "20200102T000000Z.txt").touch()  # not a folder: not a backup either
    for path in drill.backups.iterdir():
        os.utime(path, (old, old))
    failing = {**drill.env, "DATABASE_URL": drill.env["DATABASE_URL"].replace("/backup_drill_", "/no_such_database_")}
    failed = _run("backup.sh", failing)
    assert failed.returncode != 0
    assert sorted(os.listdir(drill.backups)) == [".lock", "20200101T000000Z", "20200102T000000Z.txt", "keep-me"]
    assert not drill.textfile.exists()

    backup = _run("backup.sh", drill.env)
    assert backup.returncode == 0, backup.stderr
    stamp = Path(backup.stdout.strip().splitlines()[-1]).name
    assert set(os.listdir(drill.backups)) == {".lock", stamp, "20200102T000000Z.txt", "keep-me"}


@pytest.mark.postgres
def test_a_second_backup_waits_for_none_while_one_runs(drill):
    drill.backups.mkdir()
    with open(drill.backups / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        refused = _run("backup.sh", drill.env)
    assert (refused.returncode, os.listdir(drill.backups)) == (75, [".lock"])
    assert "another backup is running" in refused.stderr


class _Healthz(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args):
        pass


@pytest.mark.postgres
def test_restore_refuses_while_the_app_answers_and_keeps_everything_when_the_uploads_are_broken(drill):
    folder = Path(_run("backup.sh", drill.env).stdout.strip().splitlines()[-1])
    _execute(drill.url, "CREATE TABLE newer_feature (id integer)")
    changed = _table_fingerprint(drill.url)

    server = HTTPServer(("127.0.0.1", 0), _Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        refused = _run("restore.sh", {**drill.env, "APP_URL": f"http://127.0.0.1:{server.server_port}"}, str(folder))
    finally:
        server.shutdown()
    assert refused.returncode == 1 and "stop it first" in refused.stderr
    assert _table_fingerprint(drill.url) == changed

    # A truncated uploads archive (its checksum made to match): nothing is touched.
    archive = folder / "uploads.tar.gz"
    archive.write_bytes(archive.read_bytes()[:20])
    subprocess.run("sha256sum db.dump uploads.tar.gz > SHA256SUMS", shell=True, cwd=folder, check=True)
    broken = _run("restore.sh", drill.env, str(folder))
    assert broken.returncode != 0
    assert _table_fingerprint(drill.url) == changed
    assert sorted(p.name for p in drill.uploads.parent.iterdir() if p.name.startswith(".restore")) == []
    assert (drill.uploads / "design.pdf").read_bytes() == b"%PDF-1.4 demo"


def test_migrations_run_as_their_own_locked_step_not_on_every_restart():
    service = (ROOT / "ops" / "systemd" / "workorder.service").read_text()
    migrate = (ROOT / "ops" / "systemd" / "workorder-migrate.service").read_text()
    assert "db upgrade" not in service
    assert "Type=oneshot" in migrate and "ExecStart=/opt/workorder/.venv/bin/flask db upgrade" in migrate
    assert "pg_advisory_xact_lock" in (ROOT / "migrations" / "env.py").read_text()
