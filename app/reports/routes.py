"""数据统计, 协作统计, 分派历史 and the downloads (xlsx, csv, pdf); thin views over the services."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import db
from app.forms.filters import WorkOrderFilterForm
from app.forms.filters import parse_filters as parse_task_filters
from app.models import Department
from app.policy import can, require
from app.reports import bp, charts
from app.reports.forms import StatsFilterForm
from app.services.core.errors import Invalid, NotFound
from app.services.reports import assignment_history as stats_assignment_history
from app.services.reports import department_report as stats_department_report
from app.services.reports import exports, statistics
from app.services.tasks import filtering as task_filtering
from app.utils.fields import lenient_int


def _stats_form(with_operators: bool = False) -> StatsFilterForm:
    options = task_filtering.filter_options()
    return StatsFilterForm(request.args).with_options(options.departments,
                                                      options.operators if with_operators else ())


def _filtered(template: str, action: str, build, with_operators: bool = False, **context):
    """A statistics page: the figures for valid filters, or the form with its errors (400)."""
    require(current_user, action)
    form = _stats_form(with_operators)
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    try:
        filters = form.to_filters()
    except Invalid:
        return render_template(template, form=form, data=None, query=query, **context), 400
    return render_template(template, form=form, data=build(filters), filters=filters, query=query,
                           rate=exports.format_rate, hours=exports.format_hours, days=exports.format_days, **context)


@bp.route("/stats")
@login_required
def stats():
    def build(filters):
        figures = statistics.statistics(current_user, filters)
        return {"figures": figures, "charts": {"completions": charts.completions(figures.series),
                                               "departments": charts.departments(figures.departments),
                                               "ranking": charts.ranking(figures.ranking)}}

    return _filtered("reports/stats.html", "stats.view", build)


@bp.route("/stats/collaboration")
@login_required
def collaboration():
    def build(filters):
        rows = statistics.operator_rows(current_user, filters, with_workload=True)
        return {"rows": rows, "summary": statistics.team_summary(rows)}

    return _filtered("reports/collaboration.html", "stats.collaboration", build, with_operators=True)


@bp.route("/stats/assignments")
@login_required
def assignments():
    page = request.args.get("page", "1")
    return _filtered("reports/assignments.html", "stats.assignments",
                     lambda filters: stats_assignment_history.assignment_history(filters, max(1, lenient_int(page, 1))),
                     with_operators=True)


# ---------------------------------------------------------------- downloads

def _download(content: bytes, title: str, extension: str, mimetype: str) -> Response:
    name = exports.file_name(title, extension)
    response = Response(content, mimetype=mimetype)
    # An ASCII name for old clients, the Chinese one (RFC 5987) for everyone else.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"export.{extension}\"; filename*=UTF-8''{quote(name)}")
    return response


@bp.route("/exports/tasks.xlsx")
@login_required
def export_tasks():
    require(current_user, "export.tasks")
    _form, filters = parse_task_filters(request.args, task_filtering.filter_options())
    return _download(exports.task_workbook(current_user, filters), "任务列表", "xlsx", exports.XLSX_MIMETYPE)


@bp.route("/exports/workorders.xlsx")
@login_required
def export_workorders():
    require(current_user, "export.workorders")
    filters = WorkOrderFilterForm(request.args).to_filters()
    return _download(exports.work_order_workbook(current_user, filters), "施工单列表", "xlsx", exports.XLSX_MIMETYPE)


@bp.route("/exports/completions.csv")
@login_required
def export_completions():
    require(current_user, "stats.view")
    filters = _stats_form().to_filters()
    return _download(exports.completions_csv(current_user, filters), "完成统计", "csv", "text/csv; charset=utf-8")


@bp.route("/exports/collaboration.xlsx")
@login_required
def export_collaboration():
    require(current_user, "stats.collaboration")
    filters = _stats_form(with_operators=True).to_filters()
    return _download(exports.collaboration_workbook(current_user, filters), "协作统计", "xlsx", exports.XLSX_MIMETYPE)


@bp.route("/exports/assignments.xlsx")
@login_required
def export_assignments():
    require(current_user, "stats.assignments")
    filters = _stats_form(with_operators=True).to_filters()
    return _download(exports.assignments_workbook(filters), "分派历史", "xlsx", exports.XLSX_MIMETYPE)


@bp.route("/exports/departments")
@login_required
def choose_department_report():
    """The department report without a department filter: it asks which department (and period)."""
    require(current_user, "report.department")
    form = StatsFilterForm(request.args).with_options(
        [d for d in task_filtering.filter_options().departments if can(current_user, "report.department", d)])
    form.department.choices = form.department.choices[1:]  # a department must be chosen: no 全部
    chosen = request.args.get("department", "")
    period = {key: value for key, value in request.args.items() if key in ("date_from", "date_to") and value}
    if chosen.isdigit() and chosen in dict(form.department.choices):
        return redirect(url_for("reports.export_department", department_id=int(chosen), **period))
    return render_template("reports/department_report.html", form=form, query=period)


@bp.route("/exports/departments/<int:department_id>.pdf")
@login_required
def export_department(department_id: int):
    require(current_user, "report.department")
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(_l("部门不存在"), code="department_not_found")
    require(current_user, "report.department", department)
    filters = _stats_form().to_filters()
    report = stats_department_report.department_report(current_user, department, filters.period)
    return _download(exports.department_pdf(report), f"部门报表_{department.name}", "pdf", "application/pdf")
