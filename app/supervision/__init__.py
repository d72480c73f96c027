from flask import Blueprint

bp = Blueprint("supervision", __name__)

from app.supervision import routes  # noqa: E402,F401
