from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.policy import require, viewer_scope
from app.services.core.errors import Forbidden, Invalid
from app.services.dispatch.supervisor_board import (
    BoardDepartment,
    board_department_ids,
    board_departments,
    build_board,
    build_column,
    build_summary,
)
from app.shared_regions import shared
from app.supervision import bp
from app.utils.fields import database_int
from app.utils.http import is_htmx
from app.views import render_page

TEMPLATE = "supervision/_board.html"


@bp.route("/supervisor")
@login_required
def board():
    user = current_user._get_current_object()
    require(user, "supervisor.board")
    if is_htmx():
        return _board_region(user)
    departments = board_departments(user)
    chosen = _chosen_department_id([d.id for d in departments])
    department = next((d for d in departments if d.id == chosen), None)
    return render_page("supervision/board.html", TEMPLATE, departments=departments,
                       board=build_board(department) if department else None)


def _board_region(user):
    """The board, its head or one of its columns alone (a live re-fetch, docs/LIVE.md §6): the same for every
    supervisor of the department, rendered once (app/shared_regions.py)."""
    department_id = _chosen_department_id(board_department_ids(user))
    if department_id is None:
        return render_template(TEMPLATE, board=None)
    department, part = BoardDepartment(department_id), _part(request.args.get("column"))
    return shared(("supervisor-board", department.id, part, viewer_scope(user)), lambda: _render_part(department, part))


def _chosen_department_id(allowed: list[int]) -> int | None:
    """The department asked for (``?department=``), else the viewer's first; refused when it is not one of theirs."""
    wanted = request.args.get("department", type=database_int)
    if wanted and wanted not in allowed:
        raise Forbidden(_l("您只能查看本部门的看板"), code="outside_department")
    return wanted or (allowed[0] if allowed else None)


def _part(column: str | None) -> str | int | None:
    """The ``column`` asked for: summary (the head), unassigned, an operator's id, or None (the whole board)."""
    if column is None or column in ("summary", "unassigned"):
        return column
    try:
        return database_int(column)
    except ValueError:
        raise Invalid(_l("看板栏目无效：只能是 summary、unassigned 或操作员编号"), code="invalid_column") from None


def _render_part(department, part) -> str:
    if part is None:
        return render_template(TEMPLATE, board=build_board(department))
    if part == "summary":
        return render_template(TEMPLATE, board=build_summary(department), part="summary")
    board, column = build_column(department, None if part == "unassigned" else part)
    return render_template(TEMPLATE, board=board, column=column, part="column")
