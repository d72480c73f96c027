"""主管看板 over HTTP: what each supervisor sees, and assigning through the card's select."""
from urllib.parse import unquote

import pytest

import factories as f
from app.extensions import db
from support.kiosk_world import reload

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def test_board_shows_counts_columns_and_loads(client, login, world):
    f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator, status="in_progress",
                  number="T-RUN")
    db.session.commit()
    login(world.supervisor)

    html = client.get(f"/supervisor?department={world.printing.id}").get_data(as_text=True)

    assert f'data-live="board:{world.printing.id}"' in html
    assert 'data-drop-operator=""' in html
    assert f'data-drop-operator="{world.operator.id}"' in html and f'data-drop-operator="{world.other_operator.id}"' in html
    assert f'data-load="{world.operator.id}">1/10<' in html
    assert 'data-count="pending"><div class="num">1<' in html
    assert 'data-count="in_progress"><div class="num">1<' in html
    assert "黄师傅" not in html


def test_a_task_held_by_someone_of_another_department_gets_that_persons_column(client, login, world):
    """黄师傅 (模切车间) still holds a 印刷车间 task, e.g. one moved here after he claimed it."""
    f.TaskFactory(step=world.print_step, department=world.printing, operator=world.outsider, status="in_progress",
                  number="T-ELSEWHERE", content="印刷：外部门在做")
    db.session.commit()
    login(world.supervisor)

    html = client.get(f"/supervisor?department={world.printing.id}").get_data(as_text=True)

    column = html.split(f'data-drop-operator="{world.outsider.id}"', 1)[1].split("</section>", 1)[0]
    assert 'aria-label="黄师傅"' in html
    assert "T-ELSEWHERE" in column and "印刷：外部门在做" in column
    assert f'<option value="{world.outsider.id}" selected>黄师傅</option>' in column
    assert f'data-load="{world.outsider.id}">1/10<' in column


def test_supervisor_defaults_to_a_led_department_and_cannot_open_another(client, login, world):
    login(world.supervisor)
    assert f'data-live="board:{world.printing.id}"' in client.get("/supervisor").get_data(as_text=True)
    response = client.get(f"/supervisor?department={world.die_cutting.id}")
    assert response.status_code == 403
    assert "您只能查看本部门的看板" in response.get_data(as_text=True)


def test_head_supervisor_sees_child_departments(client, login, world):
    login(world.head_supervisor)
    html = client.get("/supervisor").get_data(as_text=True)
    assert "印刷车间" in html and "模切车间" in html
    assert client.get(f"/supervisor?department={world.die_cutting.id}").status_code == 200


def test_assign_through_the_card_form(client, login, world):
    login(world.supervisor)
    response = client.post(f"/tasks/{world.task.id}/assign", headers=HTMX,
                           data={"operator_id": world.operator.id, "version": 1})
    assert response.status_code == 200
    assert unquote(response.headers["X-Message"]) == "已分配给 刘师傅"
    assert response.headers["HX-Trigger"] == "board-refresh"
    assert reload(world.task).operator_id == world.operator.id


def test_assign_outside_own_departments_is_403_and_changes_nothing(client, login, world):
    login(world.other_supervisor)
    response = client.post(f"/tasks/{world.task.id}/assign", headers=HTMX,
                           data={"operator_id": world.operator.id, "version": 1})
    assert response.status_code == 403
    assert unquote(response.headers["X-Message"]) == "只有该任务所在部门的主管或管理员可以分派、改派或取消此任务"
    assert reload(world.task).operator_id is None


def test_assign_to_an_operator_of_another_department_is_400(client, login, world):
    login(world.supervisor)
    response = client.post(f"/tasks/{world.task.id}/assign", headers=HTMX,
                           data={"operator_id": world.outsider.id, "version": 1})
    assert response.status_code == 400
    assert unquote(response.headers["X-Message"]) == "操作员 黄师傅 不属于部门 印刷车间，无法分配该部门的任务"
    assert reload(world.task).operator_id is None


def test_stale_card_is_409_and_refreshes_the_board(client, login, world):
    login(world.supervisor)
    response = client.post(f"/tasks/{world.task.id}/assign", headers=HTMX,
                           data={"operator_id": world.operator.id, "version": 5})
    assert (response.status_code, response.headers["HX-Trigger"]) == (409, "board-refresh")
    assert unquote(response.headers["X-Message"]) == "任务已被其他人更新，请刷新后重试"


def test_unassign_and_move_routes(client, login, world):
    world.die_cutting.processes.append(world.print_step.process)
    db.session.commit()
    login(world.head_supervisor)
    client.post(f"/tasks/{world.task.id}/assign", headers=HTMX, data={"operator_id": world.operator.id, "version": 1})
    response = client.post(f"/tasks/{world.task.id}/unassign", headers=HTMX, data={"version": 2})
    assert (response.status_code, unquote(response.headers["X-Message"])) == (200, "已取消分配")
    response = client.post(f"/tasks/{world.task.id}/move", headers=HTMX,
                           data={"department_id": world.die_cutting.id, "version": 3, "reason": "印刷机检修"})
    assert (response.status_code, unquote(response.headers["X-Message"])) == (200, "已转到 模切车间")
    task = reload(world.task)
    assert (task.department_id, task.operator_id) == (world.die_cutting.id, None)


