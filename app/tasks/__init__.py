from flask import Blueprint

bp = Blueprint("tasks", __name__)

from app.tasks import (
    assignment_routes,  # noqa: E402,F401
    centre,  # noqa: E402,F401
    routes,  # noqa: E402,F401
)
