"""排产 in the JSON API: every operation × every role, the plan and projection it returns, moves and refusals."""
import pytest

from app.services.planning import workstations_admin
from support.api import bearer, error_of
from support.kiosk_world import build_world, reload

ROLES = ["anonymous", "admin", "supervisor", "head_supervisor", "other_supervisor", "operator", "other_operator",
         "outsider", "creator"]
DESK = {"admin", "supervisor", "head_supervisor", "other_supervisor", "creator"}
SUPERVISORS = {"supervisor", "head_supervisor", "admin"}  # of 印刷车间 (a parent's supervisor leads it too)

# (name, method, path, body, roles that succeed)
CASES = [
    ("workstations", "GET", "/api/v1/workstations", None, DESK),
    ("plan", "GET", "/api/v1/departments/{printing}/plan", None, DESK),
    ("projection", "GET", "/api/v1/workorders/{work_order}/projection", None, DESK),
    ("move", "POST", "/api/v1/tasks/{task}/plan-move", {"workstation_id": "{press_2}", "position": 0}, SUPERVISORS),
]


@pytest.fixture()
def world(db):
    world = build_world()
    world.press_1 = workstations_admin.create_workstation(world.admin, _station(world, "P1"))
    world.press_2 = workstations_admin.create_workstation(world.admin, _station(world, "P2"))
    db.session.commit()
    return world


def _station(world, code):
    return {"department_id": world.printing.id, "code": code, "name": f"四色机 {code}", "is_active": "y",
            "processes": [{"process_id": world.task.process_id, "rate_per_hour": "1000", "setup_minutes": "30"}]}


def _format(world, text):
    return text.format(printing=world.printing.id, work_order=world.work_order.id, task=world.task.id,
                       press_2=world.press_2.id)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,method,path,body,allowed", CASES, ids=[c[0] for c in CASES])
def test_operation_by_role(db, client, world, name, method, path, body, allowed, role):
    headers = bearer(getattr(world, role)) if role != "anonymous" else {}
    url = _format(world, path)
    if body is None:
        response = client.get(url, headers=headers)
    else:
        payload = {key: int(_format(world, value)) if isinstance(value, str) else value for key, value in body.items()}
        response = client.post(url, json=payload, headers=headers)
    if role == "anonymous":
        assert error_of(response)[:2] == (401, "unauthenticated")
    elif role in allowed:
        assert response.status_code == 200, response.get_json()
    else:
        assert error_of(response)[:2] == (403, "forbidden")


def test_the_plan_lists_each_workstation_s_queue_with_planned_times(db, client, world):
    response = client.get(f"/api/v1/departments/{world.printing.id}/plan", headers=bearer(world.supervisor))
    plan = response.get_json()
    assert (plan["enabled"], plan["editable"], plan["department"]["name"]) == (True, True, "印刷车间")
    assert [lane["workstation"]["code"] for lane in plan["lanes"]] == ["P1", "P2"]
    [block] = plan["lanes"][0]["blocks"]
    assert (block["task_id"], block["work_order_number"], block["position"], block["conflict"]) == \
        (world.task.id, "SG2026110001", 0, False)
    assert block["planned_start"].endswith("Z") and block["planned_finish"] > block["planned_start"]
    assert plan["lanes"][0]["workstation"]["processes"][0]["rate_per_hour"] == 1000.0
    cutting = client.get(f"/api/v1/departments/{world.die_cutting.id}/plan", headers=bearer(world.supervisor))
    assert cutting.get_json()["lanes"] == [] and cutting.get_json()["unplanned"][0]["task_id"] == world.die_task.id


def test_the_projection_says_unplanned_while_a_task_waits_in_an_unplanned_department(db, client, world):
    projection = client.get(f"/api/v1/workorders/{world.work_order.id}/projection",
                            headers=bearer(world.creator)).get_json()
    assert projection == {"work_order_id": world.work_order.id, "enabled": True,
                          "delivery_date": world.work_order.delivery_date.isoformat(), "projected_finish": None,
                          "unplanned": True, "at_risk": False}


def test_a_move_answers_the_new_place_and_refusals_are_json(db, client, world):
    headers = bearer(world.supervisor)
    response = client.post(f"/api/v1/tasks/{world.task.id}/plan-move",
                           json={"workstation_id": world.press_2.id, "position": 5}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["message"] == "已调整排产" and response.get_json()["block"]["position"] == 0
    cutter = workstations_admin.create_workstation(world.admin, {
        "department_id": world.printing.id, "code": "X1", "name": "模切机", "is_active": "y",
        "processes": [{"process_id": world.die_task.process_id, "rate_per_hour": "1000", "setup_minutes": "0"}]})
    db.session.commit()
    refused = client.post(f"/api/v1/tasks/{world.task.id}/plan-move",
                          json={"workstation_id": cutter.id, "position": 0}, headers=headers)
    assert error_of(refused) == (409, "conflict", "机台 X1 不能做工序 印刷")
    bad = client.post(f"/api/v1/tasks/{world.task.id}/plan-move", json={"workstation_id": world.press_1.id,
                                                                        "position": -1}, headers=headers)
    assert bad.status_code == 422
    assert reload(world.task).status == "pending"
