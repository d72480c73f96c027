"""Preset data (reference §11 with DOMAIN.md §6's 印刷车间 fix) and the demo data: exact and idempotent."""
import re
from datetime import datetime

from sqlalchemy import func, select

from app.enums import RoleCode
from app.extensions import db as _db
from app.models import AssignmentRule, Customer, Department, Material, Plate, Process, Product, Role, Setting, User
from app.seed import load_demo, seed_presets
from app.services.core import settings as settings_service
from app.services.planning import engine as planning_engine


def _count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order, so two runs can be compared exactly."""
    snapshot = {}
    for table in _db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = _db.session.execute(select(table).order_by(*order)).all()
        snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


def _rule(process_code: str, department_name: str) -> AssignmentRule:
    return _db.session.scalar(
        select(AssignmentRule).join(AssignmentRule.process).join(AssignmentRule.department)
        .where(Process.code == process_code, Department.name == department_name)
    )


def _department(name: str) -> Department:
    return _db.session.scalar(select(Department).where(Department.name == name))


def test_presets_have_the_reference_counts(seeded):
    assert (_count(Process), _count(Department), _count(AssignmentRule), _count(Role)) == (21, 11, 56, 6)
    assert {role.code: role.name for role in _db.session.scalars(select(Role))} == {
        code: RoleCode.label_of(code) for code in ("admin", "salesperson", "maker", "supervisor", "operator", "designer")
    }
    stored = {row.key: row.value for row in _db.session.scalars(select(Setting))}
    version = stored.pop(settings_service.REFERENCE_VERSION_KEY)
    assert stored == {key: spec[0] for key, spec in settings_service.SETTINGS.items()}
    assert re.fullmatch(r"[0-9a-f]{16}", version)


def test_processes_carry_their_flags(seeded):
    processes = {p.code: p for p in _db.session.scalars(select(Process).order_by(Process.sort_order))}
    assert list(processes) == [
        "CTP", "CUT", "PRT", "VAN", "LAM_G", "LAM_M", "UV", "FOIL_G", "FOIL_S", "EMB", "TEX", "SCORE", "DIE",
        "TRIM", "LAM_B", "MOUNT", "GLUE", "BOX", "WINDOW", "STAPLE", "PACK",
    ]
    assert [p.sort_order for p in processes.values()] == list(range(1, 22))
    assert all(p.is_builtin and p.is_active for p in processes.values())
    assert {code for code, p in processes.items() if p.is_parallel} == {"CTP", "DIE"}
    assert (processes["CTP"].name, processes["CTP"].description) == ("制版", "CTP制版")
    assert (processes["UV"].name, processes["UV"].description) == ("UV", "UV工艺")
    assert (processes["CUT"].name, processes["CUT"].description) == ("开料", "材料开料")
    assert {code: p.required_plate_kinds() for code, p in processes.items() if p.required_plate_kinds()} == {
        "PRT": ["artwork"], "DIE": ["die"], "FOIL_G": ["foiling"], "FOIL_S": ["foiling"], "EMB": ["embossing"],
    }
    assert all(
        p.artwork_required and p.die_required and p.foiling_required and p.embossing_required
        for p in processes.values()
    )


def test_departments_have_parents_order_and_processes(seeded):
    departments = list(_db.session.scalars(select(Department).order_by(Department.sort_order)))
    assert [(d.sort_order, d.code, d.name, d.parent.name if d.parent else None) for d in departments] == [
        (1, "business", "业务部", None),
        (2, "finance", "财务部", None),
        (3, "design", "设计部", None),
        (4, "purchase", "采购部", None),
        (5, "production", "生产部", None),
        (6, "cutting", "裁切车间", "生产部"),
        (7, "printing", "印刷车间", "生产部"),
        (8, "outsourcing", "外协车间", "生产部"),
        (9, "die_cutting", "模切车间", "生产部"),
        (10, "packaging", "包装车间", "生产部"),
        (11, "logistics", "运输部", None),
    ]
    handled = {d.name: {p.code for p in d.processes} for d in departments}
    # DOMAIN.md §6: 印刷车间 handles LAM_G, LAM_M and UV too, so the preset 75 rules take effect.
    assert handled["印刷车间"] == {"PRT", "VAN", "LAM_G", "LAM_M", "UV"}
    assert handled["设计部"] == {"CTP"}
    assert handled["裁切车间"] == {"CUT", "SCORE", "TRIM"}
    assert handled["模切车间"] == {"FOIL_G", "FOIL_S", "EMB", "SCORE", "DIE"}
    assert handled["包装车间"] == {"CUT", "TEX", "LAM_B", "MOUNT", "GLUE", "BOX", "WINDOW", "STAPLE", "PACK"}
    assert handled["外协车间"] == {
        "CUT", "PRT", "VAN", "LAM_G", "LAM_M", "UV", "FOIL_G", "FOIL_S", "EMB", "TEX", "DIE", "LAM_B", "MOUNT",
        "BOX", "STAPLE",
    }
    assert len(handled["生产部"]) == 20 and "CTP" not in handled["生产部"]
    assert handled["业务部"] == handled["财务部"] == handled["采购部"] == handled["运输部"] == set()


def test_rules_have_the_reference_priorities_and_notes(seeded):
    expected = {
        ("CTP", "设计部"): (100, "制版工序优先分派给设计部"),
        ("CUT", "裁切车间"): (90, "开料工序优先分派给裁切车间"),
        ("DIE", "模切车间"): (90, "模切工序优先分派给模切车间"),
        ("UV", "印刷车间"): (75, "UV工序分派给印刷车间"),
        ("LAM_G", "印刷车间"): (75, "覆光膜工序分派给印刷车间"),
        ("PRT", "外协车间"): (15, "印刷工序外协备选"),
        ("PACK", "生产部"): (5, "包装工序生产部兜底"),
    }
    for (process, department), (priority, notes) in expected.items():
        rule = _rule(process, department)
        assert (rule.priority, rule.notes, rule.is_active, rule.operator_strategy) == (priority, notes, True, "manual")
    priorities = [rule.priority for rule in _db.session.scalars(select(AssignmentRule))]
    assert {p: priorities.count(p) for p in set(priorities)} == {100: 1, 90: 17, 75: 3, 15: 15, 5: 20}
    assert _rule("SCORE", "外协车间") is None and _rule("PACK", "外协车间") is None
    # Every preset rule points at a department that handles its process, so none is dead.
    for rule in _db.session.scalars(select(AssignmentRule)):
        assert rule.process in rule.department.processes, (rule.process.code, rule.department.name)


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    summary = seed_presets()
    _db.session.commit()
    assert _snapshot() == before
    assert summary == "预置数据已就绪：21 个工序，11 个部门，56 条分派规则，6 个角色"


def test_seeding_restores_edited_presets_without_duplicates(seeded):
    rule = _rule("UV", "印刷车间")
    rule.priority, rule.is_active, rule.operator_strategy = 10, False, "random"
    printing = _department("印刷车间")
    printing.processes = [p for p in printing.processes if p.code != "UV"]
    process = _db.session.scalar(select(Process).where(Process.code == "DIE"))
    process.is_parallel, process.requires_die = False, False
    _db.session.commit()

    seed_presets()
    _db.session.commit()
    _db.session.expire_all()
    rule = _rule("UV", "印刷车间")
    assert (rule.priority, rule.is_active, rule.operator_strategy) == (75, True, "manual")
    assert "UV" in {p.code for p in _department("印刷车间").processes}
    process = _db.session.scalar(select(Process).where(Process.code == "DIE"))
    assert (process.is_parallel, process.requires_die) == (True, True)
    assert (_count(Process), _count(Department), _count(AssignmentRule), _count(Role)) == (21, 11, 56, 6)


DEMO_PEOPLE = {
    # username: (roles, departments, employee number, PIN)
    "admin": ({"admin"}, set(), None, None),
    "sales1": ({"salesperson"}, {"业务部"}, None, None),
    "maker1": ({"maker"}, {"业务部"}, None, None),
    "designer1": ({"designer"}, {"设计部"}, None, None),
    "sup_production": ({"supervisor"}, {"生产部"}, "2001", None),
    "sup_cutting": ({"supervisor"}, {"裁切车间"}, "2002", None),
    "sup_printing": ({"supervisor"}, {"印刷车间"}, "2003", None),
    "sup_diecut": ({"supervisor"}, {"模切车间"}, "2004", None),
    "sup_packaging": ({"supervisor"}, {"包装车间"}, "2005", None),
    "op_cutting1": ({"operator"}, {"裁切车间"}, "1001", "8001"),
    "op_cutting2": ({"operator"}, {"裁切车间"}, "1002", "8002"),
    "op_printing1": ({"operator"}, {"印刷车间"}, "1003", "8003"),
    "op_printing2": ({"operator"}, {"印刷车间"}, "1004", "8004"),
    "op_diecut1": ({"operator"}, {"模切车间"}, "1005", "8005"),
    "op_diecut2": ({"operator"}, {"模切车间"}, "1006", "8006"),
    "op_packaging1": ({"operator"}, {"包装车间"}, "1007", "8007"),
    "op_packaging2": ({"operator"}, {"包装车间"}, "1008", "8008"),
}


def test_demo_people_have_roles_departments_and_working_credentials(seeded):
    logins = load_demo()
    _db.session.commit()
    users = {u.username: u for u in _db.session.scalars(select(User))}
    assert set(users) == set(DEMO_PEOPLE)
    for username, (roles, departments, employee_no, pin) in DEMO_PEOPLE.items():
        user = users[username]
        assert (user.role_codes, {d.name for d in user.departments}, user.employee_no, user.is_active) == (
            roles, departments, employee_no, True), username
        assert user.check_password("demo123456"), username
        assert user.name and user.name != username
        if pin:
            assert user.check_pin(pin) and not user.check_pin("0000"), username
            assert f"工号 {employee_no} PIN {pin}" in logins
        else:
            assert user.pin_hash is None, username
        assert username in logins
    assert "demo123456" in logins


def test_demo_master_data(demo_plant):
    products = {p.code: p for p in _db.session.scalars(select(Product))}
    assert {code: (p.name, p.specification, p.unit, str(p.unit_price)) for code, p in products.items()} == {
        "PR001": ("宣传册", "A4 竖版 骑马订", "本", "15.00"),
        "PR002": ("名片", "90mm×54mm", "盒", "25.00"),
        "PR003": ("海报", "420mm×594mm (A2)", "张", "8.00"),
        "PR004": ("画册", "210mm×285mm 精装", "本", "45.00"),
        "PR005": ("包装盒", "自定义尺寸", "个", "12.00"),
        "PR006": ("展示牌", "300mm×400mm", "块", "35.00"),
    }
    assert all(p.default_processes and p.default_materials for p in products.values())
    assert [item.process.code for item in products["PR005"].default_processes] == [
        "CUT", "PRT", "LAM_G", "FOIL_G", "DIE", "BOX", "PACK"]

    materials = {m.name: m.need_cutting for m in _db.session.scalars(select(Material))}
    assert {"铜版纸", "白卡纸", "灰板纸", "瓦楞纸"} <= set(materials)
    assert materials["铜版纸"] is True and False in materials.values()

    plates = list(_db.session.scalars(select(Plate)))
    assert {plate.kind for plate in plates} == {"artwork", "die", "foiling", "embossing"}
    assert all(plate.products for plate in plates)
    assert all(plate.cmyk_colors == ["C", "M", "Y", "K"] for plate in plates if plate.kind == "artwork")
    assert {plate.foiling_type for plate in plates if plate.kind == "foiling"} == {"gold"}

    owners = {c.name: c.salesperson.username if c.salesperson else None for c in _db.session.scalars(select(Customer))}
    assert "sales1" in owners.values() and None in owners.values()


def test_demo_twice_changes_nothing(demo_plant, monkeypatch):
    # The plan's times start from "now" (DOMAIN.md §12): with the clock held at one minute, a replan
    # that the second load asks for finds nothing to change; the plant built earlier may be minutes old.
    monkeypatch.setattr("app.services.planning.engine.utcnow", lambda: datetime(2026, 12, 7, 9, 30))
    planning_engine.replan()
    _db.session.commit()
    before = _snapshot()
    seed_presets()
    load_demo()
    _db.session.commit()
    assert _snapshot() == before


def test_demo_keeps_a_password_changed_since(demo_plant):
    user = _db.session.scalar(select(User).where(User.username == "sales1"))
    user.set_password("changed-later-1")
    _db.session.commit()
    load_demo()
    _db.session.commit()
    assert user.check_password("changed-later-1")
