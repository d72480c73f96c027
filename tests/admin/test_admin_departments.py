"""部门管理: tree display, immutable code, code format, depth ≤ 3, no cycles, processes handled,
deletion refused with the reason."""
import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import AuditLog, Department
from support.admin import HTMX, audit_count, build_plant, row_state, toast


@pytest.fixture()
def plant(seeded, client, login):
    world = build_plant()
    login(world.admin)
    return world


def department_form(department=None, **overrides):
    form = {"name": department.name, "code": department.code, "parent_id": str(department.parent_id or ""),
            "sort_order": str(department.sort_order), "is_active": "y",
            "processes": [str(p.id) for p in department.processes]} if department else {
        "name": "覆膜车间", "code": "laminating", "sort_order": "20", "is_active": "y"}
    form.update(overrides)
    return form


def refused(client, url, form, field_message):
    """POST as htmx: the re-rendered form (422) shows the message; nothing is written."""
    before = audit_count()
    response = client.post(url, data=form, headers=HTMX)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert audit_count() == before
    return response


def test_create_under_production_with_processes(client, plant):
    form = department_form(parent_id=str(plant.production.id), processes=[str(plant.prt.id)])
    response = client.post("/admin/departments", data=form, headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/admin/departments"
    created = db.session.scalar(select(Department).where(Department.code == "laminating"))
    assert (created.parent_id, [p.code for p in created.processes]) == (plant.production.id, ["PRT"])
    row = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "department",
                                                   AuditLog.object_id == created.id))
    assert row.action == "create" and row.detail["after"]["processes"] == ["PRT"]
    page = client.get("/admin/departments").get_data(as_text=True)
    assert "已创建部门：覆膜车间" in page


def test_tree_lists_children_under_their_parent_indented(client, plant):
    page = client.get("/admin/departments?sort=code").get_data(as_text=True)
    production = page.index('data-code="production"')
    children = [page.index(f'data-code="{code}"') for code in ("binding", "cutting", "printing")]
    assert production < children[0] < children[1] < children[2]
    assert 'class="depth-2" data-code="printing"' in page and 'class="depth-1" data-code="production"' in page


def test_code_is_read_only_on_edit_and_a_changed_code_is_refused(client, plant):
    department = plant.department
    page = client.get(f"/admin/departments/{department.id}/edit").get_data(as_text=True)
    assert 'name="code"' in page and "readonly" in page and "部门编码创建后不可修改" in page
    before = row_state(department)
    refused(client, f"/admin/departments/{department.id}", department_form(department, code="renamed"),
            "部门编码不可修改")
    assert row_state(department) == before


@pytest.mark.parametrize("code, message", [
    ("Laminating", "部门编码只能包含小写字母、数字和下划线"),
    ("lam-1", "部门编码只能包含小写字母、数字和下划线"),
    ("l", "部门编码长度为 2 到 20 个字符"),
    ("a" * 21, "部门编码长度为 2 到 20 个字符"),
    ("printing", "编码 printing 已被部门「印刷车间」使用"),
])
def test_code_format_and_uniqueness(client, plant, code, message):
    count = db.session.query(Department).count()
    refused(client, "/admin/departments", department_form(code=code), message)
    assert db.session.query(Department).count() == count


def test_duplicate_name_names_the_holder(client, plant):
    refused(client, "/admin/departments", department_form(name="印刷车间"), "名称 印刷车间 已被部门 printing 使用")


def test_depth_is_at_most_three_levels(client, plant):
    third = f.DepartmentFactory(code="level3", name="三级班组", parent=plant.printing)
    refused(client, "/admin/departments", department_form(parent_id=str(third.id)), "部门层级不能超过3级")
    assert db.session.scalar(select(Department).where(Department.code == "laminating")) is None


def test_moving_a_subtree_keeps_within_three_levels(client, plant):
    # 装订车间 gets a child; putting 装订车间 under 印刷车间 would push that child to level 4.
    f.DepartmentFactory(code="binding_team", name="装订班组", parent=plant.department)
    before = row_state(plant.department)
    refused(client, f"/admin/departments/{plant.department.id}",
            department_form(plant.department, parent_id=str(plant.printing.id)), "部门层级不能超过3级")
    assert row_state(plant.department) == before


