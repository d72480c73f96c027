"""施工单 form pages: create and edit (a full form, or the limited one once approved), and the
form's live helpers (a new line row, a product's defaults, the plate and sync check)."""
from __future__ import annotations

import re
import time

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import FieldList

from app.enums import PLATE_KINDS
from app.extensions import db
from app.models import WorkOrder
from app.policy import require
from app.services.core.errors import Conflict, Invalid
from app.services.workorders import editing, offers, queries
from app.utils.fields import database_int
from app.utils.timeutil import plant_today
from app.utils.wording import join_list, with_colon
from app.views import create_once
from app.workorders import bp
from app.workorders.common import version_of
from app.workorders.forms import (
    ApprovedWorkOrderForm,
    MaterialLineForm,
    ProductLineForm,
    WorkOrderForm,
)

# ---------------------------------------------------------------- create and edit

@bp.route("/workorders/new")
@login_required
def new():
    require(current_user, "workorder.create")
    form = WorkOrderForm(formdata=None)
    return _render_form(form, None)


@bp.route("/workorders", methods=["POST"])
@login_required
def create():
    require(current_user, "workorder.create")
    form = WorkOrderForm()
    if not form.validate():
        return _render_form(form, None, status=422)
    try:
        work_order = create_once(WorkOrder, lambda: editing.create(
            current_user, form.to_input(), upload=form.design_file.data, submit=_wants_submit())).record
    except Invalid as error:
        return _form_refused(form, None, error)
    db.session.commit()
    flash(_("施工单 %(number)s 已提交审核", number=work_order.number) if _wants_submit()
          else _("施工单 %(number)s 已保存为草稿", number=work_order.number), "success")
    return redirect(url_for("workorders.detail", work_order_id=work_order.id), 303)


@bp.route("/workorders/<int:work_order_id>/edit")
@login_required
def edit(work_order_id: int):
    work_order = _editable(work_order_id)
    if not editing.is_fully_editable(work_order):
        return _render_limited_form(ApprovedWorkOrderForm(obj=work_order, formdata=None), work_order)
    return _render_form(WorkOrderForm(formdata=None), work_order)


@bp.route("/workorders/<int:work_order_id>", methods=["POST"])
@login_required
def update(work_order_id: int):
    work_order = _editable(work_order_id)
    if not editing.is_fully_editable(work_order):
        return _update_approved(work_order)
    form = WorkOrderForm()
    if not form.validate():
        return _render_form(form, work_order, status=422)
    try:
        outcome = editing.update(current_user, work_order.id, version_of(form.version.data), form.to_input(),
                                 upload=form.design_file.data, confirm_sync=request.args.get("confirm_sync") == "1",
                                 submit=_wants_submit())
    except Invalid as error:
        return _form_refused(form, work_order, error)
    if not outcome.applied:
        db.session.rollback()
        return _render_form(form, work_order, plan=outcome.plan)
    db.session.commit()
    flash(_("施工单已保存"), "success")
    return redirect(url_for("workorders.detail", work_order_id=work_order.id), 303)


def _update_approved(work_order):
    form = ApprovedWorkOrderForm()
    if not form.validate():
        return _render_limited_form(form, work_order, status=422)
    try:
        editing.update_approved(current_user, work_order.id, version_of(form.version.data), form.to_input(),
                                upload=form.design_file.data)
    except Invalid as error:
        if not error.fields:
            raise
        db.session.rollback()
        _attach_errors(form, error)
        return _render_limited_form(form, work_order, status=422)
    db.session.commit()
    flash(_("施工单已保存"), "success")
    return redirect(url_for("workorders.detail", work_order_id=work_order.id), 303)


def _editable(work_order_id: int):
    work_order = queries.get(work_order_id)
    require(current_user, "workorder.edit", work_order)
    if work_order.status == "cancelled":
        raise Conflict(_l("已取消的施工单不能修改"), code="cancelled")
    return work_order


def _wants_submit() -> bool:
    return request.form.get("intent") == "submit"


