"""任务中心 bulk actions: each task through its own service, one exact result per task, nothing
written on refused input, and only the actions the viewer may take are offered."""
import re

import pytest
from sqlalchemy import func, select

import factories as f
from app.extensions import db as _db
from app.models import AuditLog, Task
from support.reports_world import HTMX, message


@pytest.fixture()
def world(reports_world):
    return reports_world


def bulk(client, action, tasks, **form):
    data = {"action": action, "task_ids": [str(t.id) if hasattr(t, "id") else str(t) for t in tasks], **form}
    return client.post("/tasks/bulk", data=data, headers=HTMX)


def results(response) -> list[tuple[str, str, str]]:
    """(ok|failed, number, message) per task, in the order shown."""
    html = response.get_data(as_text=True)
    return [(state, number.strip(), text.strip()) for state, number, text in re.findall(
        r'<li class="(ok|failed)" data-task-id="\d+">\s*<span aria-hidden="true">.</span>\s*([^：]+)：([^<]*)</li>', html)]


def reloaded(task) -> Task:
    _db.session.expire_all()
    return _db.session.get(Task, task.id)


def audit_count(**where) -> int:
    return _db.session.scalar(select(func.count()).select_from(AuditLog).filter_by(**where))


def test_bulk_cancel_reports_each_task(client, sign_in, world):
    sign_in(world.supervisor)
    response = bulk(client, "cancel", [world.t5, world.t6, world.t1, 999999], reason="客户改单")
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "tasks-refresh"
    assert message(response) == "成功 1 个，失败 3 个"
    assert results(response) == [
        ("ok", world.t5.number, "任务已取消"),
        ("failed", world.t6.number, "只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"),
        ("failed", world.t1.number, "施工单已完成"),
        ("failed", "#999999", "任务不存在"),
    ]
    assert (reloaded(world.t5).status, reloaded(world.t5).cancel_reason) == ("cancelled", "客户改单")
    assert (reloaded(world.t6).status, reloaded(world.t1).status) == ("pending", "completed")
    assert audit_count(task_id=world.t5.id, action="cancel") == 1
    assert audit_count(task_id=world.t6.id, action="cancel") == 0


