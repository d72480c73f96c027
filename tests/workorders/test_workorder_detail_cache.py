"""The 施工单 page reads its lines as plain values (app/services/workorders/detail_view.py) and reuses
the HTML of its step cards and of its product, plate and material cards (app.templating.cached_fragment):
a change to anything they show must be rendered anew. The check of the suite (VERIFY_CACHED_FRAGMENTS)
is off here, as in production, so a stale fragment would be served."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Department, Material, Plate, Process, Product, Task, User, WorkOrderMaterial, WorkOrderStep
from app.services.workorders import approval, detail_view
from app.services.workorders.inputs import MaterialLineInput
from app.templating import RENDERED_FRAGMENTS
from app.utils.timeutil import utcnow
from support.workorders import approved, build_plant, create, fresh, tasks_of

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def plant(seeded, app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    RENDERED_FRAGMENTS.clear()
    return build_plant(seeded)


def _first_task(work_order):
    return tasks_of(work_order.id)[0]


def _report_on_a_task(plant, work_order):
    task = _first_task(work_order)
    db.session.execute(update(Task).where(Task.id == task.id).values(
        status="in_progress", completed_quantity=7, started_at=utcnow()))


def _assign_an_operator(plant, work_order):
    task = _first_task(work_order)
    db.session.execute(update(Task).where(Task.id == task.id).values(operator_id=plant.operator.id))


def _rename_the_operator(plant, work_order):  # of the task _assign_an_operator gave them before
    db.session.execute(update(User).where(User.id == plant.operator.id).values(name="刘大师傅"))


def _rename_a_process(plant, work_order):
    db.session.execute(update(Process).where(Process.code == "PACK").values(name="包装入库"))


def _rename_a_department(plant, work_order):
    task = next(task for task in tasks_of(work_order.id) if task.department_id is not None)
    db.session.execute(update(Department).where(Department.id == task.department_id).values(name="新部门"))


def _choose_a_step_department(plant, work_order):
    step = min(fresh(work_order.id).steps, key=lambda step: step.sequence)
    db.session.execute(update(WorkOrderStep).where(WorkOrderStep.id == step.id).values(
        department_id=plant.department("printing").id))


def _confirm_a_plate(plant, work_order):
    db.session.execute(update(Plate).where(Plate.id == plant.artwork.id).values(confirmed=not plant.artwork.confirmed))


def _rename_a_product(plant, work_order):
    db.session.execute(update(Product).where(Product.id == plant.brochure.id).values(name="精装宣传册"))


def _order_the_paper(plant, work_order):
    db.session.execute(update(WorkOrderMaterial).where(WorkOrderMaterial.work_order_id == work_order.id).values(
        purchase_status="ordered"))


def _rename_the_paper(plant, work_order):
    db.session.execute(update(Material).where(Material.id == plant.paper.id).values(name="哑粉纸"))


def _nothing(plant, work_order):
    pass


@pytest.mark.parametrize("prepare,change", [
    (_nothing, _report_on_a_task), (_nothing, _assign_an_operator), (_assign_an_operator, _rename_the_operator),
    (_nothing, _rename_a_process), (_nothing, _rename_a_department), (_nothing, _choose_a_step_department),
    (_nothing, _confirm_a_plate), (_nothing, _rename_a_product), (_nothing, _order_the_paper),
    (_nothing, _rename_the_paper),
])
def test_a_changed_line_step_or_task_is_rendered_anew_and_matches_an_uncached_render(plant, client, login, prepare,
                                                                                    change):
    data = plant.work_order_input(materials=[MaterialLineInput(plant.paper.id, size="889x1194", usage="1000张",
                                                               need_cutting=True)])
    work_order = approved(plant, data)
    prepare(plant, work_order)
    db.session.commit()
    login(plant.admin)
    url = f"/workorders/{work_order.id}"
    before = client.get(url, headers=HTMX).get_data(as_text=True)
    assert "step-card" in before and "铜版纸" in before

    change(plant, work_order)
    db.session.commit()
    cached = client.get(url, headers=HTMX).get_data(as_text=True)
    RENDERED_FRAGMENTS.clear()
    uncached = client.get(url, headers=HTMX).get_data(as_text=True)

    def without_tokens(page):  # each request signs the session's CSRF token anew
        return "\n".join(line for line in page.splitlines() if "csrf" not in line.lower())

    assert without_tokens(cached) == without_tokens(uncached)
    assert without_tokens(cached) != without_tokens(before)


def test_the_page_lists_what_the_work_order_holds_in_the_orm_order(plant):
    work_order = approved(plant)
    lines = detail_view.lines_of(work_order.id)
    orm = fresh(work_order.id)
    assert [(line.code, line.quantity) for line in lines.products] == [
        (line.product.code, line.quantity) for line in orm.products]
    assert [plate.code for plate in lines.plates] == [plate.code for plate in orm.plates]
    assert [(step.id, step.process_name, [task.id for task in step.tasks]) for step in lines.steps] == [
        (step.id, step.process.name, [task.id for task in step.tasks]) for step in orm.steps]
    assert [(log.action, log.user_name) for log in lines.approval_logs] == [
        (log.action, log.user.name) for log in orm.approval_logs]
    assert all(task.progress_percent == orm_task.progress_percent
               for step, orm_step in zip(lines.steps, orm.steps) for task, orm_task in zip(step.tasks, orm_step.tasks))


@pytest.mark.parametrize("values", [
    {"status": "in_progress"}, {"status": "paused"}, {"status": "completed", "auto_complete": False},
    {"status": "completed", "auto_complete": True}, {"status": "pending", "started_at": utcnow() - timedelta(hours=1)},
    {"status": "pending"},
])
def test_the_started_tasks_read_with_the_page_are_the_ones_that_block_a_withdrawal(plant, values):
    work_order = approved(plant)
    task = _first_task(work_order)
    db.session.execute(update(Task).where(Task.id == task.id).values(**values))
    db.session.commit()
    assert detail_view.lines_of(work_order.id).started_tasks == approval.started_task_count(fresh(work_order.id))


def test_a_step_without_tasks_is_listed_with_none(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    for task in db.session.scalars(select(Task).where(Task.work_order_id == work_order.id)):
        db.session.delete(task)
    db.session.commit()
    steps = len(fresh(work_order.id).steps)
    lines = detail_view.lines_of(work_order.id)
    assert steps >= 4 and len(lines.steps) == steps and all(step.tasks == () for step in lines.steps)
    login(plant.admin)
    assert client.get(f"/workorders/{work_order.id}").get_data(as_text=True).count("该工序还没有任务") == steps
