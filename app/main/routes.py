from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.extensions import csrf, db
from app.main import bp
from app.policy import can, landing_endpoint, viewer_scope
from app.services.planning import risk_lists
from app.services.reports import dashboard as stats_dashboard
from app.shared_regions import shared, shared_value
from app.utils.http import is_htmx
from app.utils.timeutil import plant_today

# The 工作台's live sections: a live re-fetch (hx-select of one of them) is answered with that section alone.
DASH_REGIONS = ("dash-at-risk", "dash-plant", "dash-departments")


@bp.route("/")
@login_required
def index():
    user = current_user._get_current_object()
    if not can(user, "dashboard.view"):
        return redirect(url_for(landing_endpoint(user)))
    region = request.headers.get("HX-Target") if is_htmx() else None
    if region in DASH_REGIONS:
        # An admin's sections are every admin's (rendered once: app/shared_regions.py); others' are their own.
        key = (region, viewer_scope(user), None if user.is_admin else user.id)
        return shared(key, lambda: render_template("main/_dash_region.html", region=region, **_dash_section(user, region)))
    return render_template("main/index.html", board=stats_dashboard.dashboard(user),
                           completed_params=stats_dashboard.completed_params,
                           at_risk=risk_lists.for_dashboard(user))


def _dash_section(user, region: str) -> dict:
    if region == "dash-at-risk":
        return {"at_risk": risk_lists.for_dashboard(user)}
    # The departments' figures are every viewer's: counted once per process for all their live re-fetches.
    today = plant_today()
    per_department = shared_value(("tasks-per-department", today), lambda: stats_dashboard.tasks_per_department(today))
    return {"board": stats_dashboard.task_sections(user, per_department),
            "completed_params": stats_dashboard.completed_params}


@bp.route("/healthz")
@csrf.exempt
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
@csrf.exempt
def readyz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
