"""Dispatch with the preset rules, operator auto-selection, and the preview == dispatch property."""
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, update

import factories as f
from app.extensions import db
from app.models import AssignmentRule, AuditLog, Department, Process
from app.services.core import settings as plant_settings
from app.services.dispatch import auto_dispatch as dispatch
from app.services.dispatch import operator_selection
from app.services.dispatch import rules as dispatch_rules


def process(code):
    return db.session.scalar(select(Process).where(Process.code == code))


def department(name):
    return db.session.scalar(select(Department).where(Department.name == name))


def new_task(code, **kwargs):
    return f.TaskFactory(step=f.WorkOrderStepFactory(process=process(code)), **kwargs)


def dispatched_department(code):
    task = new_task(code)
    chosen = dispatch.dispatch_tasks([task], None)[task.id]
    return db.session.get(Department, chosen).name if chosen else None


PRESET_CHOICE = {
    "CTP": "设计部", "CUT": "裁切车间", "PRT": "印刷车间", "VAN": "印刷车间",
    "LAM_G": "印刷车间", "LAM_M": "印刷车间", "UV": "印刷车间",
    "FOIL_G": "模切车间", "FOIL_S": "模切车间", "EMB": "模切车间", "DIE": "模切车间",
    "TEX": "包装车间", "LAM_B": "包装车间", "MOUNT": "包装车间", "GLUE": "包装车间", "BOX": "包装车间",
    "WINDOW": "包装车间", "STAPLE": "包装车间", "PACK": "包装车间", "SCORE": "裁切车间", "TRIM": "裁切车间",
}


def test_every_preset_process_goes_to_its_department_with_the_preset_rules(seeded):
    assert {p.code for p in db.session.scalars(select(Process))} == set(PRESET_CHOICE)
    assert {code: dispatched_department(code) for code in PRESET_CHOICE} == PRESET_CHOICE


def test_the_preview_shows_the_same_departments(seeded):
    shown = {p.code: (d.name if d else None) for p, d in dispatch_rules.preview()}
    assert shown == PRESET_CHOICE


def rule_of(code, department_name):
    return db.session.scalar(select(AssignmentRule).where(
        AssignmentRule.process_id == process(code).id, AssignmentRule.department_id == department(department_name).id))


def test_equal_priority_goes_to_the_least_loaded_department_and_is_marked_recommended(seeded):
    rule_of("PRT", "生产部").priority = 90
    db.session.flush()
    for _ in range(2):
        new_task("PRT", department=department("印刷车间"))
    db.session.flush()

    assert dispatched_department("PRT") == "生产部"
    cards = {card.rule.department.name: card.recommended for card in dispatch_rules.rule_cards(process("PRT"))}
    assert cards["生产部"] is True and cards["印刷车间"] is False


@pytest.mark.parametrize("disable", ["rule", "department", "handling"])
def test_disabled_rule_inactive_department_and_not_handling_are_skipped(seeded, disable):
    printing = department("印刷车间")
    if disable == "rule":
        rule_of("PRT", "印刷车间").is_active = False
    elif disable == "department":
        printing.is_active = False
    else:
        printing.processes.remove(process("PRT"))
    db.session.flush()
    assert dispatched_department("PRT") == "外协车间"  # the next PRT rule (priority 15)


def test_auto_dispatch_off_leaves_tasks_in_the_pool(seeded):
    plant_settings.update(None, {"auto_dispatch_enabled": False})
    task = new_task("PRT")
    assert dispatch.dispatch_tasks([task], None) == {task.id: None}
    assert task.department_id is None
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.task_id == task.id)) is None


# ---------------------------------------------------------------- operator auto-selection

@pytest.fixture()
def printing_crew(seeded):
    printing = department("印刷车间")
    crew = [f.UserFactory(name=f"师傅{i}", roles=["operator"], departments=[printing]) for i in range(3)]
    f.UserFactory(name="停用", roles=["operator"], departments=[printing], is_active=False)
    f.UserFactory(name="主管", roles=["supervisor"], departments=[printing])
    db.session.flush()
    return crew


