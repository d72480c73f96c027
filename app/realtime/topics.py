"""Which hub channels a socket may join (docs/LIVE.md lists the topics).

Every socket joins its user's channel and the channels of the departments the user belongs to
or leads. A page asks for more (its live regions' topics); each one is checked with the policy,
and anything not allowed is left out, never an error: the page keeps working, just without
live updates for a thing its viewer may not see.
"""
from __future__ import annotations

import re

from app.extensions import db
from app.models import Task, WorkOrder
from app.policy import can, led_department_ids, with_descendants

MAX_REQUESTED_TOPICS = 64
_TOPIC = re.compile(r"^(user|dept|plan|board|wo|task):([1-9][0-9]{0,9})$")
# Page channels that carry every task/施工单 event, and who may listen to them.
GLOBAL_TOPICS = {"all": "live.all", "pool": "dispatch.pool"}


def parse(raw: str | None) -> list[str]:
    """Topics from the query string: separated by spaces or commas, at most 64, duplicates dropped."""
    topics: list[str] = []
    for topic in re.split(r"[\s,]+", raw or ""):
        if topic and topic not in topics:
            topics.append(topic)
    return topics[:MAX_REQUESTED_TOPICS]


def default_topics(user) -> set[str]:
    departments = user.department_ids | led_department_ids(user)
    return {f"user:{user.id}"} | {f"dept:{d}" for d in departments}


def allowed(user, topic: str) -> bool:
    if topic in GLOBAL_TOPICS:
        return can(user, GLOBAL_TOPICS[topic])
    match = _TOPIC.match(topic)
    if match is None:
        return False
    kind, object_id = match.group(1), int(match.group(2))
    if kind == "user":
        return object_id == user.id
    if kind == "dept":
        return can(user, "department.watch", object_id)
    if kind == "plan":
        # A department's plan changed (ids only): whoever may open its 排产 page, and its own people (a
        # kiosk bound to one of its workstations).
        return can(user, "planning.view") or can(user, "department.watch", object_id)
    if kind == "board":
        # The 主管看板's channel: its events say which operators' columns changed, which only the board's
        # own viewers may learn (an admin any department's, a supervisor those they lead).
        return can(user, "supervisor.board") and (user.is_admin or object_id in led_department_ids(user))
    if kind == "wo":
        work_order = db.session.get(WorkOrder, object_id)
        return work_order is not None and can(user, "workorder.view", work_order)
    task = db.session.get(Task, object_id)
    return task is not None and can(user, "task.view", task)


def for_user(user, requested: list[str]) -> set[str]:
    return default_topics(user) | {topic for topic in requested if allowed(user, topic)}


def for_board(department) -> set[str]:
    """A token-only wall screen hears only its own department board's channels."""
    return {f"dept:{d}" for d in with_descendants([department.id])}
