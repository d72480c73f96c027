"""The versioned JSON API (issue 9): ``/api/v1/...`` for machines, its OpenAPI document and ``/api/docs``."""
from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
# Token requests carry no cookie to forge; session requests are checked in app.api.auth instead.
csrf.exempt(bp)

from app.api import (  # noqa: E402,F401
    auth,
    departments,
    docs,
    errors,
    notifications,
    planning,  # noqa: E402,F401
    tasks,
    workorders,
)

errors.register_error_handlers(bp)
auth.register(bp)
