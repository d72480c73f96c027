"""The 排产 page (issue 23, DOMAIN.md §12): who sees and who changes it, lanes and table, moves by
drag (POST /planning/move) and by keyboard forms, refusals with the service's reason."""
from urllib.parse import unquote

import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import AuditLog
from app.services import planning
from app.services.planning import workstations_admin
from support.planning_world import build_planned_world, entry, new_print_task, queue, station

HTMX = {"HX-Request": "true"}
ROLES = ["anonymous", "admin", "supervisor", "other_supervisor", "operator", "maker", "salesperson", "designer"]


@pytest.fixture()
def world(db):
    return build_planned_world()


def as_role(login, world, role):
    if role == "anonymous":
        return None
    if role == "supervisor":
        return login(world.supervisor)
    if role == "other_supervisor":
        return login(world.other_supervisor)
    if role == "admin":
        return login(world.admin)
    return login(f.UserFactory(roles=[role], departments=[world.printing]))


# Expected status per route for ROLES. The move puts the second task at the head of P1's queue
# (htmx: the region comes back, 200) for the department's supervisor and admins; supervisors of
# another department and the read-only desk roles are refused (403); an htmx request without a
# session is a 401.
EXPECTED = {
    "page":       [302, 200, 200, 200, 403, 200, 200, 200],
    "page_table": [302, 200, 200, 200, 403, 200, 200, 200],
    "move":       [401, 200, 200, 403, 403, 403, 403, 403],
}


def routes(world):
    return {
        "page": ("GET", f"/planning?department={world.printing.id}", None),
        "page_table": ("GET", f"/planning?department={world.printing.id}&view=table", None),
        "move": ("POST", "/planning/move", {"task_id": world.second.id, "workstation_id": world.press_1.id,
                                            "position": 0}),
    }


@pytest.mark.parametrize("route", EXPECTED)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_access_matrix(client, login, world, route, role_index):
    as_role(login, world, ROLES[role_index])
    method, url, form = routes(world)[route]
    response = client.open(url, method=method, data=form, headers=HTMX if method == "POST" else {})
    assert response.status_code == EXPECTED[route][role_index]


def test_the_plan_is_laid_out_in_lanes_with_the_blocks_in_queue_order(client, login, world):
    login(world.supervisor)
    page = client.get("/planning").get_data(as_text=True)
    # A supervisor lands on their department.
    assert f'data-department="{world.printing.id}"' in page
    assert f'data-live="plan:{world.printing.id}"' in page and 'data-live-events="planning.updated"' in page
    assert "Sortable.min.js" in page and "js/planning.js" in page
    for station_ in (world.press_1, world.press_2, world.cutter):
        assert f'class="plan-lane" data-workstation-id="{station_.id}"' in page
    p1, p2 = queue(world.press_1), queue(world.press_2)
    assert sorted(p1 + p2) == sorted([world.task.id, world.second.id]) and queue(world.cutter) == []
    for task in (world.task, world.second):
        assert f'data-task-id="{task.id}"' in page
    assert "SG2026110001" in page and "prio-high" in page
    assert "data-editable" in page and 'name="workstation_id"' in page


def test_a_read_only_viewer_sees_the_plan_without_controls(client, login, world):
    login(f.UserFactory(roles=["maker"]))
    page = client.get(f"/planning?department={world.printing.id}").get_data(as_text=True)
    assert f'data-task-id="{world.task.id}"' in page
    assert "data-editable" not in page and "/planning/move" not in page.replace('data-move-url="/planning/move"', "")
    assert "只读：只有本部门主管和管理员可以调整排产。" in page


def test_the_sortable_library_loads_only_on_the_pages_that_drag(client, login, world):
    login(world.supervisor)
    assert "Sortable.min.js" in client.get("/planning").get_data(as_text=True)
    for path in ("/", "/tasks", "/workorders"):
        assert "Sortable.min.js" not in client.get(path).get_data(as_text=True), path


