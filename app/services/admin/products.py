"""产品 and 物料: the catalogue a 施工单 is drawn from, with each product's default processes
(in order) and default materials."""
from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Material,
    Plate,
    PlateProduct,
    Process,
    Product,
    ProductMaterial,
    ProductProcess,
    WorkOrderMaterial,
    WorkOrderProduct,
)
from app.services.admin.master_data import (
    FieldErrors,
    ListQuery,
    assign,
    audited_create,
    audited_delete,
    audited_update,
    check_unique,
    decimal,
    flush_or_conflict,
    get_or_404,
    ids,
    integer,
    optional_text,
    paginate,
    picked_rows,
    required_text,
    search_clause,
    snapshot,
    text,
    yes_no_filter,
)
from app.services.core.errors import Conflict, NotFound
from app.utils.wording import join_list

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
CODE_RULE = _l("编码只能包含字母、数字、下划线和连字符")
PRODUCT_FIELDS = ("code", "name", "specification", "unit", "unit_price", "description", "is_active")
MATERIAL_FIELDS = ("code", "name", "specification", "unit", "need_cutting", "is_active")
PRODUCT_SORTS = {"code": Product.code, "name": Product.name, "price": Product.unit_price,
                 "created": Product.created_at}
MATERIAL_SORTS = {"code": Material.code, "name": Material.name, "created": Material.created_at}
PRODUCT_IN_USE = _l("该产品已被施工单使用，不可删除")
MATERIAL_IN_USE = _l("该物料已被施工单使用，不可删除")


def _code(errors: FieldErrors, data: dict, label) -> str:
    code = required_text(errors, data, "code", label, 30)
    if "code" not in errors and not CODE_PATTERN.match(code):
        errors["code"] = CODE_RULE
    return code


# ---------------------------------------------------------------- materials

def get_material(material_id: int) -> Material:
    return get_or_404(Material, material_id, _l("物料不存在"))


def list_materials(query: ListQuery):
    statement = yes_no_filter(select(Material), query, "active", Material.is_active)
    if query.search:
        statement = statement.where(search_clause(query.search, Material.code, Material.name, Material.specification))
    if query.filters.get("cutting") in ("1", "0"):
        statement = statement.where(Material.need_cutting.is_(query.filters["cutting"] == "1"))
    return paginate(statement, query, MATERIAL_SORTS, "code", Material.id)


def active_materials() -> list[Material]:
    return list(db.session.scalars(select(Material).where(Material.is_active.is_(True)).order_by(Material.code)))


def _validate_material(data: dict, material: Material | None) -> tuple[dict, FieldErrors]:
    errors = FieldErrors()
    clean = {
        "code": _code(errors, data, _l("物料编码")),
        "name": required_text(errors, data, "name", _l("物料名称"), 100),
        "specification": optional_text(errors, data, "specification", _l("规格"), 100),
        "unit": required_text(errors, data, "unit", _l("单位"), 10),
        "need_cutting": bool(data.get("need_cutting")),
        "is_active": bool(data.get("is_active")),
    }
    check_unique(errors, "code", Material, Material.code, clean["code"], material.id if material else None,
                 lambda other: _l("编码 %(value)s 已被物料「%(name)s」使用", value=other.code, name=other.name))
    return clean, errors


def _material_state(material: Material) -> dict:
    return snapshot(material, MATERIAL_FIELDS)


def create_material(actor, data: dict) -> Material:
    clean, errors = _validate_material(data, None)
    errors.raise_if_any()
    return audited_create(actor, "material", Material(**clean), _material_state)


def update_material(actor, material: Material, data: dict) -> Material:
    clean, errors = _validate_material(data, material)
    errors.raise_if_any()
    return audited_update(actor, "material", material, _material_state, lambda: assign(material, clean))


def delete_material(actor, material: Material) -> None:
    if db.session.scalar(select(func.count()).select_from(WorkOrderMaterial)
                         .where(WorkOrderMaterial.material_id == material.id)):
        raise Conflict(MATERIAL_IN_USE, code="material_in_use")
    products = list(db.session.scalars(
        select(Product.name).join(ProductMaterial, ProductMaterial.product_id == Product.id)
        .where(ProductMaterial.material_id == material.id).order_by(Product.name).limit(5)))
    if products:
        raise Conflict(_l("该物料是产品「%(names)s」的默认物料，请先从产品中移除", names=join_list(products)),
                       code="material_in_product")
    audited_delete(actor, "material", material, _material_state)


# ---------------------------------------------------------------- products

def get_product(product_id: int) -> Product:
    product = db.session.scalars(
        select(Product).where(Product.id == product_id).options(
            selectinload(Product.default_processes).joinedload(ProductProcess.process),
            selectinload(Product.default_materials).joinedload(ProductMaterial.material))).first()
    if product is None:
        raise NotFound(_l("产品不存在"))
    return product


def list_products(query: ListQuery):
    statement = yes_no_filter(select(Product), query, "active", Product.is_active).options(
        selectinload(Product.default_processes).joinedload(ProductProcess.process),
        selectinload(Product.default_materials))
    if query.search:
        statement = statement.where(search_clause(query.search, Product.code, Product.name, Product.specification))
    if query.filters.get("process_id"):
        statement = statement.where(Product.id.in_(
            select(ProductProcess.product_id).where(ProductProcess.process_id == query.filters["process_id"])))
    return paginate(statement, query, PRODUCT_SORTS, "code", Product.id)


