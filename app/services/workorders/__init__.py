"""施工单: the life cycle (DOMAIN.md §2–§6) — create, edit with task sync, submit, approve with
dispatch, reject, resubmit, withdraw, pause, resume, cancel, delete — and draft task editing.

Every transition locks the 施工单 row, checks policy (the actor may take this action), the version
the user saw and the state, and then writes — starting with one compare-and-set on ``version``, so a
lost race is a 409 and never half a change. Functions never commit: the caller commits once.

Import the module that defines a name (``from app.services.workorders import approval``); this
package re-exports nothing. Its modules hold one responsibility each: inputs (the plain input and
outcome objects), queries (get, list, the list's and detail's figures), editing (create, update,
with resolve for the sync plan), approval (submit, approve, reject, resubmit, withdraw),
approval_check, production (pause, resume, cancel, delete), drafts (draft task editing), offers
(what a viewer may do and the form's options), transitions (one entry point for the pages and the
API), task_generation, design_files, and common (the lock and its checks).
"""
