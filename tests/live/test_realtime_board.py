"""GET /board/<code>: who may watch it, the token link, and what the columns hold."""
import hashlib
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from app.models import AuditLog, Setting
from app.services.dispatch import board as board_service
from app.utils.timeutil import plant_today, utcnow
from factories import DepartmentFactory, TaskFactory, UserFactory, WorkOrderFactory


@pytest.fixture()
def departments(db):
    parent = DepartmentFactory(code="production", name="生产部")
    child = DepartmentFactory(code="printing", name="印刷车间", parent=parent)
    other = DepartmentFactory(code="packing", name="包装车间")
    return parent, child, other


@pytest.mark.parametrize("role,member_of,expected", [
    ("operator", "production", 200),
    ("operator", "packing", 403),
    ("operator", "printing", 403),  # a child's member does not watch the parent's board
    ("supervisor", "packing", 200),  # supervisors see every department, read-only
    ("admin", None, 200),
    ("maker", None, 403),
    ("salesperson", None, 403),
    ("designer", None, 403),
])
def test_who_may_watch_a_board(client, login_as, departments, role, member_of, expected):
    by_code = {d.code: d for d in departments}
    login_as(role, departments=[by_code[member_of]] if member_of else [])
    assert client.get("/board/production").status_code == expected


def test_anonymous_without_a_token_goes_to_the_login(client, departments):
    response = client.get("/board/production")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_unknown_department_is_not_found(client, login_as, departments):
    login_as("admin")
    assert client.get("/board/nope").status_code == 404


def test_the_token_link_opens_the_board_without_login(client, db, departments):
    token = board_service.issue_token(None, departments[0])
    db.session.commit()

    page = client.get(f"/board/production?token={token}")
    wrong = client.get("/board/production?token=guess", headers={"HX-Request": "true"})
    other_board = client.get(f"/board/packing?token={token}")

    assert page.status_code == 200
    assert "生产部 · 生产看板" in page.get_data(as_text=True)
    assert (wrong.status_code, unquote(wrong.headers["X-Message"])) == (403, "看板链接无效或已被撤销，请联系管理员")
    assert other_board.status_code == 403


def test_the_token_page_is_live_through_its_own_socket_url(client, db, departments):
    parent, child, _ = departments
    token = board_service.issue_token(None, parent)
    db.session.commit()
    html = client.get(f"/board/production?token={token}").get_data(as_text=True)
    assert f'data-live="dept:{parent.id} dept:{child.id}"' in html
    assert f"/ws?board=production&amp;token={token}" in html
    assert f'hx-get="/board/production?token={token}"' in html


def test_admin_issues_and_revokes_the_token_with_an_audit_trail(client, login_as, db, departments):
    login_as("admin")
    issued = client.post("/board/production/token")
    token = re.search(r'/board/production\?token=([\w-]+)', issued.get_data(as_text=True)).group(1)
    stored = db.session.get(Setting, "board_token:production").value
    page = client.get("/board/production").get_data(as_text=True)
    works = client.get(f"/board/production?token={token}")
    revoked = client.post("/board/production/token/revoke")

    # Shown once, in the answer to the POST (never cached); only its SHA-256 is kept.
    assert (issued.status_code, issued.headers["Cache-Control"]) == (200, "no-store")
    assert "链接只显示这一次" in issued.get_data(as_text=True)
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in str(stored)
    assert token not in page and "链接只在生成时显示一次" in page
    assert works.status_code == 200
    assert revoked.status_code == 303
    assert db.session.get(Setting, "board_token:production") is None
    assert client.get(f"/board/production?token={token}").status_code == 403
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["board_token_issue", "board_token_revoke"]


@pytest.mark.parametrize("role", ["operator", "supervisor", "maker"])
def test_only_admins_manage_the_token(client, login_as, db, departments, role):
    login_as(role, departments=[departments[0]])
    assert client.post("/board/production/token").status_code == 403
    assert client.post("/board/production/token/revoke").status_code == 403
    assert db.session.get(Setting, "board_token:production") is None
    assert "看板链接" not in client.get("/board/production").get_data(as_text=True)


