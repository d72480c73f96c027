"""施工单: the life cycle (DOMAIN.md §2–§6) — create, edit with task sync, submit, approve with
dispatch, reject, resubmit, withdraw, pause, resume, cancel, delete — and draft task editing.

Every transition locks the 施工单 row, checks policy (the actor may take this action), the version
the user saw and the state, and then writes — starting with one compare-and-set on ``version``, so a
lost race is a 409 and never half a change. Functions never commit: the caller commits once.

This package's interface is what is imported here (``from app.services import workorders``); its
modules hold one responsibility each: inputs, queries, editing (+ resolve), approval, production,
drafts, offers (what a viewer may do), common (the lock and its checks).
"""
from app.services.workorders.approval import (  # noqa: F401
    approval_message,
    approve,
    reject,
    resubmit,
    started_task_count,
    submit,
    withdraw,
)
from app.services.workorders.common import (  # noqa: F401
    CMYK,
    EDITABLE_APPROVAL,
    MAX_BULK,
    STALE_MESSAGE,
    TASK_STALE_MESSAGE,
)
from app.services.workorders.drafts import (  # noqa: F401
    add_draft,
    bulk_delete_drafts,
    bulk_update_drafts,
    update_draft,
)
from app.services.workorders.editing import (  # noqa: F401
    create,
    is_fully_editable,
    preview,
    update,
    update_approved,
)
from app.services.workorders.inputs import (  # noqa: F401
    BulkOutcome,
    EditOutcome,
    ItemResult,
    LimitedInput,
    MaterialLineInput,
    ProductLineInput,
    StepInput,
    WorkOrderInput,
)
from app.services.workorders.offers import (  # noqa: F401
    ACTION_LABELS,
    ActionState,
    DraftLine,
    FormCheck,
    FormOptions,
    PlanPreview,
    approval_problems,
    available_actions,
    describe_plan,
    form_check,
    form_options,
    may_edit_drafts,
    product_defaults,
)
from app.services.workorders.production import (  # noqa: F401
    cancel,
    delete_work_order,
    pause,
    resume,
)
from app.services.workorders.queries import (  # noqa: F401
    DETAIL_LOADING,
    SORT_LABELS,
    SORTS,
    FilterOptions,
    ListFilters,
    Page,
    audit_trail,
    get,
    get_for_detail,
    list_filter_options,
    list_work_orders,
    product_summary,
    progress_percent,
    task_counts,
    task_numbers,
    total_quantity,
)
