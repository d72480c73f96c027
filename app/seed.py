"""Preset data (reference/earlier-system.md §11, with DOMAIN.md §6's fix) and demo data.

Both loaders are idempotent: running them again updates rows to the preset values and adds
nothing. Neither commits; the CLI command does.
"""
from __future__ import annotations

import functools
from decimal import Decimal

from sqlalchemy import select

from app.enums import RoleCode
from app.extensions import db
from app.models import (
    AssignmentRule,
    Customer,
    Department,
    Material,
    Plate,
    PlateProduct,
    Process,
    Product,
    ProductMaterial,
    ProductProcess,
    Role,
    User,
)
from app.models.org import hash_secret
from app.services.core import settings as settings_service

# sort, code, name, description, is_parallel, plate kinds the process requires
PROCESSES = [
    (1, "CTP", "制版", "CTP制版", True, ()),
    (2, "CUT", "开料", "材料开料", False, ()),
    (3, "PRT", "印刷", "印刷", False, ("artwork",)),
    (4, "VAN", "过油", "过油", False, ()),
    (5, "LAM_G", "覆光膜", "覆光膜", False, ()),
    (6, "LAM_M", "覆哑膜", "覆哑膜", False, ()),
    (7, "UV", "UV", "UV工艺", False, ()),
    (8, "FOIL_G", "烫金", "烫金", False, ("foiling",)),
    (9, "FOIL_S", "烫银", "烫银", False, ("foiling",)),
    (10, "EMB", "压凸", "压凸", False, ("embossing",)),
    (11, "TEX", "压纹", "压纹", False, ()),
    (12, "SCORE", "压线", "压线", False, ()),
    (13, "DIE", "模切", "模切", True, ("die",)),
    (14, "TRIM", "切成品", "切成品", False, ()),
    (15, "LAM_B", "对裱", "对裱", False, ()),
    (16, "MOUNT", "裱坑", "裱坑", False, ()),
    (17, "GLUE", "粘胶", "粘胶", False, ()),
    (18, "BOX", "粘盒", "粘盒", False, ()),
    (19, "WINDOW", "粘窗口", "粘窗口", False, ()),
    (20, "STAPLE", "打钉", "打钉", False, ()),
    (21, "PACK", "包装", "包装", False, ()),
]

_PRODUCTION = [code for _, code, *_ in PROCESSES if code != "CTP"]

# sort, code, name, parent code, processes handled
DEPARTMENTS = [
    (1, "business", "业务部", None, []),
    (2, "finance", "财务部", None, []),
    (3, "design", "设计部", None, ["CTP"]),
    (4, "purchase", "采购部", None, []),
    (5, "production", "生产部", None, _PRODUCTION),
    (6, "cutting", "裁切车间", "production", ["CUT", "SCORE", "TRIM"]),
    # DOMAIN.md §6: 印刷车间 also handles LAM_G, LAM_M and UV so its preset rules take effect.
    (7, "printing", "印刷车间", "production", ["PRT", "VAN", "LAM_G", "LAM_M", "UV"]),
    (8, "outsourcing", "外协车间", "production",
     ["CUT", "PRT", "VAN", "LAM_G", "LAM_M", "UV", "FOIL_G", "FOIL_S", "EMB", "TEX", "DIE", "LAM_B", "MOUNT", "BOX",
      "STAPLE"]),
    (9, "die_cutting", "模切车间", "production", ["FOIL_G", "FOIL_S", "EMB", "SCORE", "DIE"]),
    (10, "packaging", "包装车间", "production",
     ["CUT", "TEX", "LAM_B", "MOUNT", "GLUE", "BOX", "WINDOW", "STAPLE", "PACK"]),
    (11, "logistics", "运输部", None, []),
]

