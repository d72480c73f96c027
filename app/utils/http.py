"""Small request helpers shared by views and error handlers."""
from flask import request


def is_htmx() -> bool:
    """An htmx request for a fragment; restoring a page from history needs the whole page."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def is_api_request() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json" and not is_htmx()
    )


def client_ip() -> str:
    return request.remote_addr or "unknown"


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths; anything else (//evil, http://, \\) falls back."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target
