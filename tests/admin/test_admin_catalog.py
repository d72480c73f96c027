"""客户 (incl. a salesperson's own), 产品 (default processes and materials) and 物料."""
from decimal import Decimal

import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import AuditLog, Customer, Material, Product
from support.admin import HTMX, audit_count, build_plant, row_state, toast


@pytest.fixture()
def plant(seeded):
    return build_plant()


# ---------------------------------------------------------------- customers

def test_admin_creates_a_customer_for_a_salesperson(client, login, plant):
    login(plant.admin)
    form = {"name": "新华书店", "contact_person": "刘经理", "phone": "021-1234", "email": "liu@example.com",
            "address": "上海", "salesperson_id": str(plant.other_sales.id), "notes": "月结"}
    assert client.post("/admin/customers", data=form).status_code == 303
    customer = db.session.scalar(select(Customer).where(Customer.name == "新华书店"))
    assert (customer.salesperson_id, customer.contact_person, customer.notes) == (plant.other_sales.id, "刘经理", "月结")


def test_duplicate_customer_name_names_the_existing_one(client, login, plant):
    login(plant.admin)
    response = client.post("/admin/customers", data={"name": "华美印业"}, headers=HTMX)
    assert response.status_code == 422 and "客户「华美印业」已存在" in response.get_data(as_text=True)


def test_salesperson_sees_only_their_customers(client, login, plant):
    login(plant.owner)
    page = client.get("/admin/customers").get_data(as_text=True)
    assert "华美印业" in page and "远方纸品" not in page and "共 1 个客户" in page
    assert 'name="salesperson"' not in page


def test_salesperson_creates_a_customer_that_is_theirs(client, login, plant):
    login(plant.owner)
    page = client.get("/admin/customers/new").get_data(as_text=True)
    assert 'name="salesperson_id"' not in page
    assert client.post("/admin/customers", data={"name": "晨光文具"}).status_code == 303
    assert db.session.scalar(select(Customer.salesperson_id).where(Customer.name == "晨光文具")) == plant.owner.id


def test_salesperson_cannot_hand_a_customer_to_another_salesperson(client, login, plant):
    login(plant.owner)
    before = row_state(plant.customer)
    response = client.post(f"/admin/customers/{plant.customer.id}",
                           data={"name": "华美印业", "salesperson_id": str(plant.other_sales.id)}, headers=HTMX)
    assert (response.status_code, toast(response)) == (403, "不能将客户指派给其他业务员")
    assert row_state(plant.customer) == before
    response = client.post("/admin/customers", data={"name": "偷梁换柱", "salesperson_id": str(plant.other_sales.id)},
                           headers=HTMX)
    assert response.status_code == 403
    assert db.session.scalar(select(Customer).where(Customer.name == "偷梁换柱")) is None


@pytest.mark.parametrize("method, suffix", [("GET", "/edit"), ("POST", ""), ("POST", "/delete")])
def test_another_salespersons_customer_does_not_exist_for_them(client, login, plant, method, suffix):
    login(plant.owner)
    before = row_state(plant.foreign_customer)
    response = client.open(f"/admin/customers/{plant.foreign_customer.id}{suffix}", method=method,
                           data={"name": "改名"} if method == "POST" else None)
    assert response.status_code == 404
    assert row_state(plant.foreign_customer) == before


def test_customer_with_work_orders_cannot_be_deleted(client, login, plant):
    login(plant.admin)
    f.WorkOrderFactory(customer=plant.customer)
    before, audits = row_state(plant.customer), audit_count()
    response = client.post(f"/admin/customers/{plant.customer.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该客户已有施工单，不可删除")
    assert row_state(plant.customer) == before and audit_count() == audits


def test_salesperson_deletes_their_own_unused_customer(client, login, plant):
    login(plant.owner)
    customer_id = plant.customer.id
    assert client.post(f"/admin/customers/{customer_id}/delete").status_code == 303
    assert db.session.get(Customer, customer_id) is None


# ---------------------------------------------------------------- materials

def test_material_create_edit_and_duplicate_code(client, login, plant):
    login(plant.admin)
    form = {"code": "M100", "name": "白板纸", "specification": "250g", "unit": "张", "need_cutting": "y",
            "is_active": "y"}
    assert client.post("/admin/materials", data=form).status_code == 303
    material = db.session.scalar(select(Material).where(Material.code == "M100"))
    assert (material.name, material.need_cutting) == ("白板纸", True)
    response = client.post("/admin/materials", data={**form, "code": "M900"}, headers=HTMX)
    assert response.status_code == 422 and "编码 M900 已被物料「铜版纸」使用" in response.get_data(as_text=True)
    assert client.post(f"/admin/materials/{material.id}", data={**form, "name": "白板纸250g"}).status_code == 303
    assert row_state(material)["name"] == "白板纸250g"


def test_material_in_use_cannot_be_deleted(client, login, plant):
    login(plant.admin)
    f.WorkOrderMaterialFactory(material=plant.material)
    before = row_state(plant.material)
    response = client.post(f"/admin/materials/{plant.material.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该物料已被施工单使用，不可删除")
    assert row_state(plant.material) == before


def test_material_that_is_a_product_default_cannot_be_deleted(client, login, plant):
    login(plant.admin)
    f.ProductMaterialFactory(product=plant.product, material=plant.material)
    response = client.post(f"/admin/materials/{plant.material.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该物料是产品「宣传册」的默认物料，请先从产品中移除")


