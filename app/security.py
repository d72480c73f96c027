"""Security headers on every response.

The Content-Security-Policy allows only our own scripts and style sheets: templates carry no inline
<script>, no on* / hx-on handlers, and htmx runs with allowEval off (base.html's htmx-config), so
neither 'unsafe-inline' nor 'unsafe-eval' is needed for scripts. Inline style *attributes* stay allowed
(style-src-attr): progress bars set their width from the server, which is data, not code. Images may
also be data: URLs (the API documentation's icons); an image cannot run code.
"""
from flask import Flask, Response, request

_STATIC_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)


def content_security_policy(host: str, frame_ancestors: str) -> str:
    # 'self' covers ws:/wss: of the same host only in CSP level 3 browsers; name them for the rest.
    connect = f"connect-src 'self' ws://{host} wss://{host}"
    return "; ".join((*_STATIC_POLICY, connect, f"frame-ancestors {frame_ancestors}"))


def _board_frame_ancestors(app: Flask) -> str | None:
    """The sources allowed to frame the TV board (/board/...), or None when it may not be framed."""
    if request.path.startswith("/board/"):
        return app.config.get("BOARD_FRAME_ANCESTORS") or None
    return None


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        ancestors = _board_frame_ancestors(app)
        # A view that serves a document (a PDF for the browser's viewer) may set a narrower policy of its own.
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request.host, ancestors or "'none'"))
        if ancestors is None:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
