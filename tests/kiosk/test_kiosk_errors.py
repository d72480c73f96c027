"""Never thrown out: on the shop floor a wrong scan, another department's task, a 403 or a 404 answers inside
the kiosk frame, with a Chinese message and the scan field focused, never the desk page."""
import re
from urllib.parse import quote

import pytest

HTMX = {"HX-Request": "true"}
SCAN_FIELD_FOCUSED = re.compile(r'<input id="scan-code" name="code" type="search"[^>]*\sautofocus>')


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def kiosk_error(response, status: int) -> str:
    """The page of an error answered in the kiosk frame; its text."""
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert '<body class="kiosk"' in html
    assert '<header class="kiosk-bar">' in html and '<span class="who">刘师傅</span>' in html
    assert 'class="mainnav"' not in html
    assert SCAN_FIELD_FOCUSED.search(html)
    assert '<a class="btn btn-primary" href="/kiosk">返回我的任务</a>' in html
    return html


def test_an_unknown_scan_answers_404_in_the_kiosk(client, login, world):
    login(world.operator, kiosk=True)
    html = kiosk_error(client.get("/scan/XYZ123"), 404)
    assert "<h1>未找到</h1>" in html
    assert "<p>未找到编号为 XYZ123 的任务或施工单</p>" in html


def test_the_scan_field_with_an_unknown_code_answers_in_the_kiosk(client, login, world):
    login(world.operator, kiosk=True)
    response = client.get("/scan?code=nonsense", follow_redirects=True)
    html = kiosk_error(response, 404)
    assert "<p>未找到编号为 NONSENSE 的任务或施工单</p>" in html


def test_another_departments_task_scanned_answers_403_in_the_kiosk(client, login, world):
    login(world.operator, kiosk=True)
    html = kiosk_error(client.get(f"/scan/{world.die_task.number}"), 403)
    assert "<h1>无权访问</h1>" in html
    assert "<p>任务 TSG2026110001-02 不属于您的部门</p>" in html


def test_another_departments_task_page_answers_403_in_the_kiosk(client, login, world):
    login(world.operator, kiosk=True)
    html = kiosk_error(client.get(f"/tasks/{world.die_task.id}"), 403)
    assert "<p>任务 TSG2026110001-02 不属于您的部门</p>" in html


def test_a_missing_task_answers_404_in_the_kiosk(client, login, world):
    login(world.operator, kiosk=True)
    html = kiosk_error(client.get("/tasks/999999"), 404)
    assert "<p>任务不存在</p>" in html


def test_a_desk_page_reached_from_the_kiosk_answers_403_in_the_kiosk(client, login, world):
    login(world.operator, kiosk=True)
    html = kiosk_error(client.get(f"/workorders/{world.work_order.id}"), 403)
    assert "<p>您只能查看自己创建的施工单或自己负责客户的施工单</p>" in html


def test_an_unknown_kiosk_path_answers_404_in_the_kiosk_even_from_a_desk_login(client, login, world):
    login(world.operator)  # logged in at a desk, but on a kiosk path
    html = kiosk_error(client.get("/kiosk/nowhere"), 404)
    assert "<p>页面或记录不存在</p>" in html


def test_an_htmx_error_on_the_kiosk_stays_a_toast(client, login, world):
    login(world.operator, kiosk=True)
    response = client.get(f"/tasks/{world.die_task.id}", headers=HTMX)
    assert response.status_code == 403
    assert response.headers["X-Message"] == quote("任务 TSG2026110001-02 不属于您的部门")
    assert '<body' not in response.get_data(as_text=True)


def test_a_desk_user_still_gets_the_desk_error_page(client, login, world):
    login(world.supervisor)
    response = client.get("/tasks/999999")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'class="mainnav"' in html and '<header class="kiosk-bar">' not in html
    assert "<p>任务不存在</p>" in html


def test_a_supervisor_scanning_an_unknown_code_at_the_desk_gets_the_desk_error_page(client, login, world):
    login(world.supervisor)
    response = client.get("/scan/XYZ123")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'class="mainnav"' in html and '<header class="kiosk-bar">' not in html
    assert "<p>未找到编号为 XYZ123 的任务或施工单</p>" in html


def test_an_anonymous_visitor_of_a_kiosk_path_gets_the_plain_error_page(client, world):
    response = client.get("/kiosk/nowhere")
    assert response.status_code == 404
    assert '<header class="kiosk-bar">' not in response.get_data(as_text=True)
