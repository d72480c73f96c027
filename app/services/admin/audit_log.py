"""操作日志: every audit row, filtered by object type, user and plant date, with its detail made readable."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import AuditLog, User
from app.services.admin.master_data import ListQuery
from app.services.core.audit_text import OBJECT_TYPES, describe_all  # noqa: F401 (the page describes its rows)
from app.utils.timeutil import plant_zone


def _plant_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=plant_zone()).astimezone(UTC).replace(tzinfo=None)


def list_entries(query: ListQuery):
    statement = select(AuditLog).options(joinedload(AuditLog.user))
    if query.filters.get("object_type"):
        statement = statement.where(AuditLog.object_type == query.filters["object_type"])
    if query.filters.get("user"):
        statement = statement.where(AuditLog.user_id == query.filters["user"])
    if query.filters.get("date_from"):
        statement = statement.where(AuditLog.at >= _plant_midnight_utc(query.filters["date_from"]))
    if query.filters.get("date_to"):
        statement = statement.where(AuditLog.at < _plant_midnight_utc(query.filters["date_to"] + timedelta(days=1)))
    statement = statement.order_by(AuditLog.at.desc(), AuditLog.id.desc())
    return db.paginate(statement, page=max(query.page, 1), per_page=query.per_page, error_out=False)


def object_type_options() -> list[tuple[str, str]]:
    present = set(db.session.scalars(select(AuditLog.object_type).distinct()))
    return [(key, str(OBJECT_TYPES.get(key, key))) for key in sorted(present | set(OBJECT_TYPES))]


def user_options() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.id.in_(select(AuditLog.user_id).distinct())).order_by(User.name)))
