"""Downloads: 施工单 and task lists (.xlsx), completion statistics (.csv), a department report (.pdf).

Every export reads through the same queries as the page it comes from (``task_queries``,
``workorders.list_work_orders``, ``statistics``), so it holds exactly the rows the viewer sees
under the same filters. Above ``MAX_ROWS`` rows an export is refused with the count, rather
than cut short silently. Nothing here needs a system package: openpyxl writes the workbooks and
reportlab draws the PDF with WenQuanYi Micro Hei embedded (the file ships in a pip package; the system's
copy if that is missing), so it prints the same on every machine; without either, the built-in CID font
STSong-Light, which a viewer must supply.
"""
from __future__ import annotations

import csv
import functools
import io
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape as paragraph_text

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from app.enums import ApprovalStatus, Priority, TaskStatus, TaskType, WorkOrderStatus
from app.extensions import db
from app.models import User
from app.services.core.errors import Invalid
from app.services.reports import assignment_history as stats_assignment_history
from app.services.reports import department_report as stats_department_report
from app.services.reports import periods as stats_periods
from app.services.reports import statistics
from app.services.tasks import filtering as task_filtering
from app.services.tasks import queries as task_queries
from app.services.workorders import queries as workorder_queries
from app.utils.timeutil import plant_now, plant_zone
from app.utils.wording import join_list

MAX_ROWS = 10_000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1860C4")
STATUS_FILLS = {
    "completed": PatternFill("solid", fgColor="C6EFCE"),
    "cancelled": PatternFill("solid", fgColor="FFC7CE"),
    "draft": PatternFill("solid", fgColor="E2F0D9"),
}
# A cell whose text starts with one of these is taken for a formula by Excel, LibreOffice or a
# sheet importer (CSV / formula injection): a name or a note typed as "=HYPERLINK(...)" must stay text.
# The full-width forms are in the list because some spreadsheet programs read them as the ASCII ones.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def ensure_exportable(count: int) -> None:
    if count > MAX_ROWS:
        raise Invalid(_l("导出数据量过大（%(count)s条），最多支持导出%(max)s条，请缩小筛选范围后再导出",
                         count=count, max=MAX_ROWS), code="too_many_rows")


def looks_like_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_text(value):
    """A CSV value as OWASP advises against CSV injection: text that could start a formula gets a
    leading ``'`` (which spreadsheets show as a text marker); numbers stay numbers."""
    return f"'{value}" if looks_like_formula(value) else value


def text_cell(sheet, value) -> WriteOnlyCell:
    """A worksheet cell; text is always a string cell (openpyxl would store text starting with "="
    as a formula), and formula-like text is also marked quote-prefixed, so editing the cell in Excel
    does not turn it into a formula either."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True
    return cell


def file_name(title: str, extension: str) -> str:
    return f"{title}_{plant_now():%Y%m%d_%H%M%S}.{extension}"


def plant_time(moment: datetime | None) -> datetime | None:
    """Naive plant time for a spreadsheet cell (Excel has no time zones)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(plant_zone()).replace(tzinfo=None)


# ---------------------------------------------------------------- workbooks

