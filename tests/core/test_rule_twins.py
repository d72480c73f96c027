"""Every rule of app/rules/ agrees with its SQL twin on random plants (hypothesis).

Each example builds a small plant — departments (some under others), people with random roles,
departments and active flags, customers with or without a salesperson, 施工单 in every approval and
production status made by anyone (or nobody), tasks in every status, department and holder — and
asks each rule both ways: the predicate of every (person, row) pair must be true exactly of the
rows the query selects. The plant is built in one transaction that is rolled back afterwards.

The plants are small and dense (few departments, mostly one role each) so that coincidences such
as "an operator of this department and a draft task in it" come up in nearly every run: a twin
broken on purpose (one condition left out of a query) fails here within the examples.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import scoped_session, sessionmaker

import factories as f
from app.enums import ApprovalStatus, RoleCode, TaskStatus, WorkOrderStatus
from app.models import Task, WorkOrder
from app.rules.task_claiming import CLAIMABLE_WORK_ORDER_CONDITIONS, can_claim_task, claimable_task_conditions
from app.rules.task_visibility import can_see_task, visible_tasks_where
from app.rules.workorder_approvers import approvable_workorders_clause, approver_ids, can_approve_workorder
from app.rules.workorder_visibility import can_see_workorder, visible_workorders_clause
from app.services.core import reference
from app.services.core import settings as plant_settings

# The roles that see everything last: hypothesis leans towards the first elements, and a plant of
# admins hides every rule but theirs.
ROLES = sorted(RoleCode.values(), key=("operator", "salesperson", "maker", "designer", "supervisor", "admin").index)


@dataclass
class PlantPlan:
    parents: list  # department i → index of its parent among the earlier ones, or None
    people: list  # (roles, department indexes, active)
    salespeople: list  # customer → index of a person, or None
    work_orders: list  # (customer, creator or None, approval status, production status)
    tasks: list  # (work order, status, department or None, holder or None)


@st.composite
def plants(draw) -> PlantPlan:
    departments = draw(st.integers(1, 2))
    parents = [draw(st.none() | st.integers(0, i - 1)) if i else None for i in range(departments)]
    # Mostly one role each (two roles that see everything would hide the rest), mostly in a department.
    people = draw(st.lists(st.tuples(
        st.sets(st.sampled_from(ROLES), min_size=1, max_size=1) | st.sets(st.sampled_from(ROLES), max_size=3),
        st.sets(st.integers(0, departments - 1), min_size=1, max_size=2) | st.just(set()),
        st.just(True) | st.booleans()), min_size=3, max_size=8))
    person = st.integers(0, len(people) - 1)
    salespeople = draw(st.lists(st.none() | person, min_size=1, max_size=3))
    # Half of them approved: only approved 施工单 have claimable tasks.
    approval = st.just("approved") | st.sampled_from(ApprovalStatus.values())
    work_orders = draw(st.lists(st.tuples(
        st.integers(0, len(salespeople) - 1), st.none() | person, approval, st.sampled_from(WorkOrderStatus.values())),
        min_size=2, max_size=5))
    tasks = draw(st.lists(st.tuples(
        st.integers(0, len(work_orders) - 1), st.sampled_from(TaskStatus.values()),
        st.integers(0, departments - 1) | st.none(), st.none() | person), min_size=3, max_size=12))
    return PlantPlan(parents, people, salespeople, work_orders, tasks)


def every_case() -> PlantPlan:
    """One plant with every combination that matters: a person of each role (and a few mixed,
    inactive or department-less), a 施工单 in each approval × production status made by different
    people, and tasks of every status in and out of the departments, held and not. Run first, so a
    twin broken on one condition fails whatever the random plants turn out to be."""
    people = [({role}, {0}, True) for role in ROLES]
    maker, salesperson, operator = (ROLES.index(role) for role in ("maker", "salesperson", "operator"))
    people += [({"operator"}, {1}, True), ({"operator"}, set(), True), ({"salesperson"}, {0}, False),
               ({"maker", "operator"}, {0}, True), (set(), {0}, True)]
    inactive_salesperson = len(ROLES) + 2
    creators = (maker, salesperson, None, inactive_salesperson)
    work_orders = [(i % 3, creators[i % len(creators)], approval, status)
                   for i, (approval, status) in enumerate(
                       (a, s) for a in ApprovalStatus.values() for s in WorkOrderStatus.values())]
    tasks = []
    for w in range(len(work_orders)):
        tasks += [(w, status, 0, None) for status in TaskStatus.values()]
        tasks += [(w, "pending", 1, None), (w, "pending", None, None), (w, "in_progress", 0, operator),
                  (w, "draft", 1, operator)]
    return PlantPlan([None, 0], people, [salesperson, None, inactive_salesperson], work_orders, tasks)


@dataclass
class Plant:
    people: list
    work_orders: list
    tasks: list


def build(plan: PlantPlan) -> Plant:
    """The plant, built with the factories and written in one flush (no commit: it is rolled back)."""
    from app.extensions import db

    departments = []
    for parent in plan.parents:
        departments.append(f.DepartmentFactory.build(parent=departments[parent] if parent is not None else None))
    people = [f.UserFactory.build(roles=sorted(roles), departments=[departments[d] for d in sorted(depts)],
                                  is_active=active)
              for roles, depts, active in plan.people]
    customers = [f.CustomerFactory.build(salesperson=people[p] if p is not None else None) for p in plan.salespeople]
    work_orders = [f.WorkOrderFactory.build(customer=customers[c], created_by=people[p] if p is not None else None,
                                            approval_status=approval, status=status)
                   for c, p, approval, status in plan.work_orders]
    process = f.ProcessFactory.build()
    steps = {}
    tasks = []
    for w, status, department, holder in plan.tasks:
        if w not in steps:
            steps[w] = f.WorkOrderStepFactory.build(work_order=work_orders[w], process=process)
        tasks.append(f.TaskFactory.build(step=steps[w], status=status,
                                         department=departments[department] if department is not None else None,
                                         operator=people[holder] if holder is not None else None))
    db.session.add_all([*departments, *people, *customers, *work_orders, process, *steps.values(), *tasks])
    db.session.flush()
    return Plant(people, work_orders, tasks)


@contextmanager
def rolled_back(database):
    """``database.session`` inside one outer transaction, rolled back at the end (a commit inside
    only releases a savepoint). pysqlite would begin (and end) transactions on its own, so
    on SQLite the connection is switched to explicit BEGIN for the while."""
    connection = database.engine.connect()
    raw = connection.connection.driver_connection
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        previous_isolation = raw.isolation_level
        raw.isolation_level = None
    outer = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    original = database.session
    database.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
    try:
        yield
    finally:
        database.session.remove()
        database.session = original
        outer.rollback()
        if sqlite:
            raw.isolation_level = previous_isolation
        connection.close()
        reference.forget()
        plant_settings.forget_cached_values()


def _ids(statement) -> set[int]:
    from app.extensions import db

    return set(db.session.scalars(statement))


def _describe(person) -> str:
    return f"person {person.id} roles={sorted(person.role_codes)} departments={sorted(person.department_ids)} " \
           f"active={person.is_active}"


def check_workorder_visibility(plant: Plant) -> None:
    for person in plant.people:
        expected = {wo.id for wo in plant.work_orders if can_see_workorder(person, wo)}
        assert _ids(select(WorkOrder.id).where(visible_workorders_clause(person))) == expected, _describe(person)


def check_task_visibility(plant: Plant) -> None:
    for person in plant.people:
        where = visible_tasks_where(person)
        statement = select(Task.id).select_from(Task)
        if where.needs_work_order:
            statement = statement.join(WorkOrder, Task.work_order_id == WorkOrder.id)
        expected = {task.id for task in plant.tasks if can_see_task(person, task)}
        assert _ids(statement.where(*where.conditions)) == expected, _describe(person)


def check_workorder_approvers(plant: Plant) -> None:
    for wo in plant.work_orders:
        expected = {person.id for person in plant.people if person.is_active and can_approve_workorder(person, wo)}
        assert approver_ids(wo) == expected, f"approvers of 施工单 {wo.id}"
    for person in plant.people:
        expected = {wo.id for wo in plant.work_orders if can_approve_workorder(person, wo)}
        assert _ids(select(WorkOrder.id).where(approvable_workorders_clause(person))) == expected, _describe(person)


def check_task_claiming(plant: Plant) -> None:
    for person in plant.people:
        statement = (select(Task.id).join(WorkOrder, Task.work_order_id == WorkOrder.id)
                     .where(*claimable_task_conditions(person), *CLAIMABLE_WORK_ORDER_CONDITIONS))
        expected = {task.id for task in plant.tasks if can_claim_task(person, task)}
        assert _ids(statement) == expected, _describe(person)


TWINS = {
    "workorder_visibility": check_workorder_visibility,
    "task_visibility": check_task_visibility,
    "workorder_approvers": check_workorder_approvers,
    "task_claiming": check_task_claiming,
}


# No shrinking: each step is a plant in the database and it took minutes; a failure names the twin
# and the person, and hypothesis prints the whole (small) plant. No example database in the worktree.
@settings(max_examples=30, deadline=None, phases=(Phase.explicit, Phase.generate), database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=plants())
@example(plan=every_case())
def test_every_rule_agrees_with_its_sql_twin(db, plan):
    with rolled_back(db):
        plant = build(plan)
        for name, check in TWINS.items():
            try:
                check(plant)
            except AssertionError as error:
                raise AssertionError(f"{name}: the predicate and the query disagree ({error})") from None


def test_a_plant_is_gone_after_its_example(db):
    """The examples leave nothing behind: each plant is rolled back."""
    with rolled_back(db):
        build(PlantPlan([None], [({"operator"}, {0}, True)], [0], [(0, 0, "approved", "pending")],
                        [(0, "pending", 0, None)]))
        assert _ids(select(Task.id))
    assert not _ids(select(Task.id)) and not _ids(select(WorkOrder.id))
