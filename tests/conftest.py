"""Fixtures: app, db, client, login_as(role) — on PostgreSQL by default, SQLite when asked.

Database choice, in order: TEST_DATABASE_URL; TEST_DB=sqlite; a throwaway PostgreSQL cluster
from the local binaries; SQLite with a loud list of what was skipped. With REQUIRE_POSTGRES=1
(as CI sets) a missing PostgreSQL or browser is an error, never a skip.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from types import SimpleNamespace

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
# tests/ for ``factories`` and ``support``; the repository for ``testkit`` (shared with bench/).
for _path in (ROOT, TESTS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from testkit.pgcluster import ThrowawayCluster, find_bin_dir  # noqa: E402

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
_cluster: ThrowawayCluster | None = None
_sqlite_dir: str | None = None
_skipped_for_backend: list[str] = []


def _choose_database_url() -> tuple[str, str]:
    global _cluster
    if os.environ.get("TEST_DATABASE_URL"):
        url = os.environ["TEST_DATABASE_URL"]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url, "postgresql" if url.startswith("postgresql") else "sqlite"
    if os.environ.get("TEST_DB") != "sqlite":
        bin_dir = find_bin_dir()
        if bin_dir:
            _cluster = ThrowawayCluster(bin_dir)
            _cluster.start()
            return _cluster.create_database("workorders_test"), "postgresql"
        if REQUIRE_POSTGRES:
            raise pytest.UsageError("REQUIRE_POSTGRES=1 but no PostgreSQL binaries were found")
    global _sqlite_dir
    # In memory (/dev/shm) a commit does not wait for the disk: 0.2 ms instead of ~4 ms, and the
    # suite commits tens of thousands of times (the throwaway PostgreSQL runs with fsync=off alike).
    _sqlite_dir = tempfile.mkdtemp(prefix="wo-sqlite-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    return f"sqlite:///{os.path.join(_sqlite_dir, 'test.db')}", "sqlite"


DATABASE_URL, BACKEND = _choose_database_url()
os.environ["TEST_BACKEND"] = BACKEND


def pytest_report_header(config):
    return f"database backend: {BACKEND} ({DATABASE_URL.split('?')[0]})"


def pytest_collection_modifyitems(config, items):
    if BACKEND == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_collection_finish(session):
    """Only tests that remain selected (not those deselected with -m "not postgres") were skipped."""
    if BACKEND != "postgresql":
        _skipped_for_backend.extend(item.nodeid for item in session.items if "postgres" in item.keywords)


def pytest_terminal_summary(terminalreporter):
    if _skipped_for_backend:
        terminalreporter.section("SKIPPED: running on SQLite, these PostgreSQL tests did not run", sep="!")
        for nodeid in _skipped_for_backend:
            terminalreporter.write_line(f"  {nodeid}")


def pytest_unconfigure(config):
    if _cluster is not None:
        _cluster.stop()
    if _sqlite_dir is not None:
        shutil.rmtree(_sqlite_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def backend() -> str:
    return BACKEND


@pytest.fixture(scope="session")
def database_url() -> str:
    return DATABASE_URL


@pytest.fixture(scope="session")
def pg_cluster():
    """The throwaway cluster itself, for tests that need more databases (migrations, backups)."""
    if _cluster is None:
        pytest.skip("needs the throwaway PostgreSQL cluster")
    return _cluster


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from app import create_app
    from app.extensions import db as _db
    from factories import CHEAP_HASH_METHOD

    application = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production-use-000",
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        "METRICS_ENABLED": False,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": CHEAP_HASH_METHOD,
        # A cached fragment that differs from a fresh render fails the test (app.templating.verify_fragment).
        "VERIFY_CACHED_FRAGMENTS": True,
    })
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application


def _wipe(database) -> None:
    """Empty every table and restart the ids, as TRUNCATE … RESTART IDENTITY would: on PostgreSQL a
    DELETE of each (small) table costs a quarter of that TRUNCATE, which makes new files for every
    table and index, and runs after nearly every test. Sent there as one script: one round trip."""
    statements = [f"DELETE FROM {table.name}" for table in reversed(database.metadata.sorted_tables)]
    if BACKEND == "postgresql":
        statements.append("SELECT setval(oid::regclass, 1, false) FROM pg_class WHERE relkind = 'S'")
        database.session.execute(text("; ".join(statements)))
    else:
        # AUTOINCREMENT tables keep their highest id in sqlite_sequence (if any exists yet).
        if database.session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")):
            statements.append("DELETE FROM sqlite_sequence")
        for statement in statements:
            database.session.execute(text(statement))
    database.session.commit()


@pytest.fixture()
def db(app):
    from app.extensions import db as _db

    with app.app_context():
        _db.session.remove()
        yield _db
        _db.session.remove()
        _wipe(_db)


class _FreshGlobalsClient(FlaskClient):
    """Requests share the test's app context, so clear ``g`` before each one as a real request would."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture()
