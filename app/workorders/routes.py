"""施工单 pages: list, form, detail, transitions, draft editing, print and the design file."""
from __future__ import annotations

import re
import time
from urllib.parse import quote

import segno
from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import FieldList

from app.enums import PLATE_KINDS
from app.extensions import db
from app.forms.filters import WorkOrderFilterForm
from app.models import WorkOrder
from app.policy import require
from app.services import planning
from app.services.core.errors import Conflict, Invalid, NotFound
from app.services.tasks import auto_complete as task_auto_complete
from app.services.workorders import design_files, drafts, editing, offers, queries
from app.services.workorders import transitions as transition_service
from app.utils.fields import database_int, lenient_int
from app.utils.http import is_htmx
from app.utils.timeutil import plant_today
from app.utils.wording import join_list, with_colon
from app.views import create_once, render_page
from app.workorders import bp
from app.workorders.forms import (
    ApprovedWorkOrderForm,
    BulkDraftForm,
    DraftForm,
    MaterialLineForm,
    ProductLineForm,
    WorkOrderForm,
)

# ---------------------------------------------------------------- list

@bp.route("/workorders")
@login_required
def index():
    require(current_user, "workorder.list")
    form = WorkOrderFilterForm(request.args)
    options = queries.list_filter_options(current_user)
    form.customer_id.choices = [("", _("全部"))] + [(c.id, c.name) for c in options.customers]
    form.salesperson_id.choices = [("", _("全部"))] + [(u.id, u.name) for u in options.salespeople]
    form.created_by_id.choices = [("", _("全部"))] + [(u.id, u.name) for u in options.makers]
    page = request.args.get("page", "1")
    result = queries.list_work_orders(current_user, form.to_filters(), max(1, lenient_int(page, 1)),
                                      current_app.config["PAGE_SIZE"])
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_page("workorders/index.html", "workorders/_list.html", form=form, page=result, query=query,
                       workorder_queries=queries, at_risk_ids=planning.at_risk_workorder_ids([wo.id for wo in result.items]))


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
        outcome = editing.update(current_user, work_order.id, _version(form.version.data), form.to_input(),
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
        editing.update_approved(current_user, work_order.id, _version(form.version.data), form.to_input(),
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


def _version(value) -> int:
    try:
        return database_int(value)
    except ValueError:
        raise Invalid(_l("缺少版本号，请刷新页面后重试"), code="version_required") from None


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


# ---------------------------------------------------------------- detail and transitions

@bp.route("/workorders/<int:work_order_id>")
@login_required
def detail(work_order_id: int):
    work_order = queries.get_for_detail(work_order_id)
    require(current_user, "workorder.view", work_order)
    return render_page("workorders/detail.html", "workorders/_detail.html", **_detail_context(work_order))


def _detail_context(work_order, **extra) -> dict:
    problems = offers.approval_problems(current_user, work_order)
    return {
        "wo": work_order, "problems": problems,
        "actions": offers.available_actions(current_user, work_order, problems),
        "may_edit_drafts": offers.may_edit_drafts(current_user, work_order),
        "audit_rows": queries.audit_trail(work_order), "workorder_queries": queries,
        "action_labels": offers.ACTION_LABELS,
        "projection": planning.projection_for_workorder(work_order), **extra,
    }


def _render_detail(work_order_id: int, message: str = "", status: int = 200, **extra):
    """After a change: the detail region for htmx (with a toast), else back to the page."""
    if not is_htmx():
        if message:
            flash(message, "success")
        return redirect(url_for("workorders.detail", work_order_id=work_order_id), 303)
    work_order = queries.get_for_detail(work_order_id)
    html = render_template("workorders/_detail.html", **_detail_context(work_order, **extra))
    return html, status, ({"X-Message": quote(message)} if message else {})


@bp.route("/workorders/<int:work_order_id>/<any(submit,approve,reject,resubmit,withdraw,pause,resume,cancel,delete):action>",
          methods=["POST"])
@login_required
def transition(work_order_id: int, action: str):
    transition_service.transition(action, current_user, work_order_id, lenient_int(request.form.get("version", "")),
                                  request.form.get("reason", ""))
    db.session.commit()
    message = transition_service.transition_message(action, work_order_id)
    if action == "delete":
        flash(message, "success")
        if is_htmx():
            return "", 200, {"HX-Redirect": url_for("workorders.index")}
        return redirect(url_for("workorders.index"), 303)
    return _render_detail(work_order_id, message)


@bp.route("/workorders/<int:work_order_id>/materials/<int:line_id>/status", methods=["POST"])
@login_required
def material_status(work_order_id: int, line_id: int):
    """采购状态 of one material line; 已开料 completes its cutting tasks."""
    work_order = queries.get(work_order_id)
    require(current_user, "workorder.view", work_order)
    require(current_user, "workorder.materials", work_order)
    line = next((line for line in work_order.materials if line.id == line_id), None)
    if line is None:
        raise NotFound(_l("物料行不存在"))
    changed = task_auto_complete.mark_material(line, request.form.get("purchase_status", ""), current_user)
    db.session.commit()
    message = _("采购状态已更新")
    if changed:
        message = _("采购状态已更新，%(count)s 个开料任务已更新", count=len(changed))
    return _render_detail(work_order_id, message)


# ---------------------------------------------------------------- draft tasks

@bp.route("/workorders/<int:work_order_id>/drafts", methods=["POST"])
@login_required
def add_draft(work_order_id: int):
    work_order = _drafts_of(work_order_id)
    form = DraftForm()
    if not form.validate():
        raise Invalid(_first_error(form), code="invalid_input")
    drafts.add_draft(current_user, work_order.id, form.step_id.data, quantity=form.quantity.data,
                      content=form.content.data or "", requirements=form.production_requirements.data or "",
                      notes=form.notes.data or "")
    db.session.commit()
    return _render_detail(work_order_id, _("已添加草稿任务"))


@bp.route("/workorders/<int:work_order_id>/drafts/<int:task_id>/edit")
@login_required
def edit_draft(work_order_id: int, task_id: int):
    work_order = _drafts_of(work_order_id)
    task = next((t for step in work_order.steps for t in step.tasks if t.id == task_id), None)
    if task is None:
        raise NotFound(_l("任务不存在"), code="task_not_found")
    form = DraftForm(formdata=None, obj=task, quantity=task.target_quantity, version=task.version)
    return render_template("workorders/_draft_editor.html", wo=work_order, task=task, form=form)


@bp.route("/workorders/<int:work_order_id>/drafts/<int:task_id>", methods=["POST"])
@login_required
def update_draft(work_order_id: int, task_id: int):
    work_order = _drafts_of(work_order_id)
    form = DraftForm()
    if not form.validate():
        raise Invalid(_first_error(form), code="invalid_input")
    drafts.update_draft(current_user, work_order.id, task_id, _version(form.version.data),
                         quantity=form.quantity.data, requirements=form.production_requirements.data or "",
                         notes=form.notes.data or "")
    db.session.commit()
    return _render_detail(work_order_id, _("草稿任务已保存"))


@bp.route("/workorders/<int:work_order_id>/drafts/bulk", methods=["POST"])
@login_required
def bulk_drafts(work_order_id: int):
    work_order = _drafts_of(work_order_id)
    form = BulkDraftForm()
    if not form.validate():
        raise Invalid(_first_error(form), code="invalid_input")
    if request.form.get("operation") == "delete":
        outcome = drafts.bulk_delete_drafts(current_user, work_order.id, form.task_ids.data)
    else:
        outcome = drafts.bulk_update_drafts(
            current_user, work_order.id, form.task_ids.data, quantity=form.quantity.data,
            requirements=form.production_requirements.data or None, notes=form.notes.data or None)
    db.session.commit()
    return _render_detail(work_order_id, outcome.summary, bulk=outcome)


def _drafts_of(work_order_id: int):
    work_order = queries.get_for_detail(work_order_id)
    require(current_user, "workorder.view", work_order)
    require(current_user, "workorder.edit_drafts", work_order)
    return work_order


def _first_error(form) -> str:
    for field in form:
        if field.errors:
            return f"{with_colon(field.label.text)}{field.errors[0]}"
    return _("请检查输入")


# ---------------------------------------------------------------- print and file

@bp.route("/workorders/<int:work_order_id>/print")
@login_required
def print_view(work_order_id: int):
    work_order = queries.get_for_detail(work_order_id)
    require(current_user, "workorder.view", work_order)
    base = request.host_url.rstrip("/")

    def qr(code: str) -> str:
        return segno.make(f"{base}/scan/{code}", error="m").svg_inline(scale=2, border=1)

    return render_template("workorders/print.html", wo=work_order, qr=qr)


@bp.route("/workorders/<int:work_order_id>/design-file")
@login_required
def design_file(work_order_id: int):
    work_order = queries.get(work_order_id)
    require(current_user, "workorder.view", work_order)
    if not work_order.design_file_path:
        raise NotFound(_l("该施工单没有设计文件"), code="no_file")
    try:
        response = send_file(design_files.absolute_path(work_order.design_file_path), as_attachment=True,
                             download_name=work_order.design_file_name or "design",
                             mimetype="application/octet-stream")
    except FileNotFoundError:
        raise NotFound(_l("设计文件已丢失，请重新上传"), code="file_missing") from None
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