def _default_processes(errors: FieldErrors, rows: list[dict]) -> list[ProductProcess]:
    """Checked processes in the order typed; equal or empty order numbers follow the catalogue order."""
    wanted = {process_id: row.get("order") for row in rows for process_id in ids([row.get("process_id")])}
    processes = {p.id: p for p in db.session.scalars(select(Process).where(Process.id.in_(list(wanted))))}
    keyed = []
    for process_id, raw in wanted.items():
        process = processes.get(process_id)
        if process is None:
            continue
        order = integer(errors, {"processes": raw}, "processes", _l("工序顺序"), 0, 999, default=process.sort_order)
        keyed.append((order, process.sort_order, process.id, process))
    return [ProductProcess(process=process, sort_order=index)
            for index, (*_keys, process) in enumerate(sorted(keyed, key=lambda k: k[:3]))]


def _default_materials(errors: FieldErrors, rows: list[dict]) -> list[ProductMaterial]:
    """Material rows; a wholly blank row is ignored, and errors are keyed materials.<row>.<field>."""
    lines = []
    for prefix, row, material in picked_rows(
            errors, rows, "materials", Material, "material_id", _l("物料不存在"),
            lambda material, row: _l("物料「%(name)s」已在第 %(row)s 行", name=material.name, row=row)):
        if material is None:
            if any(text(row, name) for name in ("size", "usage", "notes")):
                errors[prefix + "material_id"] = _l("请选择物料")
            continue
        line_errors = FieldErrors()
        line = ProductMaterial(
            material=material, sort_order=len(lines),
            size=optional_text(line_errors, row, "size", _l("尺寸"), 100),
            usage=optional_text(line_errors, row, "usage", _l("用量"), 100),
            need_cutting=bool(row.get("need_cutting")),
            notes=optional_text(line_errors, row, "notes", _l("备注"), 255),
        )
        errors.update({prefix + name: message for name, message in line_errors.items()})
        lines.append(line)
    return lines


def _validate_product(data: dict, product: Product | None) -> tuple[dict, FieldErrors, list, list]:
    errors = FieldErrors()
    clean = {
        "code": _code(errors, data, _l("产品编码")),
        "name": required_text(errors, data, "name", _l("产品名称"), 100),
        "specification": optional_text(errors, data, "specification", _l("规格"), 100),
        "unit": required_text(errors, data, "unit", _l("单位"), 10),
        "unit_price": decimal(errors, data, "unit_price", _l("单价"), Decimal("9999999999.99")),
        "description": optional_text(errors, data, "description", _l("描述"), 2000),
        "is_active": bool(data.get("is_active")),
    }
    check_unique(errors, "code", Product, Product.code, clean["code"], product.id if product else None,
                 lambda other: _l("编码 %(value)s 已被产品「%(name)s」使用", value=other.code, name=other.name))
    processes = _default_processes(errors, data.get("processes") or [])
    materials = _default_materials(errors, data.get("materials") or [])
    return clean, errors, processes, materials


def _state(product: Product) -> dict:
    state = snapshot(product, PRODUCT_FIELDS)
    state["processes"] = [line.process.code for line in product.default_processes]
    state["materials"] = [
        {"material": line.material.code, "size": line.size, "usage": line.usage, "need_cutting": line.need_cutting,
         "notes": line.notes} for line in product.default_materials]
    return state


def _apply(product: Product, clean: dict, processes: list[ProductProcess], materials: list[ProductMaterial]) -> None:
    assign(product, clean)
    # Replace the lines: flush the removals first so (product, material) stays unique in the database.
    product.default_processes = []
    product.default_materials = []
    flush_or_conflict()
    product.default_processes = processes
    product.default_materials = materials


def create_product(actor, data: dict) -> Product:
    clean, errors, processes, materials = _validate_product(data, None)
    errors.raise_if_any()
    product = Product()
    return audited_create(actor, "product", product, _state, lambda: _apply(product, clean, processes, materials))


def update_product(actor, product: Product, data: dict) -> Product:
    clean, errors, processes, materials = _validate_product(data, product)
    errors.raise_if_any()
    return audited_update(actor, "product", product, _state, lambda: _apply(product, clean, processes, materials))


def delete_product(actor, product: Product) -> None:
    if db.session.scalar(select(func.count()).select_from(WorkOrderProduct)
                         .where(WorkOrderProduct.product_id == product.id)):
        raise Conflict(PRODUCT_IN_USE, code="product_in_use")
    plates = list(db.session.scalars(
        select(Plate.code).join(PlateProduct, PlateProduct.plate_id == Plate.id)
        .where(PlateProduct.product_id == product.id).order_by(Plate.code).limit(5)))
    if plates:
        raise Conflict(_l("该产品已关联版型 %(codes)s，请先解除关联", codes=join_list(plates)), code="product_in_plate")
    audited_delete(actor, "product", product, _state)