def _form_refused(form, work_order, error: Invalid):
    """The service refused the input: the form comes back with the reasons next to the fields."""
    db.session.rollback()
    _attach_errors(form, error)
    return _render_form(form, work_order, status=422, refusal=error)


def _attach_errors(form, error: Invalid) -> None:
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        # Line and step problems are shown above their sections (``field_errors``).
        if field is not None and not isinstance(field, FieldList):
            field.errors = list(field.errors) + [message]


def _render_form(form: WorkOrderForm, work_order, status: int = 200, plan=None, refusal: Invalid | None = None):
    options = offers.form_options(current_user, work_order)
    _fill_choices(form, options)
    if work_order is not None and request.method == "GET":
        _load_work_order(form, work_order)
    if request.method == "GET" and work_order is None:
        form.order_date.data = form.order_date.data or plant_today()
    if refusal is None and status == 422:
        refusal = _hidden_field_refusal(form)
    _align_steps(form, options)
    field_errors = refusal.fields if refusal is not None else {}
    check = offers.form_check(current_user, form.to_input(), work_order.id if work_order else None) \
        if form.customer_id.data or work_order else offers.FormCheck([], None)
    return render_template(
        "workorders/form.html", form=form, work_order=work_order, options=options, plan=plan, check=check,
        refusal=refusal, field_errors=field_errors, plate_kinds=PLATE_KINDS, plan_preview=offers.describe_plan(plan),
    ), status


def _hidden_field_refusal(form) -> Invalid | None:
    """Errors of hidden ids (a line's id) and of the step rows (rebuilt in catalogue order, which drops
    their errors) have no place beside a field: they are listed above the form."""
    hidden = [field for field in _all_fields(form) if field.type == "IdField"]
    steps = [field for entry in form.steps for field in entry.form]
    errors = {field.name: error for field in [*hidden, *steps] for error in field.errors}
    if not errors:
        return None
    return Invalid(_l("表单数据无效，请刷新页面后重试"), fields=errors,
                   details=[f"{with_colon(name)}{message}" for name, message in errors.items()])


def _all_fields(form):
    for field in form:
        if isinstance(field, FieldList):
            for entry in field:
                yield from _all_fields(entry.form) if hasattr(entry, "form") else [entry]
        else:
            yield field


def _render_limited_form(form: ApprovedWorkOrderForm, work_order, status: int = 200):
    if request.method == "GET":
        form.version.data = work_order.version
    return render_template("workorders/form_approved.html", form=form, work_order=work_order), status


def _fill_choices(form: WorkOrderForm, options) -> None:
    form.customer_id.choices = [("", _("请选择客户"))] + [(c.id, c.name) for c in options.customers]
    for kind in PLATE_KINDS:
        getattr(form, f"{kind}_ids").choices = [(p.id, p.code) for p in options.plates.get(kind, [])]


def _load_work_order(form: WorkOrderForm, work_order) -> None:
    """Fill a GET form from the saved 施工单."""
    form.version.data = work_order.version
    for name in ("customer_id", "priority", "order_date", "delivery_date", "production_quantity",
                 "spoilage_quantity", "printing_type", "notes"):
        getattr(form, name).data = getattr(work_order, name)
    form.cmyk_colors.data = list(work_order.cmyk_colors or [])
    form.other_colors.data = join_list(work_order.other_colors or [], "words")
    for kind in PLATE_KINDS:
        getattr(form, f"{kind}_ids").data = [p.id for p in work_order.plates if p.kind == kind]
    for line in work_order.products:
        form.products.append_entry({"line_id": line.id, "product_id": line.product_id, "quantity": line.quantity,
                                    "unit": line.unit, "specification": line.specification})
    for line in work_order.materials:
        form.materials.append_entry({"line_id": line.id, "material_id": line.material_id, "size": line.size,
                                     "usage": line.usage, "need_cutting": line.need_cutting, "notes": line.notes})
    form.steps.entries = []
    for step in work_order.steps:
        form.steps.append_entry({"process_id": step.process_id, "selected": True, "sequence": step.sequence,
                                 "department_id": step.department_id})


