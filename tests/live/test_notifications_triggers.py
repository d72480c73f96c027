"""Every notification of DOMAIN.md §9: exact recipients and exact text; due-soon and purge idempotence."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import AuditLog, Notification, Setting
from app.realtime import events
from app.services.notifications import inbox as notifications
from app.utils.timeutil import plant_today, utcnow
from factories import (
    CustomerFactory,
    DepartmentFactory,
    NotificationFactory,
    ProcessFactory,
    TaskFactory,
    UserFactory,
    WorkOrderFactory,
    WorkOrderStepFactory,
)


@pytest.fixture()
def plant(db):
    """A 生产部 with a 印刷车间 below it, their supervisors, a maker's 施工单 and a task in 印刷车间."""
    production = DepartmentFactory(name="生产部")
    printing = DepartmentFactory(name="印刷车间", parent=production)
    packing = DepartmentFactory(name="包装车间", parent=production)
    people = {
        "maker": UserFactory(name="制单员甲", roles=["maker"]),
        "admin": UserFactory(name="管理员", roles=["admin"]),
        "sales": UserFactory(name="业务员甲", roles=["salesperson"]),
        "production_sup": UserFactory(name="生产主管", roles=["supervisor"], departments=[production]),
        "printing_sup": UserFactory(name="印刷主管", roles=["supervisor"], departments=[printing]),
        "packing_sup": UserFactory(name="包装主管", roles=["supervisor"], departments=[packing]),
        "retired_sup": UserFactory(name="离职主管", roles=["supervisor"], departments=[printing], is_active=False),
        "operator": UserFactory(name="刘师傅", roles=["operator"], departments=[printing]),
        "operator2": UserFactory(name="王师傅", roles=["operator"], departments=[printing]),
    }
    work_order = WorkOrderFactory(number="SG2026110001", created_by=people["maker"],
                                  customer=CustomerFactory(salesperson=people["sales"]))
    step = WorkOrderStepFactory(work_order=work_order, process=ProcessFactory(name="印刷"))
    task = TaskFactory(step=step, work_order=work_order, content="印刷：彩盒A", department=printing,
                       operator=people["operator"])
    return {"departments": {"production": production, "printing": printing, "packing": packing},
            "people": people, "work_order": work_order, "step": step, "task": task}


def stored(db):
    """(recipient name, type, title, content, priority) of every notification, sorted."""
    db.session.flush()
    rows = db.session.scalars(select(Notification)).all()
    return sorted((row.recipient.name, row.type, row.title, row.content, row.priority) for row in rows)


def names(db):
    return sorted({row[0] for row in stored(db)})


def test_approval_requested_goes_to_every_approver_but_the_submitter(db, plant):
    people = plant["people"]
    notifications.notify_approval_requested(plant["work_order"], actor=people["admin"])
    assert names(db) == sorted(["业务员甲", "生产主管", "印刷主管", "包装主管"])
    assert stored(db)[0][1:] == ("approval_requested", "待审核：施工单 SG2026110001",
                                 "施工单 SG2026110001 已提交审核，等待审核", "high")


def test_approved_tells_the_creator_with_tasks_and_comment(db, plant):
    plant["work_order"].approval_comment = "尽快排产"
    notifications.notify_approved(plant["work_order"], 5, actor=plant["people"]["sales"])
    assert stored(db) == [("制单员甲", "approval_passed", "施工单 SG2026110001 审核通过",
                           '施工单 SG2026110001 已通过审核，状态已变更为"进行中"，已转换 5 个任务。审核意见：尽快排产', "high")]


def test_approved_without_tasks_or_comment_says_only_that(db, plant):
    notifications.notify_approved(plant["work_order"], 0)
    assert stored(db)[0][3] == '施工单 SG2026110001 已通过审核，状态已变更为"进行中"。'


def test_rejected_tells_the_creator_that_the_drafts_are_kept_and_the_reason(db, plant):
    notifications.notify_rejected(plant["work_order"], "数量有误", actor=plant["people"]["production_sup"])
    assert stored(db) == [("制单员甲", "approval_rejected", "施工单 SG2026110001 审核拒绝",
                           "施工单 SG2026110001 审核被拒绝，草稿任务和修改均已保留，修改后可重新提交审核。"
                           "拒绝原因：数量有误", "high")]


