"""The 施工单 pages over HTTP: form, sync preview, detail actions, list, print and the design file."""
import io
from datetime import timedelta
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import event, func, select, update
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Task, WorkOrder
from app.utils.timeutil import plant_today
from factories import ProductMaterialFactory, ProductProcessFactory
from support.workorders import approved, build_plant, create, form_data, fresh, task_rows, tasks_of

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def message_of(response) -> str:
    return unquote(response.headers.get("X-Message", ""))


# ---------------------------------------------------------------- the form

def test_maker_creates_the_walk_through_through_the_form_and_sees_the_drafts(plant, client, login):
    login(plant.maker)
    response = client.post("/workorders", data=form_data(plant))
    assert response.status_code == 303
    work_order = db.session.scalar(select(WorkOrder))
    assert response.headers["Location"].endswith(f"/workorders/{work_order.id}")
    assert (work_order.printing_type, work_order.cmyk_colors, work_order.other_colors) == (
        "front", ["C", "M", "Y", "K"], ["528C", "金色"])
    assert [row[2] for row in task_rows(work_order.id)] == [
        f"{work_order.number}制版审核", f"{work_order.number}制版审核", f"{work_order.number}印刷",
        f"覆光膜：{work_order.number}", f"{work_order.number}模切", "宣传册包装", "海报包装"]
    page = client.get(f"/workorders/{work_order.id}").get_data(as_text=True)
    assert f"施工单 {work_order.number} 已保存为草稿" in page
    assert page.count('class="task-row is-draft"') == 7
    assert "草稿 2 个" in page and "草稿 1 个" in page
    assert "审核后分派" in page


