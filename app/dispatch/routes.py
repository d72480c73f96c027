from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.dispatch import bp
from app.views import not_ready


@bp.route("/dispatch/rules")
@login_required
def rules():
    return not_ready(_l("分派规则"), _l("这里将配置各工序的分派部门及优先级，并预览分派结果。"), "dispatch.rules.view")


@bp.route("/dispatch/pool")
@login_required
def pool():
    return not_ready(_l("待分派"), _l("这里将列出尚未分派到部门的任务。"), "dispatch.pool")