def test_a_creator_who_decides_is_not_told_about_it(db, plant):
    notifications.notify_approved(plant["work_order"], 1, actor=plant["people"]["maker"])
    assert stored(db) == []


def test_task_dispatched_by_the_system_tells_the_operator(db, plant):
    notifications.notify_task_assigned(plant["task"])
    assert stored(db) == [("刘师傅", "task_assigned", "新任务分派：印刷：彩盒A",
                           "您有一个新任务：印刷：彩盒A（施工单：SG2026110001）", "normal")]


def test_task_assigned_by_a_supervisor_names_them(db, plant):
    notifications.notify_task_assigned(plant["task"], plant["people"]["printing_sup"])
    assert stored(db) == [("刘师傅", "task_assigned", "新任务分配：印刷：彩盒A",
                           '印刷主管 将任务 "印刷：彩盒A" 分配给您。施工单：SG2026110001', "normal")]


def test_assigning_oneself_notifies_nobody(db, plant):
    notifications.notify_task_assigned(plant["task"], plant["people"]["operator"])
    assert stored(db) == []


def test_reassignment_tells_the_new_and_the_old_operator(db, plant):
    task, people = plant["task"], plant["people"]
    task.operator = people["operator2"]
    db.session.flush()
    notifications.notify_task_reassigned(task, people["operator"].id, people["printing_sup"], reason="设备故障")
    assert stored(db) == [
        ("刘师傅", "task_reassigned", "任务已改派：印刷：彩盒A",
         '印刷主管 已将任务 "印刷：彩盒A" 改派给 王师傅。施工单：SG2026110001 改派原因：设备故障', "normal"),
        ("王师傅", "task_reassigned", "新任务分配：印刷：彩盒A",
         '印刷主管 将任务 "印刷：彩盒A" 分配给您。施工单：SG2026110001（原操作员：刘师傅） 改派原因：设备故障', "normal"),
    ]


def test_cancellation_tells_the_operator(db, plant):
    notifications.notify_task_cancelled(plant["task"], "客户取消", actor=plant["people"]["printing_sup"])
    assert stored(db) == [("刘师傅", "task_cancelled", "任务已取消：印刷：彩盒A",
                           '任务"印刷：彩盒A"已被取消。取消原因：客户取消', "normal")]


def test_cancelling_an_unassigned_task_notifies_nobody(db, plant):
    plant["task"].operator = None
    db.session.flush()
    notifications.notify_task_cancelled(plant["task"], "客户取消")
    assert stored(db) == []


def test_completion_tells_the_department_supervisors_not_the_creator(db, plant):
    notifications.notify_task_completed(plant["task"], actor=plant["people"]["operator"])
    # 印刷主管 leads 印刷车间; 生产主管 leads it through its parent; not 包装主管, not the inactive one;
    # not the creator, who hears of 工序完成 and 施工单完成 instead (DOMAIN.md §9).
    assert names(db) == sorted(["生产主管", "印刷主管"])
    assert {row[1:] for row in stored(db)} == {("task_completed", "任务完成：印刷：彩盒A",
                                               '任务 "印刷：彩盒A" 已完成（施工单：SG2026110001）', "normal")}


def test_step_completion_tells_the_creator(db, plant):
    notifications.notify_step_completed(plant["step"])
    assert stored(db) == [("制单员甲", "process_completed", "工序完成：印刷",
                           '施工单 SG2026110001 的工序"印刷"已完成', "normal")]


def test_work_order_completion_tells_the_creator(db, plant):
    notifications.notify_work_order_completed(plant["work_order"])
    assert stored(db) == [("制单员甲", "workorder_completed", "施工单完成：SG2026110001",
                           "施工单 SG2026110001 所有工序已完成，施工单已标记为完成", "high")]


def test_notifications_link_to_their_task_or_work_order(db, plant):
    [task_row] = notifications.notify_task_assigned(plant["task"])
    [order_row] = notifications.notify_work_order_completed(plant["work_order"])
    db.session.flush()
    assert (task_row.task_id, task_row.work_order_id) == (plant["task"].id, plant["work_order"].id)
    assert (order_row.task_id, order_row.work_order_id) == (None, plant["work_order"].id)


