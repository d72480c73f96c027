"""系统状态 (/admin/system): every item an operator needs, read from where it really lives."""
import re

import pytest
from sqlalchemy import text

from app.services.admin.system_status import migration_heads
from support.apps import variant_app


@pytest.fixture()
def plant(app, db, database_url, tmp_path, make_user):
    """An app whose /boom fails as in production, with a backup textfile, and an admin logged in to it."""
    metrics = tmp_path / "workorder_backup.prom"
    metrics.write_text("# TYPE workorder_backup_last_success_timestamp_seconds gauge\n"
                       "workorder_backup_last_success_timestamp_seconds 1796529600\n"
                       "# TYPE workorder_backup_last_size_bytes gauge\n"
                       "workorder_backup_last_size_bytes 5242880\n")
    application = variant_app(app, database_url, PROPAGATE_UNEXPECTED=False, BACKUP_METRICS_FILE=str(metrics))

    @application.route("/boom")
    def boom():
        raise RuntimeError("printer on fire")

    admin = make_user("admin")
    db.session.commit()
    client = application.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(admin.id)
        session["_fresh"] = True
    yield client, metrics
    db.session.remove()


def _row(page: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.S)
    assert match, row_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_the_system_page_shows_every_item(plant, db):
    client, _metrics = plant
    failed = client.get("/boom")
    assert failed.status_code == 500
    page = client.get("/admin/system").get_data(as_text=True)

    assert re.fullmatch(r"版本 0\.1\.0 · [0-9a-f]{12}", _row(page, "system-version"))
    assert _row(page, "system-migrations") == f"数据库迁移 与程序不一致 程序 {migration_heads()[0]} · 数据库 未记录"
    assert re.fullmatch(r"数据库 可连接 延迟 [\d.]+ 毫秒", _row(page, "system-database"))
    listener = _row(page, "system-listener")
    if db.engine.url.get_backend_name() == "postgresql":
        assert listener == "实时事件监听（LISTEN） 本进程尚未启动（还没有 WebSocket 连接）"
    else:
        assert listener == "实时事件监听（LISTEN） 进程内传递（SQLite）"
    assert re.fullmatch(r"打开的 WebSocket 进程 \d+：0 个", _row(page, "system-sockets"))
    # 1796529600 = 2026-12-06 04:00 UTC = 12:00 in Asia/Shanghai
    assert _row(page, "system-backup") == "最近一次备份 2026-12-06 12:00:00 · 5.2 MB"
    assert _row(page, "system-errors") == "最近一小时的服务器错误 1"
    assert _row(page, "system-settings") == "关键设置 启用自动分派：是；操作员任务上限：10"
    recent = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="system-recent-errors"', 1)[1]))
    assert f"{failed.headers['X-Request-ID']} GET /boom RuntimeError: printer on fire" in recent


def test_the_migration_state_compares_the_database_with_the_program(plant, db):
    client, metrics = plant
    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    db.session.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": migration_heads()[0]})
    db.session.commit()
    try:
        metrics.unlink()
        page = client.get("/admin/system").get_data(as_text=True)
    finally:
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()
    head = migration_heads()[0]
    assert _row(page, "system-migrations") == f"数据库迁移 已是最新 程序 {head} · 数据库 {head}"
    assert _row(page, "system-backup") == f"最近一次备份 没有备份记录 {metrics}"
    assert _row(page, "system-errors") == "最近一小时的服务器错误 0"


def test_the_page_refreshes_itself_as_a_live_region(plant):
    client, _metrics = plant
    region = client.get("/admin/system", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert region.lstrip().startswith('<div id="system-status"') and "<html" not in region
    assert 'hx-trigger="every 10s, live-refresh"' in region and 'data-live="all"' in region


def test_sockets_are_counted_per_gunicorn_worker_from_the_metrics_files(tmp_path):
    """Under gunicorn (PROMETHEUS_MULTIPROC_DIR) every worker's open sockets, each by its pid."""
    import json
    import os
    import subprocess
    import sys

    worker = ("import json, os, sys\n"
              "from app.metrics import WEBSOCKETS_OPEN\n"
              "WEBSOCKETS_OPEN.inc(int(sys.argv[1]))\n"
              "from app.services.admin.system_status import _sockets_by_worker\n"
              "print(json.dumps([os.getpid(), _sockets_by_worker()]))\n")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    first, second = (json.loads(subprocess.run([sys.executable, "-c", worker, str(n)], env=env, check=True,
                                               capture_output=True, text=True).stdout) for n in (3, 2))
    assert second[1] == {str(first[0]): 3, str(second[0]): 2}
