"""Planning (排产, DOMAIN.md §12) — the service API the pages, the API and the kiosk call.

Modules: ``calendar`` (plant calendar, pure ``PlantCalendar``), ``planner`` (pure: queues → planned
times), ``queues`` (placement rules, ``move_task``), ``engine`` (load, reconcile, plan, write —
inside the caller's transaction), ``projection`` (施工单 projected finish, 延期风险, 交期风险),
``board`` (read models), ``workstations`` (admin: workstations and their processes),
``triggers`` (replans just before every commit that changed a task or a 施工单).

Reading (no changes):
- ``plan_for_department(department_id, viewer=None) -> DepartmentPlan``: ``.lanes`` (one ``LaneView``
  per active workstation, ordered by code: ``.workstation`` with ``.capabilities`` (process, rate per hour,
  setup minutes), ``.blocks``), ``.unplanned`` (open tasks in no queue: 未排产), ``.editable`` (the viewer
  may move). A ``Block``: ``task`` (with ``work_order`` and ``process`` loaded), ``position`` (0 = head),
  ``planned_start`` / ``planned_finish`` (naive UTC, None = 无法排产), ``conflict`` (顺序冲突),
  ``at_risk`` (its 施工单 is at 延期风险). Raises NotFound / Forbidden (viewer without ``planning.view``).
- ``workstations(department_id=None, active_only=False)``; ``queue_for_workstation(workstation_id)``
  (blocks in plan order, next task first — the bound kiosk); ``plan_entry(task_id)`` (a task's
  workstation and planned times, for the job ticket; None = not queued).
- ``projection_for_workorder(work_order_or_id) -> Projection | None``: ``projected_finish`` (naive UTC),
  ``unplanned`` (无法预计), ``at_risk``; None while planning is off or never planned.
- ``at_risk_workorder_ids(work_order_ids=None) -> set[int]`` (badges), ``at_risk_filter()`` (a SQL
  condition on WorkOrder for the 施工单 list's 延期风险 filter). Both empty/false while planning is off.
- ``enabled()``: the settings switch (``planning_enabled``).

Changing (each checks policy itself and leaves the commit to the caller; the replan happens in the
same transaction, just before the commit):
- ``move_task(actor, task_id, workstation_id, position)``: reorder within a lane or move to another
  capable active workstation of the task's department; audited (task action ``plan_move``). Errors:
  Forbidden (not a supervisor of the department / admin: ``planning.edit``), Conflict ``incapable``
  (机台 X 不能做工序 Y), ``inactive``, ``not_queued``, ``not_open``; Invalid (other department, bad position).
- ``replan(work_order_ids=())``: replan the plant now (and refresh those 施工单's projections).
- Workstations admin: ``workstations_admin.create / update / set_active`` (see that module).

Live: after a commit that changed a department's plan, the event ``planning.updated`` goes to the
channels ``dept:<id>`` of the departments whose plan changed — payload ``{id, type: "planning.updated",
task_id: null, work_order_id: null, department_ids: [...], user_ids: [], at}`` (nothing else: ids of
departments only, which every viewer of the department's channel may know). The 施工单 whose projection
changed get one ``planning.projection`` per replan (channels ``wo:<id>`` of each, ``all``, ``pool``, plus
``user:<id>`` of the creator and the customer's salesperson of each whose 延期风险 changed) with only their
``work_order_ids``; a socket is told only the channels it joined.
Pages re-fetch their regions on these triggers (docs/LIVE.md); nothing of the plan is in the event.
"""
from app.services.planning import triggers  # noqa: F401  (registers the before-commit replan)
from app.services.planning.board import (  # noqa: F401
    Block,
    DepartmentPlan,
    LaneView,
    plan_entry,
    plan_for_department,
    queue_for_workstation,
    workstations,
)
from app.services.planning.engine import EVENT, enabled, replan  # noqa: F401
from app.services.planning.projection import (  # noqa: F401
    Projection,
    at_risk_filter,
    at_risk_workorder_ids,
    projection_for_workorder,
)
from app.services.planning.queues import may_edit, move_task  # noqa: F401
