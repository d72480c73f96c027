"""Access matrix of the auth, main and machine routes: every route × every role → the exact answer.

The feature areas (/workorders, /tasks, /kiosk, /supervisor, ...) keep their own matrices.
"""
import pytest

ROLES = ("anonymous", "admin", "salesperson", "maker", "supervisor", "operator", "designer")
LANDING = {"admin": "/", "salesperson": "/", "maker": "/", "supervisor": "/supervisor", "operator": "/kiosk",
           "designer": "/"}


def _everyone(answer):
    return dict.fromkeys(ROLES, answer)


# (method, path) → role → (status, Location or None)
MATRIX = {
    ("GET", "/"): {
        "anonymous": (302, "/login?next=/"),
        **{role: (200, None) for role in ("admin", "salesperson", "maker", "supervisor", "designer")},
        "operator": (302, "/kiosk"),
    },
    ("GET", "/login"): {"anonymous": (200, None), **{role: (302, landing) for role, landing in LANDING.items()}},
    ("GET", "/kiosk/login"): _everyone((200, None)),
    ("POST", "/logout"): {"anonymous": (302, "/login?next=/logout"), **dict.fromkeys(LANDING, (302, "/login"))},
    ("GET", "/logout"): _everyone((405, None)),
    ("GET", "/healthz"): _everyone((200, None)),
    ("GET", "/readyz"): _everyone((200, None)),
    # The Prometheus endpoint is switched off in the test app (METRICS_ENABLED False).
    ("GET", "/metrics"): _everyone((404, None)),
}

CASES = [
    pytest.param(method, path, role, expected, id=f"{method} {path} {role}")
    for (method, path), answers in MATRIX.items()
    for role, expected in answers.items()
]


def test_matrix_covers_every_role():
    assert all(set(answers) == set(ROLES) for answers in MATRIX.values())


@pytest.mark.parametrize("method, path, role, expected", CASES)
def test_access(client, login_as, method, path, role, expected):
    if role != "anonymous":
        login_as(role)
    response = client.open(path, method=method)
    assert (response.status_code, response.headers.get("Location")) == expected
