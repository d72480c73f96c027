"""任务中心 /tasks: every task the viewer may see, filtered in the URL, and bulk actions on a selection.

The list is one region (``#task-list``, div rows) that the filter form, the status tabs, the
pagination and live updates re-fetch through this same route; the bulk panel posts to
``/tasks/bulk`` and shows one result per task.
"""
from __future__ import annotations

from dataclasses import astuple, replace
from urllib.parse import quote

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import db
from app.forms.filters import CHOSEN_FILTERS, parse_filters
from app.policy import can, require
from app.services.core.errors import Invalid
from app.services.tasks import bulk as bulk_tasks
from app.services.tasks import filtering as task_filtering
from app.services.tasks import queries as task_queries
from app.shared_regions import shared_value
from app.tasks import bp
from app.utils.fields import lenient_int
from app.utils.http import is_htmx, safe_next
from app.utils.timeutil import plant_today
from app.utils.wording import join_list, named, with_colon
from app.views import memoized_gettext, render_page

# Sent after a bulk action: the list region re-fetches itself.
LIST_REFRESH_EVENT = "tasks-refresh"
@bp.route("/tasks")
@login_required
def index():
    require(current_user, "task.list")
    # The list region re-fetched alone (filters, tabs, pages, live updates) shows neither the
    # filter form nor the bulk panel: their choices are loaded only to check a filter that uses them.
    needs_options = not is_htmx() or any(request.args.get(name) for name in CHOSEN_FILTERS)
    options = task_filtering.filter_options() if needs_options else None
    form, filters = parse_filters(request.args, options)
    page_number = request.args.get("page", "1")
    page = task_queries.list_task_rows(current_user, filters, lenient_int(page_number, 1),
                                   form.page_size, _everyones_counts(current_user, filters))
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    bulk = _bulk_panel(options)
    return render_page("tasks/index.html", "tasks/_list.html", gettext=memoized_gettext(), form=form, page=page,
                       query=query, bulk=bulk, today=plant_today(), row_key=row_key,
                       list_key=list_key(current_user, page, query, bulk))


def _everyones_counts(user, filters) -> dict[str, int] | None:
    """The status counts of a viewer who sees every task (admins, supervisors) are those of everyone who
    does, under the same filters: counting the plant's ~50,000 tasks by status cost PostgreSQL 5–11 ms on
    each of their lists' live re-fetches, so a process counts once for all of them (app/shared_regions.py).
    A department filter counts the departments below it as well: they are part of the key."""
    if not task_queries.sees_every_task(user):
        return None
    department = lenient_int(filters.department)
    below = tuple(task_filtering.department_scope(department)) if department is not None else ()
    key = ("task-status-counts", astuple(replace(filters, sort="")), below)
    return shared_value(key, lambda: task_queries.status_counts(user, filters))


def list_key(user, page: task_queries.TaskPage, query: dict, bulk) -> tuple:
    """The list region's HTML is reused while this is unchanged (app.templating.cached_region; the
    language, the plant day and the session are part of every key): the rows, the counts and the
    page, the filters and the address, and the viewer's rights (their roles: links, export, check
    boxes, live channels; their departments: the live channels). A live list is fetched again on
    every change near it, mostly a change that leaves what it shows as it was."""
    return ("task-list", tuple(page.items), tuple(page.counts.items()), page.total, page.page, page.per_page,
            tuple(query.items()), request.full_path, request.script_root, bool(bulk), user.id,
            tuple(sorted(user.role_codes)), tuple(sorted(user.department_ids)))


def row_key(task: task_queries.TaskRow, bulk: bool, link_work_orders: bool) -> tuple:
    """A row's HTML is reused while this is unchanged (app.templating.cached_fragment; the language
    and the plant day are part of every key): the TaskRow holds every value the row shows. Rendering
    100 rows was most of a 100-row page's time, and a live list is fetched again on every change
    near it while most of its rows stay the same."""
    return ("task-row", task, bool(bulk), link_work_orders)


# ---------------------------------------------------------------- bulk actions

# action → the policy action that offers it (each task is then checked by its own service)
BULK_ACTIONS = {"assign": "task.bulk_supervise", "cancel": "task.bulk_supervise",
                "edit_drafts": "task.bulk_drafts", "delete_drafts": "task.bulk_drafts"}


@bp.route("/tasks/bulk", methods=["POST"])
@login_required
def bulk():
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:
        raise Invalid(_l("请选择批量操作"), code="action_missing")
    user = current_user._get_current_object()
    require(user, BULK_ACTIONS[action])
    try:
        outcome = _run(action, user, request.form)
    except Invalid as error:
        if not (error.fields and is_htmx()):
            raise
        db.session.rollback()
        return _panel(errors=error.fields, values=request.form.to_dict()), 422
    db.session.commit()
    if not is_htmx():
        flash(outcome.summary, "warning" if outcome.failed else "success")
        for result in outcome.results:
            if not result.ok:
                flash(f"{with_colon(result.number or result.task_id)}{result.message}", "warning")
        return redirect(safe_next(request.form.get("next"), url_for("tasks.index")))
    return _panel(outcome=outcome), 200, {"X-Message": quote(outcome.summary), "HX-Trigger": LIST_REFRESH_EVENT}


def _run(action: str, user, form) -> bulk_tasks.BulkOutcome:
    task_ids = [number for value in form.getlist("task_ids") if (number := lenient_int(value)) is not None]
    if action == "assign":
        operator = form.get("operator_id", "").strip()
        return bulk_tasks.assign(user, task_ids, lenient_int(operator))
    if action == "cancel":
        return bulk_tasks.cancel(user, task_ids, form.get("reason", ""))
    if action == "delete_drafts":
        return bulk_tasks.delete_drafts(user, task_ids)
    return bulk_tasks.edit_drafts(user, task_ids, _draft_changes(form))


def _draft_changes(form) -> bulk_tasks.DraftChanges:
    """Empty fields stay as they are; the quantity, when given, is a whole number ≥ 0."""
    raw = form.get("quantity", "").strip()
    if raw and (lenient_int(raw) is None or lenient_int(raw) < 0):
        message = _l("数量必须是不小于0的整数")
        raise Invalid(message, code="invalid_quantity", fields={"quantity": message})
    return bulk_tasks.DraftChanges(int(raw) if raw else None, form.get("requirements", "").strip() or None,
                                   form.get("notes", "").strip() or None)


def _panel(**state) -> str:
    return render_template("tasks/_list_bulk.html", bulk=_bulk_panel(task_filtering.filter_options(), **state))


def _bulk_panel(options: task_filtering.FilterOptions | None, **state) -> dict | None:
    """What the bulk panel offers this viewer, or None when they may do no bulk action (without
    ``options``: only whether the rows get check boxes)."""
    supervise, drafts = can(current_user, "task.bulk_supervise"), can(current_user, "task.bulk_drafts")
    if not (supervise or drafts):
        return None
    operators = bulk_tasks.assignable_operators(current_user, options.operators) if supervise and options else []
    choices = [("", _("请选择"))] + [(str(o.id), named(o.name, join_list(o.department_names))) for o in operators]
    return {"supervise": supervise, "drafts": drafts, "operator_choices": choices, "errors": {}, "values": {},
            "outcome": None, **state}
