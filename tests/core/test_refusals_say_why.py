"""Every refusal says why (issue 20): each action of the policy has one reason naming who may do it
(app/policy.py REFUSALS), a refused person gets exactly that reason — from require(), as a full page, as an
htmx toast (X-Message) and as the API's error envelope — and no 403 says only the generic 您没有权限."""
import uuid
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Department, Task
from app.policy import GENERIC_REFUSAL, REFUSALS, RULES, require
from app.services.core.errors import Forbidden
from app.services.dispatch import assignment
from app.services.tasks import actions as tasks
from factories import ApiTokenFactory, UserFactory
from support.workorders import approved, build_plant, tasks_of

GENERIC_403 = ("您没有权限执行此操作", "您没有权限访问此页面")


@pytest.fixture()
def refused_world(seeded):
    """The walk-through plant with an approved 施工单: its printing task claimed, started and paused by the
    printing operator, and a pending unassigned task of the same department; an inactive operator."""
    plant = build_plant(seeded)
    work_order = approved(plant)
    printing = plant.department("printing")
    mine = next(t for t in tasks_of(work_order.id) if t.department_id == printing.id)
    assignment.assign(mine.id, plant.operator.id, plant.supervisor, mine.version)
    db.session.commit()
    mine = db.session.get(Task, mine.id)
    tasks.start(mine, plant.operator, mine.version)
    tasks.pause(mine, plant.operator, mine.version, "equipment", "")
    db.session.commit()
    other = next(d for d in db.session.scalars(select(Department)) if d.id not in plant.operator.department_ids)
    inactive = UserFactory(username="gone1", name="离职员工", roles=["operator"], departments=[printing],
                           is_active=False)
    db.session.commit()
    return plant, work_order, mine, other, inactive


def _cases(world) -> dict[str, tuple]:
    """action → (refused person, the object the action is asked about)."""
    plant, work_order, task, other, inactive = world
    return {
        "dashboard.view": (plant.operator, None), "admin.access": (plant.maker, None),
        "admin.customers": (plant.maker, None), "admin.plates": (plant.maker, None),
        "kiosk.use": (plant.maker, None), "supervisor.board": (plant.maker, None),
        "dispatch.rules.view": (plant.maker, None), "dispatch.rules.edit": (plant.supervisor, None),
        "dispatch.pool": (plant.maker, None), "stats.view": (plant.operator, None),
        "task.list": (inactive, None), "notifications.view": (inactive, None), "department.list": (inactive, None),
        "workorder.list": (plant.operator, None), "workorder.create": (plant.designer, None),
        "workorder.view": (plant.other_sales, work_order), "workorder.edit": (plant.other_sales, work_order),
        "workorder.submit": (plant.other_sales, work_order), "workorder.edit_drafts": (plant.other_sales, work_order),
        "workorder.approve": (plant.maker, work_order), "workorder.withdraw": (plant.designer, work_order),
        "workorder.control": (plant.maker, work_order), "workorder.delete": (plant.other_sales, work_order),
        "workorder.manage": (plant.maker, work_order), "workorder.materials": (plant.designer, work_order),
        "workorder.order_for": (plant.other_sales, plant.customer),
        "task.view": (plant.designer, task), "task.supervise": (plant.maker, task), "task.work": (plant.maker, task),
        "task.claim": (plant.maker, task), "task.bulk_supervise": (plant.maker, None),
        "task.bulk_drafts": (plant.supervisor, None), "plate.confirm": (plant.maker, None),
        "department.watch": (plant.operator, other), "board.manage": (plant.supervisor, None),
        "live.all": (plant.maker, None), "customer.edit": (plant.other_sales, plant.customer),
        "customer.assign_salesperson": (plant.sales, None), "export.tasks": (plant.operator, None),
        "export.workorders": (plant.operator, None), "stats.collaboration": (plant.maker, None),
        "stats.assignments": (plant.maker, None), "report.department": (plant.maker, other),
        "planning.view": (plant.operator, None), "planning.edit": (plant.maker, other),
    }


def test_every_action_has_its_reason():
    assert set(REFUSALS) == set(RULES)
    assert all(str(reason) != str(GENERIC_REFUSAL) for reason in REFUSALS.values())
    assert len({str(reason) for reason in REFUSALS.values()}) == len(REFUSALS)


def test_a_refused_person_gets_exactly_the_reason_of_the_action(refused_world):
    cases = _cases(refused_world)
    assert set(cases) == set(RULES), "a refused person for every action"
    said = {}
    for action, (person, obj) in cases.items():
        with pytest.raises(Forbidden) as refused:
            require(person, action, obj)
        said[action] = (refused.value.status, refused.value.message)
    assert said == {action: (403, str(REFUSALS[action])) for action in RULES}


