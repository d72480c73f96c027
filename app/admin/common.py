"""What every admin page does the same way: read the list query, render the page or its htmx
region, re-render a refused form with its errors (422), and finish a write with a message."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import FieldList, FormField

from app.extensions import db
from app.policy import can
from app.services.admin.master_data import ListQuery
from app.services.core.errors import Invalid
from app.utils.fields import lenient_int
from app.utils.http import is_htmx
from app.views import create_once, render_page


def _number(value: str) -> int | None:
    value = value.strip()
    return lenient_int(value)


def list_query(*filter_names: str, ids: tuple[str, ...] = (), dates: tuple[str, ...] = ()) -> ListQuery:
    """The list's search, filters, sort and page from the URL; malformed ids and dates are ignored."""
    filters = {name: request.args.get(name, "").strip() for name in filter_names}
    for name in ids:
        filters[name] = _number(request.args.get(name, ""))
    for name in dates:
        try:
            filters[name] = date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            filters[name] = None
    return ListQuery(search=request.args.get("q", "").strip(), filters=filters,
                     sort=request.args.get("sort", "").strip(), page=_number(request.args.get("page", "")) or 1,
                     per_page=current_app.config["PAGE_SIZE"])


def list_args() -> dict:
    """The current filters, for links that change only the page or the sort."""
    return {key: value for key, value in request.args.items() if key != "page" and value}


def render(template: str, partial: str | None = None, status: int = 200, **context):
    """The page, or its region for htmx — except when htmx restores history, which needs the page."""
    context.setdefault("region", partial)
    if request.headers.get("HX-History-Restore-Request") == "true":
        partial = None
    return render_page(template, partial, status, **context)


def attach_errors(form, error: Invalid) -> None:
    """Put a service's field errors next to their inputs; rows use "<list>.<position>.<field>"."""
    form.refused = True
    for name, message in error.fields.items():
        target = _field(form, name)
        if target is None:
            form.form_errors.append(message)
        else:
            target.errors = [*target.errors, message]


def _field(form, name: str):
    parts = name.split(".")
    field = form._fields.get(parts[0])
    if field is None or len(parts) == 1:
        return field
    if isinstance(field, FieldList) and len(parts) == 3 and parts[1].isdigit():
        entries = field.entries
        position = int(parts[1])
        if position < len(entries) and isinstance(entries[position], FormField):
            return entries[position].form._fields.get(parts[2])
    return None


def blank_row(field_list, index: int):
    """A new empty entry of a repeatable row list, named with the index the page asked for.

    The page keeps its next free index (rows may have been removed in between), so names never clash.
    """
    field_list.last_index = index - 1
    return field_list.append_entry()


def save(form, write, render_form, message, next_url, creates=None):
    """Run the service write; a refusal with field errors re-renders the form (422), else commit and go on.

    A create names its model in ``creates``: a second post of the same form instance then answers as the
    first did, with the record the first created (app/services/core/submissions.py)."""
    try:
        obj = write() if creates is None else create_once(creates, write).record
    except Invalid as error:
        if not error.fields:
            raise
        db.session.rollback()
        attach_errors(form, error)
        return render_form(422)
    db.session.commit()
    return finished(message(obj) if callable(message) else message, next_url(obj) if callable(next_url) else next_url)


def finished(message, url: str):
    """After a write: the message as a flash on the next page, reached by htmx or by a plain redirect."""
    flash(str(message), "success")
    if is_htmx():
        return "", 200, {"HX-Redirect": url}
    return redirect(url, 303)


def back_to(endpoint: str, stay: bool = False) -> str:
    """Where to go after a one-click action: the list the user came from (with its filters), or with
    ``stay`` the page it was clicked on; the plain list otherwise (e.g. after deleting from the edit page)."""
    fallback = url_for(endpoint)
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.netloc == request.host and (stay or current.path == fallback):
        return f"{current.path}?{current.query}" if current.query else current.path
    return fallback


def commit_and_finish(message, endpoint: str, stay: bool = False):
    db.session.commit()
    return finished(message, back_to(endpoint, stay))


# (list endpoint, label, policy action, endpoint prefix of the section's other pages)
ADMIN_SECTIONS = [
    ("admin.index", _l("概览"), "admin.access", None),
    ("admin.users", _l("人员"), "admin.access", "admin.user_"),
    ("admin.departments", _l("部门"), "admin.access", "admin.department_"),
    ("admin.processes", _l("工序"), "admin.access", "admin.process_"),
    ("admin.customers", _l("客户"), "admin.customers", "admin.customer_"),
    ("admin.products", _l("产品"), "admin.access", "admin.product_"),
    ("admin.materials", _l("物料"), "admin.access", "admin.material_"),
    ("admin.plates", _l("版型"), "admin.plates", "admin.plate_"),
    ("admin.workstations", _l("机台"), "admin.access", "admin.workstation_"),
    ("admin.settings", _l("系统设置"), "admin.access", "admin.settings_"),
    ("admin.audit", _l("操作日志"), "admin.access", None),
    ("admin.system", _l("系统状态"), "admin.access", None),
    ("admin.api_tokens_list", _l("API 令牌"), "admin.access", "admin.api_token_"),
]


def admin_sections() -> list[tuple[str, str, bool]]:
    """The admin tabs the user may open: (endpoint, label, is the current section)."""
    endpoint_now = request.endpoint or ""
    return [(endpoint, label, endpoint_now == endpoint or bool(prefix and endpoint_now.startswith(prefix)))
            for endpoint, label, action, prefix in ADMIN_SECTIONS if can(current_user, action)]
