"""采购状态 of material lines on the 施工单 page; 已开料 completes the cutting tasks."""
from urllib.parse import unquote

import pytest

from app.services.workorders import inputs
from support.workorders import approved, build_plant, fresh, tasks_of


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def _cutting_order(plant):
    data = plant.work_order_input(
        processes=("CUT", "PRT", "PACK"),
        materials=[inputs.MaterialLineInput(plant.paper.id, usage="1200张", need_cutting=True)],
    )
    return approved(plant, data)


def _post(client, work_order, status):
    line = work_order.materials[0]
    return client.post(f"/workorders/{work_order.id}/materials/{line.id}/status", data={"purchase_status": status},
                       headers={"HX-Request": "true"})


def test_marking_cut_completes_the_cutting_task_with_the_usage_quantity(client, login, plant):
    work_order = _cutting_order(plant)
    login(plant.supervisor)
    assert _post(client, work_order, "ordered").status_code == 200
    response = _post(client, work_order, "cut")
    assert response.status_code == 200
    assert unquote(response.headers["X-Message"]) == "采购状态已更新，1 个开料任务已更新"
    cutting = [t for t in tasks_of(work_order.id) if t.task_type == "cutting"]
    assert [(t.completed_quantity, t.status) for t in cutting] == [(1200, "completed")]
    line = fresh(work_order.id).materials[0]
    assert line.purchase_status == "cut" and line.ordered_at is not None and line.cut_at is not None


def test_status_cannot_go_backwards(client, login, plant):
    work_order = _cutting_order(plant)
    login(plant.admin)
    _post(client, work_order, "received")
    response = _post(client, work_order, "ordered")
    assert response.status_code == 409
    assert fresh(work_order.id).materials[0].purchase_status == "received"


@pytest.mark.parametrize("who,status", [("operator", 403), ("designer", 403), ("maker", 200), ("sales", 200),
                                        ("supervisor", 200), ("admin", 200)])
def test_who_may_update_the_purchase_status(client, login, plant, who, status):
    work_order = _cutting_order(plant)
    login(getattr(plant, who))
    assert _post(client, work_order, "ordered").status_code == status
    expected = "ordered" if status == 200 else "pending"
    assert fresh(work_order.id).materials[0].purchase_status == expected


def test_the_detail_page_offers_only_forward_statuses(client, login, plant):
    work_order = _cutting_order(plant)
    login(plant.supervisor)
    _post(client, work_order, "received")
    page = client.get(f"/workorders/{work_order.id}").get_data(as_text=True)
    assert 'value="cut">已开料' in page and 'value="ordered"' not in page
