"""What the 施工单 pages share: the detail region after a change, and the version a form posted."""
from __future__ import annotations

from urllib.parse import quote

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.services import planning
from app.services.core.errors import Invalid
from app.services.workorders import detail_view, offers, queries
from app.utils.fields import database_int
from app.utils.http import is_htmx
from app.views import memoized_gettext


def detail_context(work_order, **extra) -> dict:
    problems = offers.approval_problems(current_user, work_order)
    lines = detail_view.lines_of(work_order.id)
    return {
        "wo": work_order, "lines": lines, "problems": problems,
        "actions": offers.available_actions(current_user, work_order, problems, lines.started_tasks),
        "may_edit_drafts": offers.may_edit_drafts(current_user, work_order),
        "audit_rows": queries.audit_trail(work_order), "workorder_queries": queries,
        "action_labels": offers.ACTION_LABELS,
        "projection": planning.projection_for_workorder(work_order), "gettext": memoized_gettext(), **extra,
    }


def render_detail(work_order_id: int, message: str = "", status: int = 200, **extra):
    """After a change: the detail region for htmx (with a toast), else back to the page."""
    if not is_htmx():
        if message:
            flash(message, "success")
        return redirect(url_for("workorders.detail", work_order_id=work_order_id), 303)
    work_order = detail_view.load(current_user, work_order_id)
    html = render_template("workorders/_detail.html", **detail_context(work_order, **extra))
    return html, status, ({"X-Message": quote(message)} if message else {})


def version_of(value) -> int:
    try:
        return database_int(value)
    except ValueError:
        raise Invalid(_l("缺少版本号，请刷新页面后重试"), code="version_required") from None
