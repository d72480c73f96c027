"""Security headers on every GET route (pages, fragments, downloads, errors); the TV board's framing rule."""
import pytest
from werkzeug.routing import IntegerConverter, PathConverter

from app import create_app
from app.security import content_security_policy

# Path arguments of the URL map filled with sample values: a real row or not, the answer must carry the headers.
SAMPLE_TEXT = "A1"


def _sample_argument(converter):
    if isinstance(converter, IntegerConverter):  # the app's bounded id converter is one too
        return 1
    if isinstance(converter, PathConverter):
        return "design/none.pdf"
    return SAMPLE_TEXT

NOT_PAGES = {"realtime.socket", "static"}  # the WebSocket handshake; static files have their own test below


def _sample_get_paths() -> list[str]:
    application = create_app({"TESTING": True, "METRICS_ENABLED": False, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                              "SECRET_KEY": "x" * 40})
    adapter = application.url_map.bind("localhost")
    paths = set()
    for rule in application.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in NOT_PAGES:
            # Arguments with a default in the rule (not in the path) have no converter and need no value.
            values = {name: _sample_argument(converter)
                      for name, converter in rule._converters.items()}
            paths.add(adapter.build(rule.endpoint, values, method="GET"))
    return sorted(paths)


EXPECTED_HEADERS = {
    "Content-Security-Policy": content_security_policy("localhost", "'none'"),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


GET_PATHS = _sample_get_paths()


def test_the_policy_allows_only_our_own_scripts():
    policy = dict(part.split(" ", 1) for part in content_security_policy("plant.example", "'none'").split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self' ws://plant.example wss://plant.example"
    assert policy["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("role", ["anonymous", "admin"])
@pytest.mark.parametrize("path", GET_PATHS)
def test_every_get_route_sends_the_security_headers(seeded, client, login_as, role, path):
    if role != "anonymous":
        login_as(role)
    response = client.get(path)
    assert response.status_code < 500
    assert {name: response.headers.get(name) for name in EXPECTED_HEADERS} == EXPECTED_HEADERS


def test_the_route_list_is_the_whole_url_map():
    # A new GET route joins the list by itself; this guards against the list silently shrinking.
    assert {"/", "/workorders", "/tasks", "/kiosk", "/supervisor", "/stats", "/admin/users",
            "/board/A1"} <= set(GET_PATHS)


def test_a_static_file_sends_the_headers_too(client):
    response = client.get("/static/js/app.js")
    assert (response.status_code, response.headers["X-Content-Type-Options"]) == (200, "nosniff")
    assert response.headers["Content-Security-Policy"] == EXPECTED_HEADERS["Content-Security-Policy"]


def test_the_tv_board_may_be_framed_only_by_the_configured_ancestors(app, client, seeded):
    app.config["BOARD_FRAME_ANCESTORS"] = "https://signage.example"
    try:
        board = client.get("/board/PRINT")
        other = client.get("/login")
    finally:
        app.config["BOARD_FRAME_ANCESTORS"] = ""
    assert "X-Frame-Options" not in board.headers
    assert board.headers["Content-Security-Policy"].endswith("frame-ancestors https://signage.example")
    assert other.headers["X-Frame-Options"] == "DENY"
    assert other.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")


def test_without_the_setting_the_tv_board_cannot_be_framed(client, seeded):
    board = client.get("/board/PRINT")
    assert board.headers["X-Frame-Options"] == "DENY"
    assert board.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
