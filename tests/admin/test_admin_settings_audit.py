"""系统设置 (validated, effective immediately, audited), the audit page, and the landing page."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

import factories as f
from app.extensions import db
from app.models import AuditLog
from app.services.core import settings
from support.admin import HTMX, build_plant


@pytest.fixture()
def plant(seeded, client, login):
    world = build_plant()
    login(world.admin)
    return world


def settings_form(**overrides):
    form = {"auto_dispatch_enabled": "y", "operator_task_cap": "10", "kiosk_idle_logout_seconds": "120",
            "notification_retention_days": "30", "planning_enabled": "y"}
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def test_settings_take_effect_immediately_and_are_audited(client, plant):
    response = client.post("/admin/settings", data=settings_form(auto_dispatch_enabled=None, operator_task_cap="6"),
                           headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/admin/settings"
    assert (settings.get("auto_dispatch_enabled"), settings.get("operator_task_cap")) == (False, 6)
    rows = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "setting").order_by(AuditLog.id)).all()
    assert [row.detail for row in rows] == [
        {"key": "auto_dispatch_enabled", "before": True, "after": False},
        {"key": "operator_task_cap", "before": 10, "after": 6},
    ]
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "系统设置已保存，立即生效" in page and 'value="6"' in page


@pytest.mark.parametrize("field, value, message", [
    ("operator_task_cap", "0", "操作员任务上限必须在 1 到 100 之间"),
    ("kiosk_idle_logout_seconds", "abc", "请输入整数"),
    ("notification_retention_days", "400", "通知保留天数必须在 1 到 365 之间"),
])
def test_bad_settings_are_refused_and_nothing_changes(client, plant, field, value, message):
    before = settings.all_values()
    # Switching auto-dispatch off is valid, but it must not be saved beside the bad value.
    response = client.post("/admin/settings", data=settings_form(**{"auto_dispatch_enabled": None, field: value}),
                           headers=HTMX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert settings.all_values() == before
    assert db.session.scalar(select(AuditLog).where(AuditLog.object_type == "setting")) is None


def test_audit_page_shows_who_when_what_and_before_after(client, plant):
    client.post(f"/admin/materials/{plant.material.id}",
                data={"code": "M900", "name": "哑粉纸", "unit": "张", "is_active": "y"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "管理员甲" in page and "物料 哑粉纸" in page and "修改" in page
    assert "<dt>名称</dt><dd>铜版纸" in page and "哑粉纸" in page


def test_audit_filters_by_object_type_user_and_date(client, plant):
    now = datetime.utcnow()
    f.AuditLogFactory(object_type="customer", object_id=1, action="create", user_id=plant.owner.id,
                      at=now - timedelta(days=10))
    f.AuditLogFactory(object_type="customer", object_id=2, action="delete", user_id=plant.admin.id, at=now)
    f.AuditLogFactory(object_type="plate", object_id=3, action="confirm", user_id=plant.designer.id, at=now)
    by_type = client.get("/admin/audit?object_type=customer", headers=HTMX).get_data(as_text=True)
    assert "共 2 条记录" in by_type and "<html" not in by_type
    by_user = client.get(f"/admin/audit?user={plant.designer.id}", headers=HTMX).get_data(as_text=True)
    assert "共 1 条记录" in by_user and "确认" in by_user
    today = (now + timedelta(hours=8)).date().isoformat()
    recent = client.get(f"/admin/audit?object_type=customer&date_from={today}&date_to={today}",
                        headers=HTMX).get_data(as_text=True)
    assert "共 1 条记录" in recent and "删除" in recent
    junk = client.get("/admin/audit?user=abc&date_from=yesterday", headers=HTMX)
    assert junk.status_code == 200 and "共 3 条记录" in junk.get_data(as_text=True)


def test_audit_is_paginated_newest_first(client, plant, app):
    now = datetime.utcnow()
    for n in range(app.config["PAGE_SIZE"] + 5):
        f.AuditLogFactory(object_type="product", object_id=n, action="update", at=now - timedelta(minutes=n),
                          detail={"after": {"name": f"P{n}"}})
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "P0</td>" in first and "P24</td>" not in first and 'href="/admin/audit?page=2"' in first
    second = client.get("/admin/audit?page=2", headers=HTMX).get_data(as_text=True)
    assert "P24</td>" in second and "P0</td>" not in second


def test_landing_page_links_every_area_with_counts(client, plant):
    page = client.get("/admin/").get_data(as_text=True)
    for path in ("/admin/users", "/admin/departments", "/admin/processes", "/admin/customers", "/admin/products",
                 "/admin/materials", "/admin/plates", "/admin/settings", "/admin/audit"):
        assert f'href="{path}"' in page
    assert '<div class="num">22</div>' in page  # 21 preset processes + 装订
