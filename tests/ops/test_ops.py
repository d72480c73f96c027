"""The deployment files work when run, not merely exist: nginx accepts its config, backups restore."""
import fcntl
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
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


def render_nginx_config(folder: Path, upstream: str = "127.0.0.1:8000", ports: tuple[int, int] = (80, 443),
                        app_dir: Path = ROOT) -> Path:
    """ops/nginx.conf with its placeholders filled as docs/DEPLOYMENT.md §8.2 does (and other ports)."""
    cert, key = _self_signed_certificate(folder)
    (folder / "logs").mkdir()
    (folder / "temp").mkdir()
    replacements = {
        "@RUN_DIR@": str(folder), "@LOG_DIR@": str(folder / "logs"), "@TEMP_DIR@": str(folder / "temp"),
        "@MIME_TYPES@": "/etc/nginx/mime.types", "@UPSTREAM@": upstream, "@SERVER_NAME@": "plant.example",
        "@TLS_CERT@": str(cert), "@TLS_KEY@": str(key), "@APP_DIR@": str(app_dir),
    }
    config = (ROOT / "ops" / "nginx.conf").read_text()
    for placeholder, value in replacements.items():
        config = config.replace(placeholder, value)
    assert not re.search(r"@[A-Z_]+@", config)
    http, https = ports
    config = re.sub(r"listen (\[::\]:)?80;", rf"listen \g<1>{http};", config)
    config = re.sub(r"listen (\[::\]:)?443 ", rf"listen \g<1>{https} ", config)
    target = folder / "nginx.conf"
    target.write_text(config)
    return target


def _nginx() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (apt-get install nginx)")
        pytest.skip("nginx is not installed")
    return nginx


def test_nginx_accepts_the_configuration(tmp_path):
    result = subprocess.run([_nginx(), "-t", "-c", str(render_nginx_config(tmp_path))], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_nginx_runs_its_workers_as_www_data_on_ipv4_and_ipv6_with_its_own_temporary_folder():
    config = (ROOT / "ops" / "nginx.conf").read_text()
    assert re.search(r"^user www-data;$", config, re.M)
    assert {"listen 80;", "listen [::]:80;", "listen 443 ssl http2;", "listen [::]:443 ssl http2;"} <= {
        line.strip() for line in config.splitlines()}
    assert set(re.findall(r"(\w+_temp_path) @TEMP_DIR@/\w+;", config)) == {
        "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"}


@pytest.fixture()
def proxied_app(app, db, database_url):
    """The app as production runs it behind nginx (BEHIND_PROXY), served on a free port."""
    from werkzeug.serving import make_server

    from support.apps import variant_app

    application = variant_app(app, database_url, BEHIND_PROXY=True)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


def _get(port: int, path: str, headers: dict, ipv6: bool = False):
    import http.client
    import ssl

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection("::1" if ipv6 else "127.0.0.1", port, context=context, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@contextmanager
def running_nginx(folder: Path, upstream: str):
    """nginx with ops/nginx.conf in front of ``upstream``; yields its HTTPS port.

    Its workers run as www-data and serve /static/ themselves: from a copy they can read, since a checkout in a
    private folder (``mktemp -d`` makes one) is not, as a deployed /srv/app is."""
    http, https = _closed_port(), _closed_port()
    app_dir = Path(tempfile.mkdtemp(prefix="nginx-app-"))
    app_dir.chmod(0o755)
    for part in ("static", "ops"):
        shutil.copytree(ROOT / part, app_dir / part)
    config = render_nginx_config(folder, upstream=upstream, ports=(http, https), app_dir=app_dir)
    process = subprocess.Popen([_nginx(), "-c", str(config), "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", https), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield https
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(app_dir, ignore_errors=True)


def test_nginx_in_front_of_the_app(proxied_app, tmp_path):
    """HSTS on every answer, static files included; the client cannot choose X-Forwarded-Host; the request id
    goes through to the app and the access log, which keeps no query strings."""
    with running_nginx(tmp_path, proxied_app) as https:
        host = f"plant.example:{https}"
        page = _get(https, "/login?token=SECRET-TOKEN", {"Host": host, "X-Forwarded-Host": "evil.example",
                                                          "X-Request-ID": "phone-call-0001"})
        static = _get(https, "/static/css/app.css", {"Host": host})
        own = _get(https, "/login", {"Host": host}, ipv6=True)

    assert page.status == 200 and static.status == 200 and own.status == 200
    for response in (page, static, own):
        assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    csp = page.getheader("Content-Security-Policy")
    assert f"connect-src 'self' ws://{host} wss://{host};" in csp and "evil.example" not in csp
    assert page.getheader("X-Request-ID") == "phone-call-0001"
    assert re.fullmatch(r"[0-9a-f]{32}", own.getheader("X-Request-ID"))
    assert static.getheader("Cache-Control") == "max-age=604800, public"
    access_log = (tmp_path / "logs" / "access.log").read_text()
    assert '"GET /login HTTP/1.1" 200' in access_log and "request_id=phone-call-0001" in access_log
    assert f"request_id={own.getheader('X-Request-ID')}" in access_log
    assert "SECRET-TOKEN" not in access_log


def test_nginx_answers_with_a_request_id_and_hsts_while_the_app_is_down(tmp_path):
    with running_nginx(tmp_path, f"127.0.0.1:{_closed_port()}") as https:
        down = _get(https, "/tasks", {"Host": f"plant.example:{https}", "X-Request-ID": "app-is-down-0001"})
    assert down.status == 502
    assert (down.getheader("X-Request-ID"), down.getheader("Strict-Transport-Security")) == (
        "app-is-down-0001", "max-age=31536000")
    assert '"GET /tasks HTTP/1.1" 502' in (tmp_path / "logs" / "access.log").read_text()


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
def drill(pg_cluster, demo_database_template, tmp_path):
    """A demo plant in its own database, its uploads, and the environment the scripts run with."""
    import factories
    from app import create_app
    from app.extensions import db

    url = pg_cluster.create_database(f"backup_drill_{uuid.uuid4().hex[:8]}", template=demo_database_template)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": False,
                      "SECRET_KEY": "x" * 40, "PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD})
    with app.app_context():
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


@pytest.mark.postgres
def test_two_servers_upgrading_at_once_migrate_the_database_once(pg_cluster):
    """What two app servers running workorder-migrate together do: both succeed, the schema is built once."""
    import sys

    from app.services.admin.system_status import migration_heads

    url = pg_cluster.create_database(f"migrate_race_{uuid.uuid4().hex[:8]}")
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app", "SECRET_KEY": "x" * 40, "METRICS_ENABLED": "0",
           "PYTHONPATH": str(ROOT)}
    upgrades = [subprocess.Popen([sys.executable, "-m", "flask", "db", "upgrade"], env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(process.wait(timeout=300), process.stderr.read()) for process in upgrades]
    assert [code for code, _ in results] == [0, 0], results
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == migration_heads()
    engine.dispose()


def test_migrations_run_as_their_own_locked_step_not_on_every_restart():
    service = (ROOT / "ops" / "systemd" / "workorder.service").read_text()
    migrate = (ROOT / "ops" / "systemd" / "workorder-migrate.service").read_text()
    assert "db upgrade" not in service
    assert "Type=oneshot" in migrate and "ExecStart=/opt/workorder/.venv/bin/flask db upgrade" in migrate
    assert "pg_advisory_xact_lock" in (ROOT / "migrations" / "env.py").read_text()
