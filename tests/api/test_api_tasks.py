"""The tasks of the JSON API: every operation × every role, each action's outcome, conflicts, the list's filters."""
import pytest
from sqlalchemy import func, select

from app.models import AuditLog, Task
from support.api import bearer, error_of
from support.kiosk_world import reload

ROLES = ["anonymous", "admin", "supervisor", "head_supervisor", "other_supervisor", "operator", "other_operator",
         "outsider", "creator"]
EVERYONE = set(ROLES) - {"anonymous"}
SEES_TASK = EVERYONE - {"outsider"}
CLAIMERS = {"operator", "other_operator", "supervisor"}
WORKERS = {"operator", "supervisor", "head_supervisor", "admin"}  # the holder, its supervisors, admins
SUPERVISORS = {"supervisor", "head_supervisor", "admin"}


def _unassigned(world):
    return world.task


def _held(status):
    def build(world):
        world.task.operator_id, world.task.status = world.operator.id, status
        from app.extensions import db

        db.session.commit()
        return world.task
    return build


# (name, task in the state the operation acts on, method, path, body, roles that succeed)
CASES = [
    ("list", _unassigned, "GET", "/api/v1/tasks", None, EVERYONE),
    ("detail", _unassigned, "GET", "/api/v1/tasks/{id}", None, SEES_TASK),
    ("claim", _unassigned, "POST", "/api/v1/tasks/{id}/claim", {}, CLAIMERS),
    ("start", _held("pending"), "POST", "/api/v1/tasks/{id}/start", {}, WORKERS),
    ("pause", _held("in_progress"), "POST", "/api/v1/tasks/{id}/pause", {"reason": "equipment"}, WORKERS),
    ("resume", _held("paused"), "POST", "/api/v1/tasks/{id}/resume", {}, WORKERS),
    ("report", _held("in_progress"), "POST", "/api/v1/tasks/{id}/report", {"good": 10}, WORKERS),
    ("complete", _held("in_progress"), "POST", "/api/v1/tasks/{id}/complete", {"reason": "提前完成"}, WORKERS),
    ("cancel", _held("pending"), "POST", "/api/v1/tasks/{id}/cancel", {"reason": "客户取消"}, SUPERVISORS),
    ("assign", _unassigned, "POST", "/api/v1/tasks/{id}/assign", {"operator_id": "{operator}"}, SUPERVISORS),
]


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,build,method,path,body,allowed", CASES, ids=[c[0] for c in CASES])
def test_operation_by_role(db, client, world, name, build, method, path, body, allowed, role):
    task = build(world)
    before = _state(task)
    headers = bearer(getattr(world, role)) if role != "anonymous" else {}
    url = path.format(id=task.id)
    if body is None:
        response = client.get(url, headers=headers)
    else:
        payload = {key: world.operator.id if value == "{operator}" else value for key, value in body.items()}
        response = client.post(url, json={"version": task.version, **payload}, headers=headers)
    if role == "anonymous":
        assert error_of(response)[:2] == (401, "unauthenticated")
    elif role in allowed:
        assert response.status_code == 200, response.get_json()
    else:
        assert error_of(response)[:2] == (403, "forbidden")
    if role not in allowed and body is not None:
        assert _state(task) == before


def _state(task):
    task = reload(task)
    return task.status, task.operator_id, task.completed_quantity, task.version


# ---------------------------------------------------------------- outcomes

def act(client, headers, task, action, **body):
    return client.post(f"/api/v1/tasks/{task.id}/{action}", json={"version": reload(task).version, **body},
                       headers=headers)


def test_the_shop_floor_walk_through(db, client, world):
    headers = bearer(world.operator)
    task = world.task
    steps = [
        ("claim", {}, "认领成功", "pending", ["start", "report"]),
        ("start", {}, "已开始", "in_progress", ["report", "pause", "complete"]),
        ("pause", {"reason": "equipment", "note": "换辊"}, "已暂停", "paused", ["resume"]),
        ("resume", {}, "已继续", "in_progress", ["report", "pause", "complete"]),
        ("report", {"good": 600, "defective": 12, "defect_reason": "套色不准"}, "报工成功：600 / 1000", "in_progress",
         ["report", "pause", "complete"]),
        ("report", {"good": 400}, "报工成功，任务已完成", "completed", ["report"]),
    ]
    for action, body, message, status, actions in steps:
        response = act(client, headers, task, action, **body)
        assert response.status_code == 200, response.get_json()
        result = response.get_json()
        assert (result["message"], result["task"]["status"], result["task"]["available_actions"]) == \
            (message, status, actions), action
    result = result["task"]
    assert (result["completed_quantity"], result["defective_quantity"], result["operator"]) == \
        (1000, 12, {"id": world.operator.id, "name": "刘师傅"})
    assert (result["status_label"], result["progress_percent"]) == ("已完成", 100)
    rows = list(db.session.scalars(select(AuditLog.action).where(AuditLog.task_id == task.id).order_by(AuditLog.id)))
    assert rows == ["claim", "start", "pause", "resume", "report", "report"]


def test_the_loser_of_a_claim_race_gets_409_and_who_won(db, client, world):
    seen = world.task.version
    winner = client.post(f"/api/v1/tasks/{world.task.id}/claim", json={"version": seen}, headers=bearer(world.operator))
    assert winner.status_code == 200
    loser = client.post(f"/api/v1/tasks/{world.task.id}/claim", json={"version": seen},
                        headers=bearer(world.other_operator))
    assert error_of(loser) == (409, "conflict", "该任务已被 刘师傅 认领")
    assert loser.get_json()["error"]["reason"] == "claimed"
    assert reload(world.task).operator_id == world.operator.id
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "claim")) == 1


