from flask import Blueprint

bp = Blueprint("notifications", __name__)

from app.notifications import commands, routes  # noqa: E402,F401
