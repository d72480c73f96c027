from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.notifications import bp
from app.views import not_ready


@bp.route("/notifications")
@login_required
def index():
    return not_ready(_l("通知中心"), _l("这里将列出最近 30 天的通知。"), "notifications.view")