# ---------------------------------------------------------------- products

def product_form(**overrides):
    form = {"code": "PR100", "name": "台历", "specification": "A5", "unit": "本", "unit_price": "12.50",
            "is_active": "y"}
    form.update(overrides)
    return form


def process_rows(*chosen):
    """The product form's process rows: (process, order typed) for the checked ones."""
    form = {}
    for index, (process, order) in enumerate(chosen):
        form.update({f"processes-{index}-process_id": str(process.id), f"processes-{index}-selected": "y",
                     f"processes-{index}-order": order})
    return form


def test_product_with_ordered_processes_and_material_rows(client, login, plant):
    login(plant.admin)
    cut = db.session.scalar(select(plant.prt.__class__).where(plant.prt.__class__.code == "CUT"))
    other = f.MaterialFactory(code="M901", name="白卡")
    form = product_form(**process_rows((plant.prt, "1"), (cut, "2")), **{
        "materials-0-material_id": str(plant.material.id), "materials-0-size": "889×1194",
        "materials-0-usage": "500张", "materials-0-need_cutting": "y",
        "materials-1-material_id": "", "materials-1-size": "",  # a blank row is ignored
        "materials-4-material_id": str(other.id), "materials-4-usage": "20张",  # rows may skip indices
    })
    assert client.post("/admin/products", data=form).status_code == 303
    product = db.session.scalar(select(Product).where(Product.code == "PR100"))
    assert product.unit_price == Decimal("12.50")
    assert [line.process.code for line in product.default_processes] == ["PRT", "CUT"]
    assert [(line.material.code, line.usage, line.need_cutting) for line in product.default_materials] == \
        [("M900", "500张", True), ("M901", "20张", False)]
    row = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "product"))
    assert row.detail["after"]["processes"] == ["PRT", "CUT"]


def test_product_edit_replaces_lines(client, login, plant):
    login(plant.admin)
    f.ProductMaterialFactory(product=plant.product, material=plant.material, usage="1000张")
    f.ProductProcessFactory(product=plant.product, process=plant.prt)
    page = client.get(f"/admin/products/{plant.product.id}/edit").get_data(as_text=True)
    assert 'value="1000张"' in page and "checked" in page
    form = product_form(code="PR001", name="宣传册", **{
        "materials-0-material_id": str(plant.material.id), "materials-0-usage": "800张"})
    assert client.post(f"/admin/products/{plant.product.id}", data=form).status_code == 303
    db.session.expire_all()
    product = db.session.get(Product, plant.product.id)
    assert product.default_processes == []
    assert [(line.material_id, line.usage) for line in product.default_materials] == [(plant.material.id, "800张")]


def test_product_duplicate_code_names_the_product(client, login, plant):
    login(plant.admin)
    count = db.session.query(Product).count()
    response = client.post("/admin/products", data=product_form(code="PR001"), headers=HTMX)
    assert response.status_code == 422 and "编码 PR001 已被产品「宣传册」使用" in response.get_data(as_text=True)
    assert db.session.query(Product).count() == count


def test_product_row_errors_sit_next_to_the_row(client, login, plant):
    login(plant.admin)
    form = product_form(**{"materials-0-material_id": str(plant.material.id),
                           "materials-1-material_id": str(plant.material.id),
                           "materials-2-material_id": "", "materials-2-usage": "30张",
                           "unit_price": "-3"})
    response = client.post("/admin/products", data=form, headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "物料「铜版纸」已在第 1 行" in page and "请选择物料" in page and "单价必须在 0 到" in page
    assert 'value="30张"' in page
    assert db.session.scalar(select(Product).where(Product.code == "PR100")) is None


def test_add_material_row_endpoint_returns_the_next_row(client, login, plant):
    login(plant.admin)
    response = client.get("/admin/products/material-row?material_next=3", headers=HTMX)
    page = response.get_data(as_text=True)
    assert 'name="materials-3-material_id"' in page and "铜版纸" in page
    assert 'id="material-next"' in page and 'value="4"' in page and 'hx-swap-oob="true"' in page


def test_product_in_use_cannot_be_deleted(client, login, plant):
    login(plant.admin)
    f.WorkOrderProductFactory(product=plant.product)
    before = row_state(plant.product)
    response = client.post(f"/admin/products/{plant.product.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该产品已被施工单使用，不可删除")
    assert row_state(plant.product) == before


def test_product_linked_to_a_plate_cannot_be_deleted(client, login, plant):
    login(plant.admin)
    f.PlateProductFactory(plate=plant.plate, product=plant.product)
    response = client.post(f"/admin/products/{plant.product.id}/delete", headers=HTMX)
    assert (response.status_code, toast(response)) == (409, "该产品已关联版型 ART202601001，请先解除关联")


def test_product_list_filters_by_default_process(client, login, plant):
    login(plant.admin)
    f.ProductProcessFactory(product=plant.product, process=plant.prt)
    f.ProductFactory(code="PR002", name="名片")
    page = client.get(f"/admin/products?process_id={plant.prt.id}", headers=HTMX).get_data(as_text=True)
    assert "共 1 个产品" in page and "宣传册" in page and "名片" not in page
    page = client.get("/admin/products?q=名片&process_id=abc", headers=HTMX).get_data(as_text=True)
    assert "共 1 个产品" in page and "名片" in page
