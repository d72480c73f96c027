from flask import Blueprint

bp = Blueprint("workorders", __name__)

from app.workorders import routes  # noqa: E402,F401