def _align_steps(form: WorkOrderForm, options) -> None:
    """One row per process, in catalogue order, whether it was posted, saved or is new."""
    given = {}
    for entry in form.steps:
        process_id = entry.process_id.data
        if process_id not in (None, ""):
            given[int(process_id)] = entry.data
    form.steps.entries, form.steps.last_index = [], -1
    for process in options.processes:
        data = given.get(process.id, {})
        form.steps.append_entry({
            "process_id": process.id, "selected": bool(data.get("selected")),
            "sequence": data.get("sequence") if data.get("sequence") is not None else process.sort_order,
            "department_id": data.get("department_id"),
        })


# ---------------------------------------------------------------- the form's live helpers

@bp.route("/workorders/form/product-row")
@login_required
def product_row():
    require(current_user, "workorder.create")
    return _new_line_row(ProductLineForm, "workorders/_product_line.html", "products")


@bp.route("/workorders/form/material-row")
@login_required
def material_row():
    require(current_user, "workorder.create")
    return _new_line_row(MaterialLineForm, "workorders/_material_line.html", "materials")


def _fresh_index() -> int:
    """An index for a row added in the page: above the saved rows' 0..N-1 and growing, so
    posted rows keep the order they were added in (WTForms sorts by index and renumbers)."""
    return time.time_ns() // 1000


def _new_line_row(form_class, template: str, prefix: str):
    line = form_class(prefix=f"{prefix}-{_fresh_index()}-")
    options = offers.form_options(current_user)
    return render_template(template, line=line, options=options)


@bp.route("/workorders/form/prefill", methods=["POST"])
@login_required
def prefill():
    """A product was chosen in a line: tick its default processes, add its default materials.

    Only those bits are swapped (out of band), so whatever else the user changes meanwhile stays.
    """
    require(current_user, "workorder.create")
    form = WorkOrderForm()
    line = _triggering_line(form)
    product = offers.product_defaults(line.product_id.data if line else None)
    options = offers.form_options(current_user)
    _align_steps(form, options)
    ticked, new_materials = [], []
    if product is not None:
        defaults = {item.process_id for item in product.default_processes}
        ticked = [entry for entry in form.steps if int(entry.process_id.data) in defaults]
        present = {entry.material_id.data for entry in form.materials}
        new_materials = [
            MaterialLineForm(prefix=f"materials-{_fresh_index()}-", formdata=None, data={
                "material_id": item.material_id, "size": item.size, "usage": item.usage,
                "need_cutting": item.need_cutting, "notes": item.notes})
            for item in product.default_materials if item.material_id not in present
        ]
        line.unit.data = line.unit.data or product.unit
        line.specification.data = line.specification.data or product.specification
    html = render_template("workorders/_prefill.html", ticked=ticked, new_materials=new_materials, line=line,
                           options=options)
    # The processes changed under the live check: let it run again.
    return html, 200, {"HX-Trigger-After-Settle": "wo-form-changed"}


def _triggering_line(form: WorkOrderForm) -> ProductLineForm | None:
    """The product line whose select fired, under the name it has in the page.

    WTForms renumbers posted rows 0..N-1 in order, so the row is found by its position among
    the posted indices and rebuilt with its own index for the out-of-band swap.
    """
    match = re.fullmatch(r"products-(\d+)-product_id", request.headers.get("HX-Trigger-Name", ""))
    if match is None:
        return None
    posted = sorted({int(m.group(1)) for key in request.form if (m := re.match(r"products-(\d+)-", key))})
    entry = form.products.entries[posted.index(int(match.group(1)))]
    return ProductLineForm(formdata=None, prefix=f"products-{match.group(1)}-", data=entry.data)


@bp.route("/workorders/form/check", methods=["POST"])
@login_required
def form_check():
    """The plate requirement (DOMAIN.md §5) and, when editing, the sync preview, live."""
    require(current_user, "workorder.create")
    form = WorkOrderForm()
    work_order_id = request.form.get("work_order_id", type=database_int)
    if work_order_id is not None:
        require(current_user, "workorder.edit", queries.get(work_order_id))
    check = offers.form_check(current_user, form.to_input(), work_order_id)
    return render_template("workorders/_form_check.html", check=check, oob=True)
