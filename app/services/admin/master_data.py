"""What the admin services share: list queries (search, sort, page), input parsing with field
errors collected before anything is written, uniqueness checks that name the clashing record,
and before → after audit rows."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services.core import audit
from app.services.core.errors import Conflict, Invalid, NotFound
from app.utils.fields import INTEGER_TEXT, database_int, lenient_int

FIX_MARKED_ERRORS = _l("请修正标出的错误")
SAVE_RACE = _l("编码或名称刚被其他人占用，请刷新后重试")
DELETE_RACE = _l("该记录刚被使用，不能删除，请刷新后重试")


# ---------------------------------------------------------------- lists

@dataclass
class ListQuery:
    """A list request: free-text search, filters, ``sort`` ("name" or "-name" for descending), page."""

    search: str = ""
    filters: dict = field(default_factory=dict)
    sort: str = ""
    page: int = 1
    per_page: int = 20

    def sort_key(self, allowed, default: str) -> tuple[str, bool]:
        key, descending = self.sort.lstrip("-"), self.sort.startswith("-")
        if key not in allowed:
            return default.lstrip("-"), default.startswith("-")
        return key, descending


@dataclass
class SlicePage:
    """The pagination interface of Flask-SQLAlchemy for a list that had to be built in Python."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @classmethod
    def of(cls, rows: list, page: int, per_page: int) -> SlicePage:
        start = (page - 1) * per_page
        return cls(rows[start:start + per_page], page, per_page, len(rows))


def search_clause(text: str, *columns):
    """Case-insensitive substring match on any column; % and _ typed by the user match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{escaped}%", escape="\\") for column in columns))


def yes_no_filter(statement, query: ListQuery, name: str, column):
    """The list filter ``name``, "1" (yes) or "0" (no), on a boolean column; anything else filters nothing."""
    if query.filters.get(name) in ("1", "0"):
        statement = statement.where(column.is_(query.filters[name] == "1"))
    return statement


def paginate(statement, query: ListQuery, sorts: dict, default: str, tiebreak):
    key, descending = query.sort_key(sorts, default)
    column = sorts[key]
    statement = statement.order_by(column.desc() if descending else column.asc(), tiebreak)
    return db.paginate(statement, page=max(query.page, 1), per_page=query.per_page, error_out=False)


def get_or_404(model, object_id, message):
    obj = db.session.get(model, object_id) if object_id else None
    if obj is None:
        raise NotFound(message)
    return obj


# ---------------------------------------------------------------- input

class FieldErrors(dict):
    """field name → Chinese message; raised as one Invalid so every mistake is shown at once."""

    def raise_if_any(self, message=FIX_MARKED_ERRORS) -> None:
        if self:
            raise Invalid(message, fields=dict(self), code="invalid_input")


def text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def required_text(errors: FieldErrors, data: dict, name: str, label, max_length: int, min_length: int = 1) -> str:
    value = text(data, name)
    if not value:
        errors[name] = _l("请填写%(label)s", label=label)
    elif not min_length <= len(value) <= max_length:
        errors[name] = _l("%(label)s长度为 %(low)s 到 %(high)s 个字符", label=label, low=min_length, high=max_length)
    return value


def optional_text(errors: FieldErrors, data: dict, name: str, label, max_length: int) -> str:
    value = text(data, name)
    if len(value) > max_length:
        errors[name] = _l("%(label)s不能超过 %(high)s 个字符", label=label, high=max_length)
    return value


def integer(errors: FieldErrors, data: dict, name: str, label, low: int, high: int, default: int | None = None):
    raw = data.get(name)
    raw = str(raw).strip() if raw is not None else ""
    if raw == "" and default is not None:
        return default
    try:
        value = database_int(raw)
    except ValueError:
        errors[name] = _l("%(label)s必须是整数", label=label) if not INTEGER_TEXT.fullmatch(raw) else _l(
            "%(label)s必须在 %(low)s 到 %(high)s 之间", label=label, low=low, high=high)
        return default
    if not low <= value <= high:
        errors[name] = _l("%(label)s必须在 %(low)s 到 %(high)s 之间", label=label, low=low, high=high)
    return value


def decimal(errors: FieldErrors, data: dict, name: str, label, high: Decimal, places: int = 2) -> Decimal:
    raw = data.get(name)
    raw = str(raw).strip() if raw is not None else ""
    if raw == "":
        return Decimal(0)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[name] = _l("%(label)s必须是数字", label=label)
        return Decimal(0)
    if not value.is_finite() or value < 0 or value > high:
        errors[name] = _l("%(label)s必须在 0 到 %(high)s 之间", label=label, high=high)
    elif -value.as_tuple().exponent > places:
        errors[name] = _l("%(label)s最多保留 %(places)s 位小数", label=label, places=places)
    return value


def ids(values) -> list[int]:
    """Ids from a multi-select, in the order given, without duplicates or junk."""
    seen: list[int] = []
    for value in values or ():
        number = lenient_int(value)
        if number is None:
            continue
        if number not in seen:
            seen.append(number)
    return seen


def picked_rows(errors: FieldErrors, rows: list[dict], section: str, model, key: str, unknown, repeated):
    """The rows of a form section that each pick one ``model`` record by id (``row[key]``), in order.

    Yields ``(prefix, row, record)`` with ``prefix`` = "<section>.<position>." and ``record`` None for
    a row that picks nothing; a row whose record does not exist (``unknown``) or that an earlier row
    already picked (``repeated(record, earlier_row_number)``) gets its error and is not yielded.
    """
    records = {record.id: record for record in db.session.scalars(
        select(model).where(model.id.in_(ids([row.get(key) for row in rows]))))}
    seen: dict[int, int] = {}
    for position, row in enumerate(rows):
        prefix = f"{section}.{position}."
        chosen = ids([row.get(key)])
        if not chosen:
            yield prefix, row, None
            continue
        record = records.get(chosen[0])
        if record is None:
            errors[prefix + key] = unknown
            continue
        if record.id in seen:
            errors[prefix + key] = repeated(record, seen[record.id] + 1)
            continue
        seen[record.id] = position
        yield prefix, row, record


def check_unique(errors: FieldErrors, name: str, model, column, value, exclude_id: int | None, describe) -> None:
    """Refuse a value another record holds; ``describe(existing)`` names that record in the message."""
    if not value or name in errors:
        return
    statement = select(model).where(column == value)
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    existing = db.session.scalars(statement.limit(1)).first()
    if existing is not None:
        errors[name] = describe(existing)


def flush_or_conflict(message=SAVE_RACE) -> None:
    """Write now. The checks before refuse everything one user can cause; a unique or foreign key
    refusal here means a concurrent change won the race, which is a Conflict, never a 500."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(message, code="concurrent_change") from None


