"""分派规则 (admins edit, supervisors read) and the 待分派 pool."""
from urllib.parse import quote

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.dispatch import bp
from app.enums import OperatorStrategy
from app.extensions import db
from app.models import AssignmentRule, Department, Process, Task, WorkOrder, WorkOrderStep
from app.policy import require
from app.services.core import settings
from app.services.core.errors import Invalid, NotFound
from app.services.dispatch import assignment
from app.services.dispatch import rules as dispatch_rules
from app.utils.fields import database_int, lenient_int
from app.views import create_once, render_page

POOL_PAGE_SIZE = 50


# ---------------------------------------------------------------- rules page

@bp.route("/dispatch/rules")
@login_required
def rules():
    require(current_user, "dispatch.rules.view")
    return _rules_page()


def _rules_page(errors=None, values=None, editing=None, status=200):
    search = request.args.get("q", "").strip()
    processes = dispatch_rules.active_processes(search)
    selected_id = request.args.get("process", type=database_int) or (values or {}).get("process_id")
    selected = next((p for p in processes if p.id == selected_id), None) or (
        db.session.get(Process, selected_id) if selected_id else (processes[0] if processes else None))
    return render_page(
        "dispatch/rules.html", "dispatch/_rules_region.html", status=status,
        processes=processes, search=search, selected=selected,
        cards=dispatch_rules.rule_cards(selected) if selected else [],
        handling=dispatch_rules.handling_departments(selected) if selected else [],
        preview=dispatch_rules.preview(), auto_enabled=settings.get("auto_dispatch_enabled"),
        strategies=OperatorStrategy.choices(), errors=errors or {}, values=values or {}, editing=editing,
    )


def _process(process_id: int) -> Process:
    process = db.session.get(Process, process_id)
    if process is None:
        raise NotFound(_("工序不存在"), code="process_not_found")
    return process


def _after_rules_change(process_id, message):
    """The rules page posts plain forms: the answer is the page again, with the message."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("dispatch.rules", process=process_id))


def _save(process: Process, rule=None):
    def write():
        return dispatch_rules.save_rule(current_user, process, request.form, rule)

    try:
        write() if rule is not None else create_once(AssignmentRule, write)
    except Invalid as error:
        db.session.rollback()
        values = {**request.form.to_dict(), "process_id": process.id}
        return _rules_page(errors=error.fields, values=values, editing=rule.id if rule else "new", status=422)
    return _after_rules_change(process.id, _("分派规则已保存"))


@bp.route("/dispatch/rules/<int:process_id>/rules", methods=["POST"])
@login_required
def create_rule(process_id: int):
    require(current_user, "dispatch.rules.edit")
    return _save(_process(process_id))


@bp.route("/dispatch/rules/rule/<int:rule_id>", methods=["POST"])
@login_required
def update_rule(rule_id: int):
    require(current_user, "dispatch.rules.edit")
    rule = dispatch_rules.get_rule(rule_id)
    return _save(rule.process, rule)


@bp.route("/dispatch/rules/rule/<int:rule_id>/delete", methods=["POST"])
@login_required
def delete_rule(rule_id: int):
    require(current_user, "dispatch.rules.edit")
    rule = dispatch_rules.get_rule(rule_id)
    process_id = rule.process_id
    dispatch_rules.delete_rule(current_user, rule)
    return _after_rules_change(process_id, _("分派规则已删除"))


@bp.route("/dispatch/rules/<int:process_id>/reorder", methods=["POST"])
@login_required
def reorder_rules(process_id: int):
    require(current_user, "dispatch.rules.edit")
    ids = [number for v in request.form.getlist("rule_id") if (number := lenient_int(v)) is not None]
    dispatch_rules.reorder(current_user, _process(process_id), ids)
    return _after_rules_change(process_id, _("优先级已更新"))


@bp.route("/dispatch/auto", methods=["POST"])
@login_required
def auto_switch():
    require(current_user, "dispatch.rules.edit")
    enabled = request.form.get("enabled") == "1"
    dispatch_rules.set_auto_dispatch(current_user, enabled)
    return _after_rules_change(request.form.get("process", type=database_int), _("已启用自动分派") if enabled else _("已关闭自动分派"))


# ---------------------------------------------------------------- 待分派 pool

def _pool_tasks():
    page = max(request.args.get("page", 1, type=database_int), 1)
    statement = (
        select(Task).join(WorkOrder, WorkOrder.id == Task.work_order_id)
        .options(joinedload(Task.work_order), joinedload(Task.step).joinedload(WorkOrderStep.process))
        .where(Task.department_id.is_(None), Task.status == "pending", WorkOrder.approval_status == "approved")
        .order_by(Task.id)
    )
    return db.paginate(statement, page=page, per_page=POOL_PAGE_SIZE, error_out=False)


def _pool_page(results=None, status=200):
    departments = list(db.session.scalars(
        select(Department).where(Department.is_active.is_(True)).order_by(Department.sort_order, Department.id)))
    return render_page("dispatch/pool.html", "dispatch/_pool_region.html", status=status,
                       pagination=_pool_tasks(), departments=departments, results=results)


@bp.route("/dispatch/pool")
@login_required
def pool():
    require(current_user, "dispatch.pool")
    return _pool_page()


@bp.route("/dispatch/pool", methods=["POST"])
@login_required
def dispatch_pool():
    require(current_user, "dispatch.pool")
    task_ids = [number for v in request.form.getlist("task_id") if (number := lenient_int(v)) is not None]
    if not task_ids:
        raise Invalid(_("请至少选择一个任务"), code="no_tasks")
    department_id = request.form.get("department_id", type=database_int) or 0
    results = assignment.dispatch_from_pool(task_ids, department_id, current_user._get_current_object())
    db.session.commit()
    done = sum(1 for r in results if r.ok)
    headers = {"X-Message": quote(_("已分派 %(done)s 个，失败 %(failed)s 个", done=done, failed=len(results) - done))}
    body, status = _pool_page(results)
    return body, status, headers
