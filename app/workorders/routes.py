from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.views import not_ready
from app.workorders import bp


@bp.route("/workorders")
@login_required
def index():
    return not_ready(_l("施工单"), _l("这里将列出您可见的施工单，并可新建、审核和打印。"), "workorder.list")
