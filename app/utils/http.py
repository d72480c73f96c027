"""Small request helpers shared by views and error handlers."""
from flask import request, session
from flask_login import current_user

# Pages of the shop floor whatever the session: an error met there keeps the kiosk frame.
KIOSK_PATH_PREFIXES = ("/kiosk/", "/scan/")
KIOSK_PATHS = ("/kiosk", "/scan")


def is_htmx() -> bool:
    """An htmx request for a fragment; restoring a page from history needs the whole page."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


# live.js marks the re-fetches a push caused: they are the page keeping itself current, not a person at it.
LIVE_REFRESH_HEADER = "X-Live-Refresh"


def is_live_refresh() -> bool:
    return request.headers.get(LIVE_REFRESH_HEADER) == "1"


def is_api_request() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json" and not is_htmx()
    )


def is_kiosk_request() -> bool:
    """The request comes from the shop floor: a kiosk login (PIN), or an operator on a kiosk page or scan.

    The one test the error handler uses to answer inside the kiosk frame rather than with the desk page
    (a supervisor scanning at a desk keeps the desk page: the kiosk is not theirs).
    """
    if not current_user.is_authenticated:
        return False
    if session.get("kiosk_session"):
        return True
    on_kiosk_path = request.path in KIOSK_PATHS or request.path.startswith(KIOSK_PATH_PREFIXES)
    return on_kiosk_path and current_user.has_role("operator")


def client_ip() -> str:
    return request.remote_addr or "unknown"


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths; anything else (//evil, http://, \\) falls back."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target
