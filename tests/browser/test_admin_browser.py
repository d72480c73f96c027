"""The admin pages in a real browser: an admin builds a workshop under 生产部 with its processes,
a supervisor and two operators with PINs (who then log in at the kiosk), and creates and edits one
record of every other kind; inline errors, drag/keyboard reordering and 确认 work on the way."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import Department, Plate, Process, User
from factories import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))


def save_and_return(page, list_path, message):
    """Submit the form; htmx follows HX-Redirect to the list, which shows the flash."""
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(re.escape(list_path) + r"$"))
    expect(page.locator(".flash-success")).to_contain_text(message)


def open_new(page, list_path, button):
    page.goto(list_path)
    page.get_by_role("link", name=button).click()
    page.wait_for_url(re.compile(r"/new"))


def edit_row(page, list_path, text):
    page.goto(list_path)
    page.locator("#admin-list tr", has_text=text).get_by_role("link", name="编辑").click()
    page.wait_for_url(re.compile(r"/edit$"))


def create_department(page):
    open_new(page, "/admin/departments", "新建部门")
    page.get_by_label("部门名称").fill("覆膜车间")
    page.get_by_label("部门编码").fill("Lam Shop")
    page.get_by_label("上级部门").select_option(label="生产部")
    page.get_by_label("覆光膜（LAM_G）").check()
    page.get_by_label("覆哑膜（LAM_M）").check()
    page.get_by_role("button", name="保存").click()
    # The 422 answer replaces the form in place, the error beside the field, the choices kept.
    expect(page.locator("#admin-form .field-error")).to_have_text("部门编码只能包含小写字母、数字和下划线")
    expect(page.get_by_label("覆光膜（LAM_G）")).to_be_checked()
    page.get_by_label("部门编码").fill("laminating")
    save_and_return(page, "/admin/departments", "已创建部门：覆膜车间")
    expect(page.locator('tr.depth-2[data-code="laminating"]')).to_contain_text("覆光膜")

    edit_row(page, "/admin/departments", "覆膜车间")
    expect(page.get_by_label("部门编码")).to_have_attribute("readonly", "")
    page.get_by_label("排序").fill("12")
    save_and_return(page, "/admin/departments", "已保存部门：覆膜车间")


def create_person(page, name, username, role, employee_no=None, pin=None, password=None):
    open_new(page, "/admin/users", "新建人员")
    page.get_by_label("姓名").fill(name)
    page.get_by_label("用户名").fill(username)
    if employee_no:
        page.get_by_label("工号").fill(employee_no)
    page.get_by_label(role, exact=True).check()
    page.locator("#admin-form").get_by_label("覆膜车间").check()
    if password:
        page.get_by_label("密码", exact=True).fill(password)
    if pin:
        page.get_by_label("工位机 PIN").fill(pin)
    save_and_return(page, "/admin/users", f"已创建人员：{name}")


def build_the_workshop_team(page, screenshot_dir):
    create_person(page, "周主管", "lam_lead", "部门主管", password="lamlead2026")
    open_new(page, "/admin/users", "新建人员")
    page.get_by_label("姓名").fill("吴操作")
    page.get_by_label("用户名").fill("lam_op1")
    page.get_by_label("工位机 PIN").fill("12")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#admin-form")).to_contain_text("PIN 必须是4到6位数字")
    create_person(page, "吴操作", "lam_op1", "操作员", employee_no="L001", pin="4321")
    create_person(page, "郑操作", "lam_op2", "操作员", employee_no="L002", pin="8765")
    edit_row(page, "/admin/users", "郑操作")
    page.screenshot(path=f"{screenshot_dir}/admin-user-form.png", full_page=True)
    page.get_by_label("电话").fill("13800000000")
    save_and_return(page, "/admin/users", "已保存人员：郑操作")


def wait_until_draggable(page):
    """The list re-fetched after a saved move takes its SortableJS once htmx has settled it, a moment after
    its rows show."""
    page.wait_for_function("() => Sortable.get(document.querySelector('#admin-list tbody'))")


def create_and_reorder_process(page):
    open_new(page, "/admin/processes", "新建工序")
    page.get_by_label("工序编码").fill("LAM_S")
    page.get_by_label("工序名称").fill("覆触感膜")
    page.get_by_label("排序").fill("6")
    page.get_by_label("标准工时(小时)").fill("1.5")
    page.get_by_label("需要刀模").check()
    save_and_return(page, "/admin/processes", "已创建工序：覆触感膜")
    edit_row(page, "/admin/processes", "覆触感膜")
    page.get_by_label("工序描述").fill("触感膜覆膜")
    save_and_return(page, "/admin/processes", "已保存工序：覆触感膜")

    rows = page.locator("#admin-list tbody tr")
    codes_before = [rows.nth(i).get_attribute("data-code") for i in range(rows.count())]
    moved = codes_before.index("LAM_S")
    page.get_by_role("button", name="上移 覆触感膜").click()
    page.locator("#toasts").get_by_text("工序顺序已保存").wait_for()
    codes_after = [rows.nth(i).get_attribute("data-code") for i in range(rows.count())]
    assert codes_after[moved - 1] == "LAM_S" and codes_after[moved] == codes_before[moved - 1]
    expect(page.locator('tr[data-code="LAM_S"] td.num').first).to_have_text(str(moved))
    wait_until_draggable(page)

    # Mouse: HTML5 drag of the handle onto the top half of the first row.
    first = rows.nth(0)
    page.locator('tr[data-code="LAM_S"] [data-sortable-handle]').drag_to(first, target_position={"x": 40, "y": 3})
    page.locator("#toasts").get_by_text("工序顺序已保存").last.wait_for()
    expect(rows.nth(0)).to_have_attribute("data-code", "LAM_S")
    expect(rows.nth(0).locator("td.num").first).to_have_text("1")
    wait_until_draggable(page)

    # Touch: pointer events on the handle, dropped on the lower half of the third row. A finger moves on and rests
    # there, still sending moves, until the row has moved, then lifts: SortableJS starts on the first move and
    # samples the finger every 50 ms.
    with page.expect_response(lambda response: response.url.endswith("/admin/processes/reorder")) as saved:
        page.evaluate("""async () => {
            const handle = document.querySelector('tr[data-code="LAM_S"] [data-sortable-handle]');
            const rows = () => document.querySelectorAll('#admin-list tbody tr');
            const target = rows()[2].getBoundingClientRect();
            const fire = (type, el, y) => el.dispatchEvent(new PointerEvent(type, {
                bubbles: true, cancelable: true, pointerType: 'touch', pointerId: 7, clientX: target.left + 40, clientY: y}));
            const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
            const box = handle.getBoundingClientRect();
            fire('pointerdown', handle, box.top + 2);
            fire('pointermove', document, box.top + 12);
            for (let rested = 0; rows()[2].dataset.code !== 'LAM_S' && rested < 5000; rested += 50) {
                await pause(50);
                fire('pointermove', document, target.bottom - 3);
            }
            await pause(100);
            fire('pointerup', document, target.bottom - 3);
        }""")
    assert saved.value.status == 204
    page.reload()
    expect(rows.nth(2)).to_have_attribute("data-code", "LAM_S")

def create_catalogue(page, screenshot_dir):
    open_new(page, "/admin/customers", "新建客户")
    page.get_by_label("客户名称").fill("晨光文具")
    page.get_by_label("联系人").fill("孙经理")
    save_and_return(page, "/admin/customers", "已创建客户：晨光文具")
    edit_row(page, "/admin/customers", "晨光文具")
    page.get_by_label("联系电话").fill("021-5555")
    save_and_return(page, "/admin/customers", "已保存客户：晨光文具")

    open_new(page, "/admin/materials", "新建物料")
    page.get_by_label("物料编码").fill("M500")
    page.get_by_label("物料名称").fill("触感膜")
    page.get_by_label("单位").fill("卷")
    save_and_return(page, "/admin/materials", "已创建物料：触感膜")
    edit_row(page, "/admin/materials", "触感膜")
    page.get_by_label("需要开料").check()
    save_and_return(page, "/admin/materials", "已保存物料：触感膜")

    open_new(page, "/admin/products", "新建产品")
    page.get_by_label("产品编码").fill("PR900")
    page.get_by_label("产品名称").fill("礼盒")
    page.get_by_label("单价").fill("18.80")
    page.locator(".process-pick", has_text="覆触感膜").get_by_role("checkbox").check()
    page.locator(".process-pick", has_text="模切").get_by_role("checkbox").check()
    page.locator(".material-row").first.get_by_label("物料").select_option(label="触感膜（M500）")
    page.get_by_role("button", name="添加物料").click()
    expect(page.locator(".material-row")).to_have_count(2)
    page.locator(".material-row").nth(1).get_by_label("物料").select_option(label="触感膜（M500）")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".material-row").nth(1)).to_contain_text("物料「触感膜」已在第 1 行")
    page.locator(".material-row").nth(1).get_by_role("button", name="移除").click()
    page.screenshot(path=f"{screenshot_dir}/admin-product-form.png", full_page=True)
    save_and_return(page, "/admin/products", "已创建产品：礼盒")
    expect(page.locator("#admin-list tr", has_text="礼盒")).to_contain_text("覆触感膜 → 模切")
    edit_row(page, "/admin/products", "礼盒")
    page.get_by_label("规格").fill("300×200×80")
    save_and_return(page, "/admin/products", "已保存产品：礼盒")


def create_and_confirm_plate(page):
    page.goto("/admin/plates")
    page.get_by_role("link", name="新建图稿").click()
    page.get_by_label("名称").fill("礼盒面纸")
    page.get_by_label("C", exact=True).check()
    page.get_by_label("K", exact=True).check()
    page.get_by_label("专色").fill("金色")
    page.locator(".product-row").first.get_by_label("产品").select_option(label="礼盒（PR900）")
    page.locator(".product-row").first.get_by_label("拼版数量").fill("2")
    save_and_return(page, "/admin/plates", "已创建图稿")
    row = page.locator("#admin-list tr", has_text="礼盒面纸")
    code = row.get_attribute("data-code")
    expect(row).to_contain_text("礼盒×2")
    edit_row(page, "/admin/plates", "礼盒面纸")
    page.get_by_label("备注").fill("烫金位置见附件")
    save_and_return(page, "/admin/plates", f"已保存 {code}")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#admin-list tr", has_text="礼盒面纸").get_by_role("button", name="确认").click()
    expect(page.locator(".flash-success")).to_contain_text(f"已确认 {code}")
    expect(page.locator("#admin-list tr", has_text="礼盒面纸")).to_contain_text("已确认")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#admin-list tr", has_text="礼盒面纸").get_by_role("button", name="新版本").click()
    page.wait_for_url(re.compile(r"/admin/plates/\d+/edit$"))
    expect(page.locator(".plate-status")).to_contain_text(f"{code}-v2")


def change_settings_and_read_the_log(page):
    page.goto("/admin/settings")
    page.get_by_label("操作员任务上限").fill("0")
    page.get_by_role("button", name="保存设置").click()
    expect(page.locator("#settings-form .field-error")).to_have_text("操作员任务上限必须在 1 到 100 之间")
    page.get_by_label("操作员任务上限").fill("8")
    page.get_by_role("button", name="保存设置").click()
    expect(page.locator(".flash-success")).to_contain_text("系统设置已保存，立即生效")

    page.goto("/admin/audit")
    page.get_by_label("对象类型").select_option(label="部门")
    expect(page).to_have_url(re.compile(r"object_type=department"))
    expect(page.locator("#admin-list")).to_contain_text("覆膜车间")
    expect(page.locator("#admin-list")).to_contain_text("排序")


def test_admin_builds_a_plant_through_the_pages(seeded, page_factory, screenshot_dir):
    f.UserFactory(username="admin_e2e", name="管理员", roles=["admin"])
    page = page_factory()
    log_in(page, "admin_e2e")
    page.goto("/admin/")
    page.screenshot(path=f"{screenshot_dir}/admin-index.png", full_page=True)

    create_department(page)
    page.goto("/admin/departments")
    page.screenshot(path=f"{screenshot_dir}/admin-departments.png", full_page=True)
    build_the_workshop_team(page, screenshot_dir)
    page.screenshot(path=f"{screenshot_dir}/admin-users.png", full_page=True)
    create_and_reorder_process(page)
    page.screenshot(path=f"{screenshot_dir}/admin-processes.png", full_page=True)
    create_catalogue(page, screenshot_dir)
    create_and_confirm_plate(page)
    page.screenshot(path=f"{screenshot_dir}/admin-plate.png", full_page=True)
    change_settings_and_read_the_log(page)
    page.screenshot(path=f"{screenshot_dir}/admin-audit.png", full_page=True)

    department = db.session.scalar(select(Department).where(Department.code == "laminating"))
    assert department.parent.code == "production" and department.sort_order == 12
    assert sorted(p.code for p in department.processes) == ["LAM_G", "LAM_M"]
    team = {u.username: u for u in db.session.scalars(select(User).where(User.username.like("lam_%")))}
    assert {name: (u.role_codes, [d.code for d in u.departments]) for name, u in team.items()} == {
        "lam_lead": ({"supervisor"}, ["laminating"]),
        "lam_op1": ({"operator"}, ["laminating"]),
        "lam_op2": ({"operator"}, ["laminating"]),
    }
    assert db.session.scalar(select(Process.description).where(Process.code == "LAM_S")) == "触感膜覆膜"
    assert db.session.scalar(select(Plate.version).where(Plate.name == "礼盒面纸").order_by(Plate.version.desc())
                             .limit(1)) == 2

    for employee_no, pin, name in (("L001", "4321", "吴操作"), ("L002", "8765", "郑操作")):
        kiosk = page_factory(viewport=(1024, 768))
        kiosk.goto("/kiosk/login")
        kiosk.get_by_label("工号").fill(employee_no)
        kiosk.get_by_label("PIN").fill(pin)
        kiosk.get_by_role("button", name="登录").click()
        kiosk.wait_for_url(re.compile(r"/kiosk$"))
        expect(kiosk.locator("body")).to_contain_text(name)