def test_a_stale_version_is_a_conflict(db, client, world):
    headers = bearer(world.operator)
    act(client, headers, world.task, "claim")
    response = client.post(f"/api/v1/tasks/{world.task.id}/start", json={"version": 1}, headers=headers)
    assert error_of(response) == (409, "conflict", "任务已被其他人更新，请刷新后重试")
    assert response.get_json()["error"]["reason"] == "stale"
    assert reload(world.task).status == "pending"


def test_refused_input_names_every_field(db, client, world):
    headers = bearer(world.operator)
    act(client, headers, world.task, "claim")
    act(client, headers, world.task, "start")
    response = act(client, headers, world.task, "report", good=1200, defective=3)
    assert error_of(response) == (422, "invalid", "报工后完成数量不能超过目标数量（1000）")
    assert response.get_json()["error"]["fields"] == {
        "good": "报工后完成数量不能超过目标数量（1000）", "defect_reason": "有不良品时请填写不良原因"}
    response = act(client, headers, world.task, "pause", reason="nap")
    assert error_of(response) == (422, "invalid", "请选择暂停原因")
    response = act(client, headers, world.task, "complete")
    assert error_of(response) == (422, "invalid", "完成数量未达到目标数量，请填写提前完成的原因")
    assert reload(world.task).completed_quantity == 0 and reload(world.task).status == "in_progress"


def test_cancel_and_assign_by_the_supervisor(db, client, world):
    headers = bearer(world.supervisor)
    response = act(client, headers, world.task, "assign", operator_id=world.other_operator.id)
    assert (response.status_code, response.get_json()["message"]) == (200, "已分配给 杨师傅")
    assert response.get_json()["task"]["operator"]["id"] == world.other_operator.id
    response = act(client, headers, world.task, "assign", operator_id=world.outsider.id)
    assert error_of(response) == (422, "invalid", "操作员 黄师傅 不属于部门 印刷车间，无法分配该部门的任务")
    response = act(client, headers, world.task, "cancel", reason="")
    assert error_of(response) == (422, "invalid", "请填写取消原因")
    response = act(client, headers, world.task, "cancel", reason="客户取消")
    assert (response.status_code, response.get_json()["task"]["status"]) == (200, "cancelled")
    response = act(client, headers, world.task, "start")
    assert error_of(response) == (409, "conflict", "任务已取消")


def test_detail_shows_what_the_caller_may_do_and_why_not(db, client, world):
    response = client.get(f"/api/v1/tasks/{world.task.id}", headers=bearer(world.operator))
    body = response.get_json()
    assert (body["number"], body["available_actions"], body["blocked_reason"]) == ("TSG2026110001-01", ["claim"], None)
    assert body["work_order"] == {"id": world.work_order.id, "number": "SG2026110001", "priority": "high",
                                  "delivery_date": world.work_order.delivery_date.isoformat()}
    body = client.get(f"/api/v1/tasks/{world.task.id}", headers=bearer(world.creator)).get_json()
    assert (body["available_actions"], body["blocked_reason"]) == ([], None)


# ---------------------------------------------------------------- the list

def numbers(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["number"] for item in response.get_json()["items"]]


def test_the_list_uses_the_task_centre_filters_and_visibility(db, client, world):
    admin = bearer(world.admin)
    both = ["TSG2026110001-02", "TSG2026110001-01"]
    assert numbers(client.get("/api/v1/tasks", headers=admin)) == both
    assert numbers(client.get(f"/api/v1/tasks?department={world.printing.id}", headers=admin)) == ["TSG2026110001-01"]
    # a parent department includes its children
    assert numbers(client.get(f"/api/v1/tasks?department={world.production.id}", headers=admin)) == both
    assert numbers(client.get("/api/v1/tasks?department=none", headers=admin)) == []
    assert numbers(client.get("/api/v1/tasks?q=模切", headers=admin)) == ["TSG2026110001-02"]
    assert numbers(client.get("/api/v1/tasks?work_order=SG2026110001&sort=number", headers=admin)) == both[::-1]
    assert numbers(client.get("/api/v1/tasks?task_type=printing", headers=admin)) == ["TSG2026110001-01"]
    act(client, bearer(world.operator), world.task, "claim")
    assert numbers(client.get(f"/api/v1/tasks?operator={world.operator.id}", headers=admin)) == ["TSG2026110001-01"]
    response = client.get("/api/v1/tasks?status=pending&per_page=50&page=1", headers=admin)
    body = response.get_json()
    assert (body["total"], body["per_page"], body["pages"], body["counts"]["pending"]) == (2, 50, 1, 2)
    # an operator of 模切车间 sees only its own department's task
    assert numbers(client.get("/api/v1/tasks", headers=bearer(world.outsider))) == ["TSG2026110001-02"]


def test_a_list_reads_a_fixed_number_of_queries(db, client, world, app):
    from sqlalchemy import event

    from app.extensions import db as database

    headers = bearer(world.admin)
    client.get("/api/v1/tasks", headers=headers)  # the token's last use is written once
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/api/v1/tasks", headers=headers).status_code == 200
        few = len(statements)
        for index in range(5):
            from factories import TaskFactory

            TaskFactory(step=world.print_step, department=world.printing, number=f"TSG2026110001-1{index}")
        statements.clear()
        assert client.get("/api/v1/tasks", headers=headers).status_code == 200
        assert len(statements) == few
    finally:
        event.remove(database.engine, "before_cursor_execute", listener)
    assert db.session.scalar(select(func.count()).select_from(Task)) == 7
