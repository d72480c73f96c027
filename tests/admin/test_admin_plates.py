"""版型: generated codes per kind, colours, 烫金/烫银, linked products, versions, 确认 (completing the
plate-making tasks), and deletion refused while in use."""
import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import AuditLog, Plate, Task, work_order_plates
from app.utils.timeutil import plant_now
from support.admin import HTMX, audit_count, build_plant, row_state, toast


@pytest.fixture()
def plant(seeded, client, login):
    world = build_plant()
    login(world.designer)
    return world


def month() -> str:
    return plant_now().strftime("%Y%m")


def test_artwork_gets_a_generated_code_colours_and_products(client, plant):
    form = {"kind": "artwork", "name": "台历内页", "cmyk_colors": ["C", "M", "K"], "other_colors": "528C，金色",
            "size": "590×880", "is_active": "y",
            "products-0-product_id": str(plant.product.id), "products-0-imposition_quantity": "4"}
    response = client.post("/admin/plates", data=form, headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/admin/plates"
    plate = db.session.scalar(select(Plate).where(Plate.name == "台历内页"))
    assert (plate.code, plate.base_code, plate.version) == (f"ART{month()}001", f"ART{month()}001", 1)
    assert (plate.cmyk_colors, plate.other_colors, plate.size) == (["C", "M", "K"], ["528C", "金色"], "590×880")
    assert [(link.product_id, link.imposition_quantity) for link in plate.products] == [(plant.product.id, 4)]
    assert client.post("/admin/plates", data={"kind": "artwork", "name": "第二张"}).status_code == 303
    assert db.session.scalar(select(Plate.code).where(Plate.name == "第二张")) == f"ART{month()}002"


@pytest.mark.parametrize("kind, prefix", [("die", "DIE"), ("foiling", "FP"), ("embossing", "EP")])
def test_each_kind_has_its_prefix(client, plant, kind, prefix):
    form = {"kind": kind, "name": "版", "size": "300×200", "material": "钢", "thickness": "0.7mm",
            "foiling_type": "silver"}
    assert client.post("/admin/plates", data=form).status_code == 303
    plate = db.session.scalar(select(Plate).where(Plate.kind == kind))
    assert plate.code == f"{prefix}{month()}001"
    assert (plate.material, plate.thickness) == ("钢", "0.7mm")
    assert plate.foiling_type == ("silver" if kind == "foiling" else None)


def test_foiling_plate_needs_gold_or_silver(client, plant):
    response = client.post("/admin/plates", data={"kind": "foiling", "name": "烫金版"}, headers=HTMX)
    assert response.status_code == 422 and "请选择烫金或烫银" in response.get_data(as_text=True)
    assert db.session.scalar(select(Plate).where(Plate.kind == "foiling")) is None


def test_unknown_kind_is_refused(client, plant):
    response = client.get("/admin/plates/new?kind=poster", headers=HTMX)
    assert (response.status_code, toast(response)) == (400, "请选择版型类别")


def test_refused_form_does_not_use_up_a_number(client, plant):
    client.post("/admin/plates", data={"kind": "die", "name": ""}, headers=HTMX)
    client.post("/admin/plates", data={"kind": "die", "name": "刀模"})
    assert db.session.scalar(select(Plate.code).where(Plate.kind == "die")) == f"DIE{month()}001"


def test_new_version_copies_to_the_next_version(client, plant):
    f.PlateProductFactory(plate=plant.plate, product=plant.product, imposition_quantity=2)
    plant.plate.cmyk_colors, plant.plate.other_colors = ["C", "M", "Y", "K"], ["专金"]
    plant.plate.confirmed = True
    db.session.commit()
    response = client.post(f"/admin/plates/{plant.plate.id}/new-version", headers=HTMX)
    copy = db.session.scalar(select(Plate).where(Plate.version == 2))
    assert response.headers["HX-Redirect"] == f"/admin/plates/{copy.id}/edit"
    assert (copy.code, copy.base_code, copy.name, copy.confirmed) == \
        ("ART202601001-v2", "ART202601001", "宣传册封面", False)
    assert (copy.cmyk_colors, copy.other_colors) == (["C", "M", "Y", "K"], ["专金"])
    assert [(link.product_id, link.imposition_quantity) for link in copy.products] == [(plant.product.id, 2)]
    client.post(f"/admin/plates/{plant.plate.id}/new-version")
    assert db.session.scalar(select(Plate.code).where(Plate.version == 3)) == "ART202601001-v3"
    assert db.session.scalar(select(AuditLog.detail).where(AuditLog.action == "new_version",
                                                           AuditLog.object_id == copy.id))["after"]["from"] == \
        "ART202601001"


def test_only_artworks_have_versions(client, plant):
    die = f.PlateFactory(kind="die", base_code="DIE202601001", name="刀模")
    response = client.post(f"/admin/plates/{die.id}/new-version", headers=HTMX)
    assert (response.status_code, toast(response)) == (400, "只有图稿有版本")
    assert db.session.query(Plate).count() == 2


def test_confirm_records_who_and_when_and_only_once(client, plant, login):
    response = client.post(f"/admin/plates/{plant.plate.id}/confirm", headers=HTMX)
    assert response.status_code == 200
    state = row_state(plant.plate)
    assert state["confirmed"] is True and state["confirmed_by_id"] == plant.designer.id
    assert state["confirmed_at"] is not None

    login(plant.admin)
    again = client.post(f"/admin/plates/{plant.plate.id}/confirm", headers=HTMX)
    assert (again.status_code, toast(again)) == (409, "该版已经确认过了")
    assert row_state(plant.plate) == state


def test_confirm_completes_the_plate_making_tasks_waiting_for_it(client, plant):
    work_order = f.WorkOrderFactory(approval_status="approved", status="in_progress")
    step = f.WorkOrderStepFactory(work_order=work_order, process=db.session.scalar(
        select(plant.prt.__class__).where(plant.prt.__class__.code == "CTP")))
    task = f.TaskFactory(step=step, task_type="plate_making", plate=plant.plate, target_quantity=1,
                         status="pending", auto_complete=True)
    response = client.post(f"/admin/plates/{plant.plate.id}/confirm", headers=HTMX)
    assert response.status_code == 200
    db.session.expire_all()
    done = db.session.get(Task, task.id)
    assert (done.status, done.completed_quantity) == ("completed", 1)
    row = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "plate", AuditLog.action == "confirm"))
    assert row.detail["after"]["completed_tasks"] == [task.number]
    assert "1 个制版任务已完成" in client.get("/admin/plates").get_data(as_text=True)


