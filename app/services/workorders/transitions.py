"""The 施工单 transitions by name, as the page's buttons and the API name them: each a service call
``(actor, work_order_id, version, text)`` that checks policy itself, and what to tell the user."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.workorders import approval, production

# action → (call, success message: a text, or a function of the 施工单 id that says what happened)
TRANSITIONS = {
    "submit": (lambda actor, wo, v, text: approval.submit(actor, wo, v), _l("已提交审核")),
    "resubmit": (lambda actor, wo, v, text: approval.resubmit(actor, wo, v), _l("已重新提交审核")),
    "approve": (lambda actor, wo, v, text: approval.approve(actor, wo, v, text), approval.approval_message),
    "reject": (lambda actor, wo, v, text: approval.reject(actor, wo, v, text), _l("已拒绝审核")),
    "withdraw": (lambda actor, wo, v, text: approval.withdraw(actor, wo, v, text), _l("已撤回审核，任务已退回草稿")),
    "pause": (lambda actor, wo, v, text: production.pause(actor, wo, v, text), _l("施工单已暂停")),
    "resume": (lambda actor, wo, v, text: production.resume(actor, wo, v), _l("施工单已恢复生产")),
    "cancel": (lambda actor, wo, v, text: production.cancel(actor, wo, v, text), _l("施工单已取消")),
    "delete": (lambda actor, wo, v, text: production.delete_work_order(actor, wo, v), _l("施工单已删除")),
}


def transition(action: str, actor, work_order_id: int, version: int | None, text: str = ""):
    """Take ``action`` (a key of TRANSITIONS) on the 施工单."""
    return TRANSITIONS[action][0](actor, work_order_id, version, text)


def transition_message(action: str, work_order_id: int) -> str:
    message = TRANSITIONS[action][1]
    return message(work_order_id) if callable(message) else str(message)
