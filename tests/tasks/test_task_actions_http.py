"""Task actions over HTTP: the walk-through with htmx, conflicts, inline errors, and the access matrix."""
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, Notification
from support.kiosk_world import reload

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


@pytest.fixture()
def login(login):
    """Switch users between requests of one test.

    The test client runs requests inside the test's own app context, so ``g`` (where
    Flask-Login caches the current user) would otherwise outlive the request.
    """
    from flask import g

    def _login(user, kiosk=False):
        for name in ("_login_user", "_led_departments"):
            g.pop(name, None)
        return login(user, kiosk=kiosk)

    return _login


def post(client, task, action, version=None, **form):
    data = {"version": task.version if version is None else version, **form}
    return client.post(f"/tasks/{task.id}/{action}", data=data, headers=HTMX)


def message(response):
    return unquote(response.headers.get("X-Message", ""))


def test_walk_through_over_http(db, client, login, world):
    login(world.operator, kiosk=True)
    task = world.task

    response = post(client, task, "claim")
    assert response.status_code == 200
    assert message(response) == "认领成功"
    assert response.headers["HX-Trigger"] == "kiosk-refresh"
    html = response.get_data(as_text=True)
    assert f'id="task-{task.id}"' in html and ">开始</button>" in html

    for action, form, expected in [
        ("start", {}, "已开始"),
        ("pause", {"reason": "equipment", "note": ""}, "已暂停"),
        ("resume", {}, "已继续"),
        ("report", {"good": "600", "defective": "12", "defect_reason": "套色不准", "note": ""}, "报工成功：600 / 1000"),
    ]:
        response = post(client, reload(task), action, **form)
        assert (response.status_code, message(response)) == (200, expected), action

    assert "HX-Trigger" not in response.headers  # still 进行中: the card swaps itself, the lists stay
    html = response.get_data(as_text=True)
    assert '<span class="tc-done">600</span>' in html and "不良 12" in html

    response = post(client, reload(task), "report", good="400", defective="", defect_reason="", note="")
    assert (response.status_code, message(response)) == (200, "报工成功，任务已完成")
    assert response.headers["HX-Trigger"] == "kiosk-refresh"
    task = reload(task)
    assert (task.status, task.completed_quantity, task.defective_quantity) == ("completed", 1000, 12)
    assert reload(world.print_step).status == "completed"
    recipients = set(db.session.scalars(select(Notification.recipient_id).where(Notification.type == "task_completed")))
    assert recipients == {world.supervisor.id, world.head_supervisor.id}


def test_the_loser_of_a_claim_is_told_who_won_and_its_lists_refresh(db, client, login, world):
    seen_version = world.task.version
    login(world.operator, kiosk=True)
    assert post(client, world.task, "claim", version=seen_version).status_code == 200
    login(world.other_operator, kiosk=True)
    response = post(client, world.task, "claim", version=seen_version)
    assert response.status_code == 409
    assert message(response) == "该任务已被 刘师傅 认领"
    assert response.headers["HX-Trigger"] == "kiosk-refresh"
    assert reload(world.task).operator_id == world.operator.id
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "claim")) == 1


def test_a_stale_card_is_refused(db, client, login, world):
    login(world.operator, kiosk=True)
    post(client, world.task, "claim")
    response = post(client, reload(world.task), "start", version=1)
    assert (response.status_code, message(response)) == (409, "任务已被其他人更新，请刷新后重试")
    assert reload(world.task).status == "pending"


def test_a_post_without_version_is_refused(db, client, login, world):
    login(world.operator, kiosk=True)
    response = client.post(f"/tasks/{world.task.id}/claim", data={}, headers=HTMX)
    assert (response.status_code, message(response)) == (409, "任务已被其他人更新，请刷新后重试")
    assert reload(world.task).operator_id is None


