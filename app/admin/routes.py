from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.admin import bp
from app.views import not_ready


@bp.route("/admin/")
@login_required
def index():
    return not_ready(_l("系统管理"), _l("这里将管理人员、部门、工序、产品、物料、版型和系统设置。"), "admin.access")


@bp.route("/admin/customers")
@login_required
def customers():
    return not_ready(_l("客户"), _l("这里将管理客户资料。"), "admin.customers")


@bp.route("/admin/plates")
@login_required
def plates():
    return not_ready(_l("版型"), _l("这里将管理图稿、刀模、烫金版和压凸版。"), "admin.plates")
