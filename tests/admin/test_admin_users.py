"""人员管理: create/edit with roles and departments, password and PIN rules, own-admin protection,
deactivate instead of delete when the person has history."""
import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import AuditLog, User
from support.admin import HTMX, audit_count, build_plant, row_state, toast


@pytest.fixture()
def plant(seeded, client, login):
    world = build_plant()
    login(world.admin)
    return world


def user_form(**overrides):
    form = {"username": "op_zhang", "name": "张操作", "employee_no": "E9001", "roles": ["operator"],
            "is_active": "y", "pin": "2468", "password": ""}
    form.update(overrides)
    return form


def test_admin_creates_an_operator_who_can_log_in_at_the_kiosk(client, plant):
    response = client.post("/admin/users", data=user_form(departments=[str(plant.printing.id)]))
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    user = db.session.scalar(select(User).where(User.username == "op_zhang"))
    assert user.role_codes == {"operator"}
    assert [d.code for d in user.departments] == ["printing"]
    assert user.check_pin("2468") and user.pin_hash != "2468"
    row = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "user", AuditLog.object_id == user.id))
    assert row.action == "create" and row.user_id == plant.admin.id
    assert row.detail["after"]["pin_set"] is True and "2468" not in str(row.detail)

    client.post("/logout")
    login = client.post("/kiosk/login", data={"employee_no": "E9001", "pin": "2468"})
    assert login.status_code == 302 and login.headers["Location"] == "/kiosk"


@pytest.mark.parametrize("field, value, message", [
    ("password", "1234567", "密码至少8位，且不能全是数字"),
    ("password", "12345678", "密码至少8位，且不能全是数字"),
    ("pin", "123", "PIN 必须是4到6位数字"),
    ("pin", "1234567", "PIN 必须是4到6位数字"),
    ("pin", "12a4", "PIN 必须是4到6位数字"),
    ("username", "a b", "用户名只能包含字母、数字、下划线、点和连字符"),
    ("name", "", "请填写姓名"),
])
def test_bad_credentials_are_refused_inline(client, plant, field, value, message):
    before = audit_count()
    response = client.post("/admin/users", data=user_form(**{field: value}), headers=HTMX)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'id="admin-form"' in page and "<html" not in page
    assert db.session.scalar(select(User).where(User.username == user_form()["username"])) is None
    assert audit_count() == before


def test_password_rule_is_stated_in_the_help_text(client, plant):
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert "至少8位，不能全是数字" in page and "4到6位数字" in page


def test_duplicate_username_and_employee_number_name_the_holder(client, plant):
    f.UserFactory(username="taken", name="王五", employee_no="E7777")
    response = client.post("/admin/users", data=user_form(username="taken", employee_no="E7777"), headers=HTMX)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "用户名 taken 已被用户「王五」使用" in page
    assert "工号 E7777 已被用户「王五」使用" in page


def test_edit_keeps_password_and_pin_when_left_blank_and_resets_them_when_given(client, plant):
    operator = f.UserFactory(username="op1", name="李四", roles=["operator"])
    old_password, old_pin = operator.password_hash, operator.pin_hash
    form = user_form(username="op1", name="李四", employee_no=operator.employee_no, pin="")
    assert client.post(f"/admin/users/{operator.id}", data=form).status_code == 303
    assert (row_state(operator)["password_hash"], row_state(operator)["pin_hash"]) == (old_password, old_pin)

    form.update(pin="135790", password="newsecret1")
    assert client.post(f"/admin/users/{operator.id}", data=form).status_code == 303
    db.session.expire_all()
    fresh = db.session.get(User, operator.id)
    assert fresh.check_pin("135790") and fresh.check_password("newsecret1")
    last = db.session.scalars(select(AuditLog).where(AuditLog.object_id == operator.id,
                                                     AuditLog.object_type == "user").order_by(AuditLog.id)).all()[-1]
    assert last.detail["after"] == {"password_set": True, "pin_set": True}


