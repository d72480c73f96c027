"""Draft task generation (DOMAIN.md §4, reference §5) and the process sync diff.

``generate()`` is a pure function from the shape of a 施工单 — its number, quantity, product
lines, material lines, plates and processes — to the list of task specs it implies. The same
function produces the drafts of a new 施工单, the preview of an edit (将删除 / 将新增) and the
drafts a resubmission restores, so the numbers the user sees are the numbers that are applied.

Lines that are not saved yet carry a temporary ``key``; a spec refers to its line by that key
and the service maps it to the real id after the flush.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert

from app.enums import PLATE_KINDS
from app.extensions import db
from app.models import Task, WorkOrder
from app.utils.timeutil import utcnow

PLATE_MAKING = "CTP"
CUTTING = "CUT"


@dataclass(frozen=True)
class ProcessShape:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class PlateShape:
    id: int
    kind: str
    foiling_type: str | None = None


@dataclass(frozen=True)
class ProductLineShape:
    key: object
    name: str
    quantity: int


@dataclass(frozen=True)
class MaterialLineShape:
    key: object
    name: str
    usage: str
    need_cutting: bool


@dataclass(frozen=True)
class WorkOrderShape:
    number: str
    quantity: int
    processes: tuple[ProcessShape, ...]
    plates: tuple[PlateShape, ...] = ()
    products: tuple[ProductLineShape, ...] = ()
    materials: tuple[MaterialLineShape, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    process_id: int
    task_type: str
    content: str
    target_quantity: int
    auto_complete: bool = False
    plate_id: int | None = None
    material_key: object = None
    product_key: object = None

    @property
    def key(self) -> tuple:
        """What a spec is *about*; an existing task with the same key is the same task."""
        return (self.process_id, self.plate_id, self.material_key, self.product_key)


def usage_quantity(usage: str | None) -> int:
    """The first integer in a 用量 text: "1000张" → 1000, "12.5张" → 12, "" → 0."""
    match = re.search(r"\d+", usage or "")
    return int(match.group()) if match else 0


# Plate-bound processes: code → (plate kind, foiling type or None, task type, content suffix).
# A foiling plate without a type is a 烫金版 (gold), as its label says.
_PER_PLATE = {
    "PRT": ("artwork", None, "printing", "印刷"),
    "FOIL_G": ("foiling", "gold", "foiling", "烫金"),
    "FOIL_S": ("foiling", "silver", "foiling", "烫银"),
    "EMB": ("embossing", None, "embossing", "压凸"),
    "DIE": ("die", None, "die_cutting", "模切"),
}
# CTP makes every plate, artworks first (reference §5).
_PLATE_ORDER = {kind: order for order, kind in enumerate(PLATE_KINDS)}


def generate(shape: WorkOrderShape) -> list[TaskSpec]:
    """Every draft task the 施工单 implies, step by step in the order of ``shape.processes``."""
    specs: list[TaskSpec] = []
    number, quantity = shape.number, max(shape.quantity or 0, 0)
    for process in shape.processes:
        if process.code == PLATE_MAKING:
            for plate in sorted(shape.plates, key=lambda p: (_PLATE_ORDER.get(p.kind, 9), p.id)):
                specs.append(TaskSpec(process.id, "plate_making", f"{number}制版审核", 1, True, plate_id=plate.id))
        elif process.code == CUTTING:
            for line in shape.materials:
                if line.need_cutting:
                    specs.append(TaskSpec(process.id, "cutting", f"{number}开料", usage_quantity(line.usage), True,
                                          material_key=line.key))
        elif process.code in _PER_PLATE:
            kind, foiling_type, task_type, suffix = _PER_PLATE[process.code]
            for plate in shape.plates:
                if plate.kind == kind and (foiling_type is None or (plate.foiling_type or "gold") == foiling_type):
                    specs.append(TaskSpec(process.id, task_type, f"{number}{suffix}", quantity, plate_id=plate.id))
        elif process.code == "PACK":
            for line in shape.products:
                specs.append(TaskSpec(process.id, "packaging", f"{line.name}包装", line.quantity,
                                      product_key=line.key))
        else:
            specs.append(TaskSpec(process.id, "general", f"{process.name}：{number}", quantity))
    return specs


@dataclass(frozen=True)
class ExistingTask:
    """The parts of a saved task the diff needs."""

    id: int
    process_id: int
    status: str
    plate_id: int | None
    material_key: object
    product_key: object
    content: str
    target_quantity: int
    task_type: str

    @property
    def key(self) -> tuple:
        return (self.process_id, self.plate_id, self.material_key, self.product_key)

    @property
    def linked(self) -> bool:
        return any(v is not None for v in (self.plate_id, self.material_key, self.product_key))


@dataclass
class SyncPlan:
    """What saving an edit does to the tasks: drafts removed, specs added, drafts refreshed."""

    delete_ids: list[int] = field(default_factory=list)
    add: list[TaskSpec] = field(default_factory=list)
    deleted: list[ExistingTask] = field(default_factory=list)  # the drafts behind ``delete_ids``, to name them
    # task id → column values that follow the edit (only where the user had not changed them)
    updates: dict[int, dict] = field(default_factory=dict)

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.delete_ids or self.add)

    @property
    def is_empty(self) -> bool:
        return not (self.delete_ids or self.add or self.updates)


def plan_sync(existing: Iterable[ExistingTask], before: Sequence[TaskSpec], after: Sequence[TaskSpec]) -> SyncPlan:
    """The diff between the tasks a 施工单 has and the specs its edited shape implies.

    - a draft of a process that is no longer selected is removed, and so is a draft bound to a
      plate, material line or product line that no longer yields a task;
    - unbound drafts of a kept process stay (general tasks and drafts added by hand), with
      their manual edits;
    - a spec no existing task stands for is added;
    - a kept draft whose quantity or text still equals what the old shape generated follows
      the new shape (e.g. a changed production quantity); a value edited by hand is kept.
    Tasks that are no longer drafts are never touched.
    """
    plan = SyncPlan()
    wanted_processes = {spec.process_id for spec in after}
    after_keys = {spec.key for spec in after}
    before_by_key = {spec.key: spec for spec in before}
    after_by_key = {spec.key: spec for spec in after}
    kept: list[ExistingTask] = []
    for task in existing:
        removable = task.status == "draft" and (
            task.process_id not in wanted_processes or (task.linked and task.key not in after_keys)
        )
        if removable:
            plan.delete_ids.append(task.id)
            plan.deleted.append(task)
        else:
            kept.append(task)
    kept_keys = {task.key for task in kept}
    plan.add = [spec for spec in after if spec.key not in kept_keys]
    for task in kept:
        old, new = before_by_key.get(task.key), after_by_key.get(task.key)
        if task.status != "draft" or old is None or new is None:
            continue
        changes = {}
        if task.target_quantity == old.target_quantity and old.target_quantity != new.target_quantity:
            changes["target_quantity"] = new.target_quantity
        if task.content == old.content and old.content != new.content:
            changes["content"] = new.content
        if changes:
            plan.updates[task.id] = changes
    return plan


def insert_drafts(work_order: WorkOrder, specs: Sequence[TaskSpec], step_ids: dict[int, int],
                  material_ids: dict | None = None, product_ids: dict | None = None) -> int:
    """Insert ``specs`` as drafts of ``work_order`` in ONE statement; returns how many.

    Task numbers continue the 施工单's own sequence (T<施工单号>-NN); the counter is advanced by
    a single UPDATE on the 施工单 row, which the caller already holds locked.
    """
    if not specs:
        return 0
    material_ids, product_ids = material_ids or {}, product_ids or {}
    last = db.session.execute(
        db.update(WorkOrder).where(WorkOrder.id == work_order.id)
        .values(task_counter=WorkOrder.task_counter + len(specs)).returning(WorkOrder.task_counter)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    first = last - len(specs) + 1
    now = utcnow()
    rows = [
        {
            "number": f"T{work_order.number}-{sequence:02d}",
            "work_order_id": work_order.id,
            "step_id": step_ids[spec.process_id],
            "process_id": spec.process_id,
            "task_type": spec.task_type,
            "content": spec.content,
            "target_quantity": spec.target_quantity,
            "completed_quantity": 0,
            "defective_quantity": 0,
            "plate_id": spec.plate_id,
            "material_line_id": material_ids.get(spec.material_key, spec.material_key),
            "product_line_id": product_ids.get(spec.product_key, spec.product_key),
            "auto_complete": spec.auto_complete,
            "production_requirements": "",
            "notes": "",
            "status": "draft",
            "pause_note": "",
            "cancel_reason": "",
            "completion_reason": "",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for sequence, spec in enumerate(specs, start=first)
    ]
    db.session.execute(insert(Task), rows)
    db.session.expire(work_order, ["task_counter"])
    return len(rows)
