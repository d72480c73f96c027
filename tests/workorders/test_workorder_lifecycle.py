"""The 施工单 life cycle through its service: every transition and every refusal, exactly."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import ApprovalLog, AuditLog, Notification, Task, TimeLog, WorkOrder, WorkOrderStep
from app.services.core import settings
from app.services.core.errors import Conflict, Forbidden, Invalid
from app.services.workorders import approval, editing, inputs, production
from app.services.workorders import drafts as workorder_drafts
from app.utils.timeutil import plant_now, plant_today, utcnow
from support.workorders import approved, build_plant, create, fresh, task_rows, tasks_of

STALE = "施工单已被其他人更新，请刷新后重试"


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def walk_through_drafts(number):
    return [
        ("CTP", "plate_making", f"{number}制版审核", 1, "draft", None),
        ("CTP", "plate_making", f"{number}制版审核", 1, "draft", None),
        ("PRT", "printing", f"{number}印刷", 500, "draft", None),
        ("LAM_G", "general", f"覆光膜：{number}", 500, "draft", None),
        ("DIE", "die_cutting", f"{number}模切", 500, "draft", None),
        ("PACK", "packaging", "宣传册包装", 800, "draft", None),
        ("PACK", "packaging", "海报包装", 300, "draft", None),
    ]


def dispatched(rows):
    departments = {"CTP": "design", "PRT": "printing", "LAM_G": "printing", "DIE": "die_cutting", "PACK": "packaging"}
    return [(code, kind, content, qty, "pending", departments[code]) for code, kind, content, qty, _s, _d in rows]


def test_the_walk_through_creates_exactly_the_drafts_and_approval_dispatches_by_the_preset_rules(plant):
    work_order = create(plant.maker, plant.work_order_input())
    month = plant_now().strftime("%Y%m")
    assert work_order.number == f"SG{month}0001"
    assert (work_order.approval_status, work_order.status, work_order.created_by_id) == ("draft", "pending", plant.maker.id)
    assert task_rows(work_order.id) == walk_through_drafts(work_order.number)
    assert [t.number for t in tasks_of(work_order.id)] == [f"T{work_order.number}-{i:02d}" for i in range(1, 8)]
    assert [s.process.code for s in fresh(work_order.id).steps] == ["CTP", "PRT", "LAM_G", "DIE", "PACK"]

    approval.submit(plant.maker, work_order.id, work_order.version)
    db.session.commit()
    work_order = fresh(work_order.id)
    assert work_order.approval_status == "pending"
    requests = db.session.scalars(select(Notification).where(Notification.type == "approval_requested")).all()
    assert sorted(n.recipient_id for n in requests) == sorted([plant.sales.id, plant.supervisor.id, plant.admin.id])
    assert {n.title for n in requests} == {f"待审核：施工单 {work_order.number}"}

    approval.approve(plant.sales, work_order.id, work_order.version, "同意")
    db.session.commit()
    work_order = fresh(work_order.id)
    assert (work_order.approval_status, work_order.status, work_order.approved_by_id) == (
        "approved", "in_progress", plant.sales.id)
    assert task_rows(work_order.id) == dispatched(walk_through_drafts(work_order.number))
    assert all(t.operator_id is None and t.dispatched_at is not None for t in tasks_of(work_order.id))
    assert [(log.action, log.user_id, log.comment) for log in work_order.approval_logs] == [
        ("submit", plant.maker.id, ""), ("approve", plant.sales.id, "同意")]
    passed = db.session.scalars(select(Notification).where(Notification.type == "approval_passed")).all()
    assert [(n.recipient_id, n.title) for n in passed] == [(plant.maker.id, f"施工单 {work_order.number} 审核通过")]
    assert "已转换 7 个任务" in passed[0].content and "审核意见：同意" in passed[0].content
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.work_order_id == work_order.id)).all()
    assert actions.count("release") == 7 and actions.count("dispatch") == 7
    assert {"create", "submit", "approve"} <= set(actions)


def test_with_auto_dispatch_off_every_task_waits_in_the_pool(plant):
    settings.update(plant.admin, {"auto_dispatch_enabled": False})
    db.session.commit()
    work_order = approved(plant)
    assert [row[4:] for row in task_rows(work_order.id)] == [("pending", None)] * 7


def test_an_explicit_step_department_wins_over_the_rules_even_with_auto_dispatch_off(plant):
    settings.update(plant.admin, {"auto_dispatch_enabled": False})
    data = plant.work_order_input()
    outsourcing = plant.department("outsourcing")
    for step in data.steps:
        if step.process_id == plant.process("PRT").id:
            step.department_id = outsourcing.id
    work_order = approved(plant, data)
    assert {(row[0], row[5]) for row in task_rows(work_order.id)} == {
        ("CTP", None), ("PRT", "outsourcing"), ("LAM_G", None), ("DIE", None), ("PACK", None)}


def test_a_plate_confirmed_before_approval_completes_its_plate_making_task_at_approval(plant):
    plant.artwork.confirmed = True
    plant.die.confirmed = True
    db.session.commit()
    work_order = approved(plant)
    ctp = [t for t in tasks_of(work_order.id) if t.task_type == "plate_making"]
    assert [(t.status, t.completed_quantity) for t in ctp] == [("completed", 1), ("completed", 1)]
    step = db.session.scalar(select(WorkOrderStep).where(WorkOrderStep.work_order_id == work_order.id,
                                                         WorkOrderStep.process_id == plant.process("CTP").id))
    assert step.status == "completed"
    assert fresh(work_order.id).status == "in_progress"


def test_reject_needs_a_reason_and_changes_nothing_without_one(plant):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    with pytest.raises(Invalid) as refused:
        approval.reject(plant.sales, work_order.id, work_order.version, "  ")
    db.session.rollback()
    assert refused.value.message == "审核拒绝时，必须填写拒绝原因"
    assert refused.value.status == 400
    assert fresh(work_order.id).approval_status == "pending"
    assert len(tasks_of(work_order.id)) == 7


def test_reject_then_resubmit_then_approve_yields_the_full_task_set(plant):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    drafts = walk_through_drafts(work_order.number)
    approval.reject(plant.sales, work_order.id, work_order.version, "颜色需与客户确认")
    db.session.commit()
    work_order = fresh(work_order.id)
    assert (work_order.approval_status, work_order.approval_comment) == ("rejected", "颜色需与客户确认")
    assert task_rows(work_order.id) == drafts  # the drafts stay (DOMAIN.md §3)
    rejected = db.session.scalar(select(Notification).where(Notification.type == "approval_rejected"))
    assert (rejected.recipient_id, rejected.title) == (plant.maker.id, f"施工单 {work_order.number} 审核拒绝")
    assert rejected.content == (f"施工单 {work_order.number} 审核被拒绝，草稿任务和修改均已保留，修改后可重新提交审核。"
                                "拒绝原因：颜色需与客户确认")

    approval.resubmit(plant.maker, work_order.id, work_order.version)
    db.session.commit()
    work_order = fresh(work_order.id)
    assert (work_order.approval_status, work_order.approval_comment) == ("pending", "")
    assert task_rows(work_order.id) == drafts
    assert [t.number for t in tasks_of(work_order.id)] == [f"T{work_order.number}-{i:02d}" for i in range(1, 8)]

    approval.approve(plant.supervisor, work_order.id, work_order.version)
    db.session.commit()
    assert task_rows(work_order.id) == dispatched(drafts)
    assert [log.action for log in fresh(work_order.id).approval_logs] == ["submit", "reject", "resubmit", "approve"]


@pytest.mark.parametrize("call,message", [
    (lambda p, wo: approval.approve(p.sales, wo.id, wo.version), "只有待审核的施工单可以审核，当前审核状态：草稿"),
    (lambda p, wo: approval.reject(p.sales, wo.id, wo.version, "不行"), "只有待审核的施工单可以审核，当前审核状态：草稿"),
    (lambda p, wo: approval.resubmit(p.maker, wo.id, wo.version), "只有被拒绝的施工单才能重新提交审核，当前审核状态：草稿"),
    (lambda p, wo: approval.withdraw(p.sales, wo.id, wo.version), "只有已通过审核的施工单可以撤回审核，当前审核状态：草稿"),
    (lambda p, wo: production.pause(p.admin, wo.id, wo.version), "施工单尚未审核通过，不能暂停，当前审核状态：草稿"),
    (lambda p, wo: production.resume(p.admin, wo.id, wo.version), "只有已暂停的施工单可以恢复，当前状态：待开始"),
    (lambda p, wo: production.cancel(p.admin, wo.id, wo.version, "客户取消"),
     "施工单尚未审核通过，不能取消；未审核的施工单可以直接删除，当前审核状态：草稿"),
])
def test_transitions_a_draft_cannot_take_are_conflicts_and_change_nothing(plant, call, message):
    work_order = create(plant.maker, plant.work_order_input())
    with pytest.raises(Conflict) as refused:
        call(plant, work_order)
    db.session.rollback()
    assert (refused.value.message, refused.value.status) == (message, 409)
    after = fresh(work_order.id)
    assert (after.approval_status, after.status, after.version) == ("draft", "pending", work_order.version)
    assert [row[4] for row in task_rows(work_order.id)] == ["draft"] * 7


@pytest.mark.parametrize("call,message", [
    (lambda p, wo: approval.submit(p.maker, wo.id, wo.version), "只有草稿状态的施工单可以提交审核，当前审核状态：已通过"),
    (lambda p, wo: approval.approve(p.sales, wo.id, wo.version), "只有待审核的施工单可以审核，当前审核状态：已通过"),
    (lambda p, wo: production.resume(p.admin, wo.id, wo.version), "只有已暂停的施工单可以恢复，当前状态：进行中"),
    (lambda p, wo: production.delete_work_order(p.admin, wo.id, wo.version), "已审核通过的施工单不能删除，请改为取消"),
    (lambda p, wo: editing.update(p.maker, wo.id, wo.version, p.work_order_input()),
     "施工单已审核通过，只能修改备注、交货日期、优先级和设计文件"),
])
def test_transitions_an_approved_work_order_cannot_take_are_conflicts(plant, call, message):
    work_order = approved(plant)
    with pytest.raises(Conflict) as refused:
        call(plant, work_order)
    db.session.rollback()
    assert refused.value.message == message
    after = fresh(work_order.id)
    assert (after.approval_status, after.status, after.version) == ("approved", "in_progress", work_order.version)


def test_a_stale_version_is_refused_and_nothing_changes(plant):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    stale = work_order.version - 1
    with pytest.raises(Conflict) as refused:
        approval.approve(plant.sales, work_order.id, stale)
    db.session.rollback()
    assert refused.value.message == STALE
    assert fresh(work_order.id).approval_status == "pending"
    assert [row[4] for row in task_rows(work_order.id)] == ["draft"] * 7


def test_the_approval_check_lists_every_problem_at_once(plant):
    data = plant.work_order_input(processes=("CUT", "PRT", "DIE"), plates=[], products=[], quantity=0)
    work_order = create(plant.maker, data)
    db.session.execute(update(WorkOrder).where(WorkOrder.id == work_order.id)
                       .values(delivery_date=work_order.order_date - timedelta(days=2)))
    db.session.commit()
    work_order = fresh(work_order.id)
    with pytest.raises(Invalid) as refused:
        approval.submit(plant.maker, work_order.id, work_order.version)
    db.session.rollback()
    delivery, order = work_order.delivery_date.isoformat(), work_order.order_date.isoformat()
    assert refused.value.message == "施工单数据不完整，无法审核"
    assert refused.value.details == [
        "缺少产品信息",
        f"交货日期不能早于下单日期。交货日期：{delivery}，下单日期：{order}",
        "生产数量必须大于0，当前值为0",
        "选择了需要图稿的工序（印刷），请至少选择一个图稿",
        "选择了需要刀模的工序（模切），请至少选择一个刀模",
        "工序“开料”没有任务，请添加任务或删除该工序",
        "工序“印刷”没有任务，请添加任务或删除该工序",
        "工序“模切”没有任务，请添加任务或删除该工序",
    ]
    assert fresh(work_order.id).approval_status == "draft"


def test_a_work_order_without_processes_cannot_be_submitted(plant):
    work_order = create(plant.maker, plant.work_order_input(processes=(), plates=[]))
    with pytest.raises(Invalid) as refused:
        approval.submit(plant.maker, work_order.id, work_order.version)
    db.session.rollback()
    assert refused.value.details == ["缺少工序信息"]
    assert refused.value.fields == {"steps": "缺少工序信息"}


def test_an_overdue_delivery_date_does_not_block_approval(plant):
    data = plant.work_order_input(order_date=plant_today() - timedelta(days=20),
                                  delivery_date=plant_today() - timedelta(days=3))
    work_order = approved(plant, data)
    assert work_order.approval_status == "approved"


def test_withdraw_returns_every_task_to_an_unassigned_draft(plant):
    work_order = approved(plant)
    first = tasks_of(work_order.id)[2]
    db.session.execute(update(Task).where(Task.id == first.id).values(operator_id=plant.operator.id))
    db.session.commit()
    approval.withdraw(plant.sales, work_order.id, work_order.version, "工序要调整")
    db.session.commit()
    work_order = fresh(work_order.id)
    assert (work_order.approval_status, work_order.status, work_order.approved_by_id) == ("draft", "pending", None)
    assert [(row[4], row[5]) for row in task_rows(work_order.id)] == [("draft", None)] * 7
    assert all(t.operator_id is None for t in tasks_of(work_order.id))
    told = db.session.scalar(select(Notification).where(Notification.recipient_id == plant.operator.id))
    assert told.title == f"施工单 {work_order.number} 已撤回审核"
    assert work_order.approval_logs[-1].action == "withdraw"


def test_withdraw_is_refused_once_a_task_has_started(plant):
    work_order = approved(plant)
    started = tasks_of(work_order.id)[2]
    db.session.execute(update(Task).where(Task.id == started.id).values(status="in_progress"))
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        approval.withdraw(plant.sales, work_order.id, work_order.version)
    db.session.rollback()
    assert refused.value.message == "已有 1 个任务开始生产，不能撤回审核"
    assert fresh(work_order.id).approval_status == "approved"


def test_pause_cascades_to_open_tasks_and_resume_restores_them(plant):
    work_order = approved(plant)
    tasks = tasks_of(work_order.id)
    running, self_paused = tasks[2], tasks[3]
    db.session.execute(update(Task).where(Task.id == running.id).values(status="in_progress",
                                                                       operator_id=plant.operator.id))
    db.session.execute(update(Task).where(Task.id == self_paused.id).values(status="paused", pause_reason="equipment"))
    db.session.add(TimeLog(task_id=running.id, operator_id=plant.operator.id,
                           started_at=utcnow() - timedelta(minutes=7)))
    db.session.commit()

    production.pause(plant.supervisor, work_order.id, work_order.version, "等待客户确认")
    db.session.commit()
    work_order = fresh(work_order.id)
    assert work_order.status == "paused"
    assert {t.id: t.worked_seconds for t in tasks_of(work_order.id) if t.worked_seconds is not None} == {running.id: 420}
    statuses = {t.id: (t.status, t.status_before_pause) for t in tasks_of(work_order.id)}
    assert statuses[running.id] == ("paused", "in_progress")
    assert statuses[self_paused.id] == ("paused", None)
    assert {statuses[t.id] for t in tasks if t.id not in (running.id, self_paused.id)} == {("paused", "pending")}
    assert db.session.scalar(select(func.count()).select_from(TimeLog).where(TimeLog.ended_at.is_(None))) == 0

    production.resume(plant.supervisor, work_order.id, work_order.version)
    db.session.commit()
    assert fresh(work_order.id).status == "in_progress"
    statuses = {t.id: (t.status, t.status_before_pause) for t in tasks_of(work_order.id)}
    assert statuses[running.id] == ("in_progress", None)
    assert statuses[self_paused.id] == ("paused", None)
    assert {statuses[t.id] for t in tasks if t.id not in (running.id, self_paused.id)} == {("pending", None)}
    assert db.session.scalar(select(func.count()).select_from(TimeLog).where(TimeLog.ended_at.is_(None))) == 1


def test_cancel_needs_a_reason_cancels_open_tasks_and_tells_their_operators(plant):
    work_order = approved(plant)
    with pytest.raises(Invalid) as refused:
        production.cancel(plant.admin, work_order.id, work_order.version, "")
    db.session.rollback()
    assert refused.value.message == "取消施工单必须填写原因"
    tasks = tasks_of(work_order.id)
    db.session.execute(update(Task).where(Task.id == tasks[2].id).values(operator_id=plant.operator.id))
    db.session.execute(update(Task).where(Task.id == tasks[0].id).values(status="completed", completed_quantity=1))
    db.session.commit()

    production.cancel(plant.admin, work_order.id, work_order.version, "客户取消订单")
    db.session.commit()
    work_order = fresh(work_order.id)
    assert (work_order.status, work_order.cancel_reason) == ("cancelled", "客户取消订单")
    assert [t.status for t in tasks_of(work_order.id)] == ["completed"] + ["cancelled"] * 6
    told = db.session.scalars(select(Notification).where(Notification.type == "task_cancelled")).all()
    assert [(n.recipient_id, n.task_id) for n in told] == [(plant.operator.id, tasks[2].id)]
    assert told[0].title == f"任务已取消：{tasks[2].content}"
    steps = {s.process.code: s.status for s in work_order.steps}
    assert steps == {"CTP": "completed", "PRT": "skipped", "LAM_G": "skipped", "DIE": "skipped", "PACK": "skipped"}


def test_delete_removes_an_unapproved_work_order_and_everything_under_it(plant):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    number = production.delete_work_order(plant.maker, work_order.id, work_order.version)
    db.session.commit()
    assert number == work_order.number
    assert db.session.get(WorkOrder, work_order.id) is None
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    assert db.session.scalar(select(func.count()).select_from(ApprovalLog)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.work_order_id == work_order.id)) == 0
    deleted = db.session.scalar(select(AuditLog).where(AuditLog.action == "delete"))
    assert (deleted.object_id, deleted.detail) == (work_order.id, {"number": number})


def test_editing_the_processes_previews_first_then_syncs_by_process_keeping_manual_edits(plant):
    work_order = create(plant.maker, plant.work_order_input())
    printing = next(t for t in tasks_of(work_order.id) if t.task_type == "printing")
    workorder_drafts.update_draft(plant.maker, work_order.id, printing.id, printing.version, quantity=480,
                                  requirements="先打样")
    db.session.commit()
    work_order = fresh(work_order.id)
    changed = plant.edit_input(work_order, processes=("PRT", "UV", "DIE", "PACK"))

    outcome = editing.update(plant.maker, work_order.id, work_order.version, changed)
    db.session.rollback()
    assert not outcome.applied
    assert (len(outcome.plan.delete_ids), len(outcome.plan.add)) == (1, 1)
    assert fresh(work_order.id).version == work_order.version
    assert "LAM_G" in {row[0] for row in task_rows(work_order.id)}

    outcome = editing.update(plant.maker, work_order.id, work_order.version, changed, confirm_sync=True)
    db.session.commit()
    assert outcome.applied
    rows = task_rows(work_order.id)
    assert [row[0] for row in rows] == ["CTP", "CTP", "PRT", "DIE", "PACK", "PACK", "UV"]
    assert rows[-1] == ("UV", "general", f"UV：{work_order.number}", 500, "draft", None)
    kept = db.session.get(Task, printing.id)
    assert (kept.target_quantity, kept.production_requirements) == (480, "先打样")
    assert [s.process.code for s in fresh(work_order.id).steps] == ["CTP", "PRT", "UV", "DIE", "PACK"]


def test_adding_an_artwork_adds_its_plate_making_and_printing_drafts(plant):
    work_order = create(plant.maker, plant.work_order_input())
    data = plant.edit_input(work_order, plates=[plant.artwork, plant.artwork2, plant.die])
    plan = editing.preview(plant.maker, work_order.id, data)
    assert ([(s.task_type, s.plate_id) for s in plan.add], plan.delete_ids) == (
        [("plate_making", plant.artwork2.id), ("printing", plant.artwork2.id)], [])
    editing.update(plant.maker, work_order.id, work_order.version, data, confirm_sync=True)
    db.session.commit()
    assert len(tasks_of(work_order.id)) == 9


def test_a_quantity_edit_needs_no_confirmation_and_untouched_drafts_follow_it(plant):
    work_order = create(plant.maker, plant.work_order_input())
    outcome = editing.update(plant.maker, work_order.id, work_order.version, plant.edit_input(work_order, quantity=600))
    db.session.commit()
    assert outcome.applied and len(outcome.plan.updates) == 3
    assert [row[3] for row in task_rows(work_order.id)] == [1, 1, 600, 600, 600, 800, 300]


def test_removing_a_product_line_removes_its_packaging_draft(plant):
    work_order = create(plant.maker, plant.work_order_input())
    data = plant.edit_input(work_order, products=[(plant.brochure, 800)])
    editing.update(plant.maker, work_order.id, work_order.version, data, confirm_sync=True)
    db.session.commit()
    assert [row[2] for row in task_rows(work_order.id) if row[0] == "PACK"] == ["宣传册包装"]


def test_drafts_are_edited_added_bulk_edited_and_bulk_deleted_with_per_item_results(plant):
    work_order = create(plant.maker, plant.work_order_input())
    tasks = tasks_of(work_order.id)
    step = fresh(work_order.id).steps[1]
    added = workorder_drafts.add_draft(plant.sales, work_order.id, step.id, quantity=20, content="加印样张", requirements="急")
    db.session.commit()
    assert (added.content, added.target_quantity, added.status, added.number) == (
        "加印样张", 20, "draft", f"T{work_order.number}-08")

    outcome = workorder_drafts.bulk_update_drafts(plant.admin, work_order.id, [tasks[3].id, tasks[4].id, 999999],
                                                  quantity=450, notes="统一修改")
    db.session.commit()
    assert outcome.summary == "成功更新 2 个草稿任务，失败 1 个"
    assert [(i.task_id, i.ok, i.message) for i in outcome.items] == [
        (tasks[3].id, True, "已更新"), (tasks[4].id, True, "已更新"), (999999, False, "任务不存在")]
    assert [(t.target_quantity, t.notes) for t in tasks_of(work_order.id)[3:5]] == [(450, "统一修改")] * 2

    outcome = workorder_drafts.bulk_delete_drafts(plant.maker, work_order.id, [tasks[5].id, tasks[6].id])
    db.session.commit()
    assert outcome.summary == "成功删除 2 个任务，失败 0 个"
    assert len(tasks_of(work_order.id)) == 6


def test_every_task_carries_the_process_of_its_step_however_it_was_made(plant):
    """The task centre filters by the process copied onto each task: creating a 施工单, adding a
    process by an edit and adding a draft by hand all copy it."""
    work_order = create(plant.maker, plant.work_order_input())
    editing.update(plant.maker, work_order.id, work_order.version,
                   plant.edit_input(work_order, processes=("PRT", "UV", "DIE", "PACK")), confirm_sync=True)
    db.session.commit()
    step = next(s for s in fresh(work_order.id).steps if s.process.code == "DIE")
    workorder_drafts.add_draft(plant.sales, work_order.id, step.id, quantity=20, content="加印样张")
    db.session.commit()
    tasks = tasks_of(work_order.id)
    assert [t.process.code for t in tasks] == ["CTP", "CTP", "PRT", "DIE", "PACK", "PACK", "UV", "DIE"]
    assert [t.process_id for t in tasks] == [t.step.process_id for t in tasks]


def test_draft_editing_is_refused_after_approval_with_the_reason(plant):
    work_order = approved(plant)
    task = tasks_of(work_order.id)[0]
    for call in (
        lambda: workorder_drafts.update_draft(plant.maker, work_order.id, task.id, task.version, quantity=5),
        lambda: workorder_drafts.add_draft(plant.maker, work_order.id, work_order.steps[0].id, quantity=5),
        lambda: workorder_drafts.bulk_delete_drafts(plant.maker, work_order.id, [task.id]),
    ):
        with pytest.raises(Conflict) as refused:
            call()
        db.session.rollback()
        assert refused.value.message == "施工单已审核通过，草稿任务不能再修改"
    assert len(tasks_of(work_order.id)) == 7


def test_a_stale_draft_edit_is_refused(plant):
    work_order = create(plant.maker, plant.work_order_input())
    task = tasks_of(work_order.id)[0]
    seen = task.version
    workorder_drafts.update_draft(plant.maker, work_order.id, task.id, seen, quantity=2)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        workorder_drafts.update_draft(plant.maker, work_order.id, task.id, seen, quantity=3)
    db.session.rollback()
    assert refused.value.message == "任务已被其他人更新，请刷新后重试"
    assert db.session.get(Task, task.id).target_quantity == 2


def test_approved_work_orders_change_only_notes_delivery_date_and_priority(plant):
    work_order = approved(plant)
    new_date, seen = work_order.delivery_date + timedelta(days=5), work_order.version
    editing.update_approved(plant.maker, work_order.id, seen,
                            inputs.LimitedInput(delivery_date=new_date, priority="urgent", notes="客户催货"))
    db.session.commit()
    after = fresh(work_order.id)
    assert (after.delivery_date, after.priority, after.notes, after.version) == (
        new_date, "urgent", "客户催货", seen + 1)
    with pytest.raises(Invalid) as refused:
        editing.update_approved(plant.maker, work_order.id, after.version, inputs.LimitedInput(
            delivery_date=after.order_date - timedelta(days=1), priority="low"))
    db.session.rollback()
    assert refused.value.fields == {"delivery_date": "交货日期不能早于下单日期"}


def test_a_salesperson_orders_only_for_their_own_customers(plant):
    with pytest.raises(Forbidden) as refused:
        editing.create(plant.sales, plant.work_order_input(customer=plant.other_customer))
    db.session.rollback()
    assert refused.value.message == "只能为自己负责的客户创建或修改施工单"
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_delivery_before_order_date_is_refused_at_save(plant):
    with pytest.raises(Invalid) as refused:
        editing.create(plant.maker, plant.work_order_input(delivery_date=plant_today() - timedelta(days=1)))
    db.session.rollback()
    assert refused.value.fields == {"delivery_date": "交货日期不能早于下单日期"}
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_task_numbers_continue_past_ninety_nine(plant):
    work_order = create(plant.maker, plant.work_order_input())
    db.session.execute(update(WorkOrder).where(WorkOrder.id == work_order.id).values(task_counter=98))
    db.session.commit()
    step = fresh(work_order.id).steps[0]
    numbers = [workorder_drafts.add_draft(plant.maker, work_order.id, step.id, quantity=1).number for _ in range(2)]
    assert numbers == [f"T{work_order.number}-99", f"T{work_order.number}-100"]


def test_material_line_edits_update_the_cutting_drafts(plant):
    line = inputs.MaterialLineInput(plant.paper.id, usage="1000张", need_cutting=True)
    work_order = create(plant.maker, plant.work_order_input(processes=("CUT", "PRT", "PACK"), materials=[line]))
    assert [row[:4] for row in task_rows(work_order.id) if row[0] == "CUT"] == [
        ("CUT", "cutting", f"{work_order.number}开料", 1000)]
    cut = next(t for t in tasks_of(work_order.id) if t.task_type == "cutting")

    data = plant.edit_input(work_order, processes=("CUT", "PRT", "PACK"),
                            materials=[inputs.MaterialLineInput(plant.paper.id, usage="1200张", need_cutting=True)])
    outcome = editing.update(plant.maker, work_order.id, work_order.version, data)
    db.session.commit()
    assert outcome.applied and outcome.plan.updates == {cut.id: {"target_quantity": 1200}}
    assert db.session.get(Task, cut.id).target_quantity == 1200

    work_order = fresh(work_order.id)
    data = plant.edit_input(work_order, processes=("CUT", "PRT", "PACK"),
                            materials=[inputs.MaterialLineInput(plant.paper.id, usage="1200张", need_cutting=False)])
    plan = editing.preview(plant.maker, work_order.id, data)
    assert (plan.delete_ids, plan.add) == ([cut.id], [])
