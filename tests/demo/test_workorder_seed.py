"""The demo 施工单: every state, made through the services, loaded once however often it runs."""
from sqlalchemy import func, select

from app.models import Task, WorkOrder
from app.seed import load_demo, seed_presets
from app.seed_history import HISTORY
from app.seed_workorders import DEMO_WORK_ORDERS, load_demo_work_orders


def test_demo_work_orders_cover_every_state_and_load_once(demo_plant):
    db = demo_plant
    states = {wo.notes: (wo.approval_status, wo.status, wo.created_by.username)
              for wo in db.session.scalars(select(WorkOrder).where(WorkOrder.notes.not_like("【演示】历史%")))}
    assert states == {
        "【演示】草稿：宣传册": ("draft", "pending", "maker1"),
        "【演示】待审核：包装盒": ("pending", "pending", "maker1"),
        "【演示】已拒绝：名片": ("rejected", "pending", "sales1"),
        "【演示】已审核：画册": ("approved", "in_progress", "maker1"),
        "【演示】已暂停：展示牌与海报": ("approved", "paused", "maker1"),
    }
    approved = db.session.scalar(select(WorkOrder).where(WorkOrder.notes == "【演示】已审核：画册"))
    dispatched = db.session.scalars(select(Task).where(Task.work_order_id == approved.id)).all()
    assert dispatched and all(t.status == "pending" and t.department_id is not None for t in dispatched)
    tasks = db.session.scalar(select(func.count()).select_from(Task))

    load_demo()
    load_demo_work_orders()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == len(DEMO_WORK_ORDERS) + len(HISTORY)
    assert db.session.scalar(select(func.count()).select_from(Task)) == tasks


def test_missing_demo_records_are_skipped_quietly(db):
    seed_presets()
    load_demo_work_orders()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0