def test_submitting_from_the_form_with_a_missing_artwork_shows_the_problem_and_saves_nothing(plant, client, login):
    login(plant.maker)
    response = client.post("/workorders", data=form_data(plant, plates=[plant.die], intent="submit"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "施工单数据不完整，无法审核" in page
    assert "选择了需要图稿的工序（印刷），请至少选择一个图稿" in page
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0


def test_a_delivery_date_before_the_order_date_is_an_inline_error(plant, client, login):
    login(plant.maker)
    data = form_data(plant, delivery_date=(plant_today() - timedelta(days=1)).isoformat())
    response = client.post("/workorders", data=data)
    assert response.status_code == 422
    assert '<span class="field-error">交货日期不能早于下单日期</span>' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_submit_from_the_form_notifies_and_sets_pending(plant, client, login):
    login(plant.maker)
    assert client.post("/workorders", data=form_data(plant, intent="submit")).status_code == 303
    assert db.session.scalar(select(WorkOrder.approval_status)) == "pending"


def test_changing_processes_shows_the_sync_preview_and_applies_only_on_confirmation(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    login(plant.maker)
    data = form_data(plant, processes=("PRT", "UV", "DIE", "PACK"), work_order=work_order)
    response = client.post(f"/workorders/{work_order.id}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "任务同步确认" in page
    assert "将删除 1 个草稿任务，此操作不可恢复" in page and "将新增 1 个任务" in page
    assert fresh(work_order.id).version == work_order.version
    assert "LAM_G" in {row[0] for row in task_rows(work_order.id)}

    response = client.post(f"/workorders/{work_order.id}?confirm_sync=1", data=data)
    assert response.status_code == 303
    assert [row[0] for row in task_rows(work_order.id)] == ["CTP", "CTP", "PRT", "DIE", "PACK", "PACK", "UV"]


def test_the_edit_form_of_an_approved_work_order_changes_only_the_allowed_fields(plant, client, login):
    work_order = approved(plant)
    login(plant.maker)
    page = client.get(f"/workorders/{work_order.id}/edit").get_data(as_text=True)
    assert "核心字段（产品、工序、版选择等）不能修改" in page and 'name="customer_id"' not in page
    new_date = (work_order.delivery_date + timedelta(days=3)).isoformat()
    response = client.post(f"/workorders/{work_order.id}", data={
        "version": str(work_order.version), "delivery_date": new_date, "priority": "high", "notes": "加急"})
    assert response.status_code == 303
    after = fresh(work_order.id)
    assert (after.delivery_date.isoformat(), after.priority, after.notes) == (new_date, "high", "加急")


def test_choosing_a_product_prefills_its_default_processes_and_materials(plant, client, login):
    ProductProcessFactory(product=plant.brochure, process=plant.process("PRT"))
    ProductProcessFactory(product=plant.brochure, process=plant.process("STAPLE"))
    ProductMaterialFactory(product=plant.brochure, material=plant.paper, usage="1000张", size="889×1194mm")
    login(plant.maker)
    data = MultiDict({"products-0-product_id": str(plant.brochure.id), "products-0-quantity": "1"})
    response = client.post("/workorders/form/prefill", data=data,
                           headers={**HTMX, "HX-Trigger-Name": "products-0-product_id"})
    page = response.get_data(as_text=True)
    checked = {plant.process(code).id for code in ("PRT", "STAPLE")}
    for index, process in enumerate(sorted(db.session.scalars(select(type(plant.process("PRT")))),
                                           key=lambda p: (p.sort_order, p.id))):
        box = f'name="steps-{index}-selected" id="steps-{index}-selected" value="y" checked'
        assert (box in page) == (process.id in checked), process.code
    assert 'value="1000张"' in page and 'hx-swap-oob="true"' in page
    assert 'value="本"' in page  # the line takes the product's unit
    assert response.headers["HX-Trigger-After-Settle"] == "wo-form-changed"


def test_the_live_check_names_the_missing_plate_and_the_sync_effect(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    login(plant.maker)
    data = form_data(plant, plates=[plant.die], work_order=work_order)
    data["work_order_id"] = str(work_order.id)
    page = client.post("/workorders/form/check", data=data, headers=HTMX).get_data(as_text=True)
    assert "选择了需要图稿的工序（印刷），请至少选择一个图稿" in page
    assert "保存后：将删除 2 个草稿任务，将新增 0 个任务，将更新 0 个草稿任务" in page


# ---------------------------------------------------------------- detail and actions

def actions_on(client, work_order):
    page = client.get(f"/workorders/{work_order.id}").get_data(as_text=True)
    page = page.split('id="wo-actions"', 1)[1].split("</div>", 1)[0]
    labels = ["提交审核", "重新提交审核", "通过审核", "拒绝审核", "撤回审核", "暂停生产", "恢复生产", "取消施工单", "删除施工单"]
    return [label for label in labels if f'action="/workorders/{work_order.id}/' in page and f">{label}<" in page]


@pytest.mark.parametrize("who,state,expected", [
    ("maker", "draft", ["提交审核", "删除施工单"]),
    ("sales", "draft", ["提交审核"]),
    ("supervisor", "draft", []),
    ("designer", "draft", []),
    ("sales", "pending", ["通过审核", "拒绝审核"]),
    ("maker", "pending", ["删除施工单"]),
    ("supervisor", "approved", ["撤回审核", "暂停生产", "取消施工单"]),
    ("maker", "approved", ["撤回审核"]),
    ("designer", "approved", []),
])
def test_the_detail_page_offers_exactly_the_actions_the_viewer_may_take(plant, client, login, who, state, expected):
    work_order = {"draft": lambda: create(plant.maker, plant.work_order_input()),
                  "pending": lambda: create(plant.maker, plant.work_order_input(), submit=True),
                  "approved": lambda: approved(plant)}[state]()
    login(getattr(plant, who))
    assert actions_on(client, work_order) == expected


def test_approve_over_htmx_returns_the_region_with_a_toast_and_dispatches(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    login(plant.sales)
    response = client.post(f"/workorders/{work_order.id}/approve", headers=HTMX,
                           data={"version": work_order.version, "reason": "可以生产"})
    assert response.status_code == 200
    assert message_of(response) == "审核通过：7 个任务已分派到部门"
    assert 'id="wo-detail"' in response.get_data(as_text=True)
    assert {row[5] for row in task_rows(work_order.id)} == {"design", "printing", "die_cutting", "packaging"}


def test_a_stale_button_gets_a_conflict_toast_and_nothing_changes(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    login(plant.sales)
    response = client.post(f"/workorders/{work_order.id}/approve", headers=HTMX,
                           data={"version": work_order.version - 1})
    assert response.status_code == 409
    assert response.headers["X-Message"] == quote("施工单已被其他人更新，请刷新后重试")
    assert fresh(work_order.id).approval_status == "pending"


def test_a_wrong_state_answers_409_with_the_reason(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    login(plant.sales)
    response = client.post(f"/workorders/{work_order.id}/approve", headers=HTMX, data={"version": work_order.version})
    assert response.status_code == 409
    assert message_of(response) == "只有待审核的施工单可以审核，当前审核状态：草稿"


def test_reject_without_a_reason_is_400_with_the_message(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input(), submit=True)
    login(plant.sales)
    response = client.post(f"/workorders/{work_order.id}/reject", headers=HTMX, data={"version": work_order.version})
    assert response.status_code == 400
    assert message_of(response) == "审核拒绝时，必须填写拒绝原因"
    assert len(tasks_of(work_order.id)) == 7


def test_a_missing_version_is_refused(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    login(plant.maker)
    response = client.post(f"/workorders/{work_order.id}/submit", headers=HTMX)
    assert (response.status_code, message_of(response)) == (400, "缺少版本号，请刷新页面后重试")


def test_delete_over_htmx_redirects_to_the_list(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    login(plant.maker)
    response = client.post(f"/workorders/{work_order.id}/delete", headers=HTMX, data={"version": work_order.version})
    assert (response.status_code, response.headers["HX-Redirect"]) == (200, "/workorders")
    assert db.session.get(WorkOrder, work_order.id) is None


def test_bulk_draft_edit_reports_per_item(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    tasks = tasks_of(work_order.id)
    login(plant.sales)
    data = MultiDict([("task_ids", str(tasks[0].id)), ("task_ids", str(tasks[1].id)), ("quantity", "2"),
                      ("operation", "update")])
    response = client.post(f"/workorders/{work_order.id}/drafts/bulk", headers=HTMX, data=data)
    assert response.status_code == 200
    assert message_of(response) == "成功更新 2 个草稿任务，失败 0 个"
    assert f"{tasks[0].number}：已更新" in response.get_data(as_text=True)
    assert [t.target_quantity for t in tasks_of(work_order.id)[:2]] == [2, 2]


def test_the_approval_check_is_shown_before_anyone_clicks(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input(plates=[plant.die]))
    login(plant.maker)
    page = client.get(f"/workorders/{work_order.id}").get_data(as_text=True)
    assert "审核检查" in page and "选择了需要图稿的工序（印刷），请至少选择一个图稿" in page
    assert "请先处理审核检查中的问题" in page


# ---------------------------------------------------------------- list

@pytest.mark.parametrize("who,visible", [
    ("maker", {"mine"}), ("sales", {"mine", "single"}), ("stranger", {"foreign"}),
    ("supervisor", {"mine", "single", "foreign"}), ("designer", {"mine", "single", "foreign"}), ("admin", {"mine", "single", "foreign"}),
])
def test_the_list_respects_visibility_in_the_query(plant, client, login, make_user, who, visible):
    stranger = make_user("maker")
    numbers = {
        "mine": create(plant.maker, plant.work_order_input()).number,
        "single": create(plant.sales, plant.work_order_input(products=[(plant.poster, 10)], plates=[],
                                                             processes=("PACK",))).number,
        "foreign": create(stranger, plant.work_order_input(customer=plant.other_customer)).number,
    }
    login(stranger if who == "stranger" else getattr(plant, who))
    page = client.get("/workorders").get_data(as_text=True)
    assert {key for key, number in numbers.items() if f'data-number="{number}"' in page} == visible
    assert f"共 {len(visible)} 个施工单" in page


def test_each_row_shows_the_product_summary_and_due_status(plant, client, login):
    create(plant.maker, plant.work_order_input())
    create(plant.maker, plant.work_order_input(products=[(plant.poster, 10)], plates=[], processes=("PACK",)))
    login(plant.maker)
    page = client.get("/workorders").get_data(as_text=True)
    assert "2款拼版" in page and "<td>海报</td>" in page and "10天后到期" in page and "1100" in page


@pytest.mark.parametrize("query,expected", [
    ("q=宣传", {"a"}), ("q=PR003", {"b", "c"}), ("q=远航", {"c"}), ("approval_status=pending", {"b"}),
    ("priority=urgent", {"c"}), ("overdue=y", {"c"}), ("q=SG", {"a", "b", "c"}),
])
def test_filters_and_search_run_in_the_database(plant, client, login, query, expected):
    a = create(plant.maker, plant.work_order_input(products=[(plant.brochure, 5)]))
    b = create(plant.maker, plant.work_order_input(products=[(plant.poster, 5)]), submit=True)
    c = create(plant.maker, plant.work_order_input(customer=plant.other_customer, priority="urgent",
                                                   products=[(plant.poster, 5)]))
    db.session.execute(update(WorkOrder).where(WorkOrder.id == c.id).values(
        order_date=plant_today() - timedelta(days=9), delivery_date=plant_today() - timedelta(days=2)))
    db.session.commit()
    login(plant.admin)
    page = client.get(f"/workorders?{query}", headers=HTMX).get_data(as_text=True)
    numbers = {"a": a.number, "b": b.number, "c": c.number}
    assert {key for key, number in numbers.items() if f'data-number="{number}"' in page} == expected


def test_the_list_paginates_and_sorts_in_the_database_with_a_fixed_number_of_queries(plant, client, login, app):
    for index in range(25):
        create(plant.maker, plant.work_order_input(quantity=index + 1))
    login(plant.admin)
    client.get("/workorders")  # warm the caches shared by every page (the filters' people: reference data)
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/workorders?sort=number&page=2").get_data(as_text=True)
        first = len(statements)
        statements.clear()
        client.get("/workorders?sort=number").get_data(as_text=True)
        second = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.count('data-number="') == 5
    numbers = sorted(db.session.scalars(select(WorkOrder.number)))
    assert f'data-number="{numbers[20]}"' in page and f'data-number="{numbers[19]}"' not in page
    assert first == second and second <= 10


def test_the_detail_page_needs_the_same_queries_for_seven_tasks_or_fifty(plant, client, login):
    small = create(plant.maker, plant.work_order_input())
    large = create(plant.maker, plant.work_order_input(products=[(plant.brochure, 1)] * 46))
    login(plant.admin)
    counts = []
    for work_order in (small, large):
        client.get(f"/workorders/{work_order.id}")  # warm caches shared by every page
        statements = []
        listener = lambda *_args: statements.append(1)  # noqa: E731, B023 - called at once, inside the loop
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/workorders/{work_order.id}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert len(tasks_of(large.id)) == 51
    assert counts[0] == counts[1]


# ---------------------------------------------------------------- print and file

def test_print_has_a_qr_code_for_the_work_order_and_each_task_and_signature_lines(plant, client, login):
    work_order = approved(plant)
    login(plant.supervisor)
    page = client.get(f"/workorders/{work_order.id}/print").get_data(as_text=True)
    assert "生产施工单" in page and "@page" not in page  # the A4 rules live in the stylesheet
    assert page.count("<svg") == 1 + 7
    for label in ("业务员：王业务", "制表：李制单", "审核：王业务"):
        assert label in page


def pdf_upload(name="稿件.pdf", content=b"%PDF-1.4\n%test\n"):
    return (io.BytesIO(content), name)


def test_a_design_file_is_checked_stored_under_a_random_name_and_downloaded_as_an_attachment(plant, client, login, app):
    login(plant.maker)
    data = form_data(plant)
    data["design_file"] = pdf_upload()
    assert client.post("/workorders", data=data, content_type="multipart/form-data").status_code == 303
    work_order = db.session.scalar(select(WorkOrder))
    assert work_order.design_file_name == "稿件.pdf"
    assert work_order.design_file_path.startswith("design/") and "稿件" not in work_order.design_file_path
    response = client.get(f"/workorders/{work_order.id}/design-file")
    assert response.status_code == 200
    assert response.data == b"%PDF-1.4\n%test\n"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("name,content,message", [
    ("稿件.pdf", b"\x89PNG\r\n\x1a\n....", "文件内容与扩展名 .pdf 不符，请上传真实的 pdf 文件"),
    ("tool.exe", b"MZ....", "不支持的文件类型，只能上传 pdf、ai、psd、cdr、jpg、png、tif、zip 文件"),
    ("empty.png", b"", "上传的文件是空的"),
])
def test_a_bad_design_file_is_an_inline_error_and_nothing_is_saved(plant, client, login, name, content, message):
    login(plant.maker)
    data = form_data(plant)
    data["design_file"] = (io.BytesIO(content), name)
    response = client.post("/workorders", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert f'<span class="field-error">{message}</span>' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_a_design_file_over_20_mb_is_refused(plant, client, login):
    login(plant.maker)
    data = form_data(plant)
    data["design_file"] = (io.BytesIO(b"%PDF" + b"0" * (20 * 1024 * 1024)), "big.pdf")
    response = client.post("/workorders", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "上传的文件太大" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_the_product_lines_of_an_edit_keep_their_ids(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    line_ids = [line.id for line in fresh(work_order.id).products]
    login(plant.maker)
    page = client.get(f"/workorders/{work_order.id}/edit").get_data(as_text=True)
    for index, line_id in enumerate(line_ids):
        assert f'name="products-{index}-line_id" type="hidden" value="{line_id}"' in page
