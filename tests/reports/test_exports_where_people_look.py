"""Every list page carries its export, under the filters on screen; the department report asks for its
department; the PDF embeds its Chinese font."""
import html as html_lib
import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from support.reports_world import MARCH


def export_link(page: str, path: str) -> dict:
    """The query of the page's link to ``path``, which must be there."""
    links = [html_lib.unescape(href) for href in re.findall(r'href="([^"]+)"', page) if href.startswith(path)]
    assert len(links) == 1, f"{path} in {links}"
    return {key: values[0] for key, values in parse_qs(urlsplit(links[0]).query).items()}


def sheet_rows(response, title) -> list[list]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert f"''{title}_" in unquote(response.headers["Content-Disposition"])
    return [list(row) for row in load_workbook(io.BytesIO(response.data))[title].iter_rows(values_only=True)]


@pytest.mark.parametrize("page, export, query", [
    ("/workorders", "/exports/workorders.xlsx", {"priority": "urgent", "status": "completed"}),
    ("/tasks", "/exports/tasks.xlsx", {"status": "completed", "sort": "number"}),
    ("/stats/collaboration", "/exports/collaboration.xlsx", {**MARCH, "department": "printing"}),
    ("/stats/assignments", "/exports/assignments.xlsx", {**MARCH, "department": "printing"}),
])
def test_each_list_page_exports_under_its_filters(client, sign_in, world, page, export, query):
    sign_in(world.admin)
    query = {key: str(getattr(world, value).id) if key == "department" else value for key, value in query.items()}
    html = client.get(page, query_string=query).get_data(as_text=True)
    assert export_link(html, export) == query
    assert client.get(export, query_string=query).status_code == 200


def test_the_work_order_export_follows_filters_applied_by_htmx(client, sign_in, world):
    sign_in(world.admin)
    region = client.get("/workorders", query_string={"priority": "high"}, headers={"HX-Request": "true"})
    assert export_link(region.get_data(as_text=True), "/exports/workorders.xlsx") == {"priority": "high"}


def test_the_collaboration_export_holds_the_page_rows(client, sign_in, world):
    sign_in(world.supervisor)
    rows = sheet_rows(client.get("/exports/collaboration.xlsx", query_string=MARCH), "协作统计")
    assert rows[0][:3] == ["操作员", "所属部门", "期间完成"]
    liu = next(row for row in rows[1:] if row[0] == "刘师傅")
    assert liu == ["刘师傅", "印刷车间", 2, 1, 0, 0, "66.7%", 1800, 220, "10.9%", "3.5 小时", "4.0 小时"]
    assert len(rows) == 1 + 3


def test_the_assignment_export_holds_every_row_under_the_filters(client, sign_in, world):
    sign_in(world.admin)
    rows = sheet_rows(client.get("/exports/assignments.xlsx", query_string={**MARCH, "operator": world.liu.id}),
                      "分派历史")
    assert rows[0] == ["时间", "施工单号", "任务编号", "动作", "调整内容", "当前部门", "当前操作员", "操作人"]
    assert [row[3] for row in rows[1:]] == ["指派", "改派", "指派", "认领"]
    assert rows[2][4] == "刘师傅 → 杨师傅；原因：刘师傅请假"
    everything = sheet_rows(client.get("/exports/assignments.xlsx", query_string=MARCH), "分派历史")
    assert len(everything) == 1 + 7  # more than the one page of the screen would be cut to? all seven rows


def test_the_department_report_without_a_filter_asks_for_the_department(client, sign_in, world):
    sign_in(world.admin)
    stats_page = client.get("/stats", query_string=MARCH).get_data(as_text=True)
    assert export_link(stats_page, "/exports/departments?") == MARCH
    form = client.get("/exports/departments", query_string=MARCH)
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and '<select' in page and f'value="{world.printing.id}"' in page
    assert 'name="department"' in page and "下载报表" in page
    chosen = client.get("/exports/departments", query_string={**MARCH, "department": world.printing.id})
    assert chosen.status_code == 302
    target = urlsplit(chosen.headers["Location"])
    assert target.path == f"/exports/departments/{world.printing.id}.pdf"
    assert {k: v[0] for k, v in parse_qs(target.query).items()} == MARCH


def test_the_department_report_form_is_for_those_who_may_read_reports(client, sign_in, world):
    sign_in(world.liu)
    assert client.get("/exports/departments").status_code == 403


def test_the_department_pdf_embeds_its_chinese_font(client, sign_in, world):
    sign_in(world.admin)
    response = client.get(f"/exports/departments/{world.printing.id}.pdf", query_string=MARCH)
    assert response.status_code == 200
    descriptors = {}
    for page in PdfReader(io.BytesIO(response.data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptors[str(font["/BaseFont"])] = descendant.get("/FontDescriptor")
    chinese = {name: descriptor.get_object() for name, descriptor in descriptors.items() if "WenQuanYi" in name}
    assert chinese and all("/FontFile2" in descriptor for descriptor in chinese.values()), descriptors
    # Anything else is one of the PDF standard fonts every viewer has (reportlab's default Helvetica).
    assert {name for name in descriptors if name not in chinese} <= {"/Helvetica"}


def test_the_department_report_form_offers_only_the_departments_one_may_report_on(client, sign_in, world):
    from app.policy import can

    sign_in(world.supervisor)
    page = client.get("/exports/departments").get_data(as_text=True)
    offered = set(re.findall(r'<option[^>]*value="(\d*)"', page))
    allowed = {str(d.id) for d in (world.production, world.printing, world.die_cutting, world.design)
               if can(world.supervisor, "report.department", d)}
    assert str(world.printing.id) in offered and offered == allowed  # and no 全部: one department is asked for
