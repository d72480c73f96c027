"""机台 (/admin/workstations) and 工作日历 (/admin/calendar): thin views over app.services.planning."""
from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField

from app.admin import bp
from app.admin.common import attach_errors, blank_row, commit_and_finish, finished, list_args, list_query, render, save
from app.admin.forms import ACTIVE, ALL, FilterForm, filter_form, sort_choices
from app.extensions import db
from app.models import Workstation
from app.policy import require
from app.services.admin.master_data import ids
from app.services.core.errors import Invalid
from app.services.planning import calendar as plant_calendar
from app.services.planning import workstations_admin as service
from app.utils.fields import CreateOnceMixin, SelectField
from app.utils.wording import named

NOTHING = ("", "—")


class WorkstationFilter(FilterForm):
    department = SelectField(_l("部门"))
    active = SelectField(_l("状态"), choices=ACTIVE)
    sort = SelectField(_l("排序方式"), choices=sort_choices(("code", _l("编码")), ("name", _l("名称")),
                                                          ("department", _l("部门")), ("created", _l("创建时间"))))


class ProcessRowForm(Form):
    process_id = SelectField(_l("工序"), validate_choice=False)
    rate_per_hour = StringField(_l("标准产能（件/小时）"), render_kw={"inputmode": "decimal"})
    setup_minutes = StringField(_l("换型时间（分钟）"), default="0", render_kw={"inputmode": "numeric"})


class WorkstationForm(CreateOnceMixin, FlaskForm):
    department_id = SelectField(_l("部门"), validate_choice=False)
    code = StringField(_l("机台编码"), description=_l("例如 PRT-01；字母、数字、下划线和连字符"))
    name = StringField(_l("机台名称"))
    is_active = BooleanField(_l("启用"), default=True)
    processes = FieldList(FormField(ProcessRowForm))


class CalendarForm(FlaskForm):
    day_0 = StringField(_l("星期一"))
    day_1 = StringField(_l("星期二"))
    day_2 = StringField(_l("星期三"))
    day_3 = StringField(_l("星期四"))
    day_4 = StringField(_l("星期五"))
    day_5 = StringField(_l("星期六"))
    day_6 = StringField(_l("星期日"))
    closed_dates = TextAreaField(_l("非工作日"), description=_l("每行一个日期，例如 2026-10-01"))


def _department_choices():
    return [(str(d.id), d.name) for d in service.department_choices()]


def _process_choices():
    return [NOTHING, *[(str(p.id), named(p.name, p.code)) for p in service.process_choices()]]


@bp.route("/admin/workstations")
@login_required
def workstations():
    require(current_user, "admin.access")
    query = list_query("department", "active")
    form = filter_form(WorkstationFilter, request.args, department=[ALL, *_department_choices()])
    return render("admin/workstations/index.html", "admin/workstations/_list.html", title=_("机台"),
                  form=form, page=service.list_workstations(query), query=list_args())


def _form_page(form, workstation=None, status=200):
    form.department_id.choices = [NOTHING, *_department_choices()]
    if workstation is not None and str(workstation.department_id) not in {c[0] for c in form.department_id.choices}:
        form.department_id.choices.append((str(workstation.department_id), workstation.department.name))
    choices = _process_choices()
    for entry in form.processes:
        entry.form.process_id.choices = choices
    title = _("编辑机台：%(code)s", code=workstation.code) if workstation else _("新建机台")
    return render("admin/form_page.html", "admin/workstations/_form.html", status, title=title, form=form,
                  workstation=workstation, back=url_for("admin.workstations"))


def _data(form) -> dict:
    data = dict(form.data)
    data["processes"] = [row for row in data.get("processes") or []]
    return data


@bp.route("/admin/workstations/new")
@login_required
def workstation_new():
    require(current_user, "admin.access")
    department = ids([request.args.get("department")])
    data = {"processes": [{}], "department_id": str(department[0]) if department else ""}
    return _form_page(WorkstationForm(formdata=None, data=data))


