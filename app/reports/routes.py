from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.reports import bp
from app.views import not_ready


@bp.route("/stats")
@login_required
def stats():
    return not_ready(_l("数据统计"), _l("这里将显示完成量、部门任务、操作员排行等统计图表。"), "stats.view")