# process → its main department and priority (100/90/75); 外协车间 15 and 生产部 5 are backups.
MAIN_RULES = {
    "CTP": ("design", 100), "CUT": ("cutting", 90), "PRT": ("printing", 90), "VAN": ("printing", 90),
    "LAM_G": ("printing", 75), "LAM_M": ("printing", 75), "UV": ("printing", 75),
    "FOIL_G": ("die_cutting", 90), "FOIL_S": ("die_cutting", 90), "EMB": ("die_cutting", 90),
    "TEX": ("packaging", 90), "SCORE": ("cutting", 90), "DIE": ("die_cutting", 90), "TRIM": ("cutting", 90),
    "LAM_B": ("packaging", 90), "MOUNT": ("packaging", 90), "GLUE": ("packaging", 90), "BOX": ("packaging", 90),
    "WINDOW": ("packaging", 90), "STAPLE": ("packaging", 90), "PACK": ("packaging", 90),
}
OUTSOURCING_BACKUP = ["CUT", "PRT", "VAN", "LAM_G", "LAM_M", "UV", "FOIL_G", "FOIL_S", "EMB", "TEX", "DIE", "LAM_B",
                      "MOUNT", "BOX", "STAPLE"]


def _rule_specs(process_names: dict[str, str], department_names: dict[str, str]):
    """(process code, department code, priority, notes) for the 56 preset rules."""
    for code, (department, priority) in MAIN_RULES.items():
        name = process_names[code]
        if priority == 75:
            notes = f"{name}工序分派给{department_names[department]}"
        else:
            notes = f"{name}工序优先分派给{department_names[department]}"
        yield code, department, priority, notes
    for code in OUTSOURCING_BACKUP:
        yield code, "outsourcing", 15, f"{process_names[code]}工序外协备选"
    for code in _PRODUCTION:
        yield code, "production", 5, f"{process_names[code]}工序生产部兜底"


def _upsert(model, lookup: dict, values: dict):
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **values)
        db.session.add(row)
    else:
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
    return row


def seed_presets() -> str:
    for code in RoleCode.values():
        _upsert(Role, {"code": code}, {"name": RoleCode.label_of(code)})

    processes = {}
    for sort, code, name, description, parallel, kinds in PROCESSES:
        values = {"name": name, "description": description, "sort_order": sort, "is_parallel": parallel,
                  "is_builtin": True, "is_active": True}
        for kind in ("artwork", "die", "foiling", "embossing"):
            values[f"requires_{kind}"] = kind in kinds
            values[f"{kind}_required"] = True
        processes[code] = _upsert(Process, {"code": code}, values)
    db.session.flush()

    departments = {}
    for sort, code, name, parent, handled in DEPARTMENTS:
        department = _upsert(Department, {"code": code}, {"name": name, "sort_order": sort, "is_active": True})
        department.parent = departments[parent] if parent else None
        wanted = [processes[p] for p in handled]
        if {p.id for p in department.processes} != {p.id for p in wanted if p.id is not None}:
            department.processes = wanted
        departments[code] = department
    db.session.flush()

    process_names = {code: p.name for code, p in processes.items()}
    department_names = {code: d.name for code, d in departments.items()}
    rule_count = 0
    for process_code, department_code, priority, notes in _rule_specs(process_names, department_names):
        _upsert(
            AssignmentRule,
            {"process_id": processes[process_code].id, "department_id": departments[department_code].id},
            {"priority": priority, "is_active": True, "operator_strategy": "manual", "notes": notes},
        )
        rule_count += 1
    settings_service.ensure_defaults()
    db.session.flush()
    return (f"预置数据已就绪：{len(processes)} 个工序，{len(departments)} 个部门，{rule_count} 条分派规则，"
            f"{len(RoleCode.values())} 个角色")


DEMO_PASSWORD = "demo123456"

