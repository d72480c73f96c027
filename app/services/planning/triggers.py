"""When to replan: just before every commit that changed a task or a 施工单, in that transaction.

Every state change of the plant already announces itself with an event held on the session
(app.realtime.events.publish: ``task.*`` and ``work_order.*``). Just before the commit (and before
the events are sent, so the ``planning.*`` events published here go out with the others) this
listener replans the plant and refreshes the projections of the 施工单 those events name: a report,
start, pause, resume, completion, cancellation, dispatch, approval, a move between departments, a
施工单 paused, resumed or cancelled, a delivery date changed — one place instead of a call in each service.

Services that change planning inputs without such an event call ``mark_plan_changed`` (a queue
move, the admin pages of workstations and the calendar) or ``mark_work_orders``. An event marked
``moves_plan: False`` (a claim, an assignment: only the task's operator changed, which the planner
does not read; the roll-up of a task's change to its step and 施工单, whose statuses it does not read
either, beside the task's own event) asks for nothing: a third of the floor's actions no longer replan
the plant.
A failure of the planner fails the commit: the plan is never silently out of date.
"""
from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.realtime.events import _PENDING

_CHANGED = "planning_changed"
_WORK_ORDERS = "planning_work_orders"
_RUNNING = "planning_running"
# Events of these kinds cannot move the plan (or are the planner's own).
_IGNORED = ("planning.", "notification", "session.")


def _session(session: Session | None) -> Session:
    from app.extensions import db

    return session or db.session()


def mark_plan_changed(session: Session | None = None) -> None:
    """The plan's inputs changed without a task or 施工单 event: replan before the commit."""
    _session(session).info[_CHANGED] = True


def mark_work_orders(work_order_ids, session: Session | None = None) -> None:
    """Refresh these 施工单's projections before the commit (their delivery date, say, changed)."""
    _session(session).info.setdefault(_WORK_ORDERS, set()).update(w for w in work_order_ids if w is not None)


def _collect(session: Session) -> tuple[bool, set[int], set[int] | None]:
    """(whether anything asked for a replan, the 施工单 named, the tasks named — None when something
    other than a task's own event asked: then any planning input may have changed)."""
    marked = bool(session.info.pop(_CHANGED, False))
    changed = marked
    work_orders = set(session.info.pop(_WORK_ORDERS, set()))
    tasks: set[int] | None = None if marked else set()
    for entry in session.info.get(_PENDING, ()):
        payload = entry.payload
        if payload["type"].startswith(_IGNORED) or payload.get("moves_plan") is False:
            continue
        entry.complete()
        changed = True
        if payload.get("work_order_id"):
            work_orders.add(payload["work_order_id"])
        if tasks is not None:
            tasks = tasks | {payload["task_id"]} if payload["type"].startswith("task.") and payload["task_id"] else None
    return changed or bool(work_orders), work_orders, tasks


@sa_event.listens_for(Session, "before_commit", insert=True)
def _before_commit(session: Session) -> None:
    if session.info.get(_RUNNING):
        return
    if not (session.info.get(_PENDING) or session.info.get(_CHANGED) or session.info.get(_WORK_ORDERS)):
        return
    from flask import has_app_context

    if not has_app_context() or session is not _session(None):
        return  # only the application's own session plans (not a script's or a listener's)
    from app.services.planning import engine

    session.info[_RUNNING] = True
    try:
        session.flush()  # new tasks get their ids
        changed, work_orders, tasks = _collect(session)
        # Planning switched off: stop before looking for workstations (the settings are read once per request).
        if not changed or not engine.enabled() or not engine.any_workstation():
            return
        engine.replan(work_orders, task_ids=tasks)
    finally:
        session.info.pop(_RUNNING, None)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_marks(session: Session, transaction) -> None:
    # A rolled-back change leaves nothing to replan; a later, unrelated commit of the same session
    # (tests and the shell share one) must not replan for it.
    if transaction.parent is None and not session.info.get(_RUNNING):
        for key in (_CHANGED, _WORK_ORDERS):
            session.info.pop(key, None)
