"""Exports cannot run code: text that a spreadsheet would read as a formula stays text.

Every free-text column that reaches an export (names of departments, processes, people and
customers; a task's content and production requirements; a 施工单's notes) is filled with a
formula payload, one trigger each in turn (OWASP: = + - @ tab CR, and the full-width ＝＋－＠).
Then each .xlsx must hold no formula at all (its sheet XML has no ``<f>``), the payloads must come
back as quote-prefixed string cells, numbers must stay numbers, and the CSV must carry each
payload behind a ``'``. The PDF report, which parses markup, must take the same text as plain text.
"""
import csv
import io
import zipfile
from itertools import cycle

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update

from app.extensions import db
from app.models import Customer, Department, Process, Task, User, WorkOrder
from app.services.reports.exports import FORMULA_TRIGGERS
from support.reports_world import MARCH

BODIES = ['HYPERLINK("http://e.vil")', "cmd|'/C calc'!A0", "1+1", "SUM(1,2)"]  # short: names are varchar(50)
# The free-text columns that reach an export: (model, column).
TEXT_COLUMNS = [(Department, "name"), (Process, "name"), (User, "name"), (Customer, "name"), (Task, "content"),
                (Task, "production_requirements"), (WorkOrder, "notes")]


@pytest.fixture()
def world(reports_world):
    return reports_world


def fill_with_payloads() -> set[str]:
    """Every row's free text becomes a formula payload; the payloads used are returned."""
    triggers, bodies = cycle(FORMULA_TRIGGERS), cycle(BODIES)
    used = set()
    for model, column in TEXT_COLUMNS:
        for row_id in db.session.scalars(db.select(model.id).order_by(model.id)):
            # Unique per row: names are unique in some tables; the markup checks the PDF's parser.
            payload = f"{next(triggers)}{next(bodies)}<b>{model.__tablename__}{row_id}"
            db.session.execute(update(model).where(model.id == row_id).values({column: payload}))
            used.add(payload)
    db.session.commit()
    return used


def sheet_cells(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name
    workbook = load_workbook(io.BytesIO(response.data))
    return [cell for row in workbook.active.iter_rows() for cell in row]


def test_xlsx_exports_write_formula_like_text_as_plain_text(client, sign_in, world):
    payloads = fill_with_payloads()
    sign_in(world.admin)
    seen = set()
    for path, quantity_column in (("/exports/tasks.xlsx", "H"), ("/exports/workorders.xlsx", None)):
        cells = sheet_cells(client.get(path))
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS):
                assert cell.data_type == "s" and cell.quotePrefix, (path, cell.coordinate, cell.value)
                seen.add(cell.value)
        if quantity_column:  # 生产数量: numbers stay numbers
            quantities = [cell for cell in cells if cell.column_letter == quantity_column and cell.row > 1]
            assert quantities and all(cell.data_type == "n" and isinstance(cell.value, int) for cell in quantities)
    # Each column of TEXT_COLUMNS reaches a sheet (people: operators, salespeople, creators).
    assert {value.rsplit("<b>", 1)[1].rstrip("0123456789") for value in seen} == {
        "departments", "processes", "users", "customers", "tasks", "work_orders"}
    assert seen <= payloads


def test_the_completions_csv_prefixes_formula_like_text(client, sign_in, world):
    payloads = fill_with_payloads()
    sign_in(world.admin)
    response = client.get("/exports/completions.csv", query_string=MARCH)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    body = rows[1:]
    assert body
    for row in body:
        department, operator = row[1], row[2]
        assert department[0] == "'" and department[1:] in payloads
        assert operator[0] == "'" and operator[1:] in payloads
        assert not any(value.startswith(FORMULA_TRIGGERS) for value in row)
        assert row[3].isdigit() and row[4].isdigit()  # counts and quantities stay bare numbers


def test_the_department_pdf_takes_markup_as_text(client, sign_in, world):
    fill_with_payloads()
    sign_in(world.admin)
    response = client.get(f"/exports/departments/{world.printing.id}.pdf", query_string=MARCH)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert f"<b>departments{world.printing.id}" in text