def test_admin_cannot_remove_own_admin_role(client, plant):
    before = row_state(plant.admin)
    roles_before = {r.code for r in plant.admin.roles}
    form = user_form(username="boss", name="管理员甲", employee_no=plant.admin.employee_no, roles=["supervisor"])
    response = client.post(f"/admin/users/{plant.admin.id}", data=form, headers=HTMX)
    assert response.status_code == 422
    assert "不能移除自己的管理员角色" in response.get_data(as_text=True)
    assert row_state(plant.admin) == before
    assert {r.code for r in db.session.get(User, plant.admin.id).roles} == roles_before


def test_admin_cannot_deactivate_themselves(client, plant):
    before = row_state(plant.admin)
    response = client.post(f"/admin/users/{plant.admin.id}/deactivate", headers=HTMX)
    assert response.status_code == 403 and toast(response) == "不能停用自己的账号"
    form = user_form(username="boss", name="管理员甲", employee_no=plant.admin.employee_no, roles=["admin"],
                     is_active="")
    response = client.post(f"/admin/users/{plant.admin.id}", data=form, headers=HTMX)
    assert response.status_code == 422 and "不能停用自己的账号" in response.get_data(as_text=True)
    assert row_state(plant.admin) == before


def test_another_admin_may_remove_an_admin_role(client, plant):
    colleague = f.UserFactory(username="boss2", name="管理员乙", roles=["admin"])
    form = user_form(username="boss2", name="管理员乙", employee_no=colleague.employee_no, roles=["supervisor"])
    assert client.post(f"/admin/users/{colleague.id}", data=form).status_code == 303
    assert db.session.get(User, colleague.id).role_codes == {"supervisor"}


def test_user_with_history_is_deactivated_not_deleted(client, plant):
    operator = f.UserFactory(username="veteran", name="老赵", roles=["operator"])
    f.TaskFactory(operator=operator)
    before = row_state(operator)
    response = client.post(f"/admin/users/{operator.id}/delete", headers=HTMX)
    assert response.status_code == 409
    assert toast(response) == "用户「老赵」已有业务记录（任务），不能删除，请改为停用"
    assert row_state(operator) == before

    response = client.post(f"/admin/users/{operator.id}/deactivate", headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/admin/users"
    assert row_state(operator)["is_active"] is False
    row = db.session.scalars(select(AuditLog).where(AuditLog.object_id == operator.id,
                                                    AuditLog.object_type == "user")).one()
    assert (row.action, row.detail) == ("deactivate", {"before": {"is_active": True}, "after": {"is_active": False}})


def test_user_without_history_is_deleted(client, plant):
    newcomer = f.UserFactory(username="newcomer", roles=["operator"])
    response = client.post(f"/admin/users/{newcomer.id}/delete")
    assert response.status_code == 303
    assert db.session.get(User, newcomer.id) is None


def test_list_searches_filters_and_pages(client, plant, app):
    for n in range(25):
        f.UserFactory(username=f"worker{n:02d}", name=f"工人{n:02d}", roles=["operator"], departments=[plant.printing])
    page = client.get("/admin/users?q=worker&role=operator&sort=username").get_data(as_text=True)
    assert "共 25 人" in page and "worker00" in page and "worker19" in page and "worker20" not in page
    second = client.get("/admin/users?q=worker&role=operator&sort=username&page=2", headers=HTMX)
    text = second.get_data(as_text=True)
    assert second.status_code == 200 and "<html" not in text and 'id="admin-list"' in text
    assert "worker20" in text and "worker00" not in text
    assert "Vary" in second.headers and "HX-Request" in second.headers["Vary"]
    by_department = client.get(f"/admin/users?department={plant.printing.id}&sort=-username").get_data(as_text=True)
    assert by_department.index("worker24") < by_department.index("worker23")
    assert "共 0 人" in client.get("/admin/users?q=nobody-like-this").get_data(as_text=True)
    assert "没有符合条件的人员" in client.get("/admin/users?q=nobody-like-this").get_data(as_text=True)
    inactive = client.get("/admin/users?active=0").get_data(as_text=True)
    assert "共 0 人" in inactive