# username, name, roles, department codes, employee number, PIN
DEMO_USERS = [
    ("admin", "系统管理员", ["admin"], [], None, None),
    ("sales1", "王业务", ["salesperson"], ["business"], None, None),
    ("maker1", "李制单", ["maker"], ["business"], None, None),
    ("designer1", "陈设计", ["designer"], ["design"], None, None),
    ("sup_production", "赵生产", ["supervisor"], ["production"], "2001", None),
    ("sup_cutting", "钱裁切", ["supervisor"], ["cutting"], "2002", None),
    ("sup_printing", "孙印刷", ["supervisor"], ["printing"], "2003", None),
    ("sup_diecut", "周模切", ["supervisor"], ["die_cutting"], "2004", None),
    ("sup_packaging", "吴包装", ["supervisor"], ["packaging"], "2005", None),
    ("op_cutting1", "郑师傅", ["operator"], ["cutting"], "1001", "8001"),
    ("op_cutting2", "冯师傅", ["operator"], ["cutting"], "1002", "8002"),
    ("op_printing1", "刘师傅", ["operator"], ["printing"], "1003", "8003"),
    ("op_printing2", "杨师傅", ["operator"], ["printing"], "1004", "8004"),
    ("op_diecut1", "黄师傅", ["operator"], ["die_cutting"], "1005", "8005"),
    ("op_diecut2", "何师傅", ["operator"], ["die_cutting"], "1006", "8006"),
    ("op_packaging1", "林师傅", ["operator"], ["packaging"], "1007", "8007"),
    ("op_packaging2", "高师傅", ["operator"], ["packaging"], "1008", "8008"),
]

DEMO_MATERIALS = [
    ("M001", "铜版纸", "157g 889×1194mm", "张", True),
    ("M002", "白卡纸", "350g 787×1092mm", "张", True),
    ("M003", "灰板纸", "1200g", "张", True),
    ("M004", "瓦楞纸", "E瓦", "张", True),
    ("M005", "光膜", "BOPP 18μm", "卷", False),
    ("M006", "哑膜", "BOPP 18μm", "卷", False),
    ("M007", "电化铝（金）", "640mm×120m", "卷", False),
]

# code, name, spec, unit, price, default processes, default materials (code, size, usage, cutting)
DEMO_PRODUCTS = [
    ("PR001", "宣传册", "A4 竖版 骑马订", "本", "15.00", ["PRT", "LAM_G", "STAPLE", "TRIM", "PACK"],
     [("M001", "889×1194mm", "1000张", True)]),
    ("PR002", "名片", "90mm×54mm", "盒", "25.00", ["PRT", "LAM_M", "TRIM", "PACK"],
     [("M002", "787×1092mm", "200张", True)]),
    ("PR003", "海报", "420mm×594mm (A2)", "张", "8.00", ["PRT", "UV", "TRIM", "PACK"],
     [("M001", "889×1194mm", "500张", True)]),
    ("PR004", "画册", "210mm×285mm 精装", "本", "45.00", ["PRT", "LAM_M", "EMB", "MOUNT", "PACK"],
     [("M001", "889×1194mm", "2000张", True), ("M003", "787×1092mm", "300张", True)]),
    ("PR005", "包装盒", "自定义尺寸", "个", "12.00", ["CUT", "PRT", "LAM_G", "FOIL_G", "DIE", "BOX", "PACK"],
     [("M002", "787×1092mm", "1200张", True), ("M005", "1000mm", "2卷", False)]),
    ("PR006", "展示牌", "300mm×400mm", "块", "35.00", ["PRT", "LAM_B", "MOUNT", "DIE", "PACK"],
     [("M004", "1200×1600mm", "400张", True)]),
]

# code, kind, name, colours, foiling type, linked products (code, imposition)
DEMO_PLATES = [
    ("ART202611001", "artwork", "包装盒正面图稿", ["C", "M", "Y", "K"], None, [("PR005", 4)]),
    ("ART202611002", "artwork", "宣传册内页图稿", ["C", "M", "Y", "K"], None, [("PR001", 2)]),
    ("ART202611003", "artwork", "画册封面图稿", ["C", "M", "Y", "K"], None, [("PR004", 1)]),
    ("DIE202611001", "die", "包装盒刀模", [], None, [("PR005", 4)]),
    ("DIE202611002", "die", "展示牌刀模", [], None, [("PR006", 1)]),
    ("FP202611001", "foiling", "包装盒烫金版", [], "gold", [("PR005", 4)]),
    ("EP202611001", "embossing", "画册压凸版", [], None, [("PR004", 1)]),
]

DEMO_CUSTOMERS = [
    ("华美包装有限公司", "张经理", "13800000001", "sales1"),
    ("青禾文化传媒", "刘女士", "13800000002", "sales1"),
    ("远航物流集团", "周先生", "13800000003", None),
]


