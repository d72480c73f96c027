"""The policy module: landing pages, led departments (a parent includes its children), can/require."""
import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from app.models import Department
from app.policy import can, landing_endpoint, led_department_ids, require
from app.services.core.errors import Forbidden


def _departments(db) -> dict[str, Department]:
    return {d.name: d for d in db.session.scalars(select(Department))}


@pytest.mark.parametrize("roles, endpoint", [
    (("admin",), "main.index"),
    (("salesperson",), "main.index"),
    (("maker",), "main.index"),
    (("designer",), "main.index"),
    (("supervisor",), "supervision.board"),
    (("operator",), "kiosk.index"),
    # An operator who also works at a desk lands on the desk.
    (("operator", "maker"), "main.index"),
    (("operator", "supervisor"), "supervision.board"),
    (("admin", "supervisor"), "main.index"),
])
def test_landing_endpoint(make_user, roles, endpoint):
    assert landing_endpoint(make_user(*roles)) == endpoint


def test_supervisor_of_production_leads_every_workshop(seeded, make_user):
    departments = _departments(seeded)
    supervisor = make_user("supervisor", departments=[departments["生产部"]])
    workshops = {"生产部", "裁切车间", "印刷车间", "外协车间", "模切车间", "包装车间"}
    assert led_department_ids(supervisor) == {departments[name].id for name in workshops}


def test_supervisor_of_a_workshop_leads_only_that_workshop(seeded, make_user):
    departments = _departments(seeded)
    supervisor = make_user("supervisor", departments=[departments["印刷车间"]])
    assert led_department_ids(supervisor) == {departments["印刷车间"].id}


def test_supervisor_of_two_departments_leads_both(seeded, make_user):
    departments = _departments(seeded)
    supervisor = make_user("supervisor", departments=[departments["设计部"], departments["模切车间"]])
    assert led_department_ids(supervisor) == {departments["设计部"].id, departments["模切车间"].id}


def test_only_supervisors_lead_departments(seeded, make_user):
    departments = _departments(seeded)
    assert led_department_ids(make_user("operator", departments=[departments["生产部"]])) == set()
    assert led_department_ids(make_user("admin", departments=[departments["生产部"]])) == set()


def test_can_refuses_anonymous_and_inactive_users(make_user):
    assert can(make_user("admin"), "admin.access") is True
    assert can(make_user("admin", is_active=False), "admin.access") is False
    assert can(AnonymousUserMixin(), "task.list") is False
    assert can(None, "task.list") is False


def test_can_follows_the_role_rules(make_user):
    assert can(make_user("maker"), "workorder.create") is True
    assert can(make_user("operator"), "workorder.create") is False
    assert can(make_user("operator"), "kiosk.use") is True
    assert can(make_user("supervisor"), "kiosk.use") is False


def test_unknown_action_is_a_programming_error(make_user):
    with pytest.raises(KeyError, match="unknown policy action 'no.such.action'"):
        can(make_user("admin"), "no.such.action")


def test_require_raises_forbidden_in_chinese(make_user):
    require(make_user("admin"), "admin.access")
    with pytest.raises(Forbidden) as refused:
        require(make_user("maker"), "admin.access")
    assert (refused.value.status, str(refused.value.message)) == (403, "只有管理员可以进入系统管理")