def client(app, db):
    app.test_client_class = _FreshGlobalsClient
    return app.test_client()


class _Snapshot:
    """The rows (and on PostgreSQL the id sequences) that ``build`` leaves in an empty database, taken
    once per worker and written back by a fixture: a few bulk INSERTs instead of building anew. Taken
    between two tests, on the emptied database."""

    def __init__(self, database, build):
        build()
        database.session.commit()
        # In primary-key order: a table that refers to itself (departments' parent) gets its parents first,
        # whatever order the database happened to store the rows in.
        self.rows = [(table, rows) for table in database.metadata.sorted_tables
                     if (rows := [dict(row) for row in database.session.execute(
                         table.select().order_by(*table.primary_key.columns)).mappings()])]
        self.sequences = None
        if BACKEND == "postgresql":
            self.sequences = database.session.execute(text(
                "SELECT array_agg(format('%I.%I', schemaname, sequencename)), array_agg(last_value)"
                " FROM pg_sequences WHERE last_value IS NOT NULL")).one()
        database.session.remove()
        _wipe(database)

    def restore(self, database) -> None:
        for table, rows in self.rows:
            database.session.execute(table.insert(), rows)
        if self.sequences and self.sequences[0]:
            names, values = self.sequences
            database.session.execute(
                text("SELECT setval(name::regclass, value) FROM unnest(CAST(:names AS text[]),"
                     " CAST(:values AS bigint[])) AS sequence(name, value)"),
                {"names": names, "values": values})
        database.session.commit()


def _is_empty(database) -> bool:
    """No row in any table (one round trip)."""
    quote = database.engine.dialect.identifier_preparer.quote
    tests = " OR ".join(f"EXISTS (SELECT 1 FROM {quote(table.name)})" for table in database.metadata.sorted_tables)
    return not database.session.scalar(text(f"SELECT CASE WHEN {tests} THEN 1 ELSE 0 END"))


class _WorldSnapshot(_Snapshot):
    """A hand-built plant (a SimpleNamespace of rows and plain values) kept as a _Snapshot: its rows are
    written back and the namespace's rows read again by their ids. The reference data gets a new version
    on each restore, so that no value a test kept under the old one is found by the next test."""

    def __init__(self, database, build):
        def _build():
            world = build()
            database.session.flush()
            self.rows_of_world, self.values_of_world = {}, {}
            for name, value in vars(world).items():
                state = sa_inspect(value, raiseerr=False)
                if state is not None and getattr(state, "identity", None):
                    self.rows_of_world[name] = (type(value), state.identity)
                else:
                    assert not isinstance(value, (list, tuple, set, dict)), f"{name}: rows in a container"
                    self.values_of_world[name] = value

        super().__init__(database, _build)

    def restore(self, database):
        from app.services.core import reference

        super().restore(database)
        reference.replace_version(database.session)
        database.session.commit()
        # One query per model rather than one per row: Session.get then finds each in the identity map.
        ids_by_model: dict[type, list] = {}
        for model, identity in self.rows_of_world.values():
            ids_by_model.setdefault(model, []).append(identity)
        for model, identities in ids_by_model.items():
            (key,) = sa_inspect(model).primary_key
            database.session.scalars(select(model).where(key.in_([identity for (identity,) in identities]))).all()
        return SimpleNamespace(**self.values_of_world, **{
            name: database.session.get(model, identity) for name, (model, identity) in self.rows_of_world.items()})


@pytest.fixture(scope="session")
def _world_snapshots() -> dict:
    return {}


@pytest.fixture()
def built_once(_world_snapshots, db):
    """``built_once(build)``: what ``build()`` returns (a SimpleNamespace of rows), built in the first
    test of the worker and written back by bulk INSERTs in the next ones (per plant day: builders read
    today's date). Builds anew when the database is not empty (another fixture came first)."""
    from app.utils.timeutil import plant_today

    def _built_once(build):
        if not _is_empty(db):
            return build()
        key = (build.__module__, build.__qualname__, plant_today())
        if key not in _world_snapshots:
            _world_snapshots[key] = _WorldSnapshot(db, build)
        return _world_snapshots[key].restore(db)

    return _built_once


