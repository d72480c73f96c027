"""工序管理: every field, built-in protections, in-use deletion refused, reordering."""
from decimal import Decimal

import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import AuditLog, Process
from support.admin import HTMX, audit_count, build_plant, row_state, toast


@pytest.fixture()
def plant(seeded, client, login):
    world = build_plant()
    login(world.admin)
    return world


def process_form(process=None, **overrides):
    form = {"code": "LAM_S", "name": "覆触感膜", "description": "触感膜", "sort_order": "40",
            "standard_hours": "1.5", "is_parallel": "y", "requires_die": "y", "die_required": "y", "is_active": "y"}
    if process is not None:
        form = {"code": process.code, "name": process.name, "description": process.description,
                "sort_order": str(process.sort_order), "standard_hours": str(process.standard_hours),
                "is_active": "y" if process.is_active else ""}
        for flag in ("is_parallel", "requires_artwork", "artwork_required", "requires_die", "die_required",
                     "requires_foiling", "foiling_required", "requires_embossing", "embossing_required"):
            if getattr(process, flag):
                form[flag] = "y"
    form.update(overrides)
    return form


def test_create_with_every_field(client, plant):
    assert client.post("/admin/processes", data=process_form()).status_code == 303
    process = db.session.scalar(select(Process).where(Process.code == "LAM_S"))
    assert (process.name, process.description, process.sort_order, process.standard_hours) == \
        ("覆触感膜", "触感膜", 40, Decimal("1.50"))
    assert (process.is_parallel, process.is_builtin, process.is_active) == (True, False, True)
    assert process.required_plate_kinds() == ["die"]
    assert (process.requires_artwork, process.artwork_required) == (False, False)


@pytest.mark.parametrize("field, value, message", [
    ("code", "lam", "工序编码以大写字母开头，只能包含大写字母、数字和下划线，2到20个字符"),
    ("code", "PRT", "编码 PRT 已被工序「印刷」使用"),
    ("name", "", "请填写工序名称"),
    ("standard_hours", "abc", "标准工时必须是数字"),
    ("standard_hours", "-1", "标准工时必须在 0 到 999999.99 之间"),
    ("standard_hours", "1.234", "标准工时最多保留 2 位小数"),
    ("sort_order", "x", "排序必须是整数"),
])
def test_invalid_input_is_refused_inline(client, plant, field, value, message):
    count = db.session.query(Process).count()
    response = client.post("/admin/processes", data=process_form(**{field: value}), headers=HTMX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.query(Process).count() == count


def test_builtin_code_cannot_change(client, plant):
    before = row_state(plant.prt)
    response = client.post(f"/admin/processes/{plant.prt.id}", data=process_form(plant.prt, code="PRINT"),
                           headers=HTMX)
    assert response.status_code == 422 and "内置工序的编码不可修改" in response.get_data(as_text=True)
    assert row_state(plant.prt) == before


def test_builtin_cannot_be_disabled(client, plant):
    before = row_state(plant.prt)
    response = client.post(f"/admin/processes/{plant.prt.id}", data=process_form(plant.prt, is_active=""),
                           headers=HTMX)
    assert response.status_code == 422 and "内置工序不可禁用" in response.get_data(as_text=True)
    assert row_state(plant.prt) == before


def test_builtin_keeps_its_code_while_other_fields_change(client, plant):
    form = process_form(plant.prt, name="胶印", standard_hours="2")
    assert client.post(f"/admin/processes/{plant.prt.id}", data=form).status_code == 303
    state = row_state(plant.prt)
    assert (state["code"], state["name"], state["standard_hours"], state["is_builtin"]) == \
        ("PRT", "胶印", Decimal("2.00"), True)
    row = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "process",
                                                    AuditLog.object_id == plant.prt.id)).one()
    assert row.detail == {"before": {"name": "印刷", "standard_hours": "0"}, "after": {"name": "胶印",
                                                                                      "standard_hours": "2"}}


