"""施工单 pages: the list, the detail page with its transitions and material status, print and the
design file. The form pages are in form_routes, the draft tasks in draft_routes."""
from __future__ import annotations

import segno
from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import db
from app.forms.filters import WorkOrderFilterForm
from app.policy import require
from app.services.core.errors import NotFound
from app.services.tasks import auto_complete as task_auto_complete
from app.services.workorders import design_files, detail_view, listing, queries
from app.services.workorders import transitions as transition_service
from app.utils.fields import lenient_int
from app.utils.http import is_htmx
from app.views import render_page
from app.workorders import bp
from app.workorders.common import detail_context, render_detail

# ---------------------------------------------------------------- list

@bp.route("/workorders")
@login_required
def index():
    require(current_user, "workorder.list")
    form = WorkOrderFilterForm(request.args)
    region = is_htmx()
    listed = listing.list_page(current_user, form.to_filters(), max(1, lenient_int(request.args.get("page", "1"), 1)),
                               current_app.config["PAGE_SIZE"], with_choices=not region)
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    if region:
        return render_template("workorders/_list.html", page=listed.page, query=query)
    choices = listed.choices
    everyone = [("", _("全部"))]
    form.customer_id.choices = everyone + list(choices.customers)
    form.salesperson_id.choices = everyone + list(choices.salespeople)
    form.created_by_id.choices = everyone + list(choices.makers)
    # The toolbar shows only the request's filters and these choices: its HTML is kept under them.
    toolbar_key = ("workorder-toolbar", tuple(request.args.items(multi=True)), choices)
    return render_template("workorders/index.html", form=form, page=listed.page, query=query, toolbar_key=toolbar_key)


# ---------------------------------------------------------------- detail and transitions

@bp.route("/workorders/<int:work_order_id>")
@login_required
def detail(work_order_id: int):
    work_order = detail_view.load(current_user, work_order_id)
    require(current_user, "workorder.view", work_order)
    return render_page("workorders/detail.html", "workorders/_detail.html", **detail_context(work_order))

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
    return render_detail(work_order_id, message)


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
    return render_detail(work_order_id, message)


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