@bp.route("/admin/workstations", methods=["POST"])
@login_required
def workstation_create():
    require(current_user, "admin.access")
    form = WorkstationForm()
    return save(form, lambda: service.create_workstation(current_user, _data(form)),
                lambda status: _form_page(form, None, status),
                lambda w: _("已创建机台 %(code)s", code=w.code), url_for("admin.workstations"), creates=Workstation)


@bp.route("/admin/workstations/<int:workstation_id>/edit")
@login_required
def workstation_edit(workstation_id: int):
    require(current_user, "admin.access")
    workstation = service.get_workstation(workstation_id)
    data = {"department_id": str(workstation.department_id), "code": workstation.code, "name": workstation.name,
            "is_active": workstation.is_active,
            "processes": [{"process_id": str(c.process_id), "rate_per_hour": _number(c.rate_per_hour),
                           "setup_minutes": str(c.setup_minutes)} for c in workstation.capabilities] or [{}]}
    return _form_page(WorkstationForm(formdata=None, data=data), workstation)


def _number(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.route("/admin/workstations/<int:workstation_id>", methods=["POST"])
@login_required
def workstation_update(workstation_id: int):
    require(current_user, "admin.access")
    workstation = service.get_workstation(workstation_id)
    form = WorkstationForm()
    return save(form, lambda: service.update_workstation(current_user, workstation, _data(form)),
                lambda status: _form_page(form, workstation, status),
                lambda w: _("已保存机台 %(code)s", code=w.code), url_for("admin.workstations"))


@bp.route("/admin/workstations/<int:workstation_id>/deactivate", methods=["POST"])
@login_required
def workstation_deactivate(workstation_id: int):
    require(current_user, "admin.access")
    workstation = service.get_workstation(workstation_id)
    service.set_active(current_user, workstation, False)
    return commit_and_finish(_("已停用机台：%(code)s", code=workstation.code), "admin.workstations")


@bp.route("/admin/workstations/<int:workstation_id>/activate", methods=["POST"])
@login_required
def workstation_activate(workstation_id: int):
    require(current_user, "admin.access")
    workstation = service.get_workstation(workstation_id)
    service.set_active(current_user, workstation, True)
    return commit_and_finish(_("已启用机台：%(code)s", code=workstation.code), "admin.workstations")


@bp.route("/admin/workstations/process-row")
@login_required
def workstation_process_row():
    """One more blank process row for the workstation form (添加工序)."""
    require(current_user, "admin.access")
    index = (ids([request.args.get("process_next")]) or [0])[0]
    entry = blank_row(WorkstationForm(formdata=None).processes, index)
    entry.form.process_id.choices = _process_choices()
    return render("admin/workstations/_process_row.html", entry=entry, next_index=index + 1)


# ---------------------------------------------------------------- plant calendar

def _calendar_page(form, status=200):
    return render("admin/workstations/calendar.html", "admin/workstations/_calendar_form.html", status,
                  title=_("工作日历"), form=form, labels=plant_calendar.WEEKDAY_LABELS)


@bp.route("/admin/calendar")
@login_required
def calendar():
    require(current_user, "admin.access")
    hours, closed = plant_calendar.form_values(plant_calendar.load())
    data = {f"day_{day}": text for day, text in hours.items()}
    data["closed_dates"] = closed
    return _calendar_page(CalendarForm(formdata=None, data=data))


@bp.route("/admin/calendar", methods=["POST"])
@login_required
def calendar_update():
    require(current_user, "admin.access")
    form = CalendarForm()
    try:
        parsed = plant_calendar.parse({day: form[f"day_{day}"].data or "" for day in range(7)},
                                      form.closed_dates.data or "")
        plant_calendar.save(current_user, parsed)
    except Invalid as error:
        db.session.rollback()
        attach_errors(form, error)
        return _calendar_page(form, 422)
    db.session.commit()
    return finished(_("工作日历已保存，排产已按新日历重新计算"), url_for("admin.calendar"))
