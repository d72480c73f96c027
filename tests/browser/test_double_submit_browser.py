"""A double click on 提交审核 in a real browser creates one 施工单 (issue #19): the button is disabled
while its request runs (static/js/submit_once.js), and the form's one-time key would make a second
post create nothing anyway (app/services/core/submissions.py)."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import WorkOrder
from app.utils.timeutil import plant_today
from factories import PASSWORD
from support.workorders import build_plant

pytestmark = pytest.mark.browser


def test_a_double_click_on_submit_creates_one_work_order(seeded, page_factory):
    plant = build_plant(seeded)
    page = page_factory()
    page.goto("/login")
    page.get_by_label("用户名").fill("maker1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/workorders/new")
    page.get_by_label("客户", exact=True).select_option(label=plant.customer.name)
    page.get_by_label("交货日期").fill(plant_today().isoformat())
    page.get_by_label("生产数量").fill("500")
    page.get_by_role("button", name="添加产品").click()
    line = page.locator("#product-lines .product-line").first
    line.locator("select").select_option(label="PR001 宣传册")
    page.wait_for_load_state("networkidle")
    line.locator("input[name$='-quantity']").fill("800")
    page.get_by_label("包装", exact=True).check()
    page.wait_for_load_state("networkidle")

    page.get_by_role("button", name="保存草稿").dblclick()

    page.wait_for_url(re.compile(r"/workorders/\d+$"))
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # a second post, had one left, would have been answered by now
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 1
    assert page.url.endswith(f"/workorders/{db.session.scalar(select(WorkOrder.id))}")
