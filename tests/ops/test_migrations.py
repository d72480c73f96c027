"""The migrations build exactly the schema the models describe, on an empty SQLite and PostgreSQL database."""
import uuid
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateIndex

from app.extensions import db as _db
from app.models import PlanEntry, TimeLog, Workstation
from app.utils.timeutil import utcnow
from factories import DepartmentFactory, TaskFactory, TimeLogFactory, UserFactory
from support.apps import variant_app

OPEN_PERIOD_INDEX = "uq_time_logs_open_period"


@pytest.fixture()
def migrated(app):
    """An app context on a fresh database brought to ``head`` by the migrations alone."""
    contexts = []

    def _migrate(url: str):
        fresh = variant_app(app, url)
        context = fresh.app_context()
        context.push()
        contexts.append(context)
        upgrade()
        return fresh

    yield _migrate
    for context in reversed(contexts):
        _db.session.remove()
        _db.engine.dispose()
        context.pop()


def _made_only_elsewhere(index) -> bool:
    """An index the models create on another database only (``Index.ddl_if(dialect=…)``)."""
    condition = getattr(index, "_ddl_if", None)
    return condition is not None and condition.dialect not in (None, _db.engine.dialect.name)


def _has_options_alembic_ignores(index) -> bool:
    """An index method or operator class (the trigram indexes), INCLUDE columns, or a WHERE clause."""
    postgresql, sqlite = index.dialect_options["postgresql"], index.dialect_options["sqlite"]
    return bool(postgresql["using"] or postgresql["include"]) or (
        postgresql["where"] is not None or sqlite["where"] is not None)


def _indexes_compared_by_definition() -> list:
    """Expression indexes, and those with options Alembic ignores: it compares none of them reliably
    (it reflects expressions with casts added on PostgreSQL and not at all on SQLite, and does not
    compare methods, operator classes, INCLUDE or partial-index predicates)."""
    return [index for table in _db.metadata.tables.values() for index in table.indexes
            if not _made_only_elsewhere(index)
            and (any(not isinstance(expression, Column) for expression in index.expressions)
                 or _has_options_alembic_ignores(index))]


def _is_compared_by_alembic(obj, name, type_, reflected, compare_to) -> bool:
    # _index_definitions_differences compares the others through the database itself; Alembic does
    # not know that an index is made on one database only.
    if type_ != "index":
        return True
    return name not in {index.name for index in _indexes_compared_by_definition()} and not (
        not reflected and _made_only_elsewhere(obj))


def _schema_differences() -> list:
    with _db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _is_compared_by_alembic})
        return compare_metadata(context, _db.metadata)


def _index_definitions_differences() -> list:
    """Each such index as migrated vs. as the models create it, both as the database stores it."""
    definition = ("SELECT pg_get_indexdef(to_regclass(:name))" if _db.engine.dialect.name == "postgresql"
                  else "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name")
    differences = []
    with _db.engine.connect() as connection:
        for index in _indexes_compared_by_definition():
            probe = f"{index.name}_probe"
            transaction = connection.begin()
            migrated = connection.scalar(text(definition), {"name": index.name})
            connection.execute(text(str(CreateIndex(index).compile(dialect=_db.engine.dialect))
                                    .replace(index.name, probe, 1)))
            from_models = connection.scalar(text(definition), {"name": probe})
            transaction.rollback()
            if migrated is None or migrated != from_models.replace(probe, index.name, 1):
                differences.append((index.name, migrated, from_models))
    return differences


def _assert_one_open_period_per_task_and_operator() -> None:
    index = {ix["name"]: ix for ix in inspect(_db.engine).get_indexes("time_logs")}[OPEN_PERIOD_INDEX]
    assert (index["column_names"], bool(index["unique"])) == (["task_id", "operator_id"], True)

    task, operator = TaskFactory(), UserFactory()
    _db.session.add(TimeLog(task=task, operator=operator))
    _db.session.commit()
    _db.session.add(TimeLog(task=task, operator=operator))
    with pytest.raises(IntegrityError):
        _db.session.commit()
    _db.session.rollback()

    started = utcnow() - timedelta(hours=1)
    _db.session.add(TimeLog(task=task, operator=operator, started_at=started, ended_at=started + timedelta(minutes=5)))
    _db.session.add(TimeLog(task=task, operator=UserFactory()))
    _db.session.commit()
    assert _db.session.query(TimeLog).filter_by(task_id=task.id).count() == 3


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"migrated_{uuid.uuid4().hex[:12]}")


