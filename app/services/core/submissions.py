"""Create once per form instance: a double click, a resent POST or a retried API call creates one record.

Every create form carries a one-time key (``CreateOnceMixin`` in app/utils/fields.py; a hidden
``submission_key``), an API create an ``Idempotency-Key`` header. ``create_once`` inserts the key into
``submissions`` in the same transaction as the record and writes the record's id beside it:

- a first post claims the key and creates;
- a second post of the same key, even at the same moment, finds it taken — on PostgreSQL its INSERT
  waits for the first transaction and then skips the key (``ON CONFLICT DO NOTHING``); on SQLite
  writers take turns — and answers with the first post's record instead of creating another;
- when the first post is refused (a field error rolls its transaction back), the key is free again,
  so the corrected form creates.

A post without a key (older clients, scripts) simply creates, as before.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Submission
from app.services.core.errors import Conflict, Invalid
from app.utils.fields import new_submission_key
from app.utils.timeutil import utcnow

FIELD_NAME = "submission_key"
HEADER_NAME = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:\-]{8,100}")
# Long enough for any retry; older keys are forgotten when their owner creates something again.
KEEP_FOR = timedelta(days=2)


@dataclass
class Outcome:
    record: Any
    replayed: bool  # True: the key had created ``record`` before; nothing was created now


def new_key() -> str:
    return new_submission_key()


def create_once(actor, key: str | None, model, create: Callable[[], Any],
                result_id: Callable[[Any], int] = lambda record: record.id) -> Outcome:
    """Run ``create`` unless ``key`` already created a ``model``; then that record, with ``replayed``.

    ``create`` returns the new record (or something ``result_id`` finds its id in). The caller commits.
    """
    if not key:
        return Outcome(create(), False)
    if not KEY_PATTERN.fullmatch(key):
        raise Invalid(_l("表单标识无效，请刷新页面后重试"), code="invalid_submission_key")
    key = f"{actor.id}:{key}"  # each person's keys are their own: two API clients may pick the same
    kind = model.__tablename__
    if _claim(key, kind, actor.id):
        result = create()
        db.session.flush()
        db.session.execute(update(Submission).where(Submission.key == key).values(result_id=result_id(result)))
        return Outcome(result, False)
    return Outcome(_first_record(actor, key, model), True)


def _claim(key: str, kind: str, user_id: int) -> bool:
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = db.session.execute(
        dialect.insert(Submission).values(key=key, kind=kind, user_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"]).returning(Submission.key)).first()
    if inserted is None:
        return False
    db.session.execute(delete(Submission).where(Submission.user_id == user_id,
                                                Submission.created_at < utcnow() - KEEP_FOR))
    return True


def _first_record(actor, key: str, model):
    row = db.session.execute(select(Submission.kind, Submission.user_id, Submission.result_id)
                             .where(Submission.key == key)).first()
    if row is None or row.user_id != actor.id or row.kind != model.__tablename__:
        raise Conflict(_l("该表单已被使用，请刷新页面后重新填写"), code="submission_key_reused")
    record = db.session.get(model, row.result_id) if row.result_id is not None else None
    if record is None:
        raise Conflict(_l("该表单已提交过，所创建的记录已不存在"), code="submission_record_gone")
    return record
