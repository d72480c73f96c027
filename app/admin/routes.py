"""系统管理: the landing page with counts, plant settings, the audit log and 系统状态."""
from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app.admin import bp
from app.admin.common import admin_sections, attach_errors, finished, list_args, list_query, render
from app.admin.forms import ALL, AuditFilter, SettingsForm, filter_form
from app.extensions import db
from app.models import AuditLog, Customer, Department, Material, Plate, Process, Product, User
from app.services.admin import audit_log as admin_audit
from app.services.admin import system_status
from app.services.core import settings as plant_settings
from app.services.core.errors import Invalid

# (endpoint, label, model counted, what the page is for)
OVERVIEW = [
    ("admin.users", _l("人员"), User, _l("账号、角色、部门、密码和工位机 PIN")),
    ("admin.departments", _l("部门"), Department, _l("部门树和各部门负责的工序")),
    ("admin.processes", _l("工序"), Process, _l("工序目录、标准工时、所需的版")),
    ("admin.customers", _l("客户"), Customer, _l("客户资料和负责的业务员")),
    ("admin.products", _l("产品"), Product, _l("产品、默认工序和默认物料")),
    ("admin.materials", _l("物料"), Material, _l("物料目录和是否需要开料")),
    ("admin.plates", _l("版型"), Plate, _l("图稿、刀模、烫金版、压凸版")),
    ("admin.audit", _l("操作日志"), AuditLog, _l("谁在何时改了什么")),
]


@bp.context_processor
def inject_admin_sections():
    return {"admin_sections": admin_sections}


@bp.route("/admin/")
def index():
    cards = [(endpoint, label, db.session.scalar(select(func.count()).select_from(model)), purpose)
             for endpoint, label, model, purpose in OVERVIEW]
    return render("admin/index.html", title=_("系统管理"), cards=cards, settings=plant_settings.all_values(),
                  setting_specs=plant_settings.SETTINGS)


# ---------------------------------------------------------------- settings

def _settings_page(form, status=200):
    form.describe_ranges()
    return render("admin/settings.html", "admin/_settings_form.html", status, title=_("系统设置"), form=form)


@bp.route("/admin/settings")
def settings():
    return _settings_page(SettingsForm(formdata=None, data=plant_settings.all_values()))


@bp.route("/admin/settings", methods=["POST"])
def settings_update():
    form = SettingsForm()
    try:
        plant_settings.update(current_user, {key: form[key].data for key in plant_settings.SETTINGS})
    except Invalid as error:
        db.session.rollback()
        attach_errors(form, error)
        return _settings_page(form, 422)
    db.session.commit()
    return finished(_("系统设置已保存，立即生效"), url_for("admin.settings"))


# ---------------------------------------------------------------- audit

@bp.route("/admin/audit")
def audit():
    query = list_query("object_type", ids=("user",), dates=("date_from", "date_to"))
    form = filter_form(AuditFilter, request.args, object_type=[ALL, *admin_audit.object_type_options()],
                       user=[ALL, *[(str(u.id), u.name) for u in admin_audit.user_options()]])
    page = admin_audit.list_entries(query)
    return render("admin/audit.html", "admin/_audit_list.html", title=_("操作日志"), form=form, page=page,
                  entries=admin_audit.describe_all(page.items), query=list_args())


# ---------------------------------------------------------------- 系统状态

@bp.route("/admin/system")
def system():
    status = system_status.gather(current_app.config["BACKUP_METRICS_FILE"])
    return render("admin/system.html", "admin/_system.html", title=_("系统状态"), system=status)