def test_migrations_match_the_models(migrated, fresh_url):
    migrated(fresh_url)
    assert _schema_differences() == []
    assert _index_definitions_differences() == []


def test_the_process_of_existing_tasks_is_copied_from_their_steps(migrated, fresh_url):
    migrated(fresh_url)
    tasks = [TaskFactory(), TaskFactory()]
    _db.session.commit()
    expected = {task.id: task.step.process_id for task in tasks}
    assert len(set(expected.values())) == 2
    _db.session.rollback()  # the read above holds locks that would block the migration's ALTER TABLE
    downgrade(revision="0006_task_claimable")
    upgrade()
    with _db.engine.connect() as connection:
        assert dict(connection.execute(text("SELECT id, process_id FROM tasks")).all()) == expected


def test_the_worked_seconds_of_existing_tasks_are_summed_from_their_closed_periods(migrated, fresh_url):
    migrated(fresh_url)
    worked, running, untouched = TaskFactory(), TaskFactory(), TaskFactory()
    started = utcnow().replace(microsecond=0) - timedelta(hours=3)
    for minutes, offset in ((5, 0), (20, 60)):
        begins = started + timedelta(minutes=offset)
        TimeLogFactory(task=worked, started_at=begins, ended_at=begins + timedelta(minutes=minutes))
    TimeLogFactory(task=running, started_at=started, ended_at=None)
    _db.session.commit()
    expected = {worked.id: 1500, running.id: None, untouched.id: None}
    _db.session.rollback()
    downgrade(revision="0008_task_work_order_covering")
    upgrade()
    with _db.engine.connect() as connection:
        assert dict(connection.execute(text("SELECT id, worked_seconds FROM tasks")).all()) == expected


def test_queued_tasks_get_their_step_s_place_on_their_plan_entry(migrated, fresh_url):
    migrated(fresh_url)
    tasks = [TaskFactory(step__sequence=20), TaskFactory(step__sequence=30)]
    station = Workstation(department=DepartmentFactory(), code="P1", name="四色机")
    _db.session.add(station)
    _db.session.flush()
    _db.session.add_all([PlanEntry(task_id=task.id, workstation_id=station.id, work_order_id=task.work_order_id,
                                   step_sequence=0) for task in tasks])
    _db.session.commit()
    expected = {tasks[0].id: 20, tasks[1].id: 30}
    _db.session.rollback()
    downgrade(revision="0023_plan_fillfactor")
    upgrade()
    with _db.engine.connect() as connection:
        assert dict(connection.execute(text("SELECT task_id, step_sequence FROM plan_entries")).all()) == expected


def test_migrated_database_allows_one_open_period_per_task_and_operator(migrated, fresh_url):
    migrated(fresh_url)
    _assert_one_open_period_per_task_and_operator()


def test_ids_are_never_reused_after_the_migration_of_existing_tables(migrated, fresh_url):
    migrated(fresh_url)
    _db.session.rollback()
    downgrade(revision="0016_submissions")
    kept, newest = TaskFactory(), TaskFactory()
    _db.session.commit()
    kept_id, newest_id = kept.id, newest.id
    _db.session.rollback()
    upgrade()
    with _db.engine.begin() as connection:
        assert connection.scalar(text("SELECT count(*) FROM tasks WHERE id = :id"), {"id": kept_id}) == 1
        connection.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": newest_id})
    assert TaskFactory().id > newest_id
    _db.session.commit()


@pytest.mark.postgres
def test_the_plans_tables_leave_room_for_their_rewrites_whether_migrated_or_created(db, migrated, pg_cluster):
    def fill_factors() -> dict:
        return dict(_db.session.execute(text(
            "SELECT relname, array_to_string(reloptions, ',') FROM pg_class"
            " WHERE relname IN ('plan_entries', 'work_order_projections', 'tasks')")).all())

    created = fill_factors()  # the test database: made from the models
    migrated(pg_cluster.create_database(f"migrated_{uuid.uuid4().hex[:12]}"))

    expected = {"plan_entries": "fillfactor=50", "work_order_projections": "fillfactor=50", "tasks": None}
    assert created == expected and fill_factors() == expected