def test_a_drag_moves_the_task_to_another_workstation_and_is_audited(client, login, world):
    login(world.supervisor)
    source = entry(world.second).workstation_id
    target = world.press_2 if source == world.press_1.id else world.press_1
    response = client.post("/planning/move", data={"task_id": world.second.id, "workstation_id": target.id,
                                                   "position": 0, "view": "lanes"}, headers=HTMX)
    assert response.status_code == 200
    assert unquote(response.headers["X-Message"]) == "排产已调整"
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="planning-region"')
    assert queue(target)[0] == world.second.id
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "plan_move")).one()
    assert (audit.user_id, audit.task_id, audit.detail["to_workstation"]) == (
        world.supervisor.id, world.second.id, target.id)


def test_a_keyboard_move_without_htmx_comes_back_to_the_page(client, login, world):
    login(world.admin)
    target = world.press_2 if entry(world.second).workstation_id == world.press_1.id else world.press_1
    response = client.post("/planning/move", data={"task_id": world.second.id, "workstation_id": target.id,
                                                   "position": 2147483647, "view": "table"})
    assert (response.status_code, response.headers["Location"]) == (
        302, f"/planning?department={world.printing.id}&view=table")
    assert queue(target)[-1] == world.second.id


def test_reordering_within_a_lane(client, login, world):
    login(world.supervisor)
    third = new_print_task(world, "T-THIRD")
    lane = world.press_1
    for task in (world.second, third):
        client.post("/planning/move", data={"task_id": task.id, "workstation_id": lane.id, "position": 99}, headers=HTMX)
    before = queue(lane)
    assert before[-2:] == [world.second.id, third.id]
    response = client.post("/planning/move", data={"task_id": third.id, "workstation_id": lane.id,
                                                   "position": len(before) - 2}, headers=HTMX)
    assert response.status_code == 200
    assert queue(lane)[-2:] == [third.id, world.second.id]


def test_a_move_to_an_incapable_workstation_is_refused_with_the_reason(client, login, world):
    login(world.supervisor)
    before = entry(world.second).workstation_id
    response = client.post("/planning/move", data={"task_id": world.second.id, "workstation_id": world.cutter.id,
                                                   "position": 0}, headers=HTMX)
    assert response.status_code == 409
    assert unquote(response.headers["X-Message"]) == "机台 C1 不能做工序 印刷"
    assert entry(world.second).workstation_id == before


@pytest.mark.parametrize("form, message", [
    ({"task_id": "abc", "workstation_id": "1", "position": "0"}, "任务：请输入整数"),
    ({"task_id": "1", "workstation_id": "", "position": "0"}, "机台：请输入整数"),
])
def test_bad_input_is_a_clear_400(client, login, world, form, message):
    login(world.supervisor)
    response = client.post("/planning/move", data=form, headers=HTMX)
    assert response.status_code == 400
    assert unquote(response.headers["X-Message"]) == message


def test_a_move_into_another_department_is_refused(client, login, world):
    login(world.admin)
    other = workstations_admin.create_workstation(world.admin, station(world.die_cutting, "D1", world.task.process_id))
    db.session.commit()
    response = client.post("/planning/move", data={"task_id": world.second.id, "workstation_id": other.id,
                                                   "position": 0}, headers=HTMX)
    assert (response.status_code, unquote(response.headers["X-Message"])) == (400, "请选择本部门的机台")


def test_the_table_view_has_the_same_rows_and_actions(client, login, world):
    login(world.supervisor)
    page = client.get(f"/planning?department={world.printing.id}&view=table").get_data(as_text=True)
    assert 'id="plan-table"' in page
    for task in (world.task, world.second):
        assert f'<tr data-task-id="{task.id}"' in page
    assert 'hx-post="/planning/move"' in page