def _workbook(title: str, headers: list[str], widths: list[int], rows, status_column: int | None = None) -> bytes:
    """One sheet: a bold blue header row frozen above the data; status cells coloured."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths):
        sheet.column_dimensions[_column_letter(index)].width = width
    header = []
    for text in headers:
        cell = text_cell(sheet, text)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        header.append(cell)
    sheet.append(header)
    for values, status in rows:
        cells = []
        for index, value in enumerate(values):
            cell = text_cell(sheet, value)
            if isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif hasattr(value, "isoformat"):
                cell.number_format = DATE_FORMAT
            if index == status_column and status in STATUS_FILLS:
                cell.fill = STATUS_FILLS[status]
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


TASK_COLUMNS = [
    (_l("任务编号"), 20), (_l("施工单号"), 16), (_l("工序"), 10), (_l("任务类型"), 10), (_l("工作内容"), 36),
    (_l("分派部门"), 12), (_l("分派操作员"), 12), (_l("生产数量"), 10), (_l("完成数量"), 10), (_l("不良品数量"), 10),
    (_l("进度(%)"), 8), (_l("优先级"), 8), (_l("状态"), 8), (_l("交货日期"), 12), (_l("创建时间"), 17),
    (_l("更新时间"), 17), (_l("生产要求"), 30),
]
TASK_STATUS_COLUMN = 12


def task_workbook(user, filters: task_filtering.TaskFilters) -> bytes:
    ensure_exportable(task_queries.count_tasks(user, filters))
    rows = (([
        task.number, task.work_order.number, task.process.name, TaskType.label_of(task.task_type), task.content,
        task.department.name if task.department else "", task.operator.name if task.operator else "",
        task.target_quantity, task.completed_quantity, task.defective_quantity, task.progress_percent,
        Priority.label_of(task.work_order.priority), TaskStatus.label_of(task.status), task.work_order.delivery_date,
        plant_time(task.created_at), plant_time(task.updated_at), task.production_requirements,
    ], task.status) for task in task_queries.all_tasks(user, filters, MAX_ROWS))
    return _workbook(_("任务列表"), [str(h) for h, _w in TASK_COLUMNS], [w for _h, w in TASK_COLUMNS], rows,
                     TASK_STATUS_COLUMN)


WORK_ORDER_COLUMNS = [
    (_l("施工单号"), 16), (_l("客户名称"), 24), (_l("业务员"), 10), (_l("创建人"), 10), (_l("创建时间"), 17),
    (_l("订单日期"), 12), (_l("交货日期"), 12), (_l("状态"), 8), (_l("审核状态"), 10), (_l("优先级"), 8),
    (_l("备注"), 30),
]


def work_order_workbook(user, filters: workorder_queries.ListFilters) -> bytes:
    ensure_exportable(workorder_queries.list_work_orders(user, filters, 1, 0).total)
    work_orders = workorder_queries.list_work_orders(user, filters, 1, MAX_ROWS).items
    # Salespeople and creators in one query; each row then finds its people in the session.
    people = {wo.created_by_id for wo in work_orders} | {wo.customer.salesperson_id for wo in work_orders}
    list(db.session.scalars(select(User).where(User.id.in_(people - {None}))))
    rows = (([
        wo.number, wo.customer.name, wo.customer.salesperson.name if wo.customer.salesperson else "",
        wo.created_by.name if wo.created_by else "", plant_time(wo.created_at), wo.order_date, wo.delivery_date,
        WorkOrderStatus.label_of(wo.status), ApprovalStatus.label_of(wo.approval_status),
        Priority.label_of(wo.priority), wo.notes,
    ], None) for wo in work_orders)
    return _workbook(_("施工单列表"), [str(h) for h, _w in WORK_ORDER_COLUMNS], [w for _h, w in WORK_ORDER_COLUMNS],
                     rows)


COLLABORATION_COLUMNS = [
    (_l("操作员"), 12), (_l("所属部门"), 20), (_l("期间完成"), 10), (TaskStatus.labels["in_progress"], 8),
    (TaskStatus.labels["paused"], 8), (TaskStatus.labels["pending"], 8), (_l("完成率"), 8), (_l("完成数量"), 10),
    (_l("不良品数"), 10), (_l("不良品率"), 8),
    (_l("平均工时"), 10), (_l("期间工时"), 10),
]


def collaboration_workbook(user, filters: stats_periods.StatsFilters) -> bytes:
    """协作统计 as its page shows it: one row per operator under the same filters."""
    operators = statistics.operator_rows(user, filters, with_workload=True)
    ensure_exportable(len(operators))
    rows = (([
        row.operator.name, join_list(d.name for d in row.operator.departments), row.completed_tasks,
        row.open_counts["in_progress"], row.open_counts["paused"], row.open_counts["pending"],
        format_rate(row.completion_rate), row.completed_quantity, row.defective_quantity, format_rate(row.defect_rate),
        format_hours(row.average_work_seconds), format_hours(row.work_seconds),
    ], None) for row in operators)
    return _workbook(_("协作统计"), [str(h) for h, _w in COLLABORATION_COLUMNS],
                     [w for _h, w in COLLABORATION_COLUMNS], rows)


ASSIGNMENT_COLUMNS = [
    (_l("时间"), 17), (_l("施工单号"), 16), (_l("任务编号"), 20), (_l("动作"), 10), (_l("调整内容"), 36),
    (_l("当前部门"), 12), (_l("当前操作员"), 12), (_l("操作人"), 12),
]


def assignments_workbook(filters: stats_periods.StatsFilters) -> bytes:
    """分派历史 under the page's filters, every row (newest first) instead of one page."""
    ensure_exportable(stats_assignment_history.assignment_history(filters, 1, 1).total)
    history = stats_assignment_history.assignment_history(filters, 1, MAX_ROWS)
    rows = (([
        plant_time(row.entry.at), row.task.work_order.number if row.task else "",
        row.task.number if row.task else _("任务已删除"), row.action_label, row.change,
        row.task.department.name if row.task and row.task.department else "",
        row.task.operator.name if row.task and row.task.operator else "",
        row.entry.user.name if row.entry.user else _("系统"),
    ], None) for row in history.rows)
    return _workbook(_("分派历史"), [str(h) for h, _w in ASSIGNMENT_COLUMNS], [w for _h, w in ASSIGNMENT_COLUMNS],
                     rows)


# ---------------------------------------------------------------- completions.csv

