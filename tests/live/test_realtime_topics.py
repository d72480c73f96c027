"""Which page topics a socket may join: every kind of topic × every role."""
import pytest

from app.realtime import topics
from factories import CustomerFactory, DepartmentFactory, TaskFactory, UserFactory, WorkOrderFactory


@pytest.fixture()
def world(db):
    mine, other = DepartmentFactory(), DepartmentFactory()
    child = DepartmentFactory(parent=mine)
    users = {
        "admin": UserFactory(roles=["admin"]),
        "supervisor": UserFactory(roles=["supervisor"], departments=[mine]),
        "operator": UserFactory(roles=["operator"], departments=[mine]),
        "maker": UserFactory(roles=["maker"]),
        "salesperson": UserFactory(roles=["salesperson"]),
        "designer": UserFactory(roles=["designer"]),
    }
    own_order = WorkOrderFactory(created_by=users["maker"], customer=CustomerFactory(salesperson=users["salesperson"]))
    foreign_order = WorkOrderFactory()
    my_task = TaskFactory(work_order=own_order, step__work_order=own_order, department=mine,
                          operator=users["operator"])
    foreign_task = TaskFactory(work_order=foreign_order, step__work_order=foreign_order, department=other)
    return {"users": users, "mine": mine, "other": other, "child": child, "own_order": own_order,
            "foreign_order": foreign_order, "my_task": my_task, "foreign_task": foreign_task}


TOPICS = ["dept:mine", "dept:other", "plan:mine", "plan:other", "board:mine", "board:other", "board:child", "wo:own_order", "wo:foreign_order", "task:my_task", "task:foreign_task",
          "all", "pool", "user:self", "user:other", "nonsense", "wo:99999"]

EXPECTED = {  # role → the topics above it may join
    "admin": {"dept:mine", "dept:other", "plan:mine", "plan:other", "board:mine", "board:other", "board:child", "wo:own_order", "wo:foreign_order", "task:my_task", "task:foreign_task",
              "all", "pool", "user:self"},
    # The 主管看板's channel names operators' columns: only the board's own viewers (DOMAIN.md: those who lead it).
    "supervisor": {"dept:mine", "dept:other", "plan:mine", "plan:other", "board:mine", "board:child", "wo:own_order", "wo:foreign_order", "task:my_task",
                   "task:foreign_task", "all", "pool", "user:self"},
    # A department's plan: every desk role may open the 排产 page; an operator their own department's (a bound kiosk).
    "operator": {"dept:mine", "plan:mine", "task:my_task", "user:self"},
    "maker": {"plan:mine", "plan:other", "wo:own_order", "task:my_task", "user:self"},
    "salesperson": {"plan:mine", "plan:other", "wo:own_order", "task:my_task", "user:self"},
    "designer": {"plan:mine", "plan:other", "wo:own_order", "wo:foreign_order", "user:self"},
}


def concrete(topic, world, user):
    kind, _, name = topic.partition(":")
    if kind == "user":
        return f"user:{user.id if name == 'self' else user.id + 1000}"
    if name in world and hasattr(world[name], "id"):
        return f"{kind}:{world[name].id}"
    return topic


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_topic_matrix(world, role):
    user = world["users"][role]
    allowed = {topic for topic in TOPICS if topics.allowed(user, concrete(topic, world, user))}
    assert allowed == EXPECTED[role]


def test_default_topics_include_led_child_departments(world):
    supervisor = world["users"]["supervisor"]
    assert topics.default_topics(supervisor) == {
        f"user:{supervisor.id}", f"dept:{world['mine'].id}", f"dept:{world['child'].id}"}


def test_requested_topics_are_parsed_deduplicated_and_capped():
    raw = "dept:1, dept:1 task:2\nall " + " ".join(f"task:{n}" for n in range(200))
    parsed = topics.parse(raw)
    assert parsed[:3] == ["dept:1", "task:2", "all"]
    assert len(parsed) == topics.MAX_REQUESTED_TOPICS