def test_report_errors_come_back_inline_with_the_panel_open(db, client, login, world):
    login(world.operator, kiosk=True)
    post(client, world.task, "claim")
    post(client, reload(world.task), "start")
    task = reload(world.task)
    response = post(client, task, "report", good="1200", defective="3", defect_reason="", note="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<details class="tc-panel" data-action="report" open>' in html
    assert (f'<span id="good-{task.id}-error" class="field-error" role="alert">报工后完成数量不能超过目标数量（1000）'
            '</span>') in html
    assert (f'<span id="defect_reason-{task.id}-error" class="field-error" role="alert">有不良品时请填写不良原因'
            '</span>') in html
    # Each refused field is marked and points at its message (and its help text, if it has one).
    assert f'class="big-number" aria-invalid="true" aria-describedby="good-{task.id}-error">' in html
    assert f'aria-invalid="true" aria-describedby="defect_reason-{task.id}-help defect_reason-{task.id}-error">' in html
    assert 'value="1200"' in html  # what the operator typed is kept
    assert reload(task).version == task.version and reload(task).completed_quantity == 0

    response = post(client, task, "report", good="abc")
    assert response.status_code == 422
    assert f'<span id="good-{task.id}-error" class="field-error" role="alert">请输入整数</span>' in response.get_data(as_text=True)


def test_without_htmx_an_action_redirects_and_a_refusal_is_a_page(db, client, login, world):
    login(world.operator, kiosk=True)
    response = client.post(f"/tasks/{world.task.id}/claim", data={"version": world.task.version})
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk")
    response = client.post(f"/tasks/{world.task.id}/report", data={"version": reload(world.task).version,
                                                                   "good": "5000"})
    assert response.status_code == 400
    assert "报工后完成数量不能超过目标数量（1000）" in response.get_data(as_text=True)


def test_paused_work_order_refuses_and_the_card_says_why(db, client, login, world):
    login(world.operator, kiosk=True)
    post(client, world.task, "claim")
    world.work_order.status = "paused"
    db.session.commit()
    response = post(client, reload(world.task), "start")
    assert (response.status_code, message(response)) == (409, "施工单已暂停")
    html = client.get(f"/tasks/{world.task.id}", headers=HTMX).get_data(as_text=True)
    assert '<p class="tc-reason" role="status">施工单已暂停</p>' in html
    assert "<button" not in html


def test_supervisor_cancels_from_the_task_page(db, client, login, world):
    login(world.supervisor)
    html = client.get(f"/tasks/{world.task.id}").get_data(as_text=True)
    assert "取消任务" in html
    response = post(client, world.task, "cancel", reason="客户撤单")
    assert (response.status_code, message(response)) == (200, "任务已取消")
    assert reload(world.task).status == "cancelled"


def test_task_page_shows_the_full_history(db, client, login, world):
    login(world.operator, kiosk=True)
    post(client, world.task, "claim")
    post(client, reload(world.task), "start")
    post(client, reload(world.task), "pause", reason="material", note="等纸")
    post(client, reload(world.task), "resume")
    post(client, reload(world.task), "report", good="300", defective="2", defect_reason="刮花", note="")
    html = client.get(f"/tasks/{world.task.id}").get_data(as_text=True)
    assert "操作记录（5 条）" in html
    for text in ("认领", "待开始 → 进行中", "缺料；等纸", "已暂停 → 进行中", "良品 +300", "不良 +2", "<dt>完成数量</dt><dd>0 ", "刮花"):
        assert text in html, text
    assert "工时记录（2 段）" in html
    assert html.count("刘师傅") >= 3
    assert 'data-idle-seconds="120"' in html  # a kiosk session keeps the kiosk frame and its idle logout


# ---------------------------------------------------------------- access matrix

ROLES = ["anonymous", "admin", "salesperson", "creator", "designer", "supervisor", "other_supervisor", "operator",
         "outsider"]


def _actor(world, make_user, role):
    if role == "anonymous":
        return None
    if role in ("salesperson", "designer"):
        return make_user(role)
    return getattr(world, role)


ROUTES = {
    # route: (method, path template, {role: status}); POSTs are sent as htmx does (anonymous → 401 + HX-Redirect)
    "kiosk": ("GET", "/kiosk", {
        "anonymous": 302, "admin": 403, "salesperson": 403, "creator": 403, "designer": 403, "supervisor": 403,
        "other_supervisor": 403, "operator": 200, "outsider": 200,
    }),
    "kiosk region": ("GET", "/kiosk?region=mine", {
        "anonymous": 302, "admin": 403, "salesperson": 403, "creator": 403, "designer": 403, "supervisor": 403,
        "other_supervisor": 403, "operator": 200, "outsider": 200,
    }),
    "task page": ("GET", "/tasks/{id}", {
        "anonymous": 302, "admin": 200, "salesperson": 403, "creator": 200, "designer": 403, "supervisor": 200,
        "other_supervisor": 200, "operator": 200, "outsider": 403,
    }),
    "claim": ("POST", "/tasks/{id}/claim", {
        "anonymous": 401, "admin": 403, "salesperson": 403, "creator": 403, "designer": 403, "supervisor": 200,
        "other_supervisor": 403, "operator": 200, "outsider": 403,
    }),
    "start unclaimed": ("POST", "/tasks/{id}/start", {
        "anonymous": 401, "admin": 409, "salesperson": 403, "creator": 409, "designer": 403, "supervisor": 409,
        "other_supervisor": 409, "operator": 409, "outsider": 403,
    }),
    "cancel": ("POST", "/tasks/{id}/cancel", {
        "anonymous": 401, "admin": 200, "salesperson": 403, "creator": 403, "designer": 403, "supervisor": 200,
        "other_supervisor": 403, "operator": 403, "outsider": 403,
    }),
}
MATRIX = [(route, role) for route in ROUTES for role in ROLES]


@pytest.mark.parametrize("route,role", MATRIX, ids=[f"{r}-{role}" for r, role in MATRIX])
def test_access_matrix(db, client, login, make_user, world, route, role):
    method, path, expected = ROUTES[route]
    actor = _actor(world, make_user, role)
    if actor is not None:
        login(actor, kiosk=actor.has_role("operator"))
    url = path.format(id=world.task.id)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"version": world.task.version, "reason": "矩阵测试"}, headers=HTMX)
    assert response.status_code == expected[role]
