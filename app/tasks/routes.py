from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.tasks import bp
from app.views import not_ready


@bp.route("/tasks")
@login_required
def index():
    return not_ready(_l("任务中心"), _l("这里将按角色列出任务，支持筛选、搜索和批量操作。"), "task.list")
