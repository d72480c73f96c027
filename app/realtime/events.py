"""Events announce committed changes (DESIGN.md §3, docs/LIVE.md).

Services call ``publish()`` inside their transaction; the event is held on the session until
the commit. Exactly one delivery path per backend:

- PostgreSQL: just before the commit the held events are sent with ``pg_notify`` on the same
  connection, inside the same transaction — PostgreSQL delivers them only if the commit succeeds,
  to the ``LISTEN`` thread of every worker process (app/realtime/listener.py), which calls
  ``deliver()``. Nothing is delivered in-process after the commit, so no event arrives twice.
- SQLite (one process): ``deliver()`` is called in-process after the commit succeeds.

A rolled-back transaction never announces itself on either backend.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.enums import OPEN_TASK_STATUSES
from app.utils.timeutil import utcnow

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "wo_events"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; larger events are split by user.
MAX_NOTIFY_BYTES = 7000
# Channels every task/施工单 event also goes to (whole-plant pages: 任务中心, 待分派).
GLOBAL_CHANNELS = ("all", "pool")
# The 主管看板 of a department (board:<id>): task and 施工单 events of it, with the parts they touch.
BOARD_PREFIX = "board:"
DEPARTMENT_PREFIX = "dept:"
# Not a change of the plant: every session of the person in ``user_ids`` older than ``generation``
# has ended (app/services/auth/sessions.py); the hub closes their sockets instead of sending a trigger.
SESSION_ENDED = "session.ended"

_PENDING = "pending_events"
# Task id -> (status, operator id) as the task was when this transaction first loaded it (the "before"
# of the claimable hint); cleared when the transaction ends.
_LOADED = "live_tasks_loaded"
# Set once this transaction has run a statement that may change rows (an UPDATE … RETURNING, a bulk
# UPDATE): a task loaded after it may already hold the change, so its before is unknown.
_WRITTEN = "live_tasks_written"
# The id of the last event this transaction announces, and of the last one the session's commits announced
# (last_committed_id()).
_COMMITTING = "live_committing_id"
_COMMITTED = "live_committed_id"
_UNKNOWN = object()
# Event id -> time.monotonic() when this process delivered it: a render begun later shows its change
# (app/shared_regions.py). The newest few thousand; an older id counts as never seen here.
_delivered: OrderedDict[str, float] = OrderedDict()
DELIVERIES_KEPT = 4096
_subscribers: list[Callable[[dict], None]] = []
_lock = threading.Lock()
_ids = itertools.count(1)


def publish(event_type: str, *, task=None, work_order=None, department_ids: Iterable[int | None] = (),
            user_ids: Iterable[int | None] = (), session: Session | None = None, **fields) -> dict:
    """Hold an event on the session; it is announced only if the transaction commits.

    The task's department and operator are added automatically (both as they are now and as
    they are at commit time), so a move or reassignment reaches the old and the new viewers
    when the caller also passes the old ones. ``fields`` are extra keys of the event's payload.
    """
    from app.extensions import db

    session = session or db.session()
    payload = {
        "id": f"{os.getpid()}-{next(_ids)}",
        "type": event_type,
        "task_id": None,
        "work_order_id": None,
        "department_ids": [],
        "user_ids": [],
        "at": utcnow().isoformat(),
        **fields,
    }
    entry = _PendingEvent(payload, task, work_order, department_ids, user_ids)
    entry.complete()
    session.info.setdefault(_PENDING, []).append(entry)
    return payload


class _PendingEvent:
    """An event and the objects it is about; ids of new rows are known only after the flush."""

    def __init__(self, payload: dict, task, work_order, department_ids, user_ids):
        self.payload = payload
        self.task = task
        self.work_order = work_order
        self.departments = {d for d in department_ids if d is not None}
        self.users = {u for u in user_ids if u is not None}

    def complete(self, session: Session | None = None) -> dict:
        task, work_order = self.task, self.work_order
        if task is not None:
            if task.department_id is not None:
                self.departments.add(task.department_id)
            if task.operator_id is not None:
                self.users.add(task.operator_id)
            if session is not None:
                self.payload["claimable"] = claimable_hint(session, task)
                if self.payload["claimable"] == "left":
                    self.payload["order"] = claimable_order(task.work_order)
        payload = self.payload
        payload["task_id"] = getattr(task, "id", None)
        payload["work_order_id"] = getattr(work_order, "id", None) or getattr(task, "work_order_id", None)
        payload["department_ids"] = sorted(self.departments)
        payload["user_ids"] = sorted(self.users)
        if task is not None and session is not None:
            payload["board_parts"] = board_parts(session, task, payload["department_ids"], payload["user_ids"])
        return payload


def _claimable(status, operator_id) -> bool:
    return status == "pending" and operator_id is None


def claimable_hint(session: Session, task) -> bool | str | None:
    """False when the event's task neither was (when this transaction loaded it) nor is (now) a pending task
    without an operator — so no kiosk's 可认领 list can have changed through it; ``"left"`` when it was and is
    no more (claimed, assigned, cancelled) — every such list changed only by losing that task's card; True
    when it is (new to the lists); None when the before is unknown (a task this transaction did not load: new,
    or loaded earlier).

    Sent with the event (``claimable``): a page may skip re-fetching a region that lists only such tasks, or
    drop the card itself (static/js/live.js, ``data-live-skip="claimable"``). It says no more than the
    viewer's own 可认领 list would show.
    """
    now = _claimable(task.status, task.operator_id)
    before = session.info.get(_LOADED, {}).get(getattr(task, "id", None))
    if before is None or before is _UNKNOWN:
        return True if now else None
    was = _claimable(*before)
    if was and not now:
        return "left"
    return now


# At most this many arriving tasks are named in an event (see claimable_arrivals); more are fetched.
MAX_ARRIVALS = 200


def claimable_order(work_order) -> list | None:
    """Where the tasks of ``work_order`` stand in a kiosk's 可认领 list, but for their ids: its priority rank and
    delivery date (cards.py ``_urgent_first``); None when the lists do not hold them (not approved, paused, done)."""
    from app.rules.task_claiming import place_in_lists, work_order_in_production

    if work_order is None or not work_order_in_production(work_order):
        return None
    return place_in_lists(work_order.priority, work_order.delivery_date)


def claimable_arrivals(work_order, tasks) -> dict | None:
    """The payload field ``claimable_arrived`` of an event that makes ``tasks`` of ``work_order`` (one 施工单: one
    place in the kiosk's order but for the id) new to the 可认领 lists — an approval: per department, the ids of
    those that are now claimable, and the 施工单's place (priority rank, delivery date). A list whose every card
    comes before them only counts them (static/js/live.js ``arrivedInPlace``). None when there are none or too
    many to name."""
    order = claimable_order(work_order)
    if order is None:
        return None
    by_department: dict[str, list[int]] = {}
    for task in tasks:
        if _claimable(task.status, task.operator_id) and task.department_id is not None:
            by_department.setdefault(str(task.department_id), []).append(task.id)
    if not by_department or sum(map(len, by_department.values())) > MAX_ARRIVALS:
        return None
    return {"order": order, "tasks": by_department}


def _unassigned(status, operator_id) -> bool:
    return status in OPEN_TASK_STATUSES and operator_id is None


def board_parts(session: Session, task, department_ids, user_ids) -> list[str]:
    """The parts of the 主管看板 of each department the event names that the change of this task may touch
    (docs/LIVE.md §6): ``<dept>:<operator id>`` — the columns of the operators it names (before and after),
    ``<dept>:none`` — the 未分配 column, when the task was or is open without an operator, and
    ``<dept>:head`` — the counts and the operators' loads, when its status or operator changed. A before this
    transaction did not load counts as anything. Sent only to sockets that joined ``board:<dept>`` (its
    viewers see all of it), so a board re-fetches only those parts (static/js/live.js ``data-live-part``)."""
    now = (task.status, task.operator_id)
    before = session.info.get(_LOADED, {}).get(getattr(task, "id", None))
    known = before is not None and before is not _UNKNOWN
    suffixes = [str(user) for user in user_ids]
    if not known or _unassigned(*before) or _unassigned(*now):
        suffixes.append("none")
    if not known or tuple(before) != now:
        suffixes.append("head")
    return sorted(f"{department}:{suffix}" for department in department_ids for suffix in suffixes)


def parts_for(payload: dict, topics) -> list[str] | None:
    """The board parts an event touches, as told to a socket on these of its channels: only those of the
    boards it joined (``board:<dept>``); None when the event names none (then every part may have changed)."""
    parts = payload.get("board_parts")
    if parts is None:
        return None
    boards = {topic[len(BOARD_PREFIX):] for topic in topics if topic.startswith(BOARD_PREFIX)}
    if not boards:
        return None
    return [part for part in parts if part.partition(":")[0] in boards]


def message_hints(payload: dict, topics) -> dict:
    """What a page may use to skip a region the change cannot touch (static/js/live.js), as told on ``topics``:
    ``claimable: false`` (nothing a kiosk's 可认领 list shows), ``claimable: "left"`` with the ``task`` whose card
    leaves those lists (to sockets told on a department's channel, whose kiosks list it) and its ``order`` when the
    lists hold its 施工单's tasks, ``claimable: "arrived"``
    with the ids of the tasks new to the lists of those departments (``arrived``) and their ``order``, and ``parts`` (the
    board parts it touches) to sockets of the boards only. Sent only when they allow a skip, so every other message is as it always was."""
    hints = {}
    claimable = payload.get("claimable")
    arrived = payload.get("claimable_arrived")
    departments = [topic[len(DEPARTMENT_PREFIX):] for topic in topics if topic.startswith(DEPARTMENT_PREFIX)]
    if claimable is False:
        hints["claimable"] = False
    elif claimable == "left" and departments:
        # The kiosks of the department: the task whose card leaves their 可认领 list (one they may see).
        hints.update(claimable="left", task=payload["task_id"])
        if payload.get("order"):  # its place: a list holding only cards before it just counts one less
            hints["order"] = payload["order"]
    elif arrived and departments:
        # The kiosks of these departments: the tasks new to their 可认领 lists (theirs only) and their place.
        hints.update(claimable="arrived", order=arrived["order"],
                     arrived=sorted(i for d in departments for i in arrived["tasks"].get(d, ())))
    parts = parts_for(payload, topics)
    if parts is not None:
        hints["parts"] = parts
    return hints


def _remember_loaded(task, context) -> None:
    """InstanceEvents.load of Task: the state the transaction started from (before any change of its own)."""
    session = context.session
    if session is not None:
        before = _UNKNOWN if session.info.get(_WRITTEN) else (task.status, task.operator_id)
        session.info.setdefault(_LOADED, {}).setdefault(task.id, before)


@sa_event.listens_for(Session, "do_orm_execute")
def _note_writes(state) -> None:
    if not state.is_select:
        state.session.info[_WRITTEN] = True


def watch_tasks(task_class) -> None:
    """Record each task's state when a transaction loads it (app/realtime/hub.py calls it at import)."""
    if not sa_event.contains(task_class, "load", _remember_loaded):
        sa_event.listen(task_class, "load", _remember_loaded)


def channels_of(payload: dict) -> set[str]:
    """The hub channels an event goes to (docs/LIVE.md lists them).

    ``work_order_ids`` (a field some events carry instead of one ``work_order_id``) reaches each of them."""
    channels = {f"user:{u}" for u in payload.get("user_ids", ())}
    channels.update(f"{DEPARTMENT_PREFIX}{d}" for d in payload.get("department_ids", ()))
    channels.update(f"plan:{d}" for d in payload.get("plan_department_ids", ()))
    work_order_ids = list(payload.get("work_order_ids") or ())
    if payload.get("work_order_id"):
        work_order_ids.append(payload["work_order_id"])
    if payload.get("task_id"):
        channels.add(f"task:{payload['task_id']}")
    channels.update(f"wo:{w}" for w in work_order_ids)
    if payload.get("task_id") or work_order_ids:
        channels.update(GLOBAL_CHANNELS)
        # The 主管看板 shows tasks and their 施工单, nothing else a department's events are about (planning.updated).
        channels.update(f"{BOARD_PREFIX}{d}" for d in payload.get("department_ids", ()))
    return channels


def subscribe(callback: Callable[[dict], None]) -> None:
    with _lock:
        if callback not in _subscribers:
            _subscribers.append(callback)


def unsubscribe(callback: Callable[[dict], None]) -> None:
    with _lock:
        if callback in _subscribers:
            _subscribers.remove(callback)


def deliver(payload: dict) -> None:
    """Hand a committed event to every subscriber of this process (the hub, tests).

    Its delivery time is noted first, before any socket can carry it to a page that then asks here."""
    with _lock:
        if payload.get("id"):
            _delivered[payload["id"]] = time.monotonic()
            while len(_delivered) > DELIVERIES_KEPT:
                _delivered.popitem(last=False)
        callbacks = list(_subscribers)
    for callback in callbacks:
        try:
            callback(payload)
        except Exception:  # one broken subscriber must not starve the others
            log.exception("event subscriber failed")


def delivered_at(event_id: str) -> float | None:
    """When (time.monotonic()) this process delivered the event, or None if it has not (or forgot it).

    Events reach every process in commit order (PostgreSQL delivers notifications so; SQLite has one
    process), so anything that begins after this moment sees the event's commit and every earlier one."""
    with _lock:
        return _delivered.get(event_id)


def last_committed_id(session: Session) -> str | None:
    """The id of the last event the session's commits announced since the last call (None: none did).

    Delivered after every earlier event of those commits, so a page that knows it knows them all."""
    return session.info.pop(_COMMITTED, None)


def notify_payloads(payload: dict) -> list[str]:
    """The JSON texts to NOTIFY for one event, split by its longest id list when too large for one."""
    encoded = json.dumps(payload, separators=(",", ":"))
    longest = max(("user_ids", "work_order_ids"), key=lambda name: len(payload.get(name) or ()))
    ids = payload.get(longest) or []
    if len(encoded.encode()) <= MAX_NOTIFY_BYTES or len(ids) < 2:
        return [encoded]
    half = len(ids) // 2
    return notify_payloads({**payload, longest: ids[:half]}) + notify_payloads({**payload, longest: ids[half:]})


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    entries = session.info.get(_PENDING)
    if not entries:
        return
    session.flush()  # new tasks and 施工单 get their ids
    for entry in entries:
        entry.complete(session)
    session.info[_COMMITTING] = entries[-1].payload["id"]
    if not _is_postgresql(session):
        return
    # NOTIFY inside the transaction: PostgreSQL delivers it on commit and drops it on rollback.
    session.info.pop(_PENDING, None)
    for entry in entries:
        for text_payload in notify_payloads(entry.payload):
            session.execute(text("SELECT pg_notify(:channel, :payload)"),
                            {"channel": NOTIFY_CHANNEL, "payload": text_payload})


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if _COMMITTING in session.info:
        session.info[_COMMITTED] = session.info.pop(_COMMITTING)
    for entry in session.info.pop(_PENDING, []):
        deliver(entry.payload)


@sa_event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    # Whatever is still held when the outermost transaction ends was rolled back or closed.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_COMMITTING, None)
        session.info.pop(_LOADED, None)
        session.info.pop(_WRITTEN, None)