def test_htmx_gets_the_region_alone(client, login, world):
    login(world.supervisor)
    body = client.get(f"/planning?department={world.printing.id}", headers=HTMX).get_data(as_text=True)
    assert body.lstrip().startswith('<div id="planning-region"') and "<html" not in body


def test_unplanned_tasks_are_listed(client, login, world):
    login(world.supervisor)
    lonely = f.ProcessFactory(code="GLUE", name="糊盒")
    work_order = f.WorkOrderFactory(approval_status="approved", status="in_progress", created_by=world.creator)
    step = f.WorkOrderStepFactory(work_order=work_order, process=lonely, sequence=40)
    task = f.TaskFactory(step=step, number="T-GLUE", department=world.printing)
    planning.triggers.mark_plan_changed()
    db.session.commit()
    page = client.get(f"/planning?department={world.printing.id}").get_data(as_text=True)
    unplanned = page.split('id="plan-unplanned"')[1]
    assert f'data-task-id="{task.id}"' in unplanned and "T-GLUE" in unplanned


def test_the_navigation_shows_planning_to_desk_roles_only(client, login, world):
    login(world.supervisor)
    assert 'href="/planning"' in client.get("/supervisor").get_data(as_text=True)
    login(world.operator, kiosk=True)
    assert 'href="/planning"' not in client.get("/kiosk").get_data(as_text=True)


def test_an_unknown_department_is_404(client, login, world):
    login(world.admin)
    assert client.get("/planning?department=999999").status_code == 404


# ---------------------------------------------------------------- actual rates beside the standard ones

def worked(task, hours, good, days_ago=1, operator=None):
    from datetime import timedelta

    from app.models import TimeLog
    from app.services.core import audit
    from app.utils.timeutil import utcnow

    started = utcnow() - timedelta(days=days_ago)
    db.session.add(TimeLog(task_id=task.id, operator_id=(operator or task.operator or f.UserFactory()).id,
                           started_at=started, ended_at=started + timedelta(hours=hours)))
    row = audit.record(None, "task", task.id, "report", task_id=task.id, work_order_id=task.work_order_id,
                       department_id=task.department_id, quantity_delta=good)
    row.at = started + timedelta(hours=hours)
    db.session.commit()


def test_the_rate_each_workstation_reached_in_the_last_30_days(client, login, world):
    from app.services.planning import actual_rates

    login(world.supervisor)
    on_p1 = world.task if entry(world.task).workstation_id == world.press_1.id else world.second
    worked(on_p1, 2, 1600)
    worked(on_p1, 1, 400)
    worked(on_p1, 5, 99999, days_ago=40)  # older than 30 days: left out
    rates = actual_rates.for_department(world.printing.id)
    assert rates == {(world.press_1.id, world.task.process_id): pytest.approx(2000 / 3)}
    page = client.get(f"/planning?department={world.printing.id}").get_data(as_text=True)
    lane_head = page.split(f'id="lane-{world.press_1.id}"')[1].split("</header>")[0]
    assert "标准 1000/h" in lane_head and '<span class="plan-actual">667/h</span>' in lane_head
    other = page.split(f'id="lane-{world.press_2.id}"')[1].split("</header>")[0]
    assert '<span class="plan-actual">—</span>' in other


def test_a_finished_task_counts_for_the_only_capable_workstation(world):
    from app.services.planning import actual_rates

    die = f.TaskFactory(step=world.die_step, number="T-DIE-PRINTING", department=world.printing, status="completed")
    worked(die, 2, 3000)
    assert actual_rates.for_department(world.printing.id) == {(world.cutter.id, die.process_id): pytest.approx(1500)}


def test_a_finished_task_with_several_capable_workstations_is_not_guessed(world):
    from app.services.planning import actual_rates

    done = new_print_task(world, "T-DONE")
    done.status = "completed"
    planning.triggers.mark_plan_changed()
    db.session.commit()
    assert entry(done) is None
    worked(done, 2, 3000)
    assert actual_rates.for_department(world.printing.id) == {}
