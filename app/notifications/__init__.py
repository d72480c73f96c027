from flask import Blueprint

from app.access import guard

bp = Blueprint("notifications", __name__)
# Everyone signed in (and active) reads their own notifications: declared once for every view.
guard(bp, "notifications.view")

from app.notifications import commands, routes  # noqa: E402,F401
