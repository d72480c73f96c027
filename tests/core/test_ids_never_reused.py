"""An id once handed out is never handed out again, so history, audit rows and links always mean one thing."""
import pytest

from factories import (
    ApiTokenFactory,
    AssignmentRuleFactory,
    CustomerFactory,
    DepartmentFactory,
    MaterialFactory,
    NotificationFactory,
    PlateFactory,
    ProcessFactory,
    ProductFactory,
    TaskFactory,
    UserFactory,
    WorkOrderFactory,
    WorkOrderMaterialFactory,
    WorkOrderProductFactory,
    WorkOrderStepFactory,
)

FACTORIES = [
    TaskFactory, WorkOrderFactory, WorkOrderStepFactory, WorkOrderMaterialFactory, WorkOrderProductFactory,
    UserFactory, DepartmentFactory, ProcessFactory, CustomerFactory, MaterialFactory, ProductFactory, PlateFactory,
    AssignmentRuleFactory, NotificationFactory, ApiTokenFactory,
]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda factory: factory._meta.model.__tablename__)
def test_the_id_of_a_deleted_newest_row_is_not_given_to_the_next(db, factory):
    factory()
    newest = factory()
    db.session.commit()
    deleted_id = newest.id
    db.session.delete(newest)
    db.session.commit()

    replacement = factory()
    db.session.commit()
    assert replacement.id > deleted_id


def test_a_deleted_draft_task_history_never_attaches_to_a_new_task(db):
    from app.models import AuditLog
    from app.services.core import audit

    draft = TaskFactory(status="draft")
    db.session.commit()
    audit.record(None, "task", draft.id, "draft_add", task_id=draft.id, work_order_id=draft.work_order_id)
    draft_id, work_order = draft.id, draft.work_order
    db.session.delete(draft)
    db.session.commit()

    new_task = TaskFactory(work_order=work_order, step=WorkOrderStepFactory(work_order=work_order))
    db.session.commit()
    assert new_task.id != draft_id
    assert db.session.query(AuditLog).filter_by(task_id=new_task.id).count() == 0
