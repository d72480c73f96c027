"""The 主管看板 never offers an action that must fail: a task of a paused or cancelled 施工单 is
shown blocked with the reason and no controls; an operator at the cap is marked as a refused target."""
import re
from urllib.parse import unquote

import pytest

import factories as f
from app.extensions import db
from app.services.core import settings

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def world(kiosk_world):
    return kiosk_world


def card_of(html, task_id):
    return html.split(f'data-task-id="{task_id}"', 1)[1].split("</article>", 1)[0]


def opening_tag_of_card(html, task_id):
    start = html.rindex("<article", 0, html.index(f'data-task-id="{task_id}"'))
    return html[start:html.index(">", html.index(f'data-task-id="{task_id}"')) + 1]


@pytest.mark.parametrize("work_order_status,task_status,reason", [
    ("paused", "paused", "施工单已暂停"),
    ("cancelled", "pending", "施工单已取消"),
])
def test_a_task_of_a_stopped_work_order_is_blocked_with_the_reason(client, login, world, work_order_status,
                                                                    task_status, reason):
    world.work_order.status = work_order_status
    world.task.status = task_status
    running = f.TaskFactory(step=world.print_step, department=world.printing, status="pending", number="T-OTHER",
                            work_order=f.WorkOrderFactory(approval_status="approved", status="in_progress"))
    db.session.commit()
    login(world.supervisor)

    html = client.get(f"/supervisor?department={world.printing.id}", headers=HTMX).get_data(as_text=True)

    tag, card = opening_tag_of_card(html, world.task.id), card_of(html, world.task.id)
    assert 'draggable="false"' in tag and f'data-blocked="{reason}"' in tag and "sv-card-blocked" in tag
    assert f'<p class="sv-blocked" role="note">{reason}</p>' in card
    assert "sv-assign" not in card and "<select" not in card
    # An ordinary task beside it keeps its controls.
    assert 'draggable="true"' in opening_tag_of_card(html, running.id) and "sv-assign" in card_of(html, running.id)


def test_an_operator_at_the_cap_is_marked_and_cannot_be_chosen(client, login, world):
    settings.update(world.admin, {"operator_task_cap": 1})
    f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator, status="in_progress",
                  number="T-HELD")
    db.session.commit()
    login(world.supervisor)

    html = client.get(f"/supervisor?department={world.printing.id}").get_data(as_text=True)

    full = re.search(rf'<section class="sv-column sv-column-full" data-drop-operator="{world.operator.id}"[^>]*>', html)
    assert full is not None and 'data-refusal="已达任务上限 1/1"' in full.group(0)
    assert "已满，不能再分配" in html.split(full.group(0), 1)[1].split("</header>", 1)[0]
    other = re.search(rf'<section class="sv-column" data-drop-operator="{world.other_operator.id}"[^>]*>', html)
    assert other is not None and "data-refusal" not in other.group(0)
    options = html.split('<template id="sv-operator-options">', 1)[1].split("</template>", 1)[0]
    assert f'<option value="{world.operator.id}" disabled>刘师傅（已达任务上限 1/1）</option>' in options
    assert f'<option value="{world.other_operator.id}">杨师傅</option>' in options


def test_the_cap_shows_in_the_operators_column_and_the_heads_choices_when_they_refresh_alone(client, login, world):
    """After an assignment only the two columns and the head re-fetch: each says the refusal by itself."""
    settings.update(world.admin, {"operator_task_cap": 1})
    db.session.commit()
    login(world.supervisor)
    client.post(f"/tasks/{world.task.id}/assign", headers=HTMX, data={"operator_id": world.operator.id, "version": 1})
    url = f"/supervisor?department={world.printing.id}&column="

    column = client.get(url + str(world.operator.id), headers=HTMX).get_data(as_text=True)
    head = client.get(url + "summary", headers=HTMX).get_data(as_text=True)
    second = f.TaskFactory(step=world.print_step, department=world.printing, number="T-SECOND")
    db.session.commit()
    refused = client.post(f"/tasks/{second.id}/assign", headers=HTMX,
                          data={"operator_id": world.operator.id, "version": second.version})

    assert re.match(rf'\s*<section class="sv-column sv-column-full" data-drop-operator="{world.operator.id}"[^>]*'
                    r'data-refusal="已达任务上限 1/1"', column)
    assert "已满，不能再分配" in column and world.task.number in column
    assert f'<option value="{world.operator.id}" disabled>刘师傅（已达任务上限 1/1）</option>' in head
    assert (refused.status_code, unquote(refused.headers["X-Message"])) == (409, "已达任务上限 1/1")
