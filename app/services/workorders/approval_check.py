"""The approval check (DOMAIN.md §5, reference §4.3 without its bugs): every problem at once.

Runs on submit, resubmit and approve — never on reject, which needs only a reason — and its
plate part runs live in the form. An overdue delivery date is not a problem (reference §13 #11):
only a delivery date before the order date is.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.enums import PLATE_KINDS, PlateKind
from app.extensions import db
from app.models import Task, WorkOrder
from app.services.core.errors import Invalid
from app.utils.wording import join_list

INCOMPLETE_MESSAGE = _l("施工单数据不完整，无法审核")

# The form field each plate kind is chosen in, so a problem can sit next to it.
PLATE_FIELDS = {kind: f"{kind}_ids" for kind in PLATE_KINDS}
# Steps that must come before printing: (code, message).
BEFORE_PRINTING = (
    ("CTP", _l("制版工序（CTP）应该在印刷工序（PRT）之前，请调整工序顺序")),
    ("CUT", _l("开料工序（CUT）应该在印刷工序（PRT）之前，请调整工序顺序")),
)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def plate_problems(processes: Iterable, plate_kinds: Iterable[str]) -> list[Problem]:
    """A selected process needs a plate kind (``requires_X and X_required``) none of which is chosen."""
    chosen = set(plate_kinds)
    missing: dict[str, list[str]] = {}
    for process in processes:
        for kind in process.required_plate_kinds():
            if kind not in chosen:
                missing.setdefault(kind, []).append(process.name)
    return [
        Problem(PLATE_FIELDS[kind], _("选择了需要%(kind)s的工序（%(names)s），请至少选择一个%(kind)s",
                                      kind=PlateKind.label_of(kind), names=join_list(names)))
        for kind, names in sorted(missing.items(), key=lambda item: list(PLATE_FIELDS).index(item[0]))
    ]


def problems(work_order: WorkOrder, *, refilled_steps: Iterable[int] = ()) -> list[Problem]:
    """Every problem at once. ``refilled_steps``: steps that will get drafts before the check
    really runs (a resubmission fills empty steps), so their emptiness is not listed."""
    found: list[Problem] = []
    if work_order.customer_id is None:
        found.append(Problem("customer_id", _("缺少客户信息")))
    if not work_order.products:
        found.append(Problem("products", _("缺少产品信息")))
    steps = work_order.steps
    if not steps:
        found.append(Problem("steps", _("缺少工序信息")))
    if work_order.delivery_date is None:
        found.append(Problem("delivery_date", _("缺少交货日期")))
    elif work_order.order_date is not None and work_order.delivery_date < work_order.order_date:
        found.append(Problem("delivery_date", _(
            "交货日期不能早于下单日期。交货日期：%(delivery)s，下单日期：%(order)s",
            delivery=work_order.delivery_date.isoformat(), order=work_order.order_date.isoformat())))
    if (work_order.production_quantity or 0) <= 0:
        found.append(Problem("production_quantity", _("生产数量必须大于0，当前值为%(value)s",
                                                      value=work_order.production_quantity or 0)))
    found.extend(plate_problems([step.process for step in steps], {plate.kind for plate in work_order.plates}))
    for line in work_order.materials:
        if line.need_cutting and not any(ch.isdigit() for ch in line.usage or ""):
            found.append(Problem("materials", _("物料“%(name)s”需要开料，请填写物料用量", name=line.material.name)))
    sequence = {step.process.code: step.sequence for step in steps}
    if "PRT" in sequence:
        for code, message in BEFORE_PRINTING:
            if code in sequence and sequence[code] >= sequence["PRT"]:
                found.append(Problem("steps", str(message)))
    found.extend(_empty_steps(work_order, set(refilled_steps)))
    return found


def _empty_steps(work_order: WorkOrder, refilled: set[int]) -> list[Problem]:
    """A step without tasks could never complete, and would hold its 施工单 open forever."""
    if work_order.id is None or not work_order.steps:
        return []
    counts = dict(db.session.execute(
        select(Task.step_id, func.count()).where(Task.work_order_id == work_order.id).group_by(Task.step_id)
    ).all())
    return [
        Problem("steps", _("工序“%(name)s”没有任务，请添加任务或删除该工序", name=step.process.name))
        for step in work_order.steps if not counts.get(step.id) and step.id not in refilled
    ]


def as_error(found: list[Problem]) -> Invalid:
    fields: dict[str, str] = {}
    for problem in found:
        fields[problem.field] = join_list((fields[problem.field], problem.message), "clauses") if problem.field in fields \
            else problem.message
    return Invalid(INCOMPLETE_MESSAGE, details=[p.message for p in found], fields=fields, code="incomplete")


def check(work_order: WorkOrder) -> None:
    """Raise one Invalid listing every problem, or return quietly."""
    found = problems(work_order)
    if found:
        raise as_error(found)
