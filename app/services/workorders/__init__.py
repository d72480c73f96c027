"""施工单: the life cycle (DOMAIN.md §2–§6) — create, edit with task sync, submit, approve with
dispatch, reject, resubmit, withdraw, pause, resume, cancel, delete — and draft task editing.

Every transition locks the 施工单 row, checks policy (the actor may take this action), the version
the user saw and the state, and then writes — starting with one compare-and-set on ``version``, so a
lost race is a 409 and never half a change. Functions never commit: the caller commits once.

This package's interface is what is imported here (``from app.services import workorders``); its
modules hold one responsibility each: inputs, queries, editing (+ resolve), approval, production,
drafts, offers (what a viewer may do), common (the lock and its checks).
"""
from app.services.workorders.inputs import (  # noqa: F401
    ProductLineInput, MaterialLineInput, StepInput, WorkOrderInput, LimitedInput, EditOutcome, ItemResult,
    BulkOutcome,
)
from app.services.workorders.queries import (  # noqa: F401
    get, DETAIL_LOADING, get_for_detail, audit_trail, progress_percent, product_summary, total_quantity,
    ListFilters, SORTS, SORT_LABELS, Page, list_work_orders, FilterOptions, list_filter_options,
    task_numbers, task_counts,
)
from app.services.workorders.editing import (  # noqa: F401
    create, preview, update, update_approved, is_fully_editable,
)
from app.services.workorders.approval import (  # noqa: F401
    submit, resubmit, approve, approval_message, reject, withdraw, started_task_count,
)
from app.services.workorders.production import (  # noqa: F401
    pause, resume, cancel, delete_work_order,
)
from app.services.workorders.drafts import (  # noqa: F401
    update_draft, add_draft, bulk_update_drafts, bulk_delete_drafts,
)
from app.services.workorders.offers import (  # noqa: F401
    ActionState, ACTION_LABELS, available_actions, approval_problems, may_edit_drafts, FormOptions,
    form_options, product_defaults, DraftLine, PlanPreview, describe_plan, FormCheck, form_check,
)
from app.services.workorders.common import (  # noqa: F401
    STALE_MESSAGE, TASK_STALE_MESSAGE, EDITABLE_APPROVAL, CMYK, MAX_BULK,
)
