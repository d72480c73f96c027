from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.policy import require, viewer_scope
from app.services.core.errors import Forbidden
from app.services.dispatch.supervisor_board import board_departments, build_board
from app.shared_regions import shared
from app.supervision import bp
from app.utils.fields import database_int
from app.utils.http import is_htmx
from app.views import render_page


@bp.route("/supervisor")
@login_required
def board():
    user = current_user._get_current_object()
    require(user, "supervisor.board")
    departments = board_departments(user)
    wanted = request.args.get("department", type=database_int)
    department = next((d for d in departments if d.id == wanted), None) if wanted else \
        (departments[0] if departments else None)
    if wanted and department is None:
        raise Forbidden(_l("您只能查看本部门的看板"), code="outside_department")
    if department is not None and is_htmx():
        # The same for every supervisor of the department: rendered once (app/shared_regions.py).
        return shared(("supervisor-board", department.id, viewer_scope(user)),
                      lambda: render_template("supervision/_board.html", board=build_board(department)))
    return render_page("supervision/board.html", "supervision/_board.html", departments=departments,
                       board=build_board(department) if department else None)
