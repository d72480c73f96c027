from flask import Blueprint

from app.access import guard

bp = Blueprint("admin", __name__)
# Every admin page is for admins, declared here once; the customer and plate pages (and 确认 of a
# plate) name their own rule with @requires (app/access.py).
guard(bp, "admin.access")

from app.admin import (  # noqa: E402,F401
    api_tokens,
    catalog,
    organisation,
    people,
    plates,
    routes,
    workstations,  # noqa: E402,F401
)
