"""Input the database cannot hold is a Chinese field error, never a 500 (the fuzzer in
test_fuzz_inputs.py covers every form; these are the cases that were 500s, named)."""
import json
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.errors.input_guard import json_depth
from app.models import Customer, WorkOrder
from support.kiosk_world import reload
from support.workorders import build_plant, form_data

BIG = "99999999999999999999"
HTMX = {"HX-Request": "true"}


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def count(model) -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("steps-0-process_id", "abc", "steps-0-process_id：请输入整数"),
    ("steps-0-process_id", BIG, "steps-0-process_id：数值超出范围（-2147483648 到 2147483647）"),
    ("steps-0-sequence", BIG, "steps-0-sequence：数值超出范围（-2147483648 到 2147483647）"),
    ("production_quantity", BIG, "数值超出范围（-2147483648 到 2147483647）"),
    ("products-0-quantity", "²", "请输入整数"),
    ("customer_id", BIG, "数值超出范围（-2147483648 到 2147483647）"),
    ("artwork_ids", BIG, "数值超出范围（-2147483648 到 2147483647）"),
])
def test_a_number_out_of_range_in_the_work_order_form_is_a_field_error(plant, client, login, field, value, message):
    login(plant.maker)
    response = client.post("/workorders", data=form_data(plant, **{field: value}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # A hidden id's error is listed above the form; the others stand beside their field.
    assert (f"<li>{message}</li>" if "：" in message else f'<span class="field-error">{message}</span>') in html
    assert count(WorkOrder) == 0


@pytest.mark.parametrize("path", ["/tasks/" + BIG, "/workorders/" + BIG, "/admin/customers/" + BIG + "/edit"])
def test_an_id_beyond_the_database_integer_is_not_found(plant, client, login, path):
    login(plant.admin)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", [{"page": BIG}, {"page": "²"}, {"department": BIG}, {"operator": "²"},
                                   {"page_size": BIG}])
def test_a_query_string_out_of_range_is_ignored(plant, client, login, query):
    login(plant.admin)
    assert client.get("/tasks", query_string=query).status_code == 200


def test_nul_and_control_characters_are_refused_with_a_message(plant, client, login):
    login(plant.admin)
    for value in ("华美\x00包装", "华美\x1b包装"):
        response = client.post("/admin/customers", data={"name": value}, headers=HTMX)
        assert response.status_code == 400
        assert unquote(response.headers["X-Message"]) == "“name”含有不允许的控制字符（如 NUL），请删除后重试"
    # Tab and line breaks stay allowed: multi-line text areas hold them.
    response = client.post("/admin/customers", data={"name": "新客户", "notes": "第一行\r\n\t第二行"}, headers=HTMX)
    assert response.status_code == 200
    assert count(Customer) == 3


def test_deeply_nested_json_is_refused_before_it_is_parsed(plant, client):
    from factories import ApiTokenFactory

    ApiTokenFactory(owner=plant.admin, secret="wot_" + "1" * 32)
    headers = {"Authorization": "Bearer wot_" + "1" * 32}
    response = client.post("/api/v1/workorders", data="[" * 5000 + "]" * 5000, content_type="application/json",
                           headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "JSON 嵌套层数超过 32 层"
    assert count(WorkOrder) == 0


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(json.dumps({"x": "\\\"[["}).encode()) == 1
    assert json_depth(b"") == 0


def test_a_form_text_part_bigger_than_the_limit_is_refused_with_413(plant, client, login, app):
    login(plant.admin)
    response = client.post("/admin/customers", data={"name": "x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1)},
                           content_type="multipart/form-data", headers=HTMX)
    assert response.status_code == 413
    assert unquote(response.headers["X-Message"]) == "上传的文件太大"


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def test_one_report_cannot_hold_more_defects_than_the_target(world, client, login):
    login(world.operator, kiosk=True)
    client.post(f"/tasks/{world.task.id}/claim", data={"version": world.task.version}, headers=HTMX)
    client.post(f"/tasks/{world.task.id}/start", data={"version": reload(world.task).version}, headers=HTMX)
    task = reload(world.task)
    response = client.post(f"/tasks/{task.id}/report", headers=HTMX, data={
        "version": task.version, "good": "10", "defective": "1001", "defect_reason": "手滑", "note": ""})
    assert response.status_code == 422
    assert 'class="field-error" role="alert">单次报工的不良品数量不能超过目标数量（1000）</span>' in response.get_data(as_text=True)
    assert reload(task).defective_quantity == 0 and reload(task).version == task.version

    response = client.post(f"/tasks/{task.id}/report", headers=HTMX, data={
        "version": task.version, "good": "10", "defective": BIG, "defect_reason": "手滑", "note": ""})
    assert response.status_code == 422
    assert 'class="field-error" role="alert">数值超出范围（-2147483648 到 2147483647）</span>' in response.get_data(as_text=True)
