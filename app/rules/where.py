"""WHERE conditions on tasks, and whether they read the 施工单 (so the query must join it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """WHERE conditions on tasks, and whether they read the 施工单 (so it must be joined)."""

    conditions: tuple = ()
    needs_work_order: bool = False

    def __add__(self, other: Where) -> Where:
        return Where(self.conditions + other.conditions, self.needs_work_order or other.needs_work_order)

    @classmethod
    def on_tasks(cls, *conditions) -> Where:
        return cls(tuple(conditions), False)

    @classmethod
    def on_work_orders(cls, *conditions) -> Where:
        return cls(tuple(conditions), True)