def test_non_htmx_assign_redirects_back(client, login, world):
    login(world.supervisor)
    response = client.post(f"/tasks/{world.task.id}/assign",
                           data={"operator_id": world.operator.id, "version": 1, "next": "/supervisor"})
    assert (response.status_code, response.headers["Location"]) == (302, "/supervisor")


def test_unassigned_column_shows_the_oldest_and_links_to_the_rest(client, login, world, monkeypatch):
    from app.services.dispatch import supervisor_board as board_data

    monkeypatch.setattr(board_data, "UNASSIGNED_SHOWN", 1)
    later = f.TaskFactory(step=world.print_step, department=world.printing, status="pending", number="T-LATER")
    running = f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator,
                            status="in_progress", number="T-RUN")
    db.session.commit()
    login(world.supervisor)

    html = client.get(f"/supervisor?department={world.printing.id}").get_data(as_text=True)

    assert f'data-task-id="{world.task.id}"' in html and f'data-task-id="{later.id}"' not in html
    assert 'data-load="unassigned">2<' in html and 'data-count="pending"><div class="num">2<' in html
    assert "还有 1 个未分配任务，在任务中心查看" in html
    assert f'href="/tasks?department={world.printing.id}&amp;operator=none&amp;status=open"' in html
    card = html[html.index(f'data-task-id="{running.id}"'):]
    assert f'<option value="{world.operator.id}" selected>' in card[:card.index("</select>")]


# ---- the board in parts (docs/LIVE.md §6): the head and each column are live regions of their own

def test_the_board_holds_a_head_and_columns_that_refetch_on_their_own(client, login, world):
    login(world.supervisor)
    p, op, other = world.printing.id, world.operator.id, world.other_operator.id

    html = client.get(f"/supervisor?department={p}").get_data(as_text=True)

    assert f'data-live-parts="{p}:head {p}:none {p}:{op} {p}:{other}"' in html
    assert (f'id="sv-summary" class="sv-summary" data-live="board:{p}" data-live-part="{p}:head"\n'
            f'     hx-get="/supervisor?department={p}&amp;column=summary"') in html
    assert (f'id="sv-col-none" data-live="board:{p}" data-live-part="{p}:none"\n'
            f'             hx-get="/supervisor?department={p}&amp;column=unassigned"') in html
    assert (f'id="sv-col-{op}" data-live="board:{p}" data-live-part="{p}:{op}"\n'
            f'             hx-get="/supervisor?department={p}&amp;column={op}"') in html
    assert html.count('hx-trigger="live-refresh consume, column-refresh consume"') == 4


def test_each_part_is_served_alone(client, login, world):
    f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator, status="in_progress",
                  number="T-RUN")
    db.session.commit()
    login(world.supervisor)
    url = f"/supervisor?department={world.printing.id}&column="

    head = client.get(url + "summary", headers=HTMX).get_data(as_text=True)
    waiting = client.get(url + "unassigned", headers=HTMX).get_data(as_text=True)
    mine = client.get(url + str(world.operator.id), headers=HTMX).get_data(as_text=True)

    assert head.strip().startswith('<div id="sv-summary"') and "sv-column" not in head
    assert 'data-count="in_progress"><div class="num">1<' in head
    assert f'<option value="{world.operator.id}">刘师傅</option>' in head
    assert waiting.strip().startswith('<section class="sv-column" data-drop-operator=""')
    assert waiting.count("<section") == 1 and world.task.number in waiting and "T-RUN" not in waiting
    assert 'data-load="unassigned">1<' in waiting
    assert mine.count("<section") == 1 and "T-RUN" in mine and world.task.number not in mine
    assert f'data-load="{world.operator.id}">1/10<' in mine


def test_a_column_of_someone_no_longer_on_the_board_is_hidden_and_says_nothing_of_them(client, login, world):
    login(world.supervisor)
    html = client.get(f"/supervisor?department={world.printing.id}&column={world.outsider.id}",
                      headers=HTMX).get_data(as_text=True)
    assert html.strip().startswith(f'<section class="sv-column" hidden id="sv-col-{world.outsider.id}"')
    assert "黄师傅" not in html and "data-drop-operator" not in html


def test_a_column_of_another_department_or_a_bad_column_is_refused(client, login, world):
    login(world.supervisor)
    other = client.get(f"/supervisor?department={world.die_cutting.id}&column=unassigned", headers=HTMX)
    bad = client.get(f"/supervisor?department={world.printing.id}&column=everything", headers=HTMX)
    assert (other.status_code, unquote(other.headers["X-Message"])) == (403, "您只能查看本部门的看板")
    assert (bad.status_code, unquote(bad.headers["X-Message"])) == (
        400, "看板栏目无效：只能是 summary、unassigned 或操作员编号")
