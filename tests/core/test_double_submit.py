"""A double submit creates once (issue #19): every create form carries a one-time key, the API's create
takes an ``Idempotency-Key``; a second post of the same key answers with the first record."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import factories as f
from app.extensions import db
from app.models import (
    ApiToken,
    AssignmentRule,
    Customer,
    Department,
    Material,
    Plate,
    Process,
    Product,
    Submission,
    User,
    WorkOrder,
)
from app.utils.timeutil import plant_today

KEY_INPUT = re.compile(r'<input[^>]*name="submission_key"[^>]*>')


@pytest.fixture()
def world(seeded):
    admin = f.UserFactory(username="boss", name="管理员甲", roles=["admin"])
    customer = f.CustomerFactory(name="华美包装有限公司")
    product = f.ProductFactory(code="PR001", name="宣传册", unit="本")
    cutting = db.session.scalar(select(Process).where(Process.code == "CUT"))
    # a process some department handles but no rule sends anywhere yet: the rules page may add one
    gluing = f.ProcessFactory(code="XGLUE", name="手工糊盒")
    binding = f.DepartmentFactory(code="xbinding", name="手工车间")
    binding.processes.append(gluing)
    db.session.commit()
    return {"admin": admin, "customer": customer, "product": product, "cutting": cutting, "gluing": gluing,
            "binding": binding}


def work_order_form(world) -> dict:
    return {
        "customer_id": str(world["customer"].id), "priority": "normal", "order_date": plant_today().isoformat(),
        "delivery_date": (plant_today() + timedelta(days=10)).isoformat(), "production_quantity": "500",
        "spoilage_quantity": "0", "printing_type": "none", "intent": "draft",
        "products-0-product_id": str(world["product"].id), "products-0-quantity": "800",
        "steps-0-process_id": str(world["cutting"].id), "steps-0-selected": "y",
        "steps-0-sequence": str(world["cutting"].sort_order),
    }


# name: (blank form page, create URL, model, what the form posts)
CREATE_FORMS = {
    "workorder": ("/workorders/new", "/workorders", WorkOrder, work_order_form),
    "user": ("/admin/users/new", "/admin/users", User,
             lambda w: {"username": "op_zhang", "name": "张操作", "employee_no": "E9001", "roles": ["operator"],
                        "is_active": "y", "pin": "2468", "password": ""}),
    "customer": ("/admin/customers/new", "/admin/customers", Customer, lambda w: {"name": "晨光文具"}),
    "product": ("/admin/products/new", "/admin/products", Product,
                lambda w: {"code": "PR100", "name": "台历", "unit": "本", "unit_price": "12.50", "is_active": "y"}),
    "material": ("/admin/materials/new", "/admin/materials", Material,
                 lambda w: {"code": "M100", "name": "白板纸", "unit": "张", "is_active": "y"}),
    "plate": ("/admin/plates/new?kind=artwork", "/admin/plates", Plate,
              lambda w: {"kind": "artwork", "name": "台历内页"}),
    "process": ("/admin/processes/new", "/admin/processes", Process,
                lambda w: {"code": "LAM_S", "name": "覆触感膜", "sort_order": "40", "standard_hours": "1.5",
                           "is_active": "y"}),
    "department": ("/admin/departments/new", "/admin/departments", Department,
                   lambda w: {"name": "覆膜车间", "code": "laminating", "sort_order": "20", "is_active": "y"}),
    "dispatch_rule": (lambda w: f"/dispatch/rules?process={w['gluing'].id}",
                      lambda w: f"/dispatch/rules/{w['gluing'].id}/rules", AssignmentRule,
                      lambda w: {"department_id": str(w["binding"].id),
                                 "priority": "80", "is_active": "1", "operator_strategy": "manual"}),
    "api_token": ("/admin/api-tokens/new", "/admin/api-tokens", ApiToken,
                  lambda w: {"name": "ERP 同步", "owner_id": str(w["admin"].id)}),
}


def _url(value, world) -> str:
    return value(world) if callable(value) else value


def form_key(client, url: str) -> str:
    """The one-time key the blank form carries, as the browser would post it."""
    page = client.get(url)
    assert page.status_code == 200
    inputs = KEY_INPUT.findall(page.get_data(as_text=True))
    assert len(inputs) == 1, inputs
    return re.search(r'value="([^"]+)"', inputs[0]).group(1)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("name", list(CREATE_FORMS))
def test_posting_one_form_twice_creates_once_and_the_second_answer_leads_to_the_first(client, login, world, name):
    new_url, create_url, model, form = CREATE_FORMS[name]
    login(world["admin"])
    key = form_key(client, _url(new_url, world))
    before = count(model)
    data = {**form(world), "submission_key": key}

    first = client.post(_url(create_url, world), data=data)
    second = client.post(_url(create_url, world), data=data)

    assert count(model) == before + 1
    if name == "api_token":  # the secret is shown to the first answer only; the second goes to the list
        assert first.status_code == 200 and "令牌只显示这一次" in first.get_data(as_text=True)
        assert second.status_code == 303 and second.headers["Location"] == "/admin/api-tokens"
    else:
        assert first.status_code in (302, 303)
        assert (second.status_code, second.headers["Location"]) == (first.status_code, first.headers["Location"])
    # a new blank form is a new instance: it creates again (here refused only by a taken code or name)
    assert form_key(client, _url(new_url, world)) != key


def test_the_replayed_answer_of_a_work_order_opens_the_work_order_the_first_post_created(client, login, world):
    login(world["admin"])
    data = {**work_order_form(world), "submission_key": form_key(client, "/workorders/new")}
    first, second = (client.post("/workorders", data=data) for _ in range(2))
    work_order = db.session.scalar(select(WorkOrder))
    assert first.headers["Location"] == second.headers["Location"] == f"/workorders/{work_order.id}"


def test_a_refused_post_does_not_use_up_its_key(client, login, world):
    login(world["admin"])
    key = form_key(client, "/admin/customers/new")
    refused = client.post("/admin/customers", data={"name": "", "submission_key": key})
    assert refused.status_code == 422
    assert f'value="{key}"' in refused.get_data(as_text=True)  # the form shown again keeps its key
    assert client.post("/admin/customers", data={"name": "晨光文具", "submission_key": key}).status_code == 303
    assert count(Customer) == 2


def test_a_malformed_key_is_refused_with_a_message(client, login, world):
    login(world["admin"])
    response = client.post("/admin/customers", data={"name": "晨光文具", "submission_key": "<script>"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "表单标识无效，请刷新页面后重试" in response.get_data(as_text=True)
    assert count(Customer) == 1


def test_two_people_may_use_the_same_key_each_for_their_own_record(client, login, world):
    second_admin = f.UserFactory(username="boss2", name="管理员乙", roles=["admin"])
    db.session.commit()
    for person, name in ((world["admin"], "晨光文具"), (second_admin, "得力文具")):
        login(person)
        assert client.post("/admin/customers", data={"name": name, "submission_key": "shared-key-123"}).status_code == 303
    assert count(Customer) == 3


# ---------------------------------------------------------------- the API

def api_body(world) -> dict:
    return {"customer_id": world["customer"].id, "order_date": plant_today().isoformat(),
            "delivery_date": (plant_today() + timedelta(days=10)).isoformat(), "production_quantity": 500,
            "products": [{"product_id": world["product"].id, "quantity": 800}],
            "steps": [{"process_id": world["cutting"].id}]}


def test_the_api_create_with_the_same_idempotency_key_answers_the_same_work_order(client, login, world):
    login(world["admin"])
    headers = {"Idempotency-Key": "8c0a5f7e-erp-order-4711"}
    first = client.post("/api/v1/workorders", json=api_body(world), headers=headers)
    second = client.post("/api/v1/workorders", json=api_body(world), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert count(WorkOrder) == 1
    other = client.post("/api/v1/workorders", json=api_body(world), headers={"Idempotency-Key": "another-key-4712"})
    assert other.status_code == 201 and other.get_json()["work_order"]["id"] != first.get_json()["work_order"]["id"]
    assert count(WorkOrder) == 2


def test_an_api_create_without_a_key_creates_every_time(client, login, world):
    login(world["admin"])
    for _ in range(2):
        assert client.post("/api/v1/workorders", json=api_body(world)).status_code == 201
    assert count(WorkOrder) == 2


# ---------------------------------------------------------------- at the same moment (PostgreSQL)

@pytest.mark.postgres
@pytest.mark.parametrize("name", ["workorder", "customer"])
def test_two_identical_posts_at_the_same_moment_create_one_record(app, world, name):
    """Each thread its own client and session, released together: the key's INSERT of the second waits
    for the first transaction, then finds the key taken and answers with the first record."""
    new_url, create_url, model, form = CREATE_FORMS[name]
    admin_id, data, url = world["admin"].id, form(world), _url(create_url, world)
    data["submission_key"] = "double-click-0001"
    before = count(model)
    db.session.remove()
    barrier, answers = threading.Barrier(2), [None, None]

    def post(index):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(admin_id)
            session["_fresh"] = True
        barrier.wait()
        answers[index] = client.post(url, data=data)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert count(model) == before + 1
    assert [answer.status_code for answer in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
