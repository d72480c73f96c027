from flask import Blueprint

bp = Blueprint("workorders", __name__)

from app.workorders import (  # noqa: E402
    draft_routes,  # noqa: F401
    form_routes,  # noqa: F401
    routes,  # noqa: F401
)
