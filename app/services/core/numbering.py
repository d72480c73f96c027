"""Atomic sequences for document numbers (施工单号, plate codes): no race, no 999 limit."""
from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Counter
from app.utils.timeutil import plant_now


def next_value(key: str) -> int:
    """Advance the counter ``key`` by one and return the new value.

    One UPDATE … RETURNING takes the row lock, so concurrent callers get distinct values
    and wait for each other only until the surrounding transaction ends.
    """
    statement = update(Counter).where(Counter.key == key).values(value=Counter.value + 1).returning(Counter.value)
    value = db.session.execute(statement).scalar()
    if value is not None:
        return value
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Counter).values(key=key, value=1))
        return 1
    except IntegrityError:
        # Another transaction created the row first; now the UPDATE finds it.
        return db.session.execute(statement).scalar_one()


def monthly_code(prefix: str, width: int) -> str:
    """``prefix`` + yyyymm + a per-month sequence, e.g. SG2026110001 or ART202611001."""
    month = plant_now().strftime("%Y%m")
    sequence = next_value(f"{prefix}{month}")
    return f"{prefix}{month}{sequence:0{width}d}"