def use_strategy(strategy):
    rule_of("PRT", "印刷车间").operator_strategy = strategy
    db.session.flush()


def dispatch_one():
    task = new_task("PRT")
    dispatch.dispatch_tasks([task], None)
    return task


def test_manual_strategy_leaves_the_task_claimable(printing_crew):
    task = dispatch_one()
    assert (task.department.name, task.operator_id) == ("印刷车间", None)


def test_least_tasks_picks_the_operator_with_fewest_open_tasks(printing_crew):
    use_strategy("least_tasks")
    for holder in printing_crew[:2]:
        new_task("PRT", department=department("印刷车间"), operator=holder)
    db.session.flush()
    task = dispatch_one()
    assert task.operator_id == printing_crew[2].id
    row = db.session.scalar(select(AuditLog).where(AuditLog.task_id == task.id, AuditLog.action == "assign"))
    assert row.detail == {"to_operator_id": printing_crew[2].id, "strategy": "least_tasks", "auto": True}


def test_round_robin_rotates_and_remembers_in_the_rule(printing_crew):
    use_strategy("round_robin")
    chosen = [dispatch_one().operator_id for _ in range(4)]
    ids = [u.id for u in printing_crew]
    assert chosen == ids + ids[:1]
    assert rule_of("PRT", "印刷车间").round_robin_last_user_id == ids[0]


def test_first_available_skips_operators_at_the_cap(printing_crew):
    use_strategy("first_available")
    plant_settings.update(None, {"operator_task_cap": 1})
    new_task("PRT", department=department("印刷车间"), operator=printing_crew[0])
    db.session.flush()
    assert dispatch_one().operator_id == printing_crew[1].id


def test_random_only_picks_operators_below_the_cap(printing_crew):
    use_strategy("random")
    plant_settings.update(None, {"operator_task_cap": 1})
    for holder in printing_crew[:2]:
        new_task("PRT", department=department("印刷车间"), operator=holder)
    db.session.flush()
    assert dispatch_one().operator_id == printing_crew[2].id


def test_everyone_at_the_cap_leaves_the_task_claimable(printing_crew):
    use_strategy("least_tasks")
    plant_settings.update(None, {"operator_task_cap": 1})
    for holder in printing_crew:
        new_task("PRT", department=department("印刷车间"), operator=holder)
    db.session.flush()
    assert dispatch_one().operator_id is None


def test_department_operators_are_active_members_with_the_operator_role(printing_crew):
    names = [u.name for u in operator_selection.department_operators(department("印刷车间").id)]
    assert names == ["师傅0", "师傅1", "师傅2"]


# ---------------------------------------------------------------- preview == dispatch, under random rules

rule_changes = st.lists(st.tuples(st.integers(0, 55), st.integers(0, 100), st.booleans()), min_size=1, max_size=25)
load_changes = st.lists(st.tuples(st.integers(0, 10), st.integers(0, 3)), max_size=8)


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=rule_changes, loads=load_changes)
def test_preview_equals_dispatch_for_every_process(seeded, changes, loads):
    """Each example leaves its rules and loads behind: the next one starts from yet another plant."""
    rule_ids = list(db.session.scalars(select(AssignmentRule.id).order_by(AssignmentRule.id)))
    for index, priority, enabled in changes:
        db.session.execute(update(AssignmentRule).where(AssignmentRule.id == rule_ids[index % len(rule_ids)])
                           .values(priority=priority, is_active=enabled))
    departments = list(db.session.scalars(select(Department).order_by(Department.id)))
    for index, count in loads:
        for _ in range(count):
            new_task("PRT", department=departments[index % len(departments)])
    db.session.flush()
    db.session.expire_all()

    previewed = {p.code: (d.id if d else None) for p, d in dispatch_rules.preview()}
    actual = {}
    for code in previewed:
        task = new_task(code)
        actual[code] = dispatch.dispatch_tasks([task], None)[task.id]
        # Back to the pool, so the next process sees the loads the preview saw.
        task.department_id = None
        db.session.flush()
    assert previewed == actual
