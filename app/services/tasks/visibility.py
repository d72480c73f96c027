"""The task lists' shared constants: page sizes, the "none" and "open" filter values.

Which tasks a viewer sees is the rule app.rules.task_visibility (``visible_tasks_where``).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

PAGE_SIZES = (20, 50, 100)
# Filter value meaning "no department / no operator" (the 待分派 pool, the claimable tasks).
NONE = "none"
# Status filter value: every open task (待开始 + 进行中 + 已暂停), what an operator's load counts.
OPEN = "open"
STATUS_LABELS = {OPEN: _l("未完成（待开始/进行中/已暂停）")}
