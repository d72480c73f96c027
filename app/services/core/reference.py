"""Reference data kept in each process: what most pages show of departments, processes and people
(the task centre's filter and assignment choices), built again only when it has changed.

Admins change it rarely and nearly every office page shows it. Each value is kept under the
*reference version*, a token stored with the plant settings (which every page reads anyway,
app.services.core.settings). Any flush that adds, changes or removes a department, process or role,
or changes what a person's entry in a choice shows (name, active, roles, departments), replaces
the token in the same transaction: every process sees the new version exactly when the change
commits, and a rolled-back change never happened. A transaction that changed reference data reads
its own changes, never this cache, and never fills it.

Writers that bypass the ORM (bulk inserts) call ``replace_version()`` themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Department, Process, Role, Setting, User
from app.services.core import settings
from app.utils.timeutil import utcnow

T = TypeVar("T")

# session.info: this transaction has changed reference data.
CHANGED = "reference_changed"
REFERENCE_MODELS = (Department, Process, Role)
# What a person's entry in a choice shows or depends on: a login, a password or a PIN changes none of it.
USER_FIELDS = ("name", "is_active", "roles", "departments")

_kept: dict[str, tuple[str, object]] = {}


def cached(name: str, build: Callable[[], T]) -> T:
    """``build()``, or what it gave before under the current reference version.

    The version is read before the data, so a value is never kept under a version newer than
    itself: a change committed in between is at worst kept under the version before it, and
    rebuilt by the first request that sees the new one.
    """
    session = db.session()
    version = settings.reference_version()
    if session.info.get(CHANGED) or _changes_reference(session):  # its own changes, flushed or not
        return build()
    kept = _kept.get(name)
    if kept is not None and kept[0] == version:
        return kept[1]
    value = build()
    if version is not None and not session.info.get(CHANGED):
        _kept[name] = (version, value)
    return value


def forget() -> None:
    """Drop every kept value (each is rebuilt on its next use)."""
    _kept.clear()


def replace_version(session: Session | None = None) -> None:
    """Give the reference data a new version in the session's transaction (the first one, in a
    database that has none yet)."""
    session = session or db.session()
    session.info[CHANGED] = True
    connection = session.connection()
    upsert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[connection.dialect.name]
    row = {"key": settings.REFERENCE_VERSION_KEY, "value": settings.new_reference_version(), "updated_at": utcnow()}
    statement = upsert(Setting.__table__).values(row)
    connection.execute(statement.on_conflict_do_update(index_elements=["key"], set_={
        "value": statement.excluded.value, "updated_at": statement.excluded.updated_at}))
    settings.forget_cached_values()


def _changes_reference(session: Session) -> bool:
    for instance in chain(session.new, session.deleted):
        if isinstance(instance, (*REFERENCE_MODELS, User)):
            return True
    for instance in session.dirty:
        if isinstance(instance, REFERENCE_MODELS) and session.is_modified(instance):
            return True
        if isinstance(instance, User) and any(inspect(instance).attrs[name].history.has_changes() for name in USER_FIELDS):
            return True
    return False


@sa_event.listens_for(Session, "before_flush")
def _version_reference_changes(session: Session, _flush_context, _instances) -> None:
    if _changes_reference(session):
        replace_version(session)


@sa_event.listens_for(Session, "after_transaction_end")
def _end_of_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(CHANGED, None)
