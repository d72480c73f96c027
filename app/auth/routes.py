import re
import secrets

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.auth import bp
from app.auth.forms import KioskLoginForm, LoginForm
from app.auth.session import TERMINAL_COOKIE
from app.extensions import db
from app.policy import landing_endpoint
from app.services.auth import login as auth_service
from app.services.auth import sessions
from app.services.core.errors import DomainError, Invalid
from app.services.planning import kiosk_binding
from app.utils.fields import database_int
from app.utils.http import client_ip, safe_next
from app.views import begin_session, fresh_session

TERMINAL_PATTERN = re.compile(r"^[0-9a-f]{16}$")


def _landing(user) -> str:
    return url_for(landing_endpoint(user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_landing(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth_service.authenticate_password(form.username.data, form.password.data, client_ip())
        except DomainError as error:
            form.form_errors.append(error.message)
            status = error.status
        else:
            begin_session(user)
            return redirect(safe_next(request.args.get("next"), _landing(user)))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _terminal() -> str:
    """This kiosk terminal's name, from its cookie; a new one for a device without (or with a forged) one."""
    named = request.cookies.get(TERMINAL_COOKIE, "")
    return named if TERMINAL_PATTERN.match(named) else secrets.token_hex(8)


@bp.route("/kiosk/login", methods=["GET", "POST"])
def kiosk_login():
    form = KioskLoginForm()
    terminal = _terminal()
    _workstation_choices(form, terminal)
    status = 200
    if form.validate_on_submit():
        try:
            chosen = _chosen_workstation(form)  # a malformed choice is refused before the PIN is tried
            user = auth_service.authenticate_pin(form.employee_no.data, form.pin.data, terminal, client_ip())
            try:
                kiosk_binding.bind(terminal, user, chosen)
            except Invalid:
                db.session.rollback()
                raise
        except DomainError as error:
            (form.workstation_id.errors if error.fields.get("workstation_id") else form.form_errors).append(error.message)
            status = error.status
        else:
            begin_session(user, kiosk=True)
            db.session.commit()
            return _with_terminal_cookie(redirect(safe_next(request.args.get("next"), url_for("kiosk.index"))),
                                         terminal)
    elif request.method == "POST":
        status = 400
    return _with_terminal_cookie(make_response(render_template("auth/kiosk_login.html", form=form), status), terminal)


def _workstation_choices(form, terminal: str) -> None:
    """The kiosk may be bound to a workstation (排产): every active one, the terminal's own preselected."""
    stations = kiosk_binding.choices()
    form.workstation_id.choices = [("", _("不绑定"))] + [
        (str(w.id), f"{w.department.name} · {w.code} {w.name}") for w in stations] if stations else []
    if request.method == "GET":
        form.workstation_id.data = str(kiosk_binding.bound_workstation_id(terminal) or "")


def _chosen_workstation(form) -> int | None:
    value = (form.workstation_id.data or "").strip() if form.workstation_id.choices else ""
    if not value:
        return None
    try:
        return database_int(value)
    except ValueError:
        raise Invalid(_("请选择机台"), fields={"workstation_id": _("请选择机台")}) from None


def _with_terminal_cookie(response, terminal: str):
    """The terminal is named from its first visit, so PIN failures count per terminal from the start."""
    response.set_cookie(TERMINAL_COOKIE, terminal, max_age=10 * 365 * 86400, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Logging out ends every session of the person, on every device (app/services/auth/sessions.py)."""
    kiosk = session.get("kiosk_session")
    sessions.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    fresh_session()
    flash(_("您已退出登录"), "info")
    return redirect(url_for("auth.kiosk_login" if kiosk else "auth.login"))
