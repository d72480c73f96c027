"""The deployment files work when run, not merely exist: nginx accepts its config, backups restore."""
import os
import re
import shutil
import subprocess
from pathlib import Path

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


@pytest.mark.postgres
def test_backup_wipe_restore_round_trip(pg_cluster, tmp_path):
    from app import create_app
    from app.extensions import db
    from app.seed import load_demo, seed_presets

    url = pg_cluster.create_database("backup_drill")
    import factories

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": False,
                      "SECRET_KEY": "x" * 40, "PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD})
    with app.app_context():
        db.create_all()
        seed_presets()
        load_demo()
        db.session.commit()

        demo_tasks = db.session.query(factories.m.Task).count()
        for _ in range(5):
            factories.TaskFactory()
        db.session.remove()
        db.engine.dispose()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "design.pdf").write_bytes(b"%PDF-1.4 demo")
    before = _table_fingerprint(url)
    assert before["counts"]["tasks"] == demo_tasks + 5 and before["counts"]["users"] == 17

    plain_url = url.replace("postgresql+psycopg://", "postgresql://")
    env = {**os.environ, "DATABASE_URL": plain_url, "UPLOAD_FOLDER": str(uploads),
           "BACKUP_DIR": str(tmp_path / "backups"), "PATH": f"{pg_cluster.bin_dir}:{os.environ['PATH']}"}
    backup = subprocess.run(["bash", str(ROOT / "ops" / "backup.sh")], env=env, capture_output=True, text=True)
    assert backup.returncode == 0, backup.stderr
    folder = backup.stdout.strip().splitlines()[-1]

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    shutil.rmtree(uploads)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0
    engine.dispose()

    restore = subprocess.run(["bash", str(ROOT / "ops" / "restore.sh"), folder], env=env, capture_output=True,
                             text=True)
    assert restore.returncode == 0, restore.stderr
    assert _table_fingerprint(url) == before
    assert (uploads / "design.pdf").read_bytes() == b"%PDF-1.4 demo"