def test_builtin_cannot_be_deleted(client, plant):
    before = row_state(plant.prt)
    response = client.post(f"/admin/processes/{plant.prt.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (403, "内置工序不可删除")
    assert row_state(plant.prt) == before


def test_process_used_by_a_work_order_cannot_be_deleted(client, plant):
    f.WorkOrderStepFactory(process=plant.process)
    before, audits = row_state(plant.process), audit_count()
    response = client.post(f"/admin/processes/{plant.process.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该工序已被施工单使用，不可删除")
    assert row_state(plant.process) == before and audit_count() == audits


def test_process_that_is_a_product_default_cannot_be_deleted(client, plant):
    f.ProductProcessFactory(product=plant.product, process=plant.process)
    response = client.post(f"/admin/processes/{plant.process.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该工序是产品「宣传册」的默认工序，请先从产品中移除")
    assert db.session.get(Process, plant.process.id) is not None


def test_unused_custom_process_is_deleted(client, plant):
    process_id = plant.process.id
    assert client.post(f"/admin/processes/{process_id}/delete").status_code == 303
    assert db.session.get(Process, process_id) is None


def test_edit_page_tells_why_a_builtin_is_protected(client, plant):
    page = client.get(f"/admin/processes/{plant.prt.id}/edit").get_data(as_text=True)
    assert "这是内置工序：编码不可修改，不可禁用，也不可删除。" in page and "readonly" in page


def test_reorder_moves_the_posted_processes_and_numbers_the_catalogue(client, plant):
    processes = {p.code: p for p in db.session.scalars(select(Process))}
    # One page showed CTP, CUT, PRT; PRT was dragged to the top. Everything else keeps its place.
    response = client.post("/admin/processes/reorder",
                           data={"id": [processes["PRT"].id, processes["CTP"].id, processes["CUT"].id]})
    assert response.status_code == 204 and toast(response) == "工序顺序已保存"
    db.session.expire_all()
    order = list(db.session.scalars(select(Process.code).order_by(Process.sort_order, Process.id)))
    assert order[:5] == ["PRT", "CTP", "CUT", "VAN", "LAM_G"] and order[-1] == "BIND"
    assert list(db.session.scalars(select(Process.sort_order).order_by(Process.sort_order))) == list(range(1, 23))
    row = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "process",
                                                    AuditLog.action == "reorder")).one()
    assert row.detail["order"] == ["PRT", "CTP", "CUT"]
    assert row.detail["before"] == {"PRT": 3, "CTP": 1, "CUT": 2, "BIND": 30}
    assert row.detail["after"] == {"PRT": 1, "CTP": 2, "CUT": 3, "BIND": 22}


def test_reorder_with_an_unknown_process_changes_nothing(client, plant):
    before = row_state(plant.prt)
    response = client.post("/admin/processes/reorder", data={"id": [plant.prt.id, 99999]}, headers=HTMX)
    assert (response.status_code, toast(response)) == (400, "工序列表已变化，请刷新后重试")
    assert row_state(plant.prt) == before


def test_list_offers_drag_only_in_catalogue_order(client, plant):
    page = client.get("/admin/processes").get_data(as_text=True)
    assert "data-sortable " in page and "data-sortable-up" in page and "js/sortable.js" in page
    by_name = client.get("/admin/processes?sort=name").get_data(as_text=True)
    assert "data-sortable " not in by_name and "按“排序”查看且不搜索时可拖动调整顺序" in by_name


def test_list_filters(client, plant):
    page = client.get("/admin/processes?builtin=0", headers=HTMX).get_data(as_text=True)
    assert "共 1 道工序" in page and "BIND" in page
    page = client.get("/admin/processes?plate=die", headers=HTMX).get_data(as_text=True)
    assert "共 1 道工序" in page and 'data-code="DIE"' in page
    page = client.get("/admin/processes?q=烫", headers=HTMX).get_data(as_text=True)
    assert "共 2 道工序" in page
    page = client.get("/admin/processes?parallel=1&sort=-code", headers=HTMX).get_data(as_text=True)
    assert "共 2 道工序" in page and page.index('data-code="DIE"') < page.index('data-code="CTP"')
    second = client.get("/admin/processes?page=2", headers=HTMX).get_data(as_text=True)
    assert "共 22 道工序" in second and 'data-code="BIND"' in second
