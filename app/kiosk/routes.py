from flask import redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.kiosk import bp
from app.models import Task, WorkOrder
from app.policy import DESK_ROLES, require, require_task_view
from app.services.core.errors import NotFound
from app.services.planning import kiosk_binding
from app.services.tasks.cards import claimable_region_key, kiosk_board
from app.shared_regions import shared
from app.utils.fields import lenient_int
from app.utils.http import is_htmx
from app.views import memoized_gettext, render_page

REGIONS = {"mine": "kiosk/_mine.html", "claimable": "kiosk/_claimable.html", "scanned": "kiosk/_scanned.html"}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return lenient_int(value)


@bp.route("/kiosk")
@login_required
def index():
    user = current_user._get_current_object()  # the proxy costs a lookup on every attribute of every card
    require(user, "kiosk.use")
    region = request.args.get("region") if is_htmx() else None
    region = region if region in REGIONS else None
    workstation = kiosk_binding.workstation_for(request.cookies.get(kiosk_binding.TERMINAL_COOKIE), user)
    filters = {"work_order_id": _int_arg("wo"), "highlight": _int_arg("highlight"), "page": max(_int_arg("page") or 1, 1)}
    if region == "claimable" and workstation is None:
        # The same for every kiosk of the department in the same state: rendered once (app/shared_regions.py).
        return shared(claimable_region_key(user, **filters), lambda: render_template(
            REGIONS[region], gettext=memoized_gettext(), **kiosk_board(user, region=region, **filters)))
    context = kiosk_board(user, region=region, workstation=workstation, **filters)
    return render_page("kiosk/index.html", REGIONS.get(region), gettext=memoized_gettext(), **context)


@bp.route("/scan")
def scan_form():
    """The kiosk's scan field submits here; a keyboard-wedge scanner types the code and Enter."""
    code = request.args.get("code", "").strip()
    if not code:
        return redirect(url_for("kiosk.index"))
    return redirect(url_for("kiosk.scan", code=code))


@bp.route("/scan/<path:code>")
def scan(code: str):
    if not current_user.is_authenticated:
        return redirect(url_for("auth.kiosk_login", next=request.full_path.rstrip("?")))
    # A QR code may hold the whole URL; the code is its last path segment.
    code = code.strip().rstrip("/").rsplit("/", 1)[-1].upper()
    shop_floor = current_user.has_role("operator") and (
        session.get("kiosk_session") or not current_user.has_role(*DESK_ROLES)
    )
    task = db.session.scalar(select(Task).where(Task.number == code))
    if task is not None:
        if shop_floor:
            require_task_view(current_user, task)
            return redirect(url_for("kiosk.index", highlight=task.id, _anchor=f"task-{task.id}"))
        return redirect(url_for("tasks.detail", task_id=task.id))
    work_order = db.session.scalar(select(WorkOrder).where(WorkOrder.number == code))
    if work_order is not None:
        if shop_floor:
            return redirect(url_for("kiosk.index", wo=work_order.id))
        return redirect(f"/workorders/{work_order.id}")
    raise NotFound(_l("未找到编号为 %(code)s 的任务或施工单", code=code), code="scan_not_found")
