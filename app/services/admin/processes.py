"""工序管理: the process catalogue. Built-in processes keep their code and stay enabled; a process
any 施工单 uses cannot be deleted."""
from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.enums import PLATE_KINDS
from app.extensions import db
from app.models import Process, Product, ProductProcess, WorkOrderStep
from app.services.admin.master_data import (
    FieldErrors,
    ListQuery,
    assign,
    audited_create,
    audited_delete,
    audited_update,
    check_unique,
    decimal,
    get_or_404,
    integer,
    optional_text,
    paginate,
    required_text,
    search_clause,
    snapshot,
    text,
    yes_no_filter,
)
from app.services.core import audit
from app.services.core.errors import Conflict, Forbidden, Invalid
from app.services.core.locking import for_update
from app.utils.wording import join_list

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")
CODE_RULE = _l("工序编码以大写字母开头，只能包含大写字母、数字和下划线，2到20个字符")
BUILTIN_CODE = _l("内置工序的编码不可修改")
BUILTIN_DISABLE = _l("内置工序不可禁用")
BUILTIN_DELETE = _l("内置工序不可删除")
IN_USE = _l("该工序已被施工单使用，不可删除")
FLAGS = ("is_parallel", "is_active") + tuple(f"requires_{kind}" for kind in PLATE_KINDS) + \
    tuple(f"{kind}_required" for kind in PLATE_KINDS)
AUDITED = ("code", "name", "description", "sort_order", "standard_hours") + FLAGS
SORTS = {"sort": Process.sort_order, "code": Process.code, "name": Process.name,
         "hours": Process.standard_hours}


def get_process(process_id: int) -> Process:
    return get_or_404(Process, process_id, _l("工序不存在"))


def list_processes(query: ListQuery):
    statement = select(Process)
    if query.search:
        statement = statement.where(search_clause(query.search, Process.code, Process.name, Process.description))
    for name, column in {"active": Process.is_active, "builtin": Process.is_builtin,
                         "parallel": Process.is_parallel}.items():
        statement = yes_no_filter(statement, query, name, column)
    kind = query.filters.get("plate")
    if kind in PLATE_KINDS:
        statement = statement.where(getattr(Process, f"requires_{kind}").is_(True))
    return paginate(statement, query, SORTS, "sort", Process.id)


def is_in_use(process: Process) -> bool:
    return db.session.scalar(select(func.count()).select_from(WorkOrderStep)
                             .where(WorkOrderStep.process_id == process.id)) > 0


def _state(process: Process) -> dict:
    return snapshot(process, AUDITED)


def _validate(data: dict, process: Process | None) -> tuple[dict, FieldErrors]:
    errors = FieldErrors()
    clean = {
        "name": required_text(errors, data, "name", _l("工序名称"), 50),
        "description": optional_text(errors, data, "description", _l("工序描述"), 2000),
        "sort_order": integer(errors, data, "sort_order", _l("排序"), 0, 99999, default=0),
        "standard_hours": decimal(errors, data, "standard_hours", _l("标准工时"), Decimal("999999.99")),
        **{flag: bool(data.get(flag)) for flag in FLAGS},
    }
    if process is not None and process.is_builtin:
        posted = text(data, "code")
        if posted and posted != process.code:
            errors["code"] = BUILTIN_CODE
        if not clean["is_active"]:
            errors["is_active"] = BUILTIN_DISABLE
        clean["code"] = process.code
    else:
        clean["code"] = required_text(errors, data, "code", _l("工序编码"), 20, 2)
        if "code" not in errors and not CODE_PATTERN.match(clean["code"]):
            errors["code"] = CODE_RULE
    check_unique(errors, "code", Process, Process.code, clean["code"], process.id if process else None,
                 lambda other: _l("编码 %(value)s 已被工序「%(name)s」使用", value=other.code, name=other.name))
    return clean, errors


def create_process(actor, data: dict) -> Process:
    clean, errors = _validate(data, None)
    errors.raise_if_any()
    process = Process(is_builtin=False)
    return audited_create(actor, "process", process, _state, lambda: assign(process, clean))


def update_process(actor, process: Process, data: dict) -> Process:
    clean, errors = _validate(data, process)
    errors.raise_if_any()
    return audited_update(actor, "process", process, _state, lambda: assign(process, clean))


def delete_process(actor, process: Process) -> None:
    if process.is_builtin:
        raise Forbidden(BUILTIN_DELETE, code="builtin_process")
    if is_in_use(process):
        raise Conflict(IN_USE, code="process_in_use")
    products = list(db.session.scalars(
        select(Product.name).join(ProductProcess, ProductProcess.product_id == Product.id)
        .where(ProductProcess.process_id == process.id).order_by(Product.name).limit(5)))
    if products:
        raise Conflict(_l("该工序是产品「%(names)s」的默认工序，请先从产品中移除", names=join_list(products)),
                       code="process_in_product")
    audited_delete(actor, "process", process, _state)


def reorder(actor, process_ids: list[int]) -> None:
    """The posted processes (those one page shows) take their new order; the catalogue is then
    numbered 1, 2, 3 … so no two processes share a position and every other process keeps its place."""
    if not process_ids or len(set(process_ids)) != len(process_ids):
        raise Invalid(_l("排序数据无效，请刷新后重试"), code="reorder_invalid")
    catalogue = list(db.session.scalars(for_update(select(Process).order_by(Process.sort_order, Process.id))))
    posted = {process_id: index for index, process_id in enumerate(process_ids)}
    slots = [index for index, process in enumerate(catalogue) if process.id in posted]
    if len(slots) != len(process_ids):
        raise Invalid(_l("工序列表已变化，请刷新后重试"), code="reorder_changed")
    moved = sorted((p for p in catalogue if p.id in posted), key=lambda p: posted[p.id])
    for slot, process in zip(slots, moved):
        catalogue[slot] = process
    before = {p.code: p.sort_order for p in catalogue}
    for position, process in enumerate(catalogue, start=1):
        process.sort_order = position
    after = {p.code: p.sort_order for p in catalogue}
    changed = [code for code in after if before[code] != after[code]]
    if changed:
        audit.record(actor, "process", None, "reorder",
                     detail={"before": {code: before[code] for code in changed},
                             "after": {code: after[code] for code in changed},
                             "order": [p.code for p in moved]})
