"""A newcomer's first ten minutes: make run on any port, make demo-reset, a favicon, a quiet flask db upgrade."""
import gc
import subprocess
import warnings
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import WorkOrder
from support.apps import variant_app

ROOT = Path(__file__).resolve().parents[2]


def _make_dry_run(*arguments) -> str:
    return subprocess.run(["make", "-n", *arguments], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_run_serves_on_the_port_given():
    assert "--bind 127.0.0.1:8123" in _make_dry_run("run", "PORT=8123")
    assert "--bind 127.0.0.1:5000" in _make_dry_run("run")


def test_make_demo_reset_rebuilds_the_database_and_leaves_the_venv_alone():
    commands = _make_dry_run("demo-reset")
    assert "flask demo --reset" in commands and "pip" not in commands and "venv" not in commands.replace(".venv/bin", "")


def test_the_pages_carry_a_favicon(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_flask_db_upgrade_prints_no_warning(app, tmp_path):
    fresh = variant_app(app, f"sqlite:///{tmp_path / 'upgrade.db'}")
    # What earlier tests left for the garbage collector is collected first: a PostgreSQL connection
    # of another test, freed during this SQLite upgrade, warned here now and then.
    gc.collect()
    with fresh.app_context(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        upgrade()
        _db.engine.dispose()
    # This upgrade runs on SQLite: a psycopg connection's warning is another test's garbage.
    assert [str(w.message) for w in caught if not str(w.message).startswith("<psycopg.")] == []


def test_flask_demo_reset_builds_the_demo_again_from_nothing(app, tmp_path):
    fresh = variant_app(app, f"sqlite:///{tmp_path / 'demo.db'}")
    runner = fresh.test_cli_runner()
    with fresh.app_context():
        first = runner.invoke(args=["demo", "--reset"])
        assert first.exit_code == 0, first.output
        assert "数据库已重建" in first.output and "demo123456" in first.output
        _db.session.get(WorkOrder, 1).notes = "changed by hand"
        _db.session.commit()
        counted = _db.session.scalar(select(func.count()).select_from(WorkOrder))
        again = runner.invoke(args=["demo", "--reset"])
        assert again.exit_code == 0, again.output
        assert _db.session.scalar(select(func.count()).select_from(WorkOrder)) == counted
        assert _db.session.scalar(select(func.count()).where(WorkOrder.notes == "changed by hand")) == 0
        _db.session.remove()
        _db.engine.dispose()
