"""Access matrix of the task centre, 工作台, statistics and export routes: every route × every role → the exact answer."""
from urllib.parse import quote

import pytest

import factories as f

ROLES = ("anonymous", "admin", "salesperson", "maker", "supervisor", "operator", "designer")
DESK = ("admin", "salesperson", "maker", "supervisor", "designer")


def _answers(allowed, ok=200, refused=403):
    def answer(role):
        if role == "anonymous":
            return 302
        return ok if role in allowed else refused
    return {role: answer(role) for role in ROLES}


# (method, path, form) → role → status
MATRIX = {
    ("GET", "/tasks", None): _answers(ROLES),
    # an empty selection: the roles offered the action get the 400 of the action itself
    ("POST", "/tasks/bulk", (("action", "cancel"), ("reason", "x"))): _answers(("admin", "supervisor"), ok=400),
    ("POST", "/tasks/bulk", (("action", "assign"),)): _answers(("admin", "supervisor"), ok=400),
    ("POST", "/tasks/bulk", (("action", "edit_drafts"), ("notes", "x"))): _answers(("admin", "maker", "salesperson"),
                                                                                ok=400),
    ("POST", "/tasks/bulk", (("action", "delete_drafts"),)): _answers(("admin", "maker", "salesperson"), ok=400),
    ("GET", "/", None): {**_answers(DESK), "operator": 302},
    ("GET", "/stats", None): _answers(DESK),
    ("GET", "/stats/collaboration", None): _answers(("admin", "supervisor")),
    ("GET", "/stats/assignments", None): _answers(("admin", "supervisor")),
    ("GET", "/exports/tasks.xlsx", None): _answers(DESK),
    ("GET", "/exports/workorders.xlsx", None): _answers(DESK),
    ("GET", "/exports/completions.csv", None): _answers(DESK),
    ("GET", "/exports/departments/{department}.pdf", None): _answers(("admin", "supervisor")),
    ("GET", "/exports/departments", None): _answers(("admin", "supervisor")),
    ("GET", "/exports/collaboration.xlsx", None): _answers(("admin", "supervisor")),
    ("GET", "/exports/assignments.xlsx", None): _answers(("admin", "supervisor")),
}

CASES = [
    pytest.param(method, path, form, role, status, id=f"{method} {path} {dict(form or ())} {role}")
    for (method, path, form), answers in MATRIX.items()
    for role, status in answers.items()
]


def test_matrix_covers_every_role():
    assert all(set(answers) == set(ROLES) for answers in MATRIX.values())


@pytest.mark.parametrize("method, path, form, role, status", CASES)
def test_access(client, login_as, db, method, path, form, role, status):
    department = f.DepartmentFactory()
    path = path.format(department=department.id)
    if role != "anonymous":
        login_as(role, departments=[department])
    response = client.open(path, method=method, data=dict(form or ()))
    assert response.status_code == status
    if role == "anonymous":
        assert response.headers["Location"] == f"/login?next={quote(path)}"
    elif path == "/" and role == "operator":
        assert response.headers["Location"] == "/kiosk"
