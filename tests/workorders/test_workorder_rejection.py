"""Rejection keeps the maker's work (DOMAIN.md §3): drafts and every manual edit stay through
已拒绝 → 重新提交审核, the reason is shown at the top, and the approval check lists only real problems."""
import pytest
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import WorkOrder
from app.services.workorders import approval
from app.services.workorders import drafts as workorder_drafts
from support.workorders import build_plant, create, fresh, tasks_of

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def drafts(work_order_id):
    """What the maker may have changed of each draft: (number, content, quantity, 生产要求, notes)."""
    return [(t.number, t.content, t.target_quantity, t.production_requirements, t.notes, t.status)
            for t in tasks_of(work_order_id)]


def rejected_with_edits(plant):
    """maker1's 施工单 with hand-edited drafts and one draft added by hand, submitted and rejected."""
    work_order = create(plant.maker, plant.work_order_input())
    printing = next(t for t in tasks_of(work_order.id) if t.task_type == "printing")
    workorder_drafts.update_draft(plant.maker, work_order.id, printing.id, printing.version, quantity=520,
                                  requirements="专色需打样", notes="客户到场看样")
    step = next(s for s in fresh(work_order.id).steps if s.process.code == "PACK")
    workorder_drafts.add_draft(plant.maker, work_order.id, step.id, quantity=20, content="样品包装", requirements="单独装箱")
    db.session.commit()
    approval.submit(plant.maker, work_order.id, fresh(work_order.id).version)
    db.session.commit()
    before = drafts(work_order.id)
    approval.reject(plant.sales, work_order.id, fresh(work_order.id).version, "交货日期需与客户确认")
    db.session.commit()
    return fresh(work_order.id), before


def test_the_drafts_and_their_edits_survive_rejection_and_resubmission(plant):
    work_order, before = rejected_with_edits(plant)
    assert work_order.approval_status == "rejected"
    assert drafts(work_order.id) == before
    assert ("T" + work_order.number + "-08", "样品包装", 20, "单独装箱", "", "draft") in before
    assert any(row[2:5] == (520, "专色需打样", "客户到场看样") for row in before)

    # An edit made while rejected stays too, and resubmitting adds nothing.
    first = tasks_of(work_order.id)[0]
    workorder_drafts.update_draft(plant.maker, work_order.id, first.id, first.version, quantity=1, notes="加急出版")
    db.session.commit()
    edited = drafts(work_order.id)
    approval.resubmit(plant.maker, work_order.id, fresh(work_order.id).version)
    db.session.commit()
    assert fresh(work_order.id).approval_status == "pending"
    assert drafts(work_order.id) == edited


def test_resubmitting_fills_only_a_step_left_without_any_task(plant):
    work_order, before = rejected_with_edits(plant)
    laminating = [t.id for t in tasks_of(work_order.id) if t.step.process.code == "LAM_G"]
    workorder_drafts.bulk_delete_drafts(plant.maker, work_order.id, laminating)
    db.session.commit()
    approval.resubmit(plant.maker, work_order.id, fresh(work_order.id).version)
    db.session.commit()
    after = drafts(work_order.id)
    assert [row for row in after if row[0] not in {b[0] for b in before}] == [
        (f"T{work_order.number}-09", f"覆光膜：{work_order.number}", 500, "", "", "draft")]
    assert [row for row in after if row[0] in {b[0] for b in before}] == [
        row for row in before if row[1] != f"覆光膜：{work_order.number}"]


def test_the_rejected_page_shows_the_reason_first_and_no_invented_problems(plant, client, login):
    work_order, _ = rejected_with_edits(plant)
    laminating = [t.id for t in tasks_of(work_order.id) if t.step.process.code == "LAM_G"]
    workorder_drafts.bulk_delete_drafts(plant.maker, work_order.id, laminating)  # the resubmission refills it
    db.session.commit()
    login(plant.maker)
    page = client.get(f"/workorders/{work_order.id}").get_data(as_text=True)
    assert page.index('id="rejection-reason"') < page.index('id="wo-actions"')
    assert "拒绝原因：交货日期需与客户确认" in page and "草稿任务和修改均已保留" in page
    assert 'id="approval-check"' not in page
    assert page.count('class="task-row is-draft"') == 7

    # A real problem is listed, alone, and the resubmit button says why it is disabled.
    db.session.execute(update(WorkOrder).where(WorkOrder.id == work_order.id).values(production_quantity=0))
    db.session.commit()
    page = client.get(f"/workorders/{work_order.id}").get_data(as_text=True)
    check = page.split('id="approval-check"', 1)[1].split("</section>", 1)[0]
    assert check.count("<li") == 1 and "生产数量必须大于0，当前值为0" in check
    assert 'id="blocked-resubmit"' in page


def test_reject_over_http_keeps_the_drafts(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    before = drafts(work_order.id)
    login(plant.sales)
    response = client.post(f"/workorders/{work_order.id}/reject", headers=HTMX,
                           data=MultiDict({"version": work_order.version, "reason": "颜色不对"}))
    assert response.status_code == 200
    assert drafts(work_order.id) == before