@pytest.mark.parametrize("use", ["work_order", "task"])
def test_plate_in_use_cannot_be_deleted(client, plant, use):
    if use == "work_order":
        work_order = f.WorkOrderFactory()
        db.session.execute(work_order_plates.insert().values(work_order_id=work_order.id, plate_id=plant.plate.id))
        db.session.commit()
    else:
        f.TaskFactory(task_type="plate_making", plate=plant.plate)
    before, audits = row_state(plant.plate), audit_count()
    response = client.post(f"/admin/plates/{plant.plate.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该版已被施工单使用，不可删除")
    assert row_state(plant.plate) == before and audit_count() == audits


def test_unused_plate_is_deleted(client, plant):
    plate_id = plant.plate.id
    assert client.post(f"/admin/plates/{plate_id}/delete").status_code == 303
    assert db.session.get(Plate, plate_id) is None


def test_edit_changes_colours_and_products(client, plant):
    form = {"name": "宣传册封面", "cmyk_colors": ["K"], "other_colors": "银", "is_active": "y",
            "products-0-product_id": str(plant.product.id), "products-0-imposition_quantity": "0"}
    response = client.post(f"/admin/plates/{plant.plate.id}", data=form, headers=HTMX)
    assert response.status_code == 422 and "拼版数量必须在 1 到 999 之间" in response.get_data(as_text=True)
    form["products-0-imposition_quantity"] = "6"
    assert client.post(f"/admin/plates/{plant.plate.id}", data=form).status_code == 303
    db.session.expire_all()
    plate = db.session.get(Plate, plant.plate.id)
    assert (plate.cmyk_colors, plate.other_colors) == (["K"], ["银"])
    assert [(link.product_id, link.imposition_quantity) for link in plate.products] == [(plant.product.id, 6)]


def test_list_filters_by_kind_and_confirmation(client, plant):
    f.PlateFactory(kind="die", base_code="DIE202601007", name="盒刀")
    page = client.get("/admin/plates?kind=die", headers=HTMX).get_data(as_text=True)
    assert "共 1 个版" in page and "DIE202601007" in page and "ART202601001" not in page
    page = client.get("/admin/plates?confirmed=0&q=封面", headers=HTMX).get_data(as_text=True)
    assert "共 1 个版" in page and "ART202601001" in page
    page = client.get("/admin/plates?confirmed=1").get_data(as_text=True)
    assert "没有符合条件的版" in page
    assert '<option selected value="-created">' in page  # the default order is what the form shows
    for label in ("新建图稿", "新建刀模", "新建烫金版", "新建压凸版"):
        assert label in page
