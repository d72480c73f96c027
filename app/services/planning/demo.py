"""The demo plant's workstations and calendar (`flask demo`, `flask demo --scale N`): planning is
visible on first login. Idempotent: a workstation whose code exists is left as it is."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Department, Process, Setting, Workstation, WorkstationProcess
from app.services.planning import calendar as plant_calendar
from app.services.planning import triggers
from app.utils.timeutil import plant_today

# department code, workstation code, name, [(process code, units per hour, setup minutes)]
DEMO_WORKSTATIONS = [
    ("cutting", "CUT-01", "波拉切纸机 1号", [("CUT", 6000, 15), ("TRIM", 5000, 15), ("SCORE", 3000, 20)]),
    ("cutting", "CUT-02", "波拉切纸机 2号", [("CUT", 6000, 15), ("TRIM", 5000, 15)]),
    ("printing", "PRT-01", "海德堡四色机 1号", [("PRT", 8000, 30), ("VAN", 7000, 20)]),
    ("printing", "PRT-02", "海德堡四色机 2号", [("PRT", 8000, 30), ("VAN", 7000, 20)]),
    ("printing", "LAM-01", "自动覆膜机", [("LAM_G", 3000, 20), ("LAM_M", 3000, 20)]),
    ("printing", "UV-01", "UV 上光机", [("UV", 4000, 20)]),
    ("die_cutting", "DIE-01", "博斯特模切机 1号", [("DIE", 4000, 40), ("EMB", 3500, 40), ("SCORE", 4000, 30)]),
    ("die_cutting", "DIE-02", "博斯特模切机 2号", [("DIE", 4000, 40), ("EMB", 3500, 40)]),
    ("die_cutting", "FOIL-01", "自动烫金机", [("FOIL_G", 3000, 30), ("FOIL_S", 3000, 30)]),
    ("packaging", "BOX-01", "全自动糊盒机", [("BOX", 6000, 30), ("GLUE", 5000, 20), ("WINDOW", 3000, 30)]),
    ("packaging", "PACK-01", "包装线", [("PACK", 2000, 10), ("STAPLE", 1500, 10), ("TEX", 1500, 10),
                                       ("LAM_B", 1200, 20), ("MOUNT", 1000, 20)]),
]
# The scaled plant (`--scale 1`: 180 operators in four workshops) runs more machines: copies of each
# workshop's main machine, this many at scale 1.
SCALED_EXTRA = {"cutting": ("CUT-01", 6), "printing": ("PRT-01", 8), "die_cutting": ("DIE-01", 8),
                "packaging": ("BOX-01", 6)}


def load_demo_planning() -> int:
    """The demo workstations and a calendar (Mon–Sat 08:00–12:00, 13:00–17:00; New Year's Day off).
    Returns how many workstations were added; the whole plant is replanned before the commit."""
    departments = {d.code: d.id for d in db.session.scalars(select(Department))}
    processes = {p.code: p.id for p in db.session.scalars(select(Process))}
    existing = set(db.session.scalars(select(Workstation.code)))
    added = 0
    for department, code, name, capabilities in DEMO_WORKSTATIONS:
        if code in existing or department not in departments:
            continue
        db.session.add(_station(departments[department], code, name, capabilities, processes))
        added += 1
    if db.session.get(Setting, plant_calendar.CALENDAR_KEY) is None:
        new_year = date(plant_today().year + 1, 1, 1)
        calendar = plant_calendar.PlantCalendar.from_hours(plant_calendar.DEFAULT_HOURS, {new_year})
        db.session.add(Setting(key=plant_calendar.CALENDAR_KEY, value=plant_calendar.to_stored(calendar)))
    db.session.flush()
    triggers.mark_plan_changed()
    return added


def add_scaled_workstations(scale: float) -> int:
    """More machines for the scaled plant, named ``<code>-S<n>``; idempotent."""
    departments = {d.code: d.id for d in db.session.scalars(select(Department))}
    processes = {p.code: p.id for p in db.session.scalars(select(Process))}
    existing = set(db.session.scalars(select(Workstation.code)))
    specs = {code: (department, name, capabilities) for department, code, name, capabilities in DEMO_WORKSTATIONS}
    added = 0
    for department, (model, count) in SCALED_EXTRA.items():
        if department not in departments:
            continue
        _, name, capabilities = specs[model]
        for n in range(1, max(0, round(count * scale)) + 1):
            code = f"{model}-S{n:02d}"
            if code not in existing:
                db.session.add(_station(departments[department], code, f"{name[:-2]} S{n}号", capabilities, processes))
                added += 1
    db.session.flush()
    triggers.mark_plan_changed()
    return added


def _station(department_id: int, code: str, name: str, capabilities, processes: dict) -> Workstation:
    return Workstation(department_id=department_id, code=code, name=name, is_active=True, capabilities=[
        WorkstationProcess(process_id=processes[process], rate_per_hour=Decimal(rate), setup_minutes=setup)
        for process, rate, setup in capabilities if process in processes])
