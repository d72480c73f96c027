"""Password rules: at least 8 characters, not all digits, not the username — on create and on edit."""
import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import User
from app.services.core.passwords import password_problem
from support.admin import HTMX, audit_count, build_plant

SHORT_OR_DIGITS = "密码至少8位，且不能全是数字"
SAME_AS_USERNAME = "密码不能与用户名相同"


@pytest.mark.parametrize("password, username, expected", [
    ("abc1234", "zhang", SHORT_OR_DIGITS),
    ("", "zhang", SHORT_OR_DIGITS),
    ("12345678", "zhang", SHORT_OR_DIGITS),
    ("op_zhang", "op_zhang", SAME_AS_USERNAME),
    ("OP_Zhang", "op_zhang", SAME_AS_USERNAME),
    ("op_zhang1", "op_zhang", None),
    ("12345678a", "zhang", None),
])
def test_password_rules(app, password, username, expected):
    with app.test_request_context():
        problem = password_problem(password, username)
        assert (str(problem) if problem else None) == expected


@pytest.fixture()
def plant(seeded, client, login):
    world = build_plant()
    login(world.admin)
    return world


def _form(**overrides):
    form = {"username": "op_zhang", "name": "张操作", "employee_no": "E9001", "roles": ["operator"],
            "is_active": "y", "pin": "", "password": "good-pass-1"}
    form.update(overrides)
    return form


@pytest.mark.parametrize("password, message", [
    ("op_zhang", SAME_AS_USERNAME), ("short1", SHORT_OR_DIGITS), ("123456789", SHORT_OR_DIGITS)])
def test_creating_a_user_with_a_bad_password_is_refused_inline(client, plant, password, message):
    before = audit_count()
    response = client.post("/admin/users", data=_form(password=password), headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "op_zhang")) is None
    assert audit_count() == before


def test_changing_a_password_to_the_username_is_refused_and_the_old_one_kept(client, plant):
    user = f.UserFactory(username="clerk_li", name="李文员", roles=["maker"])
    old_hash = user.password_hash
    db.session.commit()
    response = client.post(f"/admin/users/{user.id}", headers=HTMX,
                           data=_form(username="clerk_li", name="李文员", employee_no="", roles=["maker"],
                                      password="clerk_li"))
    assert response.status_code == 422
    assert SAME_AS_USERNAME in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_a_good_password_is_accepted(client, plant):
    response = client.post("/admin/users", data=_form(password="op_zhang-2026"))
    assert response.status_code == 303
    assert db.session.scalar(select(User).where(User.username == "op_zhang")).check_password("op_zhang-2026")
