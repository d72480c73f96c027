"""GET /board/<department code> — the read-only TV board, by login or by the department's token link."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.board import bp
from app.extensions import db, login_manager
from app.policy import can, require
from app.services.core.errors import Forbidden
from app.services.dispatch import board as board_service
from app.shared_regions import render_time, shared
from app.utils.http import is_htmx
from app.views import render_page


@bp.route("/board/<code>")
def show(code: str):
    token = request.args.get("token")
    if not token and not current_user.is_authenticated:
        return login_manager.unauthorized()
    department = board_service.department_by_code(code)
    if token:
        if not board_service.token_matches(department, token):
            raise Forbidden(_l("看板链接无效或已被撤销，请联系管理员"))
    else:
        require(current_user, "department.watch", department)
    if is_htmx():
        # The same for every screen watching the department (only the link it re-fetches by differs):
        # rendered once (app/shared_regions.py).
        return shared(("tv-board", department.id, token), lambda: render_template(
            "board/_board.html", board=board_service.snapshot(department, now=render_time()), token=token))
    return _board_page(department, token)


def _board_page(department, token: str | None, issued_token: str | None = None):
    board = board_service.snapshot(department)
    manage = can(current_user, "board.manage", department)
    return render_page(
        "board/index.html", "board/_board.html", board=board, token=token, issued_token=issued_token,
        has_token=manage and board_service.has_token(department), manage=manage,
    )


@bp.route("/board/<code>/token", methods=["POST"])
@login_required
def issue_token(code: str):
    department = board_service.department_by_code(code)
    require(current_user, "board.manage", department)
    issued = board_service.issue_token(current_user, department)
    db.session.commit()
    # Rendered, not redirected to: only the hash is kept, so this answer is the one place the link is
    # shown (not in a flash, which would carry it in the session cookie; not cached).
    flash(_("已生成新的看板链接，旧链接已失效"), "success")
    html, status = _board_page(department, None, issued_token=issued)
    return html, status, {"Cache-Control": "no-store"}


@bp.route("/board/<code>/token/revoke", methods=["POST"])
@login_required
def revoke_token(code: str):
    department = board_service.department_by_code(code)
    require(current_user, "board.manage", department)
    revoked = board_service.revoke_token(current_user, department)
    db.session.commit()
    flash(_("看板链接已撤销") if revoked else _("该部门没有看板链接"), "success" if revoked else "info")
    return redirect(url_for("board.show", code=code), code=303)