# ---------------------------------------------------------------- audit

def plain(value):
    """A JSON-safe copy of a value for the audit detail."""
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def snapshot(obj, names) -> dict:
    return {name: plain(getattr(obj, name)) for name in names}


def record_change(actor, object_type: str, object_id: int, action: str, before: dict | None, after: dict | None,
                  **extra) -> bool:
    """One audit row with only what changed (all fields for create/delete); nothing when nothing changed."""
    if before is not None and after is not None:
        changed = [key for key in after if before.get(key) != after.get(key)]
        if not changed:
            return False
        before = {key: before.get(key) for key in changed}
        after = {key: after[key] for key in changed}
    detail = {}
    if before is not None:
        detail["before"] = before
    if after is not None:
        detail["after"] = after
    audit.record(actor, object_type, object_id, action, detail=detail, **extra)
    return True


# ---------------------------------------------------------------- audited writes

def assign(record, values: dict) -> None:
    for name, value in values.items():
        setattr(record, name, value)


def audited_create(actor, object_type: str, record, state, fill=lambda: None):
    """Add a new record, ``fill()`` it (which may flush), write it and audit ``state(record)``."""
    db.session.add(record)
    fill()
    flush_or_conflict()
    record_change(actor, object_type, record.id, "create", None, state(record))
    return record


def audited_update(actor, object_type: str, record, state, change):
    """``change()`` the record, write it and audit what ``state(record)`` shows changed."""
    before = state(record)
    change()
    flush_or_conflict()
    record_change(actor, object_type, record.id, "update", before, state(record))
    return record


def audited_delete(actor, object_type: str, record, state) -> None:
    """Audit the record's last state and delete it; a reference added meanwhile is a Conflict."""
    record_change(actor, object_type, record.id, "delete", state(record), None)
    db.session.delete(record)
    flush_or_conflict(DELETE_RACE)
