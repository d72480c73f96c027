"""What the 施工单 services take and return: the form's input and the outcomes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.models import (
    Customer,
    Material,
    Plate,
    Process,
    Product,
    WorkOrder,
)
from app.services.workorders import task_generation as generation

# ---------------------------------------------------------------- input

@dataclass
class ProductLineInput:
    product_id: int
    quantity: int
    id: int | None = None
    unit: str = ""
    specification: str = ""


@dataclass
class MaterialLineInput:
    material_id: int
    id: int | None = None
    size: str = ""
    usage: str = ""
    need_cutting: bool = False
    notes: str = ""


@dataclass
class StepInput:
    process_id: int
    sequence: int
    department_id: int | None = None


@dataclass
class WorkOrderInput:
    customer_id: int | None
    order_date: date | None
    delivery_date: date | None
    production_quantity: int = 0
    spoilage_quantity: int = 0
    priority: str = "normal"
    printing_type: str = "none"
    cmyk_colors: list[str] = field(default_factory=list)
    other_colors: list[str] = field(default_factory=list)
    notes: str = ""
    products: list[ProductLineInput] = field(default_factory=list)
    materials: list[MaterialLineInput] = field(default_factory=list)
    steps: list[StepInput] = field(default_factory=list)
    plate_ids: list[int] = field(default_factory=list)


@dataclass
class LimitedInput:
    """What stays editable once a 施工单 is approved."""

    delivery_date: date | None
    priority: str
    notes: str = ""


@dataclass
class _Resolved:
    """The input with every reference looked up and checked."""

    data: WorkOrderInput
    customer: Customer
    products: dict[int, Product]
    materials: dict[int, Material]
    processes: dict[int, Process]
    plates: list[Plate]
    steps: list[StepInput]


@dataclass
class EditOutcome:
    work_order: WorkOrder
    plan: generation.SyncPlan
    applied: bool


@dataclass
class ItemResult:
    task_id: int
    number: str
    ok: bool
    message: str


@dataclass
class BulkOutcome:
    items: list[ItemResult]
    summary: str