def _http_cases(world):
    """(action, person, method, desk path with its form as a query, API (method, path, body) or None) of every action a person reaches
    over HTTP. Not here: dashboard.view (工作台 sends a person without it to their own landing page), the three actions open to every signed-in person (an inactive account is signed out,
    tested in test_security_sessions), customer.edit (another salesperson's customer answers 404: it does not
    exist for them), customer.assign_salesperson and workorder.order_for (fields of forms, refused in
    test_admin_catalog and test_workorder_access), live.all and department.watch on the WebSocket
    (test_realtime_topics)."""
    plant, work_order, task, other, _inactive = world
    pending = next(t for t in tasks_of(work_order.id) if t.status == "pending" and t.operator_id is None
                   and t.department_id is not None)
    wo = work_order.id
    return [
        ("stats.view", plant.operator, "GET", "/stats", None),
        ("admin.access", plant.maker, "GET", "/admin/users", None),
        ("admin.customers", plant.maker, "GET", "/admin/customers", None),
        ("admin.plates", plant.maker, "GET", "/admin/plates", None),
        ("kiosk.use", plant.maker, "GET", "/kiosk", None),
        ("supervisor.board", plant.maker, "GET", "/supervisor", None),
        ("dispatch.rules.view", plant.maker, "GET", "/dispatch/rules", None),
        ("dispatch.rules.edit", plant.supervisor, "POST", "/dispatch/auto", None),
        ("dispatch.pool", plant.maker, "GET", "/dispatch/pool", None),
        ("stats.collaboration", plant.maker, "GET", "/stats/collaboration", None),
        ("stats.assignments", plant.maker, "GET", "/stats/assignments", None),
        ("export.tasks", plant.operator, "GET", "/exports/tasks.xlsx", None),
        ("export.workorders", plant.operator, "GET", "/exports/workorders.xlsx", None),
        ("report.department", plant.maker, "GET", "/exports/departments", None),
        ("workorder.list", plant.operator, "GET", "/workorders", ("GET", "/api/v1/workorders", None)),
        ("workorder.create", plant.designer, "GET", "/workorders/new", None),
        ("workorder.view", plant.other_sales, "GET", f"/workorders/{wo}", ("GET", f"/api/v1/workorders/{wo}", None)),
        ("workorder.approve", plant.maker, "POST", f"/workorders/{wo}/approve",
         ("POST", f"/api/v1/workorders/{wo}/approve", {"version": work_order.version})),
        ("workorder.control", plant.maker, "POST", f"/workorders/{wo}/pause", None),
        ("workorder.withdraw", plant.designer, "POST", f"/workorders/{wo}/withdraw", None),
        ("task.view", plant.designer, "GET", f"/tasks/{task.id}", ("GET", f"/api/v1/tasks/{task.id}", None)),
        ("task.work", plant.maker, "POST", f"/tasks/{task.id}/resume?version={task.version}",
         ("POST", f"/api/v1/tasks/{task.id}/resume", {"version": task.version})),
        ("task.supervise", plant.maker, "POST", f"/tasks/{task.id}/cancel?version={task.version}&reason=x",
         ("POST", f"/api/v1/tasks/{task.id}/cancel", {"version": task.version, "reason": "客户取消"})),
        ("task.claim", plant.maker, "POST", f"/tasks/{pending.id}/claim?version={pending.version}",
         ("POST", f"/api/v1/tasks/{pending.id}/claim", {"version": pending.version})),
        ("plate.confirm", plant.maker, "POST", f"/admin/plates/{plant.artwork.id}/confirm", None),
        ("board.manage", plant.supervisor, "POST", "/board/printing/token", None),
        ("department.watch", plant.operator, "GET", f"/board/{other.code}", None),
    ]


def _sign_in(client, login, person):
    with client.session_transaction() as session:
        session.clear()
    login(person)


def test_every_refusal_over_http_says_its_reason(client, login, refused_world):
    seen, generic = {}, []
    for action, person, method, path, api in _http_cases(refused_world):
        reason = str(REFUSALS[action])
        _sign_in(client, login, person)
        path, _, form = path.partition("?")
        data = dict(part.split("=") for part in form.split("&")) if form else None
        page = client.open(path, method=method, data=data)
        toast = client.open(path, method=method, data=data, headers={"HX-Request": "true"})
        outcome = [page.status_code, reason in page.get_data(as_text=True),
                   toast.status_code, unquote(toast.headers.get("X-Message", ""))]
        responses = [page, toast]
        if api:
            api_method, api_path, body = api
            secret = f"wot_{uuid.uuid4().hex}"
            ApiTokenFactory(owner=person, secret=secret)
            db.session.commit()
            with client.session_transaction() as session:
                session.clear()
            answer = client.open(api_path, method=api_method, json=body,
                                 headers={"Authorization": f"Bearer {secret}"})
            error = answer.get_json()["error"]
            outcome += [answer.status_code, error["code"], error["message"]]
            responses.append(answer)
        seen[action] = outcome
        generic += [(action, r.request.path) for r in responses
                    if r.status_code == 403 and any(text in r.get_data(as_text=True) for text in GENERIC_403)]
    expected = {}
    for action, _person, _method, _path, api in _http_cases(refused_world):
        reason = str(REFUSALS[action])
        expected[action] = [403, True, 403, reason] + ([403, "forbidden", reason] if api else [])
    assert seen == expected
    assert generic == []


def test_the_kiosk_answers_a_refusal_inside_the_kiosk_with_the_reason(client, login, refused_world):
    plant, work_order, task, _other, _inactive = refused_world
    pending = next(t for t in tasks_of(work_order.id) if t.status == "pending" and t.operator_id is None
                   and t.department_id is not None and t.department_id not in plant.operator.department_ids)
    login(plant.operator, kiosk=True)
    response = client.post(f"/tasks/{pending.id}/claim", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert unquote(response.headers["X-Message"]) == f"任务 {pending.number} 不属于您的部门"
