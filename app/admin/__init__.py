from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import api_tokens, catalog, organisation, people, plates, routes  # noqa: E402,F401
from app.admin import workstations  # noqa: E402,F401
