import secrets
import time

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import KioskLoginForm, LoginForm
from app.auth.session import TERMINAL_COOKIE
from app.policy import landing_endpoint
from app.services import auth as auth_service
from app.services.errors import DomainError
from app.utils.http import client_ip, safe_next


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
            _fresh_session()
            login_user(user)
            return redirect(safe_next(request.args.get("next"), _landing(user)))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/kiosk/login", methods=["GET", "POST"])
def kiosk_login():
    form = KioskLoginForm()
    terminal = request.cookies.get(TERMINAL_COOKIE) or secrets.token_hex(8)
    status = 200
    if form.validate_on_submit():
        try:
            user = auth_service.authenticate_pin(form.employee_no.data, form.pin.data, f"{terminal}:{client_ip()}")
        except DomainError as error:
            form.form_errors.append(error.message)
            status = error.status
        else:
            _fresh_session()
            login_user(user)
            session["kiosk_session"] = True
            session["kiosk_last_seen"] = time.time()
            return _with_terminal_cookie(redirect(safe_next(request.args.get("next"), url_for("kiosk.index"))),
                                         terminal)
    elif request.method == "POST":
        status = 400
    return _with_terminal_cookie(make_response(render_template("auth/kiosk_login.html", form=form), status), terminal)


def _fresh_session() -> None:
    """A new session at login and logout, in the language the person (or the kiosk's last user) chose."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _with_terminal_cookie(response, terminal: str):
    """The terminal is named from its first visit, so PIN failures count per terminal from the start."""
    response.set_cookie(TERMINAL_COOKIE, terminal, max_age=10 * 365 * 86400, httponly=True, samesite="Lax")
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    kiosk = session.get("kiosk_session")
    logout_user()
    _fresh_session()
    flash(_("您已退出登录"), "info")
    return redirect(url_for("auth.kiosk_login" if kiosk else "auth.login"))
