"""版型: 图稿 / 刀模 / 烫金版 / 压凸版 with generated codes, artwork versions and 确认."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.enums import PLATE_CODE_PREFIX, FoilingType, PlateKind
from app.extensions import db
from app.models import Plate, PlateProduct, Product, Task, work_order_plates
from app.services.admin.master_data import (
    FieldErrors,
    ListQuery,
    assign,
    audited_create,
    audited_delete,
    audited_update,
    flush_or_conflict,
    integer,
    optional_text,
    paginate,
    picked_rows,
    record_change,
    required_text,
    search_clause,
    snapshot,
    text,
    yes_no_filter,
)
from app.services.core.errors import Conflict, Invalid, NotFound
from app.services.core.locking import for_update
from app.services.core.numbering import monthly_code
from app.services.workorders.common import CMYK
from app.utils.timeutil import utcnow

CODE_WIDTH = 3
SPOT_SEPARATORS = re.compile(r"[,，、;；\s]+")
IN_USE = _l("该版已被施工单使用，不可删除")
ALREADY_CONFIRMED = _l("该版已经确认过了")
AUDITED = ("kind", "code", "name", "cmyk_colors", "other_colors", "foiling_type", "size", "material", "thickness",
           "notes", "is_active")
SORTS = {"code": Plate.code, "name": Plate.name, "created": Plate.created_at, "confirmed": Plate.confirmed_at}


def get_plate(plate_id: int) -> Plate:
    plate = db.session.scalars(select(Plate).where(Plate.id == plate_id).options(
        selectinload(Plate.products).joinedload(PlateProduct.product), joinedload(Plate.confirmed_by))).first()
    if plate is None:
        raise NotFound(_l("版型不存在"))
    return plate


def list_plates(query: ListQuery):
    statement = select(Plate).options(selectinload(Plate.products).joinedload(PlateProduct.product),
                                      joinedload(Plate.confirmed_by))
    if query.filters.get("kind") in PlateKind.values():
        statement = statement.where(Plate.kind == query.filters["kind"])
    statement = yes_no_filter(statement, query, "confirmed", Plate.confirmed)
    statement = yes_no_filter(statement, query, "active", Plate.is_active)
    if query.search:
        statement = statement.where(search_clause(query.search, Plate.code, Plate.name))
    return paginate(statement, query, SORTS, "-created", Plate.id)


def active_products() -> list[Product]:
    return list(db.session.scalars(select(Product).where(Product.is_active.is_(True)).order_by(Product.code)))


def spot_colours(raw: str) -> list[str]:
    return [colour for colour in SPOT_SEPARATORS.split(raw or "") if colour]


def _linked_products(errors: FieldErrors, rows: list[dict]) -> list[PlateProduct]:
    """Product rows (product + 拼版数量); a blank row is ignored, errors keyed products.<row>.<field>."""
    links = []
    for prefix, row, product in picked_rows(
            errors, rows, "products", Product, "product_id", _l("产品不存在"),
            lambda product, row: _l("产品「%(name)s」已在第 %(row)s 行", name=product.name, row=row)):
        if product is None:
            continue
        row_errors = FieldErrors()
        quantity = integer(row_errors, row, "imposition_quantity", _l("拼版数量"), 1, 999, default=1)
        errors.update({prefix + name: message for name, message in row_errors.items()})
        links.append(PlateProduct(product=product, imposition_quantity=quantity or 1))
    return links


def _validate(kind: str, data: dict) -> tuple[dict, FieldErrors, list[PlateProduct]]:
    errors = FieldErrors()
    clean = {
        "name": required_text(errors, data, "name", _l("名称"), 100),
        "size": optional_text(errors, data, "size", _l("尺寸"), 100),
        "notes": optional_text(errors, data, "notes", _l("备注"), 2000),
        "is_active": bool(data.get("is_active")),
        "cmyk_colors": [], "other_colors": [], "foiling_type": None, "material": "", "thickness": "",
    }
    if kind == "artwork":
        clean["cmyk_colors"] = [colour for colour in CMYK if colour in (data.get("cmyk_colors") or ())]
        clean["other_colors"] = spot_colours(text(data, "other_colors"))
        if any(len(colour) > 30 for colour in clean["other_colors"]):
            errors["other_colors"] = _l("每个专色不能超过 30 个字符")
    else:
        clean["material"] = optional_text(errors, data, "material", _l("材质"), 100)
        clean["thickness"] = optional_text(errors, data, "thickness", _l("厚度"), 50)
    if kind == "foiling":
        clean["foiling_type"] = text(data, "foiling_type")
        if clean["foiling_type"] not in FoilingType.values():
            errors["foiling_type"] = _l("请选择烫金或烫银")
    links = _linked_products(errors, data.get("products") or [])
    return clean, errors, links


def _state(plate: Plate) -> dict:
    state = snapshot(plate, AUDITED)
    state["products"] = [f"{link.product.code}×{link.imposition_quantity}" for link in plate.products]
    return state


def _apply(plate: Plate, clean: dict, links: list[PlateProduct]) -> None:
    assign(plate, clean)
    plate.products = []
    flush_or_conflict()
    plate.products = links


def create_plate(actor, kind: str, data: dict) -> Plate:
    if kind not in PlateKind.values():
        raise Invalid(_l("请选择版型类别"), code="plate_kind")
    clean, errors, links = _validate(kind, data)
    errors.raise_if_any()
    # The number is taken only now, after validation, so a refused form does not use one up.
    code = monthly_code(PLATE_CODE_PREFIX[kind], CODE_WIDTH)
    plate = Plate(kind=kind, base_code=code, version=1, code=code)
    return audited_create(actor, "plate", plate, _state, lambda: _apply(plate, clean, links))


def update_plate(actor, plate: Plate, data: dict) -> Plate:
    clean, errors, links = _validate(plate.kind, data)
    errors.raise_if_any()
    return audited_update(actor, "plate", plate, _state, lambda: _apply(plate, clean, links))


def new_version(actor, plate: Plate) -> Plate:
    """新版本: a copy of the artwork as the next version of the same base code, not yet confirmed."""
    if plate.kind != "artwork":
        raise Invalid(_l("只有图稿有版本"), code="plate_not_artwork")
    versions = db.session.scalars(
        for_update(select(Plate.version).where(Plate.base_code == plate.base_code))).all()
    number = max(versions) + 1
    copy = Plate(kind=plate.kind, base_code=plate.base_code, version=number,
                 code=Plate.full_code(plate.base_code, number), name=plate.name,
                 cmyk_colors=list(plate.cmyk_colors or []), other_colors=list(plate.other_colors or []),
                 size=plate.size, notes=plate.notes, is_active=True,
                 products=[PlateProduct(product=link.product, imposition_quantity=link.imposition_quantity)
                           for link in plate.products])
    try:
        # SQLite has no row lock: the unique (base_code, version) is the referee of a race.
        with db.session.begin_nested():
            db.session.add(copy)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("该图稿的新版本已由其他人创建，请刷新后重试"), code="plate_version_race") from None
    record_change(actor, "plate", copy.id, "new_version", None, _state(copy) | {"from": plate.code})
    return copy


def confirm(actor, plate: Plate) -> list:
    """确认: recorded once (compare-and-set), then the plate-making tasks waiting for it complete."""
    confirmed_at = utcnow()
    result = db.session.execute(
        update(Plate).where(Plate.id == plate.id, Plate.confirmed.is_(False))
        .values(confirmed=True, confirmed_by_id=actor.id, confirmed_at=confirmed_at)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(ALREADY_CONFIRMED, code="plate_confirmed")
    db.session.refresh(plate)
    completed = _complete_plate_tasks(plate, actor)
    record_change(actor, "plate", plate.id, "confirm", {"confirmed": False},
                  {"confirmed": True, "completed_tasks": [task.number for task in completed]})
    return completed


def _complete_plate_tasks(plate: Plate, actor) -> list:
    # The task service owns task completion; until it offers this hook, confirming only records.
    try:
        from app.services.tasks.auto_complete import complete_plate_tasks
    except ImportError:
        return []
    return complete_plate_tasks(plate, actor)


def is_in_use(plate: Plate) -> bool:
    return bool(db.session.scalar(select(
        exists().where(work_order_plates.c.plate_id == plate.id) | exists().where(Task.plate_id == plate.id))))


def delete_plate(actor, plate: Plate) -> None:
    if is_in_use(plate):
        raise Conflict(IN_USE, code="plate_in_use")
    audited_delete(actor, "plate", plate, _state)
