"""印刷施工单跟踪系统 — the application factory."""
from __future__ import annotations

from flask import Flask, has_request_context, request, session

from app.config import load_config
from app.extensions import babel, csrf, db, login_manager, migrate, sock


def remember_language() -> None:
    """?lang= is kept in the session by every request, also one that only redirects and so never asks
    the locale selector (a scan, a login): the page it leads to is in the chosen language."""
    requested = request.args.get("lang")
    if requested in ("en", "zh_Hans_CN", "zh"):
        session["lang"] = "zh_Hans_CN" if requested == "zh" else requested


def select_locale() -> str:
    if not has_request_context():
        return "zh_Hans_CN"
    remember_language()
    if session.get("lang"):
        return session["lang"]
    best = request.accept_languages.best_match(["zh", "zh-CN", "zh-Hans", "en"])
    return "en" if best and best.startswith("en") else "zh_Hans_CN"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=False)
    app.config.update(load_config(config))

    if app.config.get("BEHIND_PROXY"):
        # nginx supplies the client address; without this every login would share 127.0.0.1's throttle.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    from app.shared_regions import announce_committed_event, note_request_began

    app.before_request(note_request_began)  # first: before any hook reads the database
    app.after_request(announce_committed_event)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_language)
    sock.init_app(app)

    from app import models  # noqa: F401  (registers every table with the metadata)
    from app.auth.session import init_login
    from app.errors.handlers import register_error_handlers
    from app.errors.input_guard import init_input_guard
    from app.observability import init_observability
    from app.security import init_security_headers
    from app.services import planning  # noqa: F401  (replans just before every commit that moved the plan)
    from app.services.core import reference  # noqa: F401  (versions the reference data every flush changes)
    from app.templating import register_template_helpers

    init_observability(app)
    init_login(app)
    init_security_headers(app)
    init_input_guard(app)
    register_error_handlers(app)
    register_template_helpers(app)
    _register_blueprints(app)

    from app.cli import register_cli

    register_cli(app)

    if app.config["METRICS_ENABLED"]:
        from app.metrics import init_metrics

        init_metrics(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.board import bp as board_bp
    from app.dispatch import bp as dispatch_bp
    from app.kiosk import bp as kiosk_bp
    from app.main import bp as main_bp
    from app.notifications import bp as notifications_bp
    from app.planning import bp as planning_bp
    from app.realtime.socket import bp as realtime_bp
    from app.reports import bp as reports_bp
    from app.supervision import bp as supervision_bp
    from app.tasks import bp as tasks_bp
    from app.workorders import bp as workorders_bp

    for blueprint in (
        auth_bp, main_bp, workorders_bp, tasks_bp, kiosk_bp, supervision_bp, dispatch_bp,
        notifications_bp, planning_bp, reports_bp, admin_bp, board_bp, realtime_bp, api_bp,
    ):
        app.register_blueprint(blueprint)