def test_bulk_cancel_without_a_reason_writes_nothing_and_says_why_next_to_the_field(client, sign_in, world):
    sign_in(world.supervisor)
    response = bulk(client, "cancel", [world.t5], reason="  ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<span class="field-error">请填写取消原因</span>', html)
    assert reloaded(world.t5).status == "in_progress"
    assert audit_count(action="cancel") == 0


def test_bulk_assign_reports_each_task(client, sign_in, world):
    open_task = f.TaskFactory(step=world.t5.step, number="TSG2026030003-06", department=world.printing,
                              status="pending")
    sign_in(world.supervisor)
    response = bulk(client, "assign", [open_task, world.t6, world.t8], operator_id=str(world.yang.id))
    assert response.status_code == 200
    assert results(response) == [
        ("ok", open_task.number, "已分配给 杨师傅"),
        ("failed", world.t6.number, "只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"),
        ("failed", world.t8.number, "只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"),
    ]
    assert reloaded(open_task).operator_id == world.yang.id
    assert (reloaded(world.t6).operator_id, reloaded(world.t8).operator_id) == (None, None)
    assert audit_count(task_id=open_task.id, action="assign") == 1


def test_bulk_assign_needs_an_operator(client, sign_in, world):
    sign_in(world.supervisor)
    response = bulk(client, "assign", [world.t5], operator_id="")
    assert response.status_code == 422
    assert '<span class="field-error">请选择操作员</span>' in response.get_data(as_text=True)


def test_bulk_edit_drafts_goes_through_each_work_order(client, sign_in, world):
    sign_in(world.maker)
    response = bulk(client, "edit_drafts", [world.t9, world.t1], quantity="750", requirements="", notes="加急")
    assert response.status_code == 200
    assert results(response) == [
        ("ok", world.t9.number, "已更新"),
        ("failed", world.t1.number, "施工单已审核通过，草稿任务不能再修改"),
    ]
    draft = reloaded(world.t9)
    assert (draft.target_quantity, draft.notes, draft.production_requirements) == (750, "加急", "")
    assert reloaded(world.t1).target_quantity == 1000
    assert audit_count(task_id=world.t9.id, action="draft_update") == 1


def test_bulk_edit_drafts_refuses_bad_input_once(client, sign_in, world):
    sign_in(world.maker)
    response = bulk(client, "edit_drafts", [world.t9], quantity="-3")
    assert response.status_code == 422
    assert '<span class="field-error">数量必须是不小于0的整数</span>' in response.get_data(as_text=True)
    response = bulk(client, "edit_drafts", [world.t9], quantity="", requirements="", notes="")
    assert (response.status_code, message(response)) == (400, "请至少填写一项要修改的内容")
    assert reloaded(world.t9).target_quantity == 1000


def test_bulk_delete_drafts(client, sign_in, world):
    sign_in(world.maker)
    number = world.t9.number
    response = bulk(client, "delete_drafts", [world.t9, world.t3])
    assert results(response) == [
        ("ok", number, "已删除"),
        ("failed", world.t3.number, "施工单已审核通过，草稿任务不能再修改"),
    ]
    _db.session.expire_all()
    assert _db.session.get(Task, world.t9.id) is None
    assert audit_count(task_id=world.t9.id, action="draft_delete") == 1


def test_tasks_the_actor_cannot_see_are_missing_not_refused(client, sign_in, world):
    sign_in(world.other_maker)
    response = bulk(client, "delete_drafts", [world.t9])
    assert results(response) == [("failed", f"#{world.t9.id}", "任务不存在")]
    assert reloaded(world.t9) is not None


def test_a_salesperson_edits_the_drafts_of_their_customers(client, sign_in, world):
    sign_in(world.sales)
    response = bulk(client, "edit_drafts", [world.t9], notes="客户要求")
    assert results(response) == [("ok", world.t9.number, "已更新")]


@pytest.mark.parametrize("form, expected", [
    ({"action": "nonsense", "task_ids": ["1"]}, "请选择批量操作"),
    ({"action": "cancel", "reason": "x"}, "请至少选择一个任务"),
    ({"action": "cancel", "reason": "x", "task_ids": [str(n) for n in range(1, 102)]}, "一次最多处理 100 个任务"),
])
def test_bad_requests(client, sign_in, world, form, expected):
    sign_in(world.admin)
    response = client.post("/tasks/bulk", data=form, headers=HTMX)
    assert (response.status_code, message(response)) == (400, expected)


def test_without_htmx_the_summary_and_each_failure_are_flashed(client, sign_in, world):
    sign_in(world.supervisor)
    response = client.post("/tasks/bulk", data={"action": "cancel", "task_ids": [world.t5.id, world.t6.id],
                                                 "reason": "客户改单", "next": "/tasks?status=open"})
    assert (response.status_code, response.headers["Location"]) == (302, "/tasks?status=open")
    page = client.get("/tasks?status=open").get_data(as_text=True)
    assert "成功 1 个，失败 1 个" in page
    assert f"{world.t6.number}：只有该任务所在部门的主管或管理员可以分派、改派或取消此任务" in page


@pytest.mark.parametrize("who, supervise, drafts", [
    ("admin", True, True), ("supervisor", True, False), ("maker", False, True), ("sales", False, True),
    ("liu", False, False), ("designer", False, False),
])
def test_only_the_actions_a_viewer_may_take_are_offered(client, sign_in, world, who, supervise, drafts):
    sign_in(world.supervisor if who == "supervisor" else world.admin if who == "admin" else getattr(world, who))
    html = client.get("/tasks").get_data(as_text=True)
    assert ('value="assign"' in html, 'value="cancel"' in html) == (supervise, supervise)
    assert ('value="edit_drafts"' in html, 'value="delete_drafts"' in html) == (drafts, drafts)
    assert ('name="task_ids"' in html) == (supervise or drafts)


def test_a_supervisor_is_offered_the_operators_of_their_departments(client, sign_in, world):
    sign_in(world.supervisor)
    html = client.get("/tasks").get_data(as_text=True)
    offered = re.findall(r'<option value="(\d+)">([^<（]+)（', html)
    assert {name for _id, name in offered} == {"刘师傅", "杨师傅"}
