"""The GET filters of the statistics pages and their downloads: a period, a department, an operator."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form

from app.services.core.errors import Invalid
from app.services.reports import periods as stats_periods
from app.utils.fields import SelectField, lenient_int

ALL = [("", _l("全部"))]
BAD_DATE = _l("请输入有效日期（年-月-日）")


class StatsFilterForm(Form):
    date_from = DateField(_l("开始日期"))
    date_to = DateField(_l("结束日期"))
    department = SelectField(_l("部门"), validate_choice=False)
    operator = SelectField(_l("操作员"), validate_choice=False)
    granularity = SelectField(_l("统计粒度"), choices=list(stats_periods.GRANULARITIES.items()), default="day",
                              validate_choice=False)

    def with_options(self, departments, operators=()) -> StatsFilterForm:
        self.department.choices = ALL + [(str(d.id), d.name) for d in departments]
        self.operator.choices = ALL + [(str(u.id), u.name) for u in operators]
        return self

    def to_filters(self) -> stats_periods.StatsFilters:
        """The filters, or Invalid with a Chinese message next to each bad field (nothing is guessed)."""
        errors = {}
        for field in (self.date_from, self.date_to):
            # An empty date means "the default period"; only something typed that is not a date is wrong.
            if field.process_errors and (field.raw_data or [""])[0].strip():
                errors[field.name] = BAD_DATE
        default = stats_periods.Period.last_days()
        first, last = self.date_from.data or default.first, self.date_to.data or default.last
        if not errors and first > last:
            errors["date_to"] = _l("结束日期不能早于开始日期")
        elif not errors and (last - first).days >= stats_periods.MAX_PERIOD_DAYS:
            errors["date_to"] = _l("统计期间最长 %(days)s 天", days=stats_periods.MAX_PERIOD_DAYS)
        for name, message in errors.items():
            getattr(self, name).errors = [message]
        if errors:
            raise Invalid(next(iter(errors.values())), code="invalid_period", fields=errors)
        if not self.date_from.data:
            self.date_from.data = first
        if not self.date_to.data:
            self.date_to.data = last

        def chosen(field) -> int | None:
            value = field.data or ""
            return lenient_int(value) if value in dict(field.choices) else None

        granularity = self.granularity.data if self.granularity.data in stats_periods.GRANULARITIES else "day"
        return stats_periods.StatsFilters(stats_periods.Period(first, last), chosen(self.department), chosen(self.operator),
                                       granularity)
