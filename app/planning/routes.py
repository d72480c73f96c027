"""排产 (issue 23, DOMAIN.md §12): one lane per workstation of a department on a time axis, drag or
keyboard to reorder and move; the same plan as a table. The rules live in app.services.planning."""
from urllib.parse import quote

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.models import Department, Task
from app.planning import bp
from app.policy import led_department_ids, require
from app.services import planning
from app.services.core.errors import Invalid
from app.services.planning import actual_rates, timeline
from app.utils.fields import database_int, lenient_int
from app.utils.http import is_htmx
from app.views import render_page

VIEWS = ("lanes", "table")


def _departments() -> list[Department]:
    return list(db.session.scalars(
        select(Department).where(Department.is_active.is_(True)).order_by(Department.sort_order, Department.id)))


def _default_department(departments: list[Department]) -> Department | None:
    led = led_department_ids(current_user)
    own = [d for d in departments if d.id in led and d.id in set(current_user.department_ids)]
    if own or led:
        return (own or [d for d in departments if d.id in led] or [None])[0]
    planned = {w.department_id for w in planning.workstations(active_only=True)}
    return next((d for d in departments if d.id in planned), departments[0] if departments else None)


def _page(department_id: int | None, view: str):
    departments = _departments()
    if department_id is None:
        chosen = _default_department(departments)
        department_id = chosen.id if chosen else None
    plan = planning.plan_for_department(department_id, current_user._get_current_object()) \
        if department_id is not None else None
    axis = timeline.for_today()
    rates = actual_rates.for_department(department_id) if department_id is not None else {}
    return render_page("planning/index.html", "planning/_region.html", departments=departments, plan=plan,
                       view=view, axis=axis, rates=rates, enabled=planning.enabled())


@bp.route("/planning")
@login_required
def index():
    require(current_user, "planning.view")
    view = request.args.get("view") if request.args.get("view") in VIEWS else "lanes"
    return _page(lenient_int(request.args.get("department")), view)


def _form_int(name: str, label: str) -> int:
    try:
        return database_int(request.form.get(name, ""))
    except ValueError as error:
        raise Invalid(_("%(field)s：%(error)s", field=label, error=error), fields={name: str(error)}) from None


@bp.route("/planning/move", methods=["POST"])
@login_required
def move():
    require(current_user, "planning.view")
    task_id = _form_int("task_id", _("任务"))
    workstation_id = _form_int("workstation_id", _("机台"))
    position = _form_int("position", _("位置"))
    entry = planning.move_task(current_user._get_current_object(), task_id, workstation_id, position)
    department_id = db.session.get(Task, entry.task_id).department_id
    db.session.commit()
    view = request.form.get("view") if request.form.get("view") in VIEWS else "lanes"
    message = _("排产已调整")
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("planning.index", department=department_id, view=view))
    body, status = _page(department_id, view)
    return body, status, {"X-Message": quote(message)}