def completions_csv(user, filters: stats_periods.StatsFilters) -> bytes:
    """Completed tasks per working date, department and operator; UTF-8 with a BOM so Excel reads it."""
    lines = statistics.completion_lines(user, filters)
    ensure_exportable(len(lines))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("完成日期"), _("部门"), _("操作员"), _("完成任务数"), _("完成数量"), _("不良品数量"), _("不良品率")])
    for line in lines:
        writer.writerow([line.day.isoformat(), csv_text(line.department), csv_text(line.operator), line.tasks,
                         line.quantity, line.defective, format_rate(line.defect_rate)])
    return buffer.getvalue().encode("utf-8-sig")


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def format_hours(seconds: float | None) -> str:
    return "—" if seconds is None else _("%(hours)s 小时", hours=f"{seconds / 3600:.1f}")


# ---------------------------------------------------------------- the department report (PDF)

EMBEDDED_FONT = "WenQuanYiMicroHei"
FALLBACK_FONT = "STSong-Light"
SYSTEM_FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _font_file() -> Path | None:
    """The TrueType file of WenQuanYi Micro Hei from Debian's fonts-wqy-microhei (DEPLOYMENT.md installs it)."""
    return SYSTEM_FONT_FILE if SYSTEM_FONT_FILE.is_file() else None


@functools.cache
def pdf_font() -> str:
    """The registered name of the PDF's font: the embedded TrueType one when a file exists."""
    path = _font_file()
    if path is not None:
        pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, str(path), subfontIndex=0))
        return EMBEDDED_FONT
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def department_pdf(report: stats_department_report.DepartmentReport) -> bytes:
    font = pdf_font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 9), ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E3F0FF")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])

    def table(rows, widths=None):
        t = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT", spaceAfter=4)
        t.setStyle(grid)
        return t

    totals = report.totals
    department = report.department
    story = [
        Paragraph(_("部门报表：%(name)s", name=paragraph_text(department.full_name)), title_style),
        Paragraph(_("统计期间：%(first)s 至 %(last)s", first=report.period.first.isoformat(),
                    last=report.period.last.isoformat()), body),
        Paragraph(_("生成时间：%(now)s", now=f"{plant_now():%Y-%m-%d %H:%M}"), body),
        Paragraph(_("任务概况"), heading),
        table([
            [TaskStatus.label_of("pending"), TaskStatus.label_of("in_progress"), TaskStatus.label_of("paused"),
             _("期间完成任务"), _("完成数量"), _("不良品数量"), _("完成率"),
             _("不良品率"), _("平均工时")],
            [report.counts["pending"], report.counts["in_progress"], report.counts["paused"], totals.tasks,
             totals.quantity, totals.defective, format_rate(report.completion_rate), format_rate(totals.defect_rate),
             format_hours(totals.average_work_seconds)],
        ]),
        Paragraph(_("完成率 = 期间完成任务 ÷（期间完成任务 + 当前未完成任务）；不良品率 = 不良品 ÷（良品 + 不良品）"), body),
        Paragraph(_("操作员排行（按完成数量，前 %(n)s 名）", n=stats_department_report.TOP_IN_REPORT), heading),
    ]
    if report.top_operators:
        story.append(table([[_("排名"), _("操作员"), _("完成任务数"), _("完成数量"), _("不良品率"), _("平均工时")]] + [
            [index, row.operator.name, row.completed_tasks, row.completed_quantity, format_rate(row.defect_rate),
             format_hours(row.average_work_seconds)] for index, row in enumerate(report.top_operators, 1)]))
    else:
        story.append(Paragraph(_("期间内没有完成的任务"), body))
    story.append(Paragraph(_("逾期任务（共 %(n)s 个）", n=report.overdue_total), heading))
    if report.overdue:
        cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12)
        story.append(table([[_("任务编号"), _("施工单号"), _("工作内容"), _("操作员"), _("交货日期"), _("状态")]] + [
            [task.number, task.work_order.number, Paragraph(paragraph_text(task.content), cell),
             task.operator.name if task.operator else _("未分配"), task.work_order.delivery_date.isoformat(),
             TaskStatus.label_of(task.status)] for task in report.overdue],
            [38 * mm, 28 * mm, 52 * mm, 20 * mm, 22 * mm, 16 * mm]))
        if report.overdue_total > len(report.overdue):
            story.append(Paragraph(_("仅列出交货日期最早的 %(n)s 个", n=len(report.overdue)), body))
    else:
        story.append(Paragraph(_("没有逾期任务"), body))
    story.append(Spacer(1, 6 * mm))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                                 bottomMargin=15 * mm, title=_("部门报表：%(name)s", name=department.name))
    document.build(story)
    return buffer.getvalue()


def format_days(seconds: float | None) -> str:
    return "—" if seconds is None else _("%(days)s 天", days=f"{seconds / 86400:.1f}")