def test_a_department_cannot_be_its_own_parent(client, plant):
    before = row_state(plant.production)
    refused(client, f"/admin/departments/{plant.production.id}",
            department_form(plant.production, parent_id=str(plant.production.id)), "不能将自己设为上级部门")
    assert row_state(plant.production) == before


def test_a_child_cannot_become_the_parent(client, plant):
    before = row_state(plant.production)
    refused(client, f"/admin/departments/{plant.production.id}",
            department_form(plant.production, parent_id=str(plant.printing.id)),
            "不能将子部门设为上级部门，这会造成循环引用")
    assert row_state(plant.production) == before


def test_edit_form_does_not_offer_itself_or_descendants_as_parent(client, plant):
    page = client.get(f"/admin/departments/{plant.production.id}/edit").get_data(as_text=True)
    parent_select = page[page.index('name="parent_id"'):page.index("</select>", page.index('name="parent_id"'))]
    assert f'value="{plant.printing.id}"' not in parent_select
    assert f'value="{plant.production.id}"' not in parent_select


def test_edit_changes_processes_and_records_before_and_after(client, plant):
    department = plant.printing
    before_codes = sorted(p.code for p in department.processes)
    form = department_form(department, name="印刷一车间", processes=[str(plant.prt.id)])
    assert client.post(f"/admin/departments/{department.id}", data=form).status_code == 303
    db.session.expire_all()
    fresh = db.session.get(Department, department.id)
    assert (fresh.name, fresh.code, [p.code for p in fresh.processes]) == ("印刷一车间", "printing", ["PRT"])
    row = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "department",
                                                    AuditLog.object_id == department.id)).one()
    assert row.detail == {"before": {"name": "印刷车间", "processes": before_codes},
                          "after": {"name": "印刷一车间", "processes": ["PRT"]}}


@pytest.mark.parametrize("setup, reason", [
    ("member", "1 名成员"),
    ("child", "1 个子部门"),
    ("task", "1 个任务"),
    ("rule", "1 条分派规则"),
])
def test_delete_is_refused_with_the_reason(client, plant, setup, reason):
    department = plant.department
    if setup == "member":
        f.UserFactory(roles=["operator"], departments=[department])
    elif setup == "child":
        f.DepartmentFactory(code="sub", name="子班组", parent=department)
    elif setup == "task":
        f.TaskFactory(department=department)
    else:
        f.AssignmentRuleFactory(department=department, process=plant.process)
    before = row_state(department)
    response = client.post(f"/admin/departments/{department.id}/delete", headers=HTMX)
    assert response.status_code == 409
    assert toast(response) == f"部门「装订车间」不能删除：还有{reason}"
    assert row_state(department) == before


def test_delete_lists_every_reason_at_once(client, plant):
    response = client.post(f"/admin/departments/{plant.production.id}/delete", headers=HTMX)
    assert toast(response).startswith("部门「生产部」不能删除：还有") and "个子部门" in toast(response) \
        and "条分派规则" in toast(response)


def test_an_unused_department_is_deleted_with_an_audit_row(client, plant):
    department_id = plant.department.id
    response = client.post(f"/admin/departments/{department_id}/delete",
                           headers={**HTMX, "HX-Current-URL": "http://localhost/admin/departments?q=%E8%A3%85"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/admin/departments?q=%E8%A3%85"
    assert db.session.get(Department, department_id) is None
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_type == "department",
                                                           AuditLog.object_id == department_id)) == "delete"


def test_list_search_and_active_filter(client, plant):
    plant.department.is_active = False
    db.session.commit()
    page = client.get("/admin/departments?q=车间&active=0", headers=HTMX).get_data(as_text=True)
    assert "共 1 个部门" in page and "装订车间" in page and "印刷车间" not in page


def test_a_code_taken_by_a_concurrent_request_is_a_conflict_not_a_500(client, plant, monkeypatch):
    """The uniqueness check ran before the other request committed: the database has the last word."""
    from app.services.admin import departments as admin_departments

    monkeypatch.setattr(admin_departments, "check_unique", lambda *args, **kwargs: None)
    count, audits = db.session.query(Department).count(), audit_count()
    response = client.post("/admin/departments", data=department_form(code="printing", name="另一个印刷"),
                           headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "编码或名称刚被其他人占用，请刷新后重试")
    assert db.session.query(Department).count() == count and audit_count() == audits
