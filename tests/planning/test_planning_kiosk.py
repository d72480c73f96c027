"""The kiosk bound to a workstation (DOMAIN.md §12): chosen at the kiosk login, kept per terminal;
我的任务 then shows that workstation's queue in plan order with the planned times; unbound kiosks
are unchanged; the job ticket shows the planned workstation and times."""
import re

import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import Setting
from app.services.planning import kiosk_binding, workstations_admin
from support.planning_world import build_planned_world, new_print_task, queue, station

PIN = "1234"


@pytest.fixture()
def world(db):
    world = build_planned_world()
    world.third = new_print_task(world, "T-THIRD")
    return world


def kiosk_login(client, user, workstation_id=None):
    client.get("/kiosk/login")
    data = {"employee_no": user.employee_no, "pin": PIN}
    if workstation_id is not None:
        data["workstation_id"] = str(workstation_id)
    return client.post("/kiosk/login", data=data)


def bindings():
    db.session.expire_all()
    return {row.key: row.value for row in db.session.scalars(select(Setting).where(Setting.key.like("kiosk_terminal:%")))}


def queue_order(page):
    listed = page.split('id="kiosk-queue"')[1].split("</ol>")[0]
    return [int(n) for n in re.findall(r'<li data-task-id="(\d+)"', listed)]


def test_the_login_offers_the_active_workstations(client, world):
    page = client.get("/kiosk/login").get_data(as_text=True)
    assert 'name="workstation_id"' in page
    for station_ in (world.press_1, world.press_2, world.cutter):
        assert f'<option value="{station_.id}">印刷车间 · {station_.code} {station_.name}</option>' in page


def test_a_bound_kiosk_shows_the_workstation_queue_in_plan_order(client, world):
    response = kiosk_login(client, world.operator, world.press_1.id)
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk")
    assert list(bindings().values()) == [world.press_1.id]
    page = client.get("/kiosk").get_data(as_text=True)
    assert "机台 P1" in page
    expected = queue(world.press_1)
    assert expected and queue_order(page) == expected
    first = page.split('id="kiosk-queue"')[1].split("</li>")[0]
    assert "下一个" in first and "计划：" in first
    # The region re-fetches on the workstation's department channel too.
    assert f'data-live="user:{world.operator.id} dept:{world.printing.id} plan:{world.printing.id}"' in page
    assert f'data-live="dept:{world.printing.id} plan:{world.printing.id}" data-live-skip="claimable"' in page


def test_the_terminal_remembers_its_workstation(client, world):
    kiosk_login(client, world.operator, world.press_2.id)
    client.post("/logout")
    page = client.get("/kiosk/login").get_data(as_text=True)
    assert f'<option selected value="{world.press_2.id}">' in page or \
        f'<option value="{world.press_2.id}" selected>' in page
    # Logging in again without touching the select keeps it.
    kiosk_login(client, world.other_operator, world.press_2.id)
    assert queue_order(client.get("/kiosk").get_data(as_text=True)) == queue(world.press_2)


def test_choosing_no_workstation_unbinds_and_the_kiosk_works_as_before(client, world):
    kiosk_login(client, world.operator, world.press_1.id)
    client.post("/logout")
    response = kiosk_login(client, world.operator, "")
    assert response.status_code == 302 and bindings() == {}
    page = client.get("/kiosk").get_data(as_text=True)
    assert 'id="kiosk-queue"' not in page and "您手上没有任务。可以在下方认领任务。" in page


def test_a_workstation_of_another_department_is_refused(client, world):
    other = workstations_admin.create_workstation(world.admin, station(world.die_cutting, "D1", world.die_task.process_id))
    db.session.commit()
    response = kiosk_login(client, world.operator, other.id)
    assert response.status_code == 400
    assert "机台 D1 不属于您的部门" in response.get_data(as_text=True)
    assert bindings() == {}
    assert client.get("/kiosk").status_code == 302  # not logged in


@pytest.mark.parametrize("value", ["abc", "99999999999999"])
def test_a_bad_workstation_value_is_a_clear_400(client, world, value):
    response = kiosk_login(client, world.operator, value)
    assert response.status_code == 400 and "请选择机台" in response.get_data(as_text=True)
    assert bindings() == {}


def test_an_unknown_workstation_is_refused(client, world):
    response = kiosk_login(client, world.operator, 999999)
    assert response.status_code == 400 and "机台不存在或已停用" in response.get_data(as_text=True)


def test_a_binding_outside_the_operator_s_departments_is_ignored(client, world):
    kiosk_login(client, world.operator, world.press_1.id)
    client.post("/logout")
    kiosk_login(client, world.outsider)  # 模切车间: the field left out (no select posted): unbinds
    assert bindings() == {}
    terminal = client.get_cookie("kiosk_terminal").value
    kiosk_binding.bind(terminal, world.operator, world.press_1.id)
    db.session.commit()
    assert kiosk_binding.workstation_for(terminal, world.outsider) is None
    assert kiosk_binding.workstation_for(terminal, world.operator).id == world.press_1.id


def test_the_job_ticket_shows_the_planned_workstation_and_times(client, login, world):
    login(world.operator, kiosk=True)
    body = client.get(f"/tasks/{world.task.id}/ticket").get_data(as_text=True)
    assert "计划机台" in body and "计划时间" in body
    entry_station = world.press_1 if world.task.id in queue(world.press_1) else world.press_2
    assert f'<dd class="jt-plan-workstation">{entry_station.code} {entry_station.name}</dd>' in body


def test_without_workstations_the_login_has_no_select(client, db):
    f.UserFactory(roles=["operator"])
    db.session.commit()
    assert 'name="workstation_id"' not in client.get("/kiosk/login").get_data(as_text=True)


def test_a_queued_task_is_not_listed_again_under_claimable(client, world):
    kiosk_login(client, world.operator, world.press_1.id)
    page = client.get("/kiosk").get_data(as_text=True)
    claimable = page.split('id="kiosk-claimable"')[1]
    shown = queue(world.press_1)
    for task_id in shown:
        assert f'id="task-{task_id}"' not in claimable
    others = [t.id for t in (world.task, world.second, world.third) if t.id not in shown]
    for task_id in others:
        assert f'id="task-{task_id}"' in claimable
    assert page.count(f'id="task-{shown[0]}"') == 1
