"""The process-change confirmation names the drafts it deletes and adds (process, task text,
quantity), in the confirmation of the save and in the live check under the form."""
import re

import pytest

from support.workorders import build_plant, create, form_data, tasks_of

HTMX = {"HX-Request": "true"}



@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def rows_of(html, css):
    table = html.split(f'sync-drafts {css}', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_confirmation_lists_each_deleted_and_added_draft(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    laminating = next(t for t in tasks_of(work_order.id) if t.step.process.code == "LAM_G")
    uv = plant.process("UV")
    login(plant.maker)
    data = form_data(plant, processes=("PRT", "UV", "DIE", "PACK"), work_order=work_order)
    page = client.post(f"/workorders/{work_order.id}", data=data).get_data(as_text=True)
    confirmation = page.split('id="sync-preview"', 1)[1].split("</section>", 1)[0]
    assert rows_of(confirmation, "sync-deleted") == [["覆光膜", laminating.number, f"覆光膜：{work_order.number}", "500"]]
    assert rows_of(confirmation, "sync-added") == [[uv.name, f"{uv.name}：{work_order.number}", "500"]]


def test_the_live_check_names_them_too(plant, client, login):
    work_order = create(plant.maker, plant.work_order_input())
    login(plant.maker)
    data = form_data(plant, plates=[plant.die], work_order=work_order)
    data["work_order_id"] = str(work_order.id)
    page = client.post("/workorders/form/check", data=data, headers=HTMX).get_data(as_text=True)
    printing = [t for t in tasks_of(work_order.id) if t.task_type in ("printing", "plate_making") and
                t.plate_id == plant.artwork.id]
    assert rows_of(page, "sync-deleted") == [[t.step.process.name, t.number, t.content, str(t.target_quantity)]
                                             for t in printing]
    assert "sync-added" not in page
