from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.kiosk import bp
from app.views import not_ready


@bp.route("/kiosk")
@login_required
def index():
    return not_ready(_l("我的任务"), _l("这里将显示您的任务和可认领的任务，可开始、暂停、报工。"), "kiosk.use")
