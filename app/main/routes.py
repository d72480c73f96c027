from flask import jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.extensions import csrf, db
from app.main import bp
from app.policy import can, landing_endpoint
from app.services.planning import risk_lists
from app.services.reports import dashboard as stats_dashboard


@bp.route("/")
@login_required
def index():
    if not can(current_user, "dashboard.view"):
        return redirect(url_for(landing_endpoint(current_user)))
    return render_template("main/index.html", board=stats_dashboard.dashboard(current_user),
                           completed_params=stats_dashboard.completed_params,
                           at_risk=risk_lists.for_dashboard(current_user))


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
