from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from app.kiosk import routes  # noqa: F401
