"""The GET filters of the task list and the 施工单 list: the pages and their Excel exports share them."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, Form, StringField

from app.enums import ApprovalStatus, Priority, TaskStatus, TaskType, WorkOrderStatus
from app.services.tasks import filtering as task_filtering
from app.services.tasks import queries as task_queries
from app.services.tasks import visibility as task_visibility
from app.services.workorders import queries as workorder_queries
from app.utils.fields import SelectField, lenient_int, optional_int

# Filters whose values are checked against the choices of task_filtering.filter_options().
CHOSEN_FILTERS = ("department", "operator", "process_id")
ALL = [("", _l("全部"))]


class TaskFilterForm(Form):
    """The list's GET filters, reflected in the URL. A value that does not parse is ignored."""

    q = StringField(_l("搜索"), render_kw={"placeholder": _l("任务编号、施工单号、任务内容")})
    work_order = StringField(_l("施工单号"), render_kw={"placeholder": "SG…"})
    status = SelectField(_l("状态"), validate_choice=False,
                         choices=ALL + list(task_visibility.STATUS_LABELS.items()) + TaskStatus.choices())
    department = SelectField(_l("部门"), validate_choice=False)
    operator = SelectField(_l("操作员"), validate_choice=False)
    priority = SelectField(_l("优先级"), choices=ALL + Priority.choices(), validate_choice=False)
    task_type = SelectField(_l("任务类型"), choices=ALL + TaskType.choices(), validate_choice=False)
    process_id = SelectField(_l("工序"), validate_choice=False)
    date_by = SelectField(_l("日期类型"), choices=list(task_filtering.DATE_FIELDS.items()), default="created",
                          validate_choice=False)
    date_from = DateField(_l("日期从"))
    date_to = DateField(_l("日期至"))
    overdue = BooleanField(_l("仅看逾期"))
    drafts = SelectField(_l("草稿任务"), choices=list(task_filtering.DRAFT_CHOICES.items()), validate_choice=False)
    sort = SelectField(_l("排序"), choices=list(task_queries.SORT_LABELS.items()), default="-created",
                       validate_choice=False)
    per_page = SelectField(_l("每页"), choices=[(str(n), str(n)) for n in task_visibility.PAGE_SIZES],
                           default=str(task_visibility.PAGE_SIZES[0]), validate_choice=False)

    def with_options(self, options: task_filtering.FilterOptions) -> TaskFilterForm:
        none = [(task_visibility.NONE, _("未分派"))]
        self.department.choices = ALL + none + [(str(d.id), d.name) for d in options.departments]
        self.operator.choices = ALL + [(task_visibility.NONE, _("未分配"))] + [(str(u.id), u.name) for u in options.operators]
        self.process_id.choices = ALL + [(str(p.id), p.name) for p in options.processes]
        return self

    def to_filters(self) -> task_filtering.TaskFilters:
        def known(field) -> str:
            return field.data if field.choices is not None and field.data in dict(field.choices) else ""

        process = known(self.process_id)
        return task_filtering.TaskFilters(
            q=(self.q.data or "").strip()[:100], work_order=(self.work_order.data or "").strip()[:20],
            status=known(self.status), department=known(self.department), operator=known(self.operator),
            priority=known(self.priority), task_type=known(self.task_type),
            process_id=lenient_int(process), date_by=known(self.date_by) or "created",
            date_from=self.date_from.data, date_to=self.date_to.data, overdue=bool(self.overdue.data),
            drafts=known(self.drafts), sort=known(self.sort) or "-created",
        )

    @property
    def page_size(self) -> int:
        value = self.per_page.data or ""
        size = lenient_int(value)
        return size if size in task_visibility.PAGE_SIZES else task_visibility.PAGE_SIZES[0]


def parse_filters(args, options: task_filtering.FilterOptions | None) -> tuple[TaskFilterForm, task_filtering.TaskFilters]:
    """The task centre's filters from query parameters (the list and its Excel export share them).

    A department, operator or process is checked against ``options``, the choices the form offers;
    without them (no such filter asked for) those filters stay empty.
    """
    form = TaskFilterForm(args)
    if options is not None:
        form.with_options(options)
    filters = form.to_filters()
    # A value that does not parse (a bad date) is ignored, not reported: the field just shows empty.
    for field in form:
        field.errors = []
    return form, filters


class WorkOrderFilterForm(Form):
    """The list's GET filters; every value is reflected in the URL. A value that does not parse
    (a bad date, an unknown status) is ignored rather than reported."""

    q = StringField(_l("搜索"), render_kw={"placeholder": _l("施工单号、产品名称/编码、客户")})
    approval_status = SelectField(_l("审核状态"), choices=[("", _l("全部"))] + ApprovalStatus.choices(),
                                  validate_choice=False)
    status = SelectField(_l("状态"), choices=[("", _l("全部"))] + WorkOrderStatus.choices(), validate_choice=False)
    priority = SelectField(_l("优先级"), choices=[("", _l("全部"))] + Priority.choices(), validate_choice=False)
    customer_id = SelectField(_l("客户"), coerce=optional_int, validate_choice=False)
    salesperson_id = SelectField(_l("业务员"), coerce=optional_int, validate_choice=False)
    created_by_id = SelectField(_l("制单人"), coerce=optional_int, validate_choice=False)
    delivery_from = DateField(_l("交货日期从"))
    delivery_to = DateField(_l("交货日期至"))
    overdue = BooleanField(_l("仅看逾期"))
    at_risk = BooleanField(_l("仅看延期风险"))
    sort = SelectField(_l("排序"), choices=list(workorder_queries.SORT_LABELS.items()), default="-created",
                       validate_choice=False)

    def to_filters(self) -> workorder_queries.ListFilters:
        for field in self:
            field.errors = []

        def known(field) -> str:
            return field.data if field.data in dict(field.choices) else ""

        return workorder_queries.ListFilters(
            q=(self.q.data or "").strip()[:100], approval_status=known(self.approval_status),
            status=known(self.status), priority=known(self.priority), customer_id=self.customer_id.data,
            salesperson_id=self.salesperson_id.data, created_by_id=self.created_by_id.data,
            delivery_from=self.delivery_from.data, delivery_to=self.delivery_to.data,
            overdue=bool(self.overdue.data), at_risk=bool(self.at_risk.data), sort=known(self.sort) or "-created",
        )
