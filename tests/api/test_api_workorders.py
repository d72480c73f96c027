"""施工单, departments and notifications of the JSON API: access by role, outcomes, refusals."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApprovalLog, WorkOrder
from app.services.workorders import queries
from app.utils.timeutil import plant_today
from factories import NotificationFactory, UserFactory
from support.api import bearer, error_of
from support.workorders import approved, build_plant, create, fresh, tasks_of

ROLES = ["anonymous", "admin", "supervisor", "maker", "other_maker", "sales", "other_sales", "designer", "operator"]
DESK = {"admin", "supervisor", "maker", "other_maker", "sales", "other_sales", "designer"}
VIEWERS = {"admin", "supervisor", "maker", "sales", "designer"}
EDITORS = {"admin", "maker", "sales"}
APPROVERS = {"admin", "supervisor", "sales"}
# other_sales may create, but not for sales1's customer (the body's customer)
CREATORS = {"admin", "maker", "other_maker", "sales"}


def body_of(plant, **overrides) -> dict:
    data = plant.work_order_input()
    body = {
        "customer_id": data.customer_id, "order_date": data.order_date.isoformat(),
        "delivery_date": data.delivery_date.isoformat(), "production_quantity": data.production_quantity,
        "products": [{"product_id": line.product_id, "quantity": line.quantity} for line in data.products],
        "steps": [{"process_id": step.process_id, "sequence": step.sequence} for step in data.steps],
        "plate_ids": data.plate_ids,
    }
    return {**body, **overrides}


def _draft(plant):
    return create(plant.maker, plant.work_order_input())


def _pending(plant):
    return create(plant.maker, plant.work_order_input(), submit=True)


CASES = [
    ("list", _draft, "GET", "/api/v1/workorders", None, DESK, 200),
    ("detail", _draft, "GET", "/api/v1/workorders/{id}", None, VIEWERS, 200),
    ("create", _draft, "POST", "/api/v1/workorders", "new", CREATORS, 201),
    ("submit", _draft, "POST", "/api/v1/workorders/{id}/submit", {}, EDITORS, 200),
    ("approve", _pending, "POST", "/api/v1/workorders/{id}/approve", {}, APPROVERS, 200),
    ("reject", _pending, "POST", "/api/v1/workorders/{id}/reject", {"reason": "不行"}, APPROVERS, 200),
]


def _user_for(plant, role):
    if role == "other_maker":
        return UserFactory(roles=["maker"])
    return {"admin": plant.admin, "supervisor": plant.supervisor, "maker": plant.maker, "sales": plant.sales,
            "other_sales": plant.other_sales, "designer": plant.designer, "operator": plant.operator}[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,build,method,path,body,allowed,success", CASES, ids=[c[0] for c in CASES])
def test_operation_by_role(seeded, client, name, build, method, path, body, allowed, success, role):
    plant = build_plant(seeded)
    work_order = build(plant)
    before = _state()
    headers = bearer(_user_for(plant, role)) if role != "anonymous" else {}
    url = path.format(id=work_order.id)
    if body is None:
        response = client.get(url, headers=headers)
    else:
        payload = body_of(plant) if body == "new" else {"version": work_order.version, **body}
        response = client.post(url, json=payload, headers=headers)
    if role == "anonymous":
        assert error_of(response)[:2] == (401, "unauthenticated")
    elif role in allowed:
        assert response.status_code == success, response.get_json()
    else:
        assert error_of(response)[:2] == (403, "forbidden")
    if role not in allowed:
        assert _state() == before


def _state():
    db.session.expire_all()
    return [(wo.id, wo.version, wo.approval_status, wo.status, len(tasks_of(wo.id)))
            for wo in db.session.scalars(select(WorkOrder).order_by(WorkOrder.id))]


# ---------------------------------------------------------------- outcomes

def test_create_submit_and_approve_release_the_tasks(seeded, client):
    plant = build_plant(seeded)
    maker, sales = bearer(plant.maker), bearer(plant.sales)
    response = client.post("/api/v1/workorders", json=body_of(plant, priority="urgent", notes=" 加急 "), headers=maker)
    assert response.status_code == 201
    result = response.get_json()
    detail = result["work_order"]
    assert result["message"] == f"施工单 {detail['number']} 已保存为草稿"
    assert (detail["approval_status"], detail["status"], detail["priority"], detail["notes"]) == \
        ("draft", "pending", "urgent", "加急")
    assert [line["product"]["name"] for line in detail["products"]] == ["宣传册", "海报"]
    assert [step["process"]["name"] for step in detail["steps"]][:2] == ["制版", "印刷"]
    drafts = [task["status"] for step in detail["steps"] for task in step["tasks"]]
    assert drafts and set(drafts) == {"draft"}

    url = f"/api/v1/workorders/{detail['id']}"
    response = client.post(f"{url}/submit", json={"version": detail["version"]}, headers=maker)
    assert (response.status_code, response.get_json()["message"]) == (200, "已提交审核")
    version = response.get_json()["work_order"]["version"]
    response = client.post(f"{url}/approve", json={"version": version, "comment": "同意"}, headers=sales)
    assert (response.status_code, response.get_json()["message"]) == (200, "审核通过：7 个任务已分派到部门")
    approved_detail = response.get_json()["work_order"]
    assert (approved_detail["approval_status"], approved_detail["status"], approved_detail["approved_by"]["name"],
            approved_detail["approval_comment"]) == ("approved", "in_progress", "王业务", "同意")
    assert "draft" not in {t.status for t in tasks_of(detail["id"])}

    again = client.post(f"{url}/approve", json={"version": approved_detail["version"]}, headers=sales)
    assert error_of(again) == (409, "conflict", "只有待审核的施工单可以审核，当前审核状态：已通过")


def test_create_and_submit_at_once(seeded, client):
    plant = build_plant(seeded)
    response = client.post("/api/v1/workorders", json=body_of(plant, submit=True), headers=bearer(plant.sales))
    result = response.get_json()
    assert (response.status_code, result["work_order"]["approval_status"]) == (201, "pending")
    assert result["message"] == f"施工单 {result['work_order']['number']} 已提交审核"


def test_refused_creations_write_nothing(seeded, client):
    plant = build_plant(seeded)
    headers = bearer(plant.maker)
    today = plant_today()
    response = client.post("/api/v1/workorders", headers=headers, json=body_of(
        plant, order_date=today.isoformat(), delivery_date=(today - timedelta(days=1)).isoformat()))
    assert error_of(response) == (422, "invalid", "请检查表单中标出的错误")
    assert response.get_json()["error"]["fields"] == {"delivery_date": "交货日期不能早于下单日期"}
    assert response.get_json()["error"]["details"] == ["交货日期不能早于下单日期"]
    response = client.post("/api/v1/workorders", headers=headers, json=body_of(plant, customer_id=999999))
    assert response.get_json()["error"]["fields"] == {"customer_id": "请选择客户"}
    response = client.post("/api/v1/workorders", headers=headers, json=body_of(plant, priority="asap"))
    assert error_of(response) == (422, "invalid", "priority：取值无效，可选：low、normal、high、urgent")
    response = client.post("/api/v1/workorders", headers=bearer(plant.other_sales), json=body_of(plant))
    assert error_of(response) == (403, "forbidden", "只能为自己负责的客户创建或修改施工单")
    assert db.session.scalar(select(WorkOrder)) is None


def test_reject_needs_a_reason_and_a_current_version(seeded, client):
    plant = build_plant(seeded)
    work_order = _pending(plant)
    headers = bearer(plant.sales)
    url = f"/api/v1/workorders/{work_order.id}/reject"
    response = client.post(url, json={"version": work_order.version, "reason": "  "}, headers=headers)
    assert error_of(response) == (422, "invalid", "审核拒绝时，必须填写拒绝原因")
    assert response.get_json()["error"]["fields"] == {"reason": "请填写拒绝原因"}
    response = client.post(url, json={"version": work_order.version + 5, "reason": "颜色不对"}, headers=headers)
    assert error_of(response)[:2] == (409, "conflict")
    response = client.post(url, json={"version": work_order.version, "reason": "颜色不对"}, headers=headers)
    body = response.get_json()["work_order"]
    assert (response.status_code, body["approval_status"], body["approval_comment"]) == (200, "rejected", "颜色不对")
    assert list(db.session.scalars(select(ApprovalLog.action).order_by(ApprovalLog.id))) == ["submit", "reject"]
    assert fresh(work_order.id).approval_status == "rejected"


def test_the_list_filters_and_shows_only_what_the_caller_sees(seeded, client):
    plant = build_plant(seeded)
    draft = _draft(plant)
    in_production = approved(plant)
    admin = bearer(plant.admin)

    def numbers(query=""):
        response = client.get(f"/api/v1/workorders{query}", headers=admin)
        assert response.status_code == 200
        return [item["number"] for item in response.get_json()["items"]]

    assert numbers() == [in_production.number, draft.number]
    assert numbers("?approval_status=approved") == [in_production.number]
    assert numbers("?status=in_progress&sort=number") == [in_production.number]
    assert numbers(f"?q={draft.number}") == [draft.number]
    response = client.get("/api/v1/workorders", headers=bearer(plant.other_sales))
    assert response.get_json()["total"] == 0
    detail = client.get(f"/api/v1/workorders/{in_production.id}", headers=admin).get_json()
    assert detail["progress_percent"] == queries.progress_percent(fresh(in_production.id))


# ---------------------------------------------------------------- departments and notifications

@pytest.mark.parametrize("role", ["admin", "supervisor", "maker", "salesperson", "designer", "operator"])
def test_everyone_reads_the_department_tree(seeded, client, role, make_user):
    response = client.get("/api/v1/departments", headers=bearer(make_user(role)))
    items = response.get_json()["items"]
    assert response.status_code == 200
    by_code = {item["code"]: item for item in items}
    assert by_code["printing"]["parent_id"] == by_code["production"]["id"]
    assert by_code["printing"]["depth"] == 2
    assert "PRT" in [p["code"] for p in by_code["printing"]["processes"]]
    assert client.get("/api/v1/departments").status_code == 401


def test_notifications_are_the_callers_own(db, client):
    owner, stranger = UserFactory(roles=["operator"]), UserFactory(roles=["operator"])
    mine = NotificationFactory(recipient=owner, title="新任务分配", type="task_assigned")
    NotificationFactory(recipient=stranger)
    headers = bearer(owner)
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    assert [(item["id"], item["title"], item["type_label"], item["is_read"]) for item in body["items"]] == \
        [(mine.id, "新任务分配", "新任务分配", False)]
    assert client.get("/api/v1/notifications?read=read", headers=headers).get_json()["total"] == 0

    response = client.post(f"/api/v1/notifications/{mine.id}/read", headers=headers)
    assert (response.status_code, response.get_json()["is_read"]) == (200, True)
    assert client.get("/api/v1/notifications?read=unread", headers=headers).get_json()["total"] == 0
    response = client.post(f"/api/v1/notifications/{mine.id}/read", headers=bearer(stranger))
    assert error_of(response) == (404, "not_found", "通知不存在")