def _demo_user(username, name, roles, department_codes, employee_no, pin, role_rows, departments, password_hash):
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, name=name, is_active=True)
        db.session.add(user)
    # Credentials are set once; a password or PIN changed since on the admin pages is kept.
    if not user.password_hash:
        user.password_hash = password_hash()
    if pin and not user.pin_hash:
        user.set_pin(pin)
    if user.employee_no != employee_no:
        user.employee_no = employee_no
    wanted_roles = [role_rows[code] for code in roles]
    if set(user.roles) != set(wanted_roles):
        user.roles = wanted_roles
    wanted_departments = [departments[code] for code in department_codes]
    if set(user.departments) != set(wanted_departments):
        user.departments = wanted_departments
    return user


def load_demo() -> str:
    role_rows = {role.code: role for role in db.session.scalars(select(Role))}
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    processes = {p.code: p for p in db.session.scalars(select(Process))}
    password_hash = functools.cache(lambda: hash_secret(DEMO_PASSWORD))
    users = {spec[0]: _demo_user(*spec, role_rows, departments, password_hash) for spec in DEMO_USERS}
    db.session.flush()

    materials = {}
    for code, name, spec, unit, cutting in DEMO_MATERIALS:
        materials[code] = _upsert(Material, {"code": code},
                                  {"name": name, "specification": spec, "unit": unit, "need_cutting": cutting})
    db.session.flush()

    products = {}
    for code, name, spec, unit, price, process_codes, material_specs in DEMO_PRODUCTS:
        product = _upsert(Product, {"code": code},
                          {"name": name, "specification": spec, "unit": unit, "unit_price": Decimal(price)})
        db.session.flush()
        if not product.default_processes:
            product.default_processes = [ProductProcess(process=processes[c], sort_order=i)
                                         for i, c in enumerate(process_codes)]
        if not product.default_materials:
            product.default_materials = [
                ProductMaterial(material=materials[m], size=size, usage=usage, need_cutting=cut, sort_order=i)
                for i, (m, size, usage, cut) in enumerate(material_specs)
            ]
        products[code] = product
    db.session.flush()

    for code, kind, name, colours, foiling, links in DEMO_PLATES:
        plate = _upsert(Plate, {"code": code},
                        {"kind": kind, "base_code": code, "version": 1, "name": name, "cmyk_colors": colours,
                         "foiling_type": foiling})
        db.session.flush()
        if not plate.products:
            plate.products = [PlateProduct(product=products[p], imposition_quantity=n) for p, n in links]

    for name, contact, phone, salesperson in DEMO_CUSTOMERS:
        _upsert(Customer, {"name": name}, {
            "contact_person": contact, "phone": phone,
            "salesperson_id": users[salesperson].id if salesperson else None,
        })
    db.session.flush()

    # Workstations before the 施工单: planning is visible on first login (issue 23).
    from app.services.planning.demo import load_demo_planning

    load_demo_planning()
    try:
        from app.seed_workorders import load_demo_work_orders
    except ImportError:
        load_demo_work_orders = None
    if load_demo_work_orders is not None:
        # The history first: finishing its plate-making tasks completes those of every approved 施工单
        # using the same plate, which the demo's own open 施工单 must not be yet.
        from app.seed_history import load_demo_history

        load_demo_history()
        load_demo_work_orders()
    return demo_logins_text()


def demo_logins_text() -> str:
    lines = [f"演示账号（密码均为 {DEMO_PASSWORD}） / Demo logins (password {DEMO_PASSWORD}):",
             "  办公室登录 http://127.0.0.1:5000/login"]
    for username, name, roles, _departments, employee_no, pin in DEMO_USERS:
        role_text = "、".join(RoleCode.label_of(r) for r in roles)
        line = f"    {username:<15} {name:<6} {role_text}"
        if pin:
            line += f"   工位机: 工号 {employee_no} PIN {pin}"
        lines.append(line)
    lines.append("  工位机登录 http://127.0.0.1:5000/kiosk/login （工号 + PIN）")
    return "\n".join(lines)
