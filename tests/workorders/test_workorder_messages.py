"""Messages tell the truth: approving says where the tasks went (departments or the 待分派 pool,
with counts), and every refusal — 403 included — says why, in Chinese."""
from urllib.parse import unquote

import pytest

from app.extensions import db
from app.services.core import settings
from support.workorders import build_plant, create, fresh, tasks_of

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def message_of(response) -> str:
    return unquote(response.headers.get("X-Message", ""))


def approve(client, work_order):
    return client.post(f"/workorders/{work_order.id}/approve", headers=HTMX,
                       data={"version": fresh(work_order.id).version})


def test_approving_with_auto_dispatch_off_says_the_tasks_wait_in_the_pool(plant, client, login):
    settings.update(plant.admin, {"auto_dispatch_enabled": False})
    db.session.commit()
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    login(plant.sales)
    response = approve(client, work_order)
    assert (response.status_code, message_of(response)) == (200, "审核通过：7 个任务进入待分派，等待主管分派")
    assert {t.department_id for t in tasks_of(work_order.id)} == {None}


def test_approving_with_some_tasks_placed_by_hand_counts_both(plant, client, login):
    settings.update(plant.admin, {"auto_dispatch_enabled": False})
    data = plant.work_order_input()
    for step in data.steps:
        if step.process_id == plant.process("PRT").id:
            step.department_id = plant.department("outsourcing").id
    work_order = create(plant.maker, data, submit=True)
    login(plant.sales)
    response = approve(client, work_order)
    assert message_of(response) == "审核通过：1 个任务已分派到部门，6 个任务进入待分派，等待主管分派"


def test_the_api_says_the_same(plant, client, login):
    settings.update(plant.admin, {"auto_dispatch_enabled": False})
    db.session.commit()
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    login(plant.sales)
    response = client.post(f"/api/v1/workorders/{work_order.id}/approve", json={"version": work_order.version})
    assert (response.status_code, response.get_json()["message"]) == (200, "审核通过：7 个任务进入待分派，等待主管分派")


@pytest.mark.parametrize("who,method,path,message", [
    ("maker", "post", "approve", "只有管理员、部门主管和该客户的业务员可以审核施工单"),
    ("designer", "post", "drafts/bulk", "只有该施工单的制单人、该客户的业务员或管理员可以编辑草稿任务"),
    ("designer", "get", "edit", "只有该施工单的制单人、该客户的业务员或管理员可以修改施工单"),
    ("other_sales", "get", "", "您只能查看自己创建的施工单或自己负责客户的施工单"),
    ("sales", "post", "delete", "只有该施工单的制单人或管理员可以删除施工单"),
])
def test_a_403_says_why(plant, client, login, who, method, path, message):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    login(getattr(plant, who))
    url = f"/workorders/{work_order.id}" + (f"/{path}" if path else "")
    form = {"version": work_order.version, "task_ids": str(tasks_of(work_order.id)[0].id), "operation": "update",
            "quantity": "1"}
    response = getattr(client, method)(url, headers=HTMX, **({"data": form} if method == "post" else {}))
    assert (response.status_code, message_of(response)) == (403, message)
    # The full page (no htmx) says the same.
    response = getattr(client, method)(url, **({"data": form} if method == "post" else {}))
    assert response.status_code == 403 and message in response.get_data(as_text=True)
