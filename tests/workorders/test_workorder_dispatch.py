"""Department dispatch (DOMAIN.md §6): the one function the approval and the rules page share."""
import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AssignmentRule, Department
from app.services.dispatch.auto_dispatch import choose_department, department_loads, eligible_rules
from factories import TaskFactory, WorkOrderStepFactory
from support.workorders import build_plant


@pytest.fixture()
def plant(seeded):
    return build_plant(seeded)


def rule(process, department_code):
    return db.session.scalar(select(AssignmentRule).join(Department).where(
        AssignmentRule.process_id == process.id, Department.code == department_code))


def add_open_tasks(plant, department, count, status="pending"):
    step = WorkOrderStepFactory(process=plant.process("PRT"))
    for _ in range(count):
        TaskFactory(step=step, status=status, department=department)


@pytest.mark.parametrize("code,expected", [
    ("CTP", "design"), ("PRT", "printing"), ("LAM_G", "printing"), ("LAM_M", "printing"), ("UV", "printing"),
    ("DIE", "die_cutting"), ("PACK", "packaging"), ("CUT", "cutting"), ("FOIL_S", "die_cutting"),
])
def test_the_preset_rules_choose_the_main_department(plant, code, expected):
    assert choose_department(plant.process(code)) == plant.department(expected).id


def test_an_explicit_department_wins_unless_it_is_inactive(plant):
    printing, outsourcing = plant.process("PRT"), plant.department("outsourcing")
    assert choose_department(printing, outsourcing) == outsourcing.id
    outsourcing.is_active = False
    db.session.commit()
    assert choose_department(printing, outsourcing.id) == plant.department("printing").id


def test_an_inactive_department_a_disabled_rule_or_a_department_not_handling_the_process_is_skipped(plant):
    printing = plant.process("PRT")
    plant.department("printing").is_active = False
    db.session.commit()
    assert choose_department(printing) == plant.department("outsourcing").id
    rule(printing, "outsourcing").is_active = False
    db.session.commit()
    assert choose_department(printing) == plant.department("production").id
    plant.department("production").processes = []
    db.session.commit()
    assert choose_department(printing) is None


def test_equal_priorities_go_to_the_department_with_the_fewest_open_tasks(plant):
    printing = plant.process("PRT")
    db.session.execute(update(AssignmentRule).where(AssignmentRule.id == rule(printing, "outsourcing").id)
                       .values(priority=90))
    db.session.commit()
    # Same priority and no load: the department listed first (sort order) wins.
    assert choose_department(printing) == plant.department("printing").id
    add_open_tasks(plant, plant.department("printing"), 2)
    add_open_tasks(plant, plant.department("outsourcing"), 1, status="paused")
    add_open_tasks(plant, plant.department("outsourcing"), 3, status="completed")  # not open: no load
    assert department_loads() == {plant.department("printing").id: 2, plant.department("outsourcing").id: 1}
    assert choose_department(printing) == plant.department("outsourcing").id
    assert choose_department(printing, loads={plant.department("outsourcing").id: 5}) == plant.department("printing").id


def test_eligible_rules_are_fetched_once_for_many_processes(plant):
    codes = ("PRT", "LAM_G", "CTP")
    rules = eligible_rules(plant.process(code).id for code in codes)
    assert [c.priority for c in rules[plant.process("PRT").id]] == [90, 15, 5]
    assert [c.priority for c in rules[plant.process("CTP").id]] == [100]
