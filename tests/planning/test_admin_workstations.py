"""机台 and 工作日历 admin pages: every field, refusals in Chinese, audit, deactivation, the calendar."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Setting, Workstation
from app.services.planning import calendar as plant_calendar
from support.admin import HTMX, audit_count, build_plant


@pytest.fixture()
def plant(seeded, client, login):
    world = build_plant()
    login(world.admin)
    return world


def station_form(plant, **overrides):
    form = {"department_id": str(plant.printing.id), "code": "PRT-01", "name": "海德堡四色机 1号", "is_active": "y",
            "processes-0-process_id": str(plant.prt.id), "processes-0-rate_per_hour": "8000",
            "processes-0-setup_minutes": "30"}
    form.update(overrides)
    return form


def test_create_with_its_processes_and_audit(client, plant):
    before = audit_count("workstation")
    assert client.post("/admin/workstations", data=station_form(plant)).status_code == 303
    station = db.session.scalar(select(Workstation).where(Workstation.code == "PRT-01"))
    assert (station.name, station.department_id, station.is_active) == ("海德堡四色机 1号", plant.printing.id, True)
    [capability] = station.capabilities
    assert (capability.process_id, capability.rate_per_hour, capability.setup_minutes) == \
        (plant.prt.id, Decimal("8000.00"), 30)
    assert audit_count("workstation") == before + 1
    page = client.get("/admin/workstations").get_data(as_text=True)
    assert "PRT-01" in page and "8,000 件/小时" in page and "30 分钟" in page


@pytest.mark.parametrize("field, value, message", [
    ("code", "", "请填写机台编码"),
    ("code", "PRT 01", "机台编码只能包含字母、数字、下划线和连字符，1到20个字符"),
    ("code", "PRT-09", "编码 PRT-09 已被机台「四色机 9号」使用"),
    ("name", "", "请填写机台名称"),
    ("department_id", "", "请选择部门"),
    ("processes-0-rate_per_hour", "0", "标准产能必须大于 0 且不超过 9999999.99"),
    ("processes-0-rate_per_hour", "abc", "标准产能必须是数字"),
    ("processes-0-rate_per_hour", "", "请填写标准产能"),
    ("processes-0-setup_minutes", "-5", "换型时间必须在 0 到 1440 之间"),
    ("processes-0-process_id", "", "请至少选择一个工序并填写标准产能"),
])
def test_invalid_input_is_refused_inline(client, plant, field, value, message):
    count = db.session.query(Workstation).count()
    response = client.post("/admin/workstations", data=station_form(plant, **{field: value}), headers=HTMX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.query(Workstation).count() == count


def test_edit_changes_rates_and_audits_only_what_changed(client, plant):
    station = plant.workstation
    form = station_form(plant, code="PRT-09", name="四色机 9号", **{"processes-0-rate_per_hour": "7500"})
    assert client.post(f"/admin/workstations/{station.id}", data=form).status_code == 303
    db.session.expire_all()
    assert station.capabilities[0].rate_per_hour == Decimal("7500.00")
    row = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "workstation").order_by(AuditLog.id.desc()))
    assert row.action == "update" and set(row.detail["after"]) == {"processes"}
    edit = client.get(f"/admin/workstations/{station.id}/edit").get_data(as_text=True)
    assert 'value="7500"' in edit


def test_deactivate_and_activate_are_audited(client, plant):
    station = plant.workstation
    response = client.post(f"/admin/workstations/{station.id}/deactivate", headers=HTMX)
    assert response.status_code == 200
    db.session.expire_all()
    assert station.is_active is False
    client.post(f"/admin/workstations/{station.id}/activate")
    db.session.expire_all()
    assert station.is_active is True
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "workstation",
                                                               AuditLog.object_id == station.id)
                                 .order_by(AuditLog.id)).all()
    assert actions == ["deactivate", "activate"]


def test_the_calendar_is_saved_audited_and_refuses_bad_hours(client, plant):
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "08:00-12:00, 13:00-17:00" in page
    form = {f"day_{day}": "08:00-12:00, 13:00-17:00" for day in range(5)} | {"closed_dates": "2027-01-01\n2027-02-10"}
    assert client.post("/admin/calendar", data=form).status_code == 303
    saved = plant_calendar.from_stored(db.session.get(Setting, plant_calendar.CALENDAR_KEY).value)
    assert saved.windows[5] == () and saved.closed_dates == {date(2027, 1, 1), date(2027, 2, 10)}
    assert audit_count("setting") >= 1
    refused = client.post("/admin/calendar", data={"day_0": "12:00-08:00"}, headers=HTMX)
    assert refused.status_code == 422
    assert "星期一：时段 12:00-08:00 的结束时间必须晚于开始时间" in refused.get_data(as_text=True)
    refused = client.post("/admin/calendar", data={"day_0": "", "closed_dates": ""}, headers=HTMX)
    assert refused.status_code == 422 and "每周至少需要一个工作时段" in refused.get_data(as_text=True)


def test_the_planning_switch_is_on_the_settings_page(client, plant):
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "启用排产" in page and "/admin/calendar" in page