def test_the_columns(client, login_as, db, departments):
    parent, child, other = departments
    operator = UserFactory(name="刘师傅")
    on_time = WorkOrderFactory(delivery_date=plant_today() + timedelta(days=5))
    late = WorkOrderFactory(delivery_date=plant_today() - timedelta(days=1))

    def task(content, status, department=child, work_order=on_time, **kwargs):
        return TaskFactory(content=content, status=status, department=department, work_order=work_order,
                           step__work_order=work_order, **kwargs)

    task("印刷进行中", "in_progress", operator=operator)
    task("设备坏了", "paused", pause_reason="equipment", pause_note="滚筒异响")
    task("排队等待", "pending", department=parent)
    task("早该交了", "in_progress", work_order=late)
    task("今天做完", "completed", completed_at=utcnow())
    task("前天做完", "completed", completed_at=utcnow() - timedelta(days=2))
    task("别的部门", "in_progress", department=other)
    task("还是草稿", "draft")
    login_as("supervisor")

    html = client.get("/board/production", headers={"HX-Request": "true"}).get_data(as_text=True)

    sections = dict(re.findall(r'board-column-(\w+)".*?>(.*?)</section>', html, re.S))
    assert "印刷进行中" in sections["in_progress"] and "刘师傅" in sections["in_progress"]
    assert "设备坏了" in sections["paused"] and "设备故障（滚筒异响）" in sections["paused"]
    assert "排队等待" in sections["pending"] and "待认领" in sections["pending"]
    assert "早该交了" in sections["overdue"] and "早该交了" not in sections["in_progress"]
    assert "今天做完" in sections["completed"] and "前天做完" not in html
    assert "别的部门" not in html and "还是草稿" not in html
    totals = re.findall(r'board-stat-(\w+)"><span class="num">(\d+)</span>', html)
    assert totals == [("in_progress", "1"), ("paused", "1"), ("pending", "1"), ("overdue", "1"), ("completed", "1")]
    assert html.lstrip().startswith('<div id="board"')  # the live region alone for htmx


def test_each_column_lists_its_first_tasks_by_priority_and_delivery_and_counts_the_rest(
        client, login_as, db, departments, monkeypatch):
    """Every column is filled to its limit in its own order, however many tasks another column holds."""
    parent, child, _ = departments
    monkeypatch.setattr(board_service, "COLUMN_LIMIT", 3)
    today = plant_today()

    def work_order(priority, days):
        return WorkOrderFactory(priority=priority, delivery_date=today + timedelta(days=days))

    def task(content, status, wo, **kwargs):
        return TaskFactory(content=content, status=status, department=child, work_order=wo, step__work_order=wo,
                           **kwargs)

    for n in range(5):  # more urgent work in 进行中 than the board lists: it must not crowd out 待开始
        task(f"急件{n}", "in_progress", work_order("urgent", 1))
    task("普通晚交", "pending", work_order("normal", 9))
    task("普通早交", "pending", work_order("normal", 2))
    task("加急", "pending", work_order("high", 20))
    task("不急", "pending", work_order("low", 1))
    task("同单先建", "pending", same := work_order("normal", 5))
    task("同单后建", "pending", same)
    for hours in (5, 1, 3, 2):
        task(f"完成{hours}", "completed", work_order("normal", 3), completed_at=utcnow() - timedelta(minutes=hours))
    login_as("admin")

    html = client.get("/board/printing", headers={"HX-Request": "true"}).get_data(as_text=True)

    sections = dict(re.findall(r'board-column-(\w+)".*?>(.*?)</section>', html, re.S))
    listed = {key: re.findall(r'board-card-content">(.*?)</div>', section) for key, section in sections.items()}
    assert listed["pending"] == ["加急", "普通早交", "同单先建"]
    assert "还有 3 项" in sections["pending"]  # 同单后建, 普通晚交, 不急
    assert listed["in_progress"] == ["急件0", "急件1", "急件2"] and "还有 2 项" in sections["in_progress"]
    assert listed["completed"] == ["完成1", "完成2", "完成3"] and "还有 1 项" in sections["completed"]
    assert listed["paused"] == [] and listed["overdue"] == []
    totals = re.findall(r'board-stat-(\w+)"><span class="num">(\d+)</span>', html)
    assert totals == [("in_progress", "5"), ("paused", "0"), ("pending", "6"), ("overdue", "0"), ("completed", "4")]