@pytest.fixture(scope="session")
def _preset_snapshot(app) -> _Snapshot:
    from app.extensions import db as _db
    from app.seed import seed_presets

    with app.app_context():
        return _Snapshot(_db, seed_presets)


@pytest.fixture()
def seeded(_preset_snapshot, db):
    """The preset processes, departments, rules, roles and settings (seed_presets() costs ~0.4 s and
    half the suite asks for it)."""
    _preset_snapshot.restore(db)
    return db


def _build_demo() -> None:
    from app.seed import load_demo, seed_presets

    seed_presets()
    load_demo()


@pytest.fixture(scope="session")
def _demo_snapshot(app) -> _Snapshot:
    from app.extensions import db as _db

    with app.app_context():
        return _Snapshot(_db, _build_demo)


@pytest.fixture()
def demo_plant(_demo_snapshot, db):
    """What ``flask demo`` leaves in a new plant: the presets, the demo people, master data, 施工单 and
    their three weeks of history (app/seed_history.py). load_demo() takes about 12 s; it runs once
    per worker and this writes its rows back (under a second). Its times are those of that run."""
    _demo_snapshot.restore(db)
    return db


@pytest.fixture(scope="session")
def demo_database_template(pg_cluster) -> str:
    """The name of a database of the throwaway cluster holding the demo plant (tables by create_all),
    built once per worker: ``pg_cluster.create_database(name, template=demo_database_template)`` copies
    it in a fraction of a second, for tests that need the demo in a database of their own."""
    from app import create_app
    from app.extensions import db as _db
    from factories import CHEAP_HASH_METHOD

    name = "demo_template"
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg_cluster.create_database(name),
                              "METRICS_ENABLED": False, "SECRET_KEY": "x" * 40,
                              "PASSWORD_HASH_METHOD": CHEAP_HASH_METHOD})
    with application.app_context():
        _db.create_all()
        _build_demo()
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    return name


@pytest.fixture()
def make_user(db):
    from factories import UserFactory

    def _make(*roles: str, departments=(), **kwargs):
        return UserFactory(roles=list(roles), departments=list(departments), **kwargs)

    return _make


@pytest.fixture()
def login(client):
    """Log a user in on the test client without the cost of password hashing."""

    def _login(user, kiosk: bool = False):
        import time

        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            if kiosk:
                session["kiosk_session"] = True
                session["kiosk_last_seen"] = time.time()
        return user

    return _login


@pytest.fixture()
def login_as(make_user, login):
    """``login_as("maker")`` creates a user with that role and logs them in."""

    def _login_as(*roles: str, departments=(), **kwargs):
        return login(make_user(*roles, departments=departments, **kwargs))

    return _login_as


@pytest.fixture()
def sign_in(login):
    """Log in as another user between requests of one test (``g`` outlives a test-client request)."""

    def _sign_in(user, kiosk=False):
        for name in ("_login_user", "_led_departments"):
            g.pop(name, None)
        return login(user, kiosk=kiosk)

    return _sign_in


@pytest.fixture()
def kiosk_world(built_once):
    """The small plant of support/kiosk_world.py: 印刷车间 with two operators, one task in the pool."""
    from support.kiosk_world import build_world

    return built_once(build_world)


@pytest.fixture()
def ticket_world(db):
    """kiosk_world with everything a job ticket shows (support/ticket_world.py)."""
    from support.ticket_world import build_ticket_world

    return build_ticket_world()


@pytest.fixture()
def reports_world(built_once):
    """The hand-built plant of support/reports_world.py, every figure of March 2026 known."""
    from support.reports_world import build

    return built_once(build)


@pytest.fixture()
def workorder_plant(seeded):
    """The presets with users of every role, customers, products and plates (support/workorders.py)."""
    from support.workorders import build_plant

    return build_plant(seeded)


@pytest.fixture()
def admin_plant(seeded):
    """The presets plus one of everything the admin pages manage (support/admin.py)."""
    from support.admin import build_plant

    return build_plant()


class _LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


@pytest.fixture()
def live_server(app, db):
    with _LiveServer(app) as server:
        yield server


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture()
def page_factory(browser, live_server):
    """New isolated browser pages in Chinese, each with its own cookies."""
    contexts = []

    def _new_page(viewport=(1280, 900), locale="zh-CN", **context_options):
        context = browser.new_context(
            locale=locale, viewport={"width": viewport[0], "height": viewport[1]}, base_url=live_server.url,
            **context_options,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield _new_page
    for context in contexts:
        context.close()


ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts")


@pytest.fixture()
def screenshot_dir():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
