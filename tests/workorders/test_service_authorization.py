"""Authorization lives in the services: every state-changing 施工单 and task service, called directly
(outside any view, as a CLI, a job or the API would) by every role, gives exactly the policy's answer.

Allowed → the state changes. Refused → the policy's refusal (Forbidden) and nothing written: the row
keeps its version and no audit row appears. Each attempt runs in a savepoint that is rolled back, so
every role meets the same 施工单 in the same state.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.models import AuditLog, Task, WorkOrder
from app.services.core.errors import Forbidden
from app.services.dispatch import assignment
from app.services.tasks import actions as task_service
from app.services.tasks import auto_complete as task_auto_complete
from app.services.workorders import approval, drafts, editing, inputs, production
from app.utils.timeutil import plant_today
from support.workorders import approved, build_plant, create, fresh

ROLES = ("maker", "sales", "other_sales", "supervisor", "admin", "designer", "operator")


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def _audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog))


def _version_of(model, row_id: int):
    return db.session.scalar(select(model.version).where(model.id == row_id))


def _refusal(user, actions, obj) -> str | None:
    """The message of the first policy action ``user`` is refused, or None when every one allows."""
    for action in actions:
        if not policy.can(user, action, obj):
            return str(policy.REFUSALS.get(action, "您没有权限执行此操作"))
    return None


def _each_role(plant, call, *, expected, changed, row):
    """``call(user)`` in a rolled-back savepoint per role; ``expected(user)`` is None (allowed) or the
    refusal message (None = any Forbidden), ``changed()`` says the state moved, ``row`` = (model, id)."""
    answers = {}
    for name in ROLES:
        user = getattr(plant, name)
        refusal = expected(user)
        audit_before, version_before = _audit_rows(), _version_of(*row)
        savepoint = db.session.begin_nested()
        try:
            call(user)
        except Forbidden as error:
            db.session.flush()
            assert refusal is not False, f"{name} was refused: {error.message}"
            if refusal is not None:
                assert error.message == refusal, name
            assert (_audit_rows(), _version_of(*row)) == (audit_before, version_before), f"{name}: refused but wrote"
            answers[name] = "refused"
        else:
            db.session.flush()
            assert refusal is False, f"{name} was allowed, policy says: {refusal}"
            assert changed(), f"{name}: allowed but nothing changed"
            answers[name] = "allowed"
        finally:
            savepoint.rollback()
            db.session.expire_all()
    assert set(answers.values()) == {"allowed", "refused"}, answers  # every test exercises both answers
    return answers


def _wo_rule(*actions):
    def expected(user):
        work_order = db.session.get(WorkOrder, expected.work_order_id)
        refusal = _refusal(user, actions, work_order)
        return False if refusal is None else refusal
    return expected


def _state(work_order_id):
    return db.session.execute(select(WorkOrder.approval_status, WorkOrder.status)
                              .where(WorkOrder.id == work_order_id)).one()


def _draft(plant):
    return create(plant.maker, plant.work_order_input())


def _pending(plant):
    return create(plant.maker, plant.work_order_input(), submit=True)


def _rejected(plant):
    work_order = _pending(plant)
    approval.reject(plant.admin, work_order.id, work_order.version, "请修改数量")
    db.session.commit()
    return fresh(work_order.id)


def _paused(plant):
    work_order = approved(plant)
    production.pause(plant.admin, work_order.id, work_order.version, "等纸")
    db.session.commit()
    return fresh(work_order.id)


# (setup, call(user, work_order), policy actions in the order the service asks them, state afterwards)
TRANSITIONS = {
    "submit": (_draft, lambda u, wo: approval.submit(u, wo.id, wo.version),
               ("workorder.view", "workorder.submit"), ("pending", "pending")),
    "resubmit": (_rejected, lambda u, wo: approval.resubmit(u, wo.id, wo.version),
                 ("workorder.view", "workorder.submit"), ("pending", "pending")),
    "approve": (_pending, lambda u, wo: approval.approve(u, wo.id, wo.version, "同意"),
                ("workorder.view", "workorder.approve"), ("approved", "in_progress")),
    "reject": (_pending, lambda u, wo: approval.reject(u, wo.id, wo.version, "图稿不对"),
               ("workorder.view", "workorder.approve"), ("rejected", "pending")),
    "withdraw": (approved, lambda u, wo: approval.withdraw(u, wo.id, wo.version, "客户改稿"),
                 ("workorder.view", "workorder.withdraw"), ("draft", "pending")),
    "pause": (approved, lambda u, wo: production.pause(u, wo.id, wo.version, "等纸"),
              ("workorder.view", "workorder.control"), ("approved", "paused")),
    "resume": (_paused, lambda u, wo: production.resume(u, wo.id, wo.version),
               ("workorder.view", "workorder.control"), ("approved", "in_progress")),
    "cancel": (approved, lambda u, wo: production.cancel(u, wo.id, wo.version, "客户取消"),
               ("workorder.view", "workorder.control"), ("approved", "cancelled")),
}


@pytest.mark.parametrize("action", TRANSITIONS)
def test_each_transition_gives_exactly_the_policy_answer_to_every_role(plant, action):
    setup, call, actions, after = TRANSITIONS[action]
    work_order = setup(plant)
    expected = _wo_rule(*actions)
    expected.work_order_id = work_order.id
    _each_role(plant, lambda user: call(user, work_order), expected=expected,
               changed=lambda: tuple(_state(work_order.id)) == after, row=(WorkOrder, work_order.id))


def test_delete_gives_exactly_the_policy_answer(plant):
    work_order = _draft(plant)
    expected = _wo_rule("workorder.view", "workorder.delete")
    expected.work_order_id = work_order.id
    answers = _each_role(plant, lambda user: production.delete_work_order(user, work_order.id, work_order.version),
                         expected=expected, changed=lambda: _version_of(WorkOrder, work_order.id) is None,
                         row=(WorkOrder, work_order.id))
    assert answers["maker"] == answers["admin"] == "allowed"


def test_a_missing_version_is_refused_only_after_policy(plant):
    work_order = approved(plant)
    with pytest.raises(Forbidden):
        production.pause(plant.operator, work_order.id, None)
    db.session.rollback()
    with pytest.raises(Exception, match="缺少版本号"):
        production.pause(plant.admin, work_order.id, None)


def test_edit_gives_exactly_the_policy_answer(plant):
    work_order = _draft(plant)
    data = plant.edit_input(work_order, notes="改了备注")
    version = fresh(work_order.id).version
    expected = _wo_rule("workorder.edit")
    expected.work_order_id = work_order.id
    _each_role(plant, lambda user: editing.update(user, work_order.id, version, data, confirm_sync=True),
               expected=expected, changed=lambda: _version_of(WorkOrder, work_order.id) == version + 1,
               row=(WorkOrder, work_order.id))


def test_edit_of_an_approved_work_order_gives_exactly_the_policy_answer(plant):
    work_order = approved(plant)
    data = inputs.LimitedInput(delivery_date=plant_today() + timedelta(days=20), priority="urgent", notes="加急")
    version = work_order.version
    expected = _wo_rule("workorder.edit")
    expected.work_order_id = work_order.id
    _each_role(plant, lambda user: editing.update_approved(user, work_order.id, version, data),
               expected=expected, changed=lambda: _version_of(WorkOrder, work_order.id) == version + 1,
               row=(WorkOrder, work_order.id))


def test_create_gives_exactly_the_policy_answer(plant):
    data = plant.work_order_input()

    def expected(user):
        refusal = _refusal(user, ("workorder.create",), None) or _refusal(user, ("workorder.order_for",), plant.customer)
        return False if refusal is None else refusal

    count = db.session.scalar(select(func.count()).select_from(WorkOrder))
    _each_role(plant, lambda user: editing.create(user, data), expected=expected,
               changed=lambda: db.session.scalar(select(func.count()).select_from(WorkOrder)) == count + 1,
               row=(WorkOrder, -1))


def _first_draft(work_order) -> Task:
    return db.session.scalars(select(Task).where(Task.work_order_id == work_order.id).order_by(Task.id)).first()


DRAFT_EDITS = {
    "add_draft": lambda u, wo, task: drafts.add_draft(u, wo.id, task.step_id, quantity=5, content="加印"),
    "update_draft": lambda u, wo, task: drafts.update_draft(u, wo.id, task.id, task.version, quantity=7),
    "bulk_update_drafts": lambda u, wo, task: drafts.bulk_update_drafts(u, wo.id, [task.id], quantity=9),
    "bulk_delete_drafts": lambda u, wo, task: drafts.bulk_delete_drafts(u, wo.id, [task.id]),
}


@pytest.mark.parametrize("edit", DRAFT_EDITS)
def test_each_draft_edit_gives_exactly_the_policy_answer(plant, edit):
    work_order = _draft(plant)
    task = _first_draft(work_order)
    task_id, step_id, task_version = task.id, task.step_id, task.version
    before = db.session.execute(select(Task.id, Task.version).where(Task.work_order_id == work_order.id)
                                .order_by(Task.id)).all()
    expected = _wo_rule("workorder.view", "workorder.edit_drafts")
    expected.work_order_id = work_order.id

    def call(user):
        draft = db.session.get(Task, task_id)
        assert (draft.step_id, draft.version) == (step_id, task_version)
        DRAFT_EDITS[edit](user, work_order, draft)

    def changed():
        return db.session.execute(select(Task.id, Task.version).where(Task.work_order_id == work_order.id)
                                  .order_by(Task.id)).all() != before

    _each_role(plant, call, expected=expected, changed=changed, row=(WorkOrder, work_order.id))


# ---------------------------------------------------------------- tasks

def _printing_task(work_order) -> Task:
    return db.session.scalars(select(Task).where(Task.work_order_id == work_order.id, Task.task_type == "printing")
                              .order_by(Task.id)).first()


def _task_in(plant, *steps) -> Task:
    """The printing task of an approved 施工单, taken by the printing operator through ``steps``."""
    task = _printing_task(approved(plant))
    for action, kwargs in steps:
        getattr(task_service, action)(task, plant.operator, task.version, **kwargs)
        db.session.commit()
    return db.session.get(Task, task.id)


CLAIMED, STARTED = [("claim", {})], [("claim", {}), ("start", {})]
TASK_ACTIONS = {
    # action: (steps before, call, policy action, status afterwards)
    "claim": ([], lambda u, t: task_service.claim(t, u, t.version), "task.claim", None),
    "start": (CLAIMED, lambda u, t: task_service.start(t, u, t.version), "task.work", "in_progress"),
    "pause": (STARTED, lambda u, t: task_service.pause(t, u, t.version, "equipment"), "task.work", "paused"),
    "resume": ([*STARTED, ("pause", {"reason": "equipment"})], lambda u, t: task_service.resume(t, u, t.version),
               "task.work", "in_progress"),
    "report": (STARTED, lambda u, t: task_service.report(t, u, t.version, 10), "task.work", "in_progress"),
    "complete": (STARTED, lambda u, t: task_service.complete(t, u, t.version, "提前完成"), "task.work", "completed"),
    "cancel": ([], lambda u, t: task_service.cancel(t, u, t.version, "不做了"), "task.supervise", "cancelled"),
    "unassign": (CLAIMED, lambda u, t: assignment.unassign(t.id, u, t.version), "task.supervise", "pending"),
}


@pytest.mark.parametrize("action", TASK_ACTIONS)
def test_each_task_action_gives_exactly_the_policy_answer_to_every_role(plant, action):
    steps, call, rule, status = TASK_ACTIONS[action]
    task = _task_in(plant, *steps)
    task_id, version = task.id, task.version

    def expected(user):
        return False if policy.can(user, rule, db.session.get(Task, task_id)) else None

    def changed():
        row = db.session.execute(select(Task.status, Task.version).where(Task.id == task_id)).one()
        return row.version > version and (status is None or row.status == status)

    _each_role(plant, lambda user: call(user, db.session.get(Task, task_id)), expected=expected, changed=changed,
               row=(Task, task_id))


def test_assign_gives_exactly_the_policy_answer(plant):
    task = _task_in(plant)
    task_id, version = task.id, task.version

    def expected(user):
        return False if policy.can(user, "task.supervise", db.session.get(Task, task_id)) else None

    _each_role(plant, lambda user: assignment.assign(task_id, plant.operator.id, user, version), expected=expected,
               changed=lambda: db.session.scalar(select(Task.operator_id).where(Task.id == task_id)) == plant.operator.id,
               row=(Task, task_id))


def test_material_status_gives_exactly_the_policy_answer(plant):
    paper = inputs.MaterialLineInput(plant.paper.id, size="787×1092", usage="500张")
    work_order = approved(plant, plant.work_order_input(materials=[paper]))
    line_id = fresh(work_order.id).materials[0].id
    expected = _wo_rule("workorder.view", "workorder.materials")
    expected.work_order_id = work_order.id

    def call(user):
        line = next(line for line in fresh(work_order.id).materials if line.id == line_id)
        task_auto_complete.mark_material(line, "ordered", user)

    _each_role(plant, call, expected=expected, row=(WorkOrder, work_order.id),
               changed=lambda: fresh(work_order.id).materials[0].purchase_status == "ordered")