def test_notify_announces_one_event_for_its_recipients(db, plant):
    notifications.notify_task_completed(plant["task"])
    [pending] = db.session.info[events._PENDING]
    people = plant["people"]
    assert pending.payload["type"] == "notification"
    assert pending.payload["user_ids"] == sorted(p.id for p in (people["production_sup"], people["printing_sup"]))


# --- 交货期预警 ---------------------------------------------------------------------------

@pytest.fixture()
def due_orders(db, plant):
    today = plant_today()
    maker = plant["people"]["maker"]

    def order(number, days, approval="approved", status="in_progress", task_department="printing"):
        work_order = WorkOrderFactory(number=number, created_by=maker, approval_status=approval, status=status,
                                      delivery_date=today + timedelta(days=days))
        if task_department:
            TaskFactory(work_order=work_order, step=WorkOrderStepFactory(work_order=work_order),
                        department=plant["departments"][task_department])
        return work_order

    return {
        "in3": order("SG2026110003", 3),
        "in1": order("SG2026110004", 1, status="pending", task_department="packing"),
        "in2": order("SG2026110005", 2),
        "unapproved": order("SG2026110006", 1, approval="pending"),
        "done": order("SG2026110007", 3, status="completed"),
        "paused": order("SG2026110008", 1, status="paused", task_department=None),
    }


def test_due_soon_warns_creator_and_supervisors_3_and_1_days_ahead(db, due_orders):
    created = notifications.create_due_soon()
    db.session.commit()

    assert created == 7
    assert stored(db) == sorted([
        ("制单员甲", "delivery_due", "交货期预警", "施工单 SG2026110003 将在 3 天后到期", "high"),
        ("生产主管", "delivery_due", "交货期预警", "施工单 SG2026110003 将在 3 天后到期", "high"),
        ("印刷主管", "delivery_due", "交货期预警", "施工单 SG2026110003 将在 3 天后到期", "high"),
        ("制单员甲", "delivery_due", "交货期预警", "施工单 SG2026110004 将在 1 天后到期", "urgent"),
        ("生产主管", "delivery_due", "交货期预警", "施工单 SG2026110004 将在 1 天后到期", "urgent"),
        ("包装主管", "delivery_due", "交货期预警", "施工单 SG2026110004 将在 1 天后到期", "urgent"),
        ("制单员甲", "delivery_due", "交货期预警", "施工单 SG2026110008 将在 1 天后到期", "urgent"),
    ])


def test_due_soon_run_twice_creates_nothing_more(db, due_orders):
    notifications.create_due_soon()
    db.session.commit()
    before = stored(db)

    assert notifications.create_due_soon() == 0
    db.session.commit()
    assert stored(db) == before


def test_due_soon_warns_again_the_next_day(db, due_orders):
    today = plant_today()
    notifications.create_due_soon(today)
    db.session.commit()
    # Two days later SG2026110003 is due in 1 day: a new warning for the new day.
    assert notifications.create_due_soon(today + timedelta(days=2)) == 3


# --- retention -------------------------------------------------------------------------------

def aged(user, days, **kwargs):
    return NotificationFactory(recipient=user, created_at=utcnow() - timedelta(days=days), **kwargs)


def test_only_the_last_30_days_are_listed_and_counted(db):
    user = UserFactory()
    recent = aged(user, 29, title="近期")
    aged(user, 31, title="过期")
    aged(UserFactory(), 1, title="别人的")

    page = notifications.list_for(user)
    assert [n.title for n in page.items] == [recent.title]
    assert notifications.unread_count(user) == 1
    assert [n.title for n in notifications.latest_for(user)] == ["近期"]


def test_the_window_follows_the_retention_setting(db):
    user = UserFactory()
    aged(user, 5)
    aged(user, 8)
    db.session.add(Setting(key="notification_retention_days", value=7))
    db.session.commit()
    assert notifications.unread_count(user) == 1


def test_purge_deletes_only_older_rows_and_is_idempotent(db):
    user = UserFactory()
    keep = aged(user, 29)
    aged(user, 31)
    aged(user, 90)

    assert notifications.purge() == 2
    db.session.commit()
    assert notifications.purge() == 0
    db.session.commit()

    assert [n.id for n in db.session.scalars(select(Notification))] == [keep.id]
    [audit_row] = db.session.scalars(select(AuditLog).where(AuditLog.action == "purge")).all()
    assert audit_row.detail["deleted"] == 2
