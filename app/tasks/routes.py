from urllib.parse import quote

from flask import after_this_request, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import db
from app.policy import require_task_view
from app.services.core import settings
from app.services.core.errors import Invalid, NotFound
from app.services.tasks import actions as task_service
from app.services.tasks import reading as task_reading
from app.services.tasks.cards import card_for
from app.services.tasks.ticket import INLINE_TYPES, job_ticket
from app.services.workorders import design_files
from app.tasks import bp
from app.tasks.forms import parse_action_form, parse_version
from app.utils.http import is_htmx
from app.views import memoized_gettext, render_page

# What a PDF shown in the browser's own viewer needs, and nothing more: no script of ours runs there.
PDF_VIEWER_POLICY = "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; " \
    "img-src 'self' data:; frame-ancestors 'none'"
# The event the kiosk's lists and the task page listen for, to re-fetch after a move or a lost race.
REFRESH_EVENT = "kiosk-refresh"


@bp.route("/tasks/<int:task_id>")
@login_required
def detail(task_id: int):
    user = current_user._get_current_object()
    task = task_reading.get_task(task_id)
    require_task_view(user, task)
    kiosk = bool(session.get("kiosk_session"))
    return render_page(
        "tasks/detail.html", "tasks/_detail.html", task=task, card=card_for(task, user),
        ticket=job_ticket(task),
        history=task_reading.history(task), time_logs=task_reading.time_logs(task), duration=format_duration,
        gettext=memoized_gettext(),
        layout="kiosk/layout.html" if kiosk else "base.html",
        idle_seconds=settings.get("kiosk_idle_logout_seconds") if kiosk else 0,
    )


@bp.route("/tasks/<int:task_id>/ticket")
@login_required
def ticket(task_id: int):
    """A card's 详情, fetched when it is first opened."""
    user = current_user._get_current_object()
    task = task_reading.get_task(task_id)
    require_task_view(user, task)
    return render_template("kiosk/_job_ticket.html", ticket=job_ticket(task))


@bp.route("/tasks/<int:task_id>/design-file")
@login_required
def design_file(task_id: int):
    """The 施工单's design file for whoever sees the task (an operator does not see the 施工单 itself).

    Images and PDFs are shown by the browser (inline); every other type is downloaded. The type is the one
    the upload was checked against (its leading bytes), never guessed from the content.
    """
    task = task_reading.get_task(task_id)
    require_task_view(current_user, task)
    work_order = task.work_order
    if not work_order.design_file_path:
        raise NotFound(_l("该施工单没有设计文件"), code="no_file")
    extension = work_order.design_file_path.rsplit(".", 1)[-1].lower()
    inline_type = INLINE_TYPES.get(extension)
    try:
        response = send_file(design_files.absolute_path(work_order.design_file_path),
                             mimetype=inline_type or "application/octet-stream", as_attachment=inline_type is None,
                             download_name=work_order.design_file_name or f"design.{extension}")
    except FileNotFoundError:
        raise NotFound(_l("设计文件已丢失，请重新上传"), code="file_missing") from None
    if extension == "pdf":
        # Chrome's viewer draws the PDF as a plugin with inline styles: the pages' policy would leave it blank.
        response.headers["Content-Security-Policy"] = PDF_VIEWER_POLICY
    return response


def format_duration(seconds: int | None) -> str:
    seconds = seconds or 0
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(h)s小时%(m)s分", h=hours, m=minutes)
    if minutes:
        return _("%(m)s分%(s)s秒", m=minutes, s=seconds)
    return _("%(s)s秒", s=seconds)


@bp.route("/tasks/<int:task_id>/<any(claim,start,pause,resume,report,complete,cancel):action>", methods=["POST"])
@login_required
def act(task_id: int, action: str):
    after_this_request(_refresh_on_conflict)
    user = current_user._get_current_object()
    task = task_reading.get_task(task_id)
    require_task_view(user, task)  # an operator is told the task is another department's
    try:
        outcome = task_service.ACTIONS[action](task, user, parse_version(request.form),
                                  **parse_action_form(action, request.form))
    except Invalid as error:
        if not (error.fields and is_htmx()):
            raise
        # The card comes back with its panel open and the errors next to the fields.
        db.session.rollback()
        card = card_for(task_reading.get_task(task_id), user, errors=error.fields,
                        values=request.form.to_dict(), open_panel=action)
        return render_template("tasks/_task_card.html", card=card), 422
    db.session.commit()
    if not is_htmx():
        flash(outcome.message, "success")
        target = url_for("kiosk.index") if session.get("kiosk_session") else url_for("tasks.detail", task_id=task_id)
        return redirect(target)
    headers = {"X-Message": quote(outcome.message)}
    if outcome.moved:
        headers["HX-Trigger"] = REFRESH_EVENT
    # The commit expired the task: read it again whole (one query) rather than attribute by attribute
    # (even outcome.task.id would have reloaded it first).
    card = card_for(task_reading.get_task(task_id), user)
    return render_template("tasks/_task_card.html", card=card), 200, headers


def _refresh_on_conflict(response):
    """A lost race (already claimed, stale card): the page re-fetches what it shows as well as showing the toast."""
    if response.status_code == 409:
        response.headers["HX-Trigger"] = REFRESH_EVENT
    return response
