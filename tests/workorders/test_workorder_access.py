"""Every 施工单 route × every role → the exact status (DOMAIN.md §1).

Each case starts from a fresh database with one 施工单 in the state the route acts on, created by
maker1 for sales1's customer; "other_maker" and "other_sales" are strangers to it.
"""
import os

import pytest
from flask import current_app
from sqlalchemy import update

from app.extensions import db
from app.models import WorkOrder
from app.services.workorders import approval, production
from support.workorders import approved, build_plant, create, fresh, tasks_of

ROLES = ["anonymous", "admin", "supervisor", "maker", "other_maker", "sales", "other_sales", "designer", "operator"]

VIEWERS = {"admin", "supervisor", "maker", "sales", "designer"}
EDITORS = {"admin", "maker", "sales"}
APPROVERS = {"admin", "supervisor", "sales"}
CREATORS = {"admin", "maker", "other_maker", "sales", "other_sales"}
DESK = {"admin", "supervisor", "maker", "other_maker", "sales", "other_sales", "designer"}


def _draft(plant):
    return create(plant.maker, plant.work_order_input())


def _pending(plant):
    return create(plant.maker, plant.work_order_input(), submit=True)


def _rejected(plant):
    work_order = _pending(plant)
    approval.reject(plant.sales, work_order.id, work_order.version, "重做")
    db.session.commit()
    return fresh(work_order.id)


def _paused(plant):
    work_order = approved(plant)
    production.pause(plant.admin, work_order.id, work_order.version)
    db.session.commit()
    return fresh(work_order.id)


def _with_file(plant):
    work_order = _draft(plant)
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "design")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "access-test.pdf"), "wb") as handle:
        handle.write(b"%PDF-1.4 test")
    db.session.execute(update(WorkOrder).where(WorkOrder.id == work_order.id).values(
        design_file_path="design/access-test.pdf", design_file_name="稿件.pdf"))
    db.session.commit()
    return work_order


def _first_draft(work_order):
    return tasks_of(work_order.id)[0]


# (name, state builder, method, url, form data, who succeeds, success status)
CASES = [
    ("list", _draft, "GET", "/workorders", {}, DESK, 200),
    ("new", _draft, "GET", "/workorders/new", {}, CREATORS, 200),
    ("create (empty form)", _draft, "POST", "/workorders", {}, CREATORS, 422),
    ("detail", _draft, "GET", "/workorders/{id}", {}, VIEWERS, 200),
    ("edit", _draft, "GET", "/workorders/{id}/edit", {}, EDITORS, 200),
    ("update (empty form)", _draft, "POST", "/workorders/{id}", {}, EDITORS, 422),
    ("print", _draft, "GET", "/workorders/{id}/print", {}, VIEWERS, 200),
    ("design file", _with_file, "GET", "/workorders/{id}/design-file", {}, VIEWERS, 200),
    ("submit", _draft, "POST", "/workorders/{id}/submit", {"version": "{version}"}, EDITORS, 303),
    ("approve", _pending, "POST", "/workorders/{id}/approve", {"version": "{version}"}, APPROVERS, 303),
    ("reject", _pending, "POST", "/workorders/{id}/reject", {"version": "{version}", "reason": "不行"}, APPROVERS, 303),
    ("resubmit", _rejected, "POST", "/workorders/{id}/resubmit", {"version": "{version}"}, EDITORS, 303),
    ("withdraw", approved, "POST", "/workorders/{id}/withdraw", {"version": "{version}"},
     APPROVERS | EDITORS, 303),
    ("pause", approved, "POST", "/workorders/{id}/pause", {"version": "{version}"}, APPROVERS, 303),
    ("resume", _paused, "POST", "/workorders/{id}/resume", {"version": "{version}"}, APPROVERS, 303),
    ("cancel", approved, "POST", "/workorders/{id}/cancel", {"version": "{version}", "reason": "客户取消"},
     APPROVERS, 303),
    ("delete", _draft, "POST", "/workorders/{id}/delete", {"version": "{version}"}, {"admin", "maker"}, 303),
    ("add draft", _draft, "POST", "/workorders/{id}/drafts", {"step_id": "{step}", "quantity": "5"}, EDITORS, 303),
    ("draft editor", _draft, "GET", "/workorders/{id}/drafts/{task}/edit", {}, EDITORS, 200),
    ("edit draft", _draft, "POST", "/workorders/{id}/drafts/{task}", {"version": "{task_version}", "quantity": "3"},
     EDITORS, 303),
    ("bulk drafts", _draft, "POST", "/workorders/{id}/drafts/bulk", {"task_ids": "{task}", "quantity": "4"},
     EDITORS, 303),
    ("product row", _draft, "GET", "/workorders/form/product-row", {}, CREATORS, 200),
    ("material row", _draft, "GET", "/workorders/form/material-row", {}, CREATORS, 200),
    ("prefill", _draft, "POST", "/workorders/form/prefill", {}, CREATORS, 200),
    ("form check", _draft, "POST", "/workorders/form/check", {}, CREATORS, 200),
]


def _user_for(plant, make_user, role):
    return {
        "admin": plant.admin, "supervisor": plant.supervisor, "maker": plant.maker, "sales": plant.sales,
        "other_sales": plant.other_sales, "designer": plant.designer, "operator": plant.operator,
        "other_maker": make_user("maker") if role == "other_maker" else None,
    }[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,build,method,url,data,allowed,success", CASES, ids=[c[0] for c in CASES])
def test_route_by_role(seeded, client, login, make_user, name, build, method, url, data, allowed, success, role):
    plant = build_plant(seeded)
    work_order = build(plant)
    task = _first_draft(work_order) if "{task" in url + str(data) else None
    values = {"id": work_order.id, "version": work_order.version, "step": fresh(work_order.id).steps[0].id,
              "task": task.id if task else "", "task_version": task.version if task else ""}
    url = url.format(**values)
    data = {key: value.format(**values) for key, value in data.items()}
    before = _state(work_order.id)
    if role != "anonymous":
        login(_user_for(plant, make_user, role))
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif role in allowed:
        assert response.status_code == success, response.get_data(as_text=True)[:500]
    else:
        assert response.status_code == 403
    if role not in allowed:
        assert _state(work_order.id) == before


def _state(work_order_id):
    """Everything a refused request must leave as it was."""
    db.session.expire_all()
    work_order = db.session.get(WorkOrder, work_order_id)
    return (work_order.version, work_order.approval_status, work_order.status,
            [(t.id, t.status, t.target_quantity, t.version) for t in tasks_of(work_order_id)])
