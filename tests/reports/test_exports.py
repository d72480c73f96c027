"""Exports: exactly the rows the viewer sees under the current filters, Chinese headers, the row
limit, CSV with a BOM, and a department PDF whose Chinese is real text."""
import io
from datetime import date
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import insert

from app.extensions import db as _db
from app.models import Task
from support.reports_world import MARCH, VISIBLE, message, numbers

TASK_HEADER = ["任务编号", "施工单号", "工序", "任务类型", "工作内容", "分派部门", "分派操作员", "生产数量", "完成数量",
               "不良品数量", "进度(%)", "优先级", "状态", "交货日期", "创建时间", "更新时间", "生产要求"]
WORK_ORDER_HEADER = ["施工单号", "客户名称", "业务员", "创建人", "创建时间", "订单日期", "交货日期", "状态", "审核状态",
                     "优先级", "备注"]


def user_of(world, who):
    return {"admin": world.admin, "supervisor": world.supervisor}.get(who) or getattr(world, who)


def sheet(response, title):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = unquote(response.headers["Content-Disposition"])
    assert disposition.startswith("attachment;") and f"''{title}_" in disposition and disposition.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [title]
    return workbook[title]


def rows(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("who", sorted(set(VISIBLE) - {"liu", "huang"}))
def test_the_task_export_holds_exactly_the_visible_tasks(client, sign_in, world, who):
    sign_in(user_of(world, who))
    data = rows(sheet(client.get("/exports/tasks.xlsx"), "任务列表"))
    assert data[0] == TASK_HEADER
    assert {row[0] for row in data[1:]} == numbers(world, VISIBLE[who])


def test_the_task_export_follows_the_filters_and_the_order(client, sign_in, world):
    sign_in(world.admin)
    ws = sheet(client.get(f"/exports/tasks.xlsx?department={world.printing.id}&status=completed&sort=number"),
               "任务列表")
    data = rows(ws)
    assert [row[0] for row in data[1:]] == [world.t1.number, world.t3.number, world.t4.number, world.t10.number]
    first = dict(zip(TASK_HEADER, data[1]))
    assert {key: first[key] for key in ("施工单号", "工序", "任务类型", "工作内容", "分派部门", "分派操作员", "生产数量",
                                        "完成数量", "不良品数量", "进度(%)", "优先级", "状态")} == {
        "施工单号": "SG2026030001", "工序": "印刷", "任务类型": "印刷任务", "工作内容": "印刷：彩盒面纸 四色",
        "分派部门": "印刷车间", "分派操作员": "刘师傅", "生产数量": 1000, "完成数量": 1000, "不良品数量": 20,
        "进度(%)": 100, "优先级": "紧急", "状态": "已完成"}
    assert first["交货日期"].date() == date(2026, 3, 20)
    # 09:00 UTC is 17:00 at the plant: the sheet shows plant time.
    assert first["创建时间"].strftime("%Y-%m-%d %H:%M") == "2026-03-02 17:00"
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold and ws["M2"].fill.fgColor.rgb.endswith("C6EFCE")  # 已完成 in green


def test_the_task_export_search_and_drafts(client, sign_in, world):
    sign_in(world.maker)
    data = rows(sheet(client.get("/exports/tasks.xlsx?drafts=only"), "任务列表"))
    assert [row[0] for row in data[1:]] == [world.t9.number]
    assert data[1][12] == "草稿"
    data = rows(sheet(client.get("/exports/tasks.xlsx?q=彩盒"), "任务列表"))
    assert {row[0] for row in data[1:]} == numbers(world, ["t1", "t2"])


def test_more_than_10000_rows_are_refused_with_the_count(client, sign_in, world):
    _db.session.execute(insert(Task), [
        {"number": f"TBIG-{n:05d}", "work_order_id": world.wo3.id, "step_id": world.t5.step_id, "task_type": "general",
         "content": "大批量", "target_quantity": 1, "completed_quantity": 0, "defective_quantity": 0,
         "status": "pending", "department_id": world.printing.id, "version": 1, "production_requirements": "",
         "notes": "", "pause_note": "", "cancel_reason": "", "completion_reason": "", "auto_complete": False}
        for n in range(10_001)
    ])
    _db.session.commit()
    sign_in(world.admin)
    response = client.get("/exports/tasks.xlsx")
    assert response.status_code == 400
    assert "导出数据量过大（10010条），最多支持导出10000条，请缩小筛选范围后再导出" in response.get_data(as_text=True)
    response = client.get("/exports/tasks.xlsx", headers={"HX-Request": "true"})
    assert (response.status_code, message(response)) == (
        400, "导出数据量过大（10010条），最多支持导出10000条，请缩小筛选范围后再导出")
    narrowed = rows(sheet(client.get("/exports/tasks.xlsx?status=completed"), "任务列表"))
    assert len(narrowed) == 1 + 5


@pytest.mark.parametrize("who, expected", [
    ("admin", ["wo1", "wo2", "wo3", "wo4"]),
    ("supervisor", ["wo1", "wo2", "wo3", "wo4"]),
    ("maker", ["wo1", "wo2", "wo4"]),
    ("other_maker", ["wo3"]),
    ("sales", ["wo1", "wo4"]),  # 客户甲's
    ("designer", ["wo1", "wo2", "wo3", "wo4"]),
])
def test_the_work_order_export_holds_exactly_the_visible_work_orders(client, sign_in, world, who, expected):
    sign_in(user_of(world, who))
    data = rows(sheet(client.get("/exports/workorders.xlsx"), "施工单列表"))
    assert data[0] == WORK_ORDER_HEADER
    assert {row[0] for row in data[1:]} == {getattr(world, name).number for name in expected}


@pytest.mark.parametrize("query, expected", [
    ("approval_status=approved", ["wo1", "wo2", "wo3"]),
    ("overdue=1", ["wo3"]),
    ("priority=urgent", ["wo1"]),
    ("q=SG2026030002", ["wo2"]),
    ("approval_status=approved&sort=number", ["wo1", "wo2", "wo3"]),
    ("sort=-number", ["wo4", "wo3", "wo2", "wo1"]),
])
def test_the_work_order_export_follows_the_list_filters(client, sign_in, world, query, expected):
    sign_in(world.admin)
    data = rows(sheet(client.get(f"/exports/workorders.xlsx?{query}"), "施工单列表"))
    exported = [row[0] for row in data[1:]]
    wanted = [getattr(world, name).number for name in expected]
    assert exported == wanted if "sort=" in query else sorted(exported) == sorted(wanted)


def test_the_work_order_export_columns(client, sign_in, world):
    sign_in(world.admin)
    data = rows(sheet(client.get("/exports/workorders.xlsx?q=SG2026030001"), "施工单列表"))
    row = dict(zip(WORK_ORDER_HEADER, data[1]))
    assert {key: row[key] for key in ("施工单号", "客户名称", "业务员", "创建人", "状态", "审核状态", "优先级")} == {
        "施工单号": "SG2026030001", "客户名称": "客户甲", "业务员": "王业务", "创建人": "李制单", "状态": "已完成",
        "审核状态": "已通过", "优先级": "紧急"}
    assert (row["订单日期"].date(), row["交货日期"].date()) == (date(2026, 3, 1), date(2026, 3, 20))


def csv_lines(response) -> list[str]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert unquote(response.headers["Content-Disposition"]).endswith(".csv")
    return response.data.decode("utf-8-sig").split("\r\n")


def test_completions_csv(client, sign_in, world):
    sign_in(world.admin)
    lines = csv_lines(client.get("/exports/completions.csv", query_string=MARCH))
    assert lines == [
        "完成日期,部门,操作员,完成任务数,完成数量,不良品数量,不良品率",
        "2026-03-05,印刷车间,刘师傅,1,1000,20,2.0%",
        "2026-03-06,印刷车间,刘师傅,1,800,200,20.0%",
        "2026-03-06,模切车间,黄师傅,1,500,0,0.0%",
        "2026-03-10,印刷车间,杨师傅,1,300,0,0.0%",
        "",
    ]


@pytest.mark.parametrize("who, query, expected", [
    ("sales", {}, ["2026-03-05,印刷车间,刘师傅,1,1000,20,2.0%", "2026-03-06,模切车间,黄师傅,1,500,0,0.0%"]),
    ("admin", {"department": "die_cutting"}, ["2026-03-06,模切车间,黄师傅,1,500,0,0.0%"]),
    ("other_maker", {}, []),
])
def test_completions_csv_follows_visibility_and_filters(client, sign_in, world, who, query, expected):
    sign_in(user_of(world, who))
    params = {**MARCH, **{key: getattr(world, value).id for key, value in query.items()}}
    lines = csv_lines(client.get("/exports/completions.csv", query_string=params))
    assert lines[1:-1] == expected


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def test_the_department_report_is_real_chinese_text(client, sign_in, world):
    sign_in(world.supervisor)
    text = pdf_text(client.get(f"/exports/departments/{world.printing.id}.pdf", query_string=MARCH))
    for expected in ("部门报表：生产部 - 印刷车间", "统计期间：2026-03-01 至 2026-03-31", "任务概况", "期间完成任务",
                     "75.0%",  # 3 completed in March ÷ (3 + T5 open now)
                     "9.5%",  # 220 ÷ (2100 + 220)
                     "操作员排行", "刘师傅", "杨师傅", "逾期任务（共 1 个）", world.t5.number, "SG2026030003"):
        assert expected in text, expected
    assert "黄师傅" not in text


def test_a_parent_department_report_includes_its_workshops(client, sign_in, world):
    sign_in(world.admin)
    text = pdf_text(client.get(f"/exports/departments/{world.production.id}.pdf", query_string=MARCH))
    assert "部门报表：生产部" in text and "黄师傅" in text and "逾期任务（共 2 个）" in text  # T5 and T6


def test_a_department_without_work_still_gets_a_report(client, sign_in, world):
    sign_in(world.admin)
    text = pdf_text(client.get(f"/exports/departments/{world.design.id}.pdf", query_string=MARCH))
    assert "期间内没有完成的任务" in text and "没有逾期任务" in text


def test_an_unknown_department_is_not_found(client, sign_in, world):
    sign_in(world.admin)
    response = client.get("/exports/departments/99999.pdf")
    assert response.status_code == 404
    assert "部门不存在" in response.get_data(as_text=True)


def test_exports_refuse_a_bad_period(client, sign_in, world):
    sign_in(world.admin)
    for path in ("/exports/completions.csv", f"/exports/departments/{world.printing.id}.pdf"):
        response = client.get(path, query_string={"date_from": "2026-03-31", "date_to": "2026-03-01"})
        assert response.status_code == 400
        assert "结束日期不能早于开始日期" in response.get_data(as_text=True)
