from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.supervision import bp
from app.views import not_ready


@bp.route("/supervisor")
@login_required
def board():
    return not_ready(_l("主管看板"), _l("这里将显示您所管部门的任务看板，可拖拽分配任务。"), "supervisor.board")
