"""Every row lock goes through app.services.core.locking.for_update (FOR NO KEY UPDATE, see its docstring)."""
import pathlib

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from app.models import Task, WorkOrder
from app.services.core.locking import for_update

APP = pathlib.Path(__file__).resolve().parents[2] / "app"


def test_locks_are_for_no_key_update_and_keep_their_of():
    statement = for_update(select(Task).join(WorkOrder, Task.work_order_id == WorkOrder.id), of=Task)
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert sql.endswith("FOR NO KEY UPDATE OF tasks")


def test_no_service_locks_rows_any_other_way():
    others = [str(path.relative_to(APP)) for path in APP.rglob("*.py")
              if "with_for_update(" in path.read_text(encoding="utf-8") and path.name != "locking.py"]
    assert others == []
