"""施工单 draft tasks: add one, edit one, edit or delete several at once (before approval)."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import db
from app.policy import require
from app.services.core.errors import Invalid, NotFound
from app.services.workorders import drafts, queries
from app.utils.wording import with_colon
from app.workorders import bp
from app.workorders.common import render_detail, version_of
from app.workorders.forms import BulkDraftForm, DraftForm

# ---------------------------------------------------------------- draft tasks

@bp.route("/workorders/<int:work_order_id>/drafts", methods=["POST"])
@login_required
def add_draft(work_order_id: int):
    work_order = _drafts_of(work_order_id)
    form = _validated(DraftForm())
    drafts.add_draft(current_user, work_order.id, form.step_id.data, quantity=form.quantity.data,
                     content=form.content.data or "", requirements=form.production_requirements.data or "",
                     notes=form.notes.data or "")
    db.session.commit()
    return render_detail(work_order_id, _("已添加草稿任务"))


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
    form = _validated(DraftForm())
    drafts.update_draft(current_user, work_order.id, task_id, version_of(form.version.data),
                        quantity=form.quantity.data, requirements=form.production_requirements.data or "",
                        notes=form.notes.data or "")
    db.session.commit()
    return render_detail(work_order_id, _("草稿任务已保存"))


@bp.route("/workorders/<int:work_order_id>/drafts/bulk", methods=["POST"])
@login_required
def bulk_drafts(work_order_id: int):
    work_order = _drafts_of(work_order_id)
    form = _validated(BulkDraftForm())
    if request.form.get("operation") == "delete":
        outcome = drafts.bulk_delete_drafts(current_user, work_order.id, form.task_ids.data)
    else:
        outcome = drafts.bulk_update_drafts(
            current_user, work_order.id, form.task_ids.data, quantity=form.quantity.data,
            requirements=form.production_requirements.data or None, notes=form.notes.data or None)
    db.session.commit()
    return render_detail(work_order_id, outcome.summary, bulk=outcome)


def _drafts_of(work_order_id: int):
    work_order = queries.get_for_detail(work_order_id)
    require(current_user, "workorder.view", work_order)
    require(current_user, "workorder.edit_drafts", work_order)
    return work_order


def _validated(form):
    """The posted form, or Invalid with its first error (the draft editor shows one message)."""
    if form.validate():
        return form
    for field in form:
        if field.errors:
            raise Invalid(f"{with_colon(field.label.text)}{field.errors[0]}", code="invalid_input")
    raise Invalid(_("请检查输入"), code="invalid_input")
