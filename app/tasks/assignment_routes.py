"""The supervisor's task actions: assign (改派), unassign, move to another department.

Used by the 主管看板 (drag and drop or the select on each card) and the task page. Each returns
an empty 200 with the toast and the board's refresh event for htmx, or redirects back.
"""
from urllib.parse import quote

from flask import after_this_request, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.services.dispatch import assignment
from app.tasks import bp
from app.tasks.forms import parse_version
from app.utils.fields import lenient_int
from app.utils.http import is_htmx, safe_next

# Every board and task list that shows assignments re-fetches itself on this event.
BOARD_REFRESH_EVENT = "board-refresh"


@bp.route("/tasks/<int:task_id>/assign", methods=["POST"])
@login_required
def assign(task_id: int):
    after_this_request(_refresh_on_conflict)
    task = assignment.assign(task_id, _int(request.form.get("operator_id")), current_user._get_current_object(),
                             parse_version(request.form), request.form.get("reason"))
    return _done(task_id, _("已分配给 %(name)s", name=task.operator.name))


@bp.route("/tasks/<int:task_id>/unassign", methods=["POST"])
@login_required
def unassign(task_id: int):
    after_this_request(_refresh_on_conflict)
    assignment.unassign(task_id, current_user._get_current_object(), parse_version(request.form),
                        request.form.get("reason"))
    return _done(task_id, _("已取消分配"))


@bp.route("/tasks/<int:task_id>/move", methods=["POST"])
@login_required
def move(task_id: int):
    after_this_request(_refresh_on_conflict)
    task = assignment.move(task_id, _int(request.form.get("department_id")), current_user._get_current_object(),
                           parse_version(request.form), request.form.get("reason", ""))
    return _done(task_id, _("已转到 %(dept)s", dept=task.department.name))


def _int(value) -> int:
    return lenient_int((value or "").strip(), 0)


def _done(task_id: int, message: str):
    db.session.commit()
    if is_htmx():
        return "", 200, {"X-Message": quote(message), "HX-Trigger": BOARD_REFRESH_EVENT}
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"), url_for("tasks.detail", task_id=task_id)))


def _refresh_on_conflict(response):
    """A stale card (someone else moved the task): the board re-fetches as well as showing the toast."""
    if response.status_code == 409:
        response.headers["HX-Trigger"] = BOARD_REFRESH_EVENT
    return response
