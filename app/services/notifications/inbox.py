"""Stored notifications (DOMAIN.md §9), written in the same transaction as the change.

The ``notify_*`` helpers are the catalogue: other services call them inside their transaction
and they decide the recipients and the exact text (reference §9.2). Texts are stored in the
plant's language (zh_Hans_CN) whatever the language of the person who caused them. Each helper
leaves out the person who acted, if known: nobody is told about their own action.

Reading (list, bell, unread count) only ever covers the recipient's own notifications of the
last ``notification_retention_days`` days; ``purge`` deletes the older ones.
"""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from app.enums import DUE_SOON_DAYS, WorkOrderStatus
from app.extensions import db
from app.models import Department, Notification, Role, Task, User, WorkOrder, user_departments, user_roles
from app.realtime import events
from app.rules.workorder_approvers import approver_ids
from app.services.core import audit
from app.services.core import settings as settings_service
from app.services.core.errors import NotFound
from app.utils.memo import forget_translated_texts
from app.utils.timeutil import plant_today, utcnow

BELL_LATEST = 8
# Delivery reminders: when the date is DUE_SOON_DAYS away, and again the day before.
REMINDER_DAYS = (DUE_SOON_DAYS, 1)
DUE_SOON_STATUSES = ("pending", "in_progress", "paused")
READ_FILTERS = ("unread", "read")


def notify(recipients: Iterable, type_: str, title: str, content: str = "", *, priority: str = "normal",
           work_order=None, task=None, dedupe_key: str | None = None, data: dict | None = None) -> list[Notification]:
    """One row per distinct recipient (users or ids); a 'notification' event per recipient."""
    seen: set[int] = set()
    rows = []
    for recipient in recipients:
        user_id = getattr(recipient, "id", recipient)
        if user_id is None or user_id in seen:
            continue
        seen.add(user_id)
        row = Notification(
            recipient_id=user_id, type=type_, title=str(title), content=str(content), priority=priority,
            work_order_id=getattr(work_order, "id", None) or getattr(task, "work_order_id", None),
            task_id=getattr(task, "id", None), dedupe_key=dedupe_key, data=data or {},
        )
        db.session.add(row)
        rows.append(row)
    if seen:
        events.publish("notification", user_ids=seen)
    return rows


# --- recipients ---------------------------------------------------------------------------

def _without(user_ids: Iterable[int | None], actor) -> list[int]:
    actor_id = getattr(actor, "id", actor)
    return sorted({u for u in user_ids if u is not None and u != actor_id})


def _active_ids_with_role(*codes: str) -> set[int]:
    return set(db.session.scalars(
        select(User.id).join(user_roles, user_roles.c.user_id == User.id).join(Role, Role.id == user_roles.c.role_id)
        .where(Role.code.in_(codes), User.is_active.is_(True))
    ))


def _department_chain(department_ids: Iterable[int | None]) -> set[int]:
    """The departments and every department above them (a parent's supervisor leads its children)."""
    parents = dict(db.session.execute(select(Department.id, Department.parent_id)).all())
    chain: set[int] = set()
    for department_id in department_ids:
        while department_id is not None and department_id not in chain:
            chain.add(department_id)
            department_id = parents.get(department_id)
    return chain


def supervisor_ids_of(department_ids: Iterable[int | None]) -> set[int]:
    """Active supervisors who lead any of these departments (members of it or of a parent)."""
    chain = _department_chain(department_ids)
    if not chain:
        return set()
    return set(db.session.scalars(
        select(User.id).distinct()
        .join(user_departments, user_departments.c.user_id == User.id)
        .join(user_roles, user_roles.c.user_id == User.id).join(Role, Role.id == user_roles.c.role_id)
        .where(Role.code == "supervisor", User.is_active.is_(True), user_departments.c.department_id.in_(chain))
    ))


@contextmanager
def _plant_language():
    """Notifications are stored in the plant's language, whatever the language of the request."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        forget_translated_texts()
        try:
            yield
        finally:
            forget_translated_texts()


def _actor_name(actor) -> str:
    return actor.name if actor is not None else _("系统")


def _user_name(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else _("无")


# --- the catalogue (DOMAIN.md §9, reference §9.2) -----------------------------------------

def notify_approval_requested(work_order, actor=None) -> list[Notification]:
    """待审核 → the approvers."""
    with _plant_language():
        title = _("待审核：施工单 %(number)s", number=work_order.number)
        content = _("施工单 %(number)s 已提交审核，等待审核", number=work_order.number)
    return notify(_without(approver_ids(work_order), actor), "approval_requested", title, content,
                  priority="high", work_order=work_order)


def notify_approved(work_order, task_count: int, actor=None) -> list[Notification]:
    """审核通过 → the creator."""
    with _plant_language():
        title = _("施工单 %(number)s 审核通过", number=work_order.number)
        content = _('施工单 %(number)s 已通过审核，状态已变更为"%(status)s"', number=work_order.number,
                    status=WorkOrderStatus.label_of("in_progress"))
        if task_count > 0:
            content += _("，已转换 %(count)s 个任务", count=task_count)
        content += _("。")
        if work_order.approval_comment:
            content += _("审核意见：%(comment)s", comment=work_order.approval_comment)
    return notify(_without([work_order.created_by_id], actor), "approval_passed", title, content,
                  priority="high", work_order=work_order)


def notify_rejected(work_order, reason: str, actor=None) -> list[Notification]:
    """审核拒绝 → the creator; the drafts and their edits are kept for the resubmission."""
    with _plant_language():
        title = _("施工单 %(number)s 审核拒绝", number=work_order.number)
        content = _("施工单 %(number)s 审核被拒绝，草稿任务和修改均已保留，修改后可重新提交审核。",
                    number=work_order.number)
        if reason:
            content += _("拒绝原因：%(reason)s", reason=reason)
    return notify(_without([work_order.created_by_id], actor), "approval_rejected", title, content,
                  priority="high", work_order=work_order)


def notify_task_assigned(task, actor=None) -> list[Notification]:
    """新任务分配 → the operator; ``actor`` None means the system dispatched it at approval."""
    with _plant_language():
        number = task.work_order.number
        if actor is None:
            title = _("新任务分派：%(content)s", content=task.content)
            content = _("您有一个新任务：%(content)s（施工单：%(number)s）", content=task.content, number=number)
        else:
            title = _("新任务分配：%(content)s", content=task.content)
            content = _('%(actor)s 将任务 "%(content)s" 分配给您。施工单：%(number)s',
                        actor=actor.name, content=task.content, number=number)
    return notify(_without([task.operator_id], actor), "task_assigned", title, content, task=task)


def notify_task_reassigned(task, old_operator_id: int | None, actor=None, reason: str = "") -> list[Notification]:
    """改派 → the new operator and the old one, each with their own text."""
    with _plant_language():
        number, actor_name = task.work_order.number, _actor_name(actor)
        reason_text = " " + _("改派原因：%(reason)s", reason=reason) if reason else ""
        to_new_title = _("新任务分配：%(content)s", content=task.content)
        to_new = _('%(actor)s 将任务 "%(content)s" 分配给您。施工单：%(number)s（原操作员：%(old)s）',
                   actor=actor_name, content=task.content, number=number, old=_user_name(old_operator_id))
        to_old_title = _("任务已改派：%(content)s", content=task.content)
        to_old = _('%(actor)s 已将任务 "%(content)s" 改派给 %(new)s。施工单：%(number)s',
                   actor=actor_name, content=task.content, new=_user_name(task.operator_id), number=number)
    rows = notify(_without([task.operator_id], actor), "task_reassigned", to_new_title, to_new + reason_text,
                  task=task)
    rows += notify(_without([old_operator_id], actor), "task_reassigned", to_old_title, to_old + reason_text,
                   task=task)
    return rows


def notify_task_cancelled(task, reason: str, actor=None) -> list[Notification]:
    """任务取消 → the operator who held it."""
    with _plant_language():
        title = _("任务已取消：%(content)s", content=task.content)
        content = _('任务"%(content)s"已被取消。取消原因：%(reason)s', content=task.content, reason=reason)
    return notify(_without([task.operator_id], actor), "task_cancelled", title, content, task=task)


def notify_task_completed(task, actor=None) -> list[Notification]:
    """任务完成 → the supervisors of the task's department. The creator is not told of each task:
    工序完成 and 施工单完成 tell them of the work (DOMAIN.md §9)."""
    with _plant_language():
        title = _("任务完成：%(content)s", content=task.content)
        content = _('任务 "%(content)s" 已完成（施工单：%(number)s）', content=task.content,
                    number=task.work_order.number)
    return notify(_without(supervisor_ids_of([task.department_id]), actor), "task_completed", title, content, task=task)


def notify_step_completed(step, actor=None) -> list[Notification]:
    """工序完成 → the 施工单's creator."""
    work_order, name = step.work_order, step.process.name
    with _plant_language():
        title = _("工序完成：%(name)s", name=name)
        content = _('施工单 %(number)s 的工序"%(name)s"已完成', number=work_order.number, name=name)
    return notify(_without([work_order.created_by_id], actor), "process_completed", title, content,
                  work_order=work_order)


def notify_work_order_completed(work_order, actor=None) -> list[Notification]:
    """施工单完成 → its creator."""
    with _plant_language():
        title = _("施工单完成：%(number)s", number=work_order.number)
        content = _("施工单 %(number)s 所有工序已完成，施工单已标记为完成", number=work_order.number)
    return notify(_without([work_order.created_by_id], actor), "workorder_completed", title, content,
                  priority="high", work_order=work_order)


def notify_login_burst(user, failures: int, window_seconds: int, address: str) -> list[Notification]:
    """An account saw a burst of failed logins → the administrators."""
    with _plant_language():
        title = _("账号 %(username)s 登录失败次数异常", username=user.username)
        content = _("%(seconds)s 秒内登录失败 %(count)s 次（%(name)s），最近一次来自 %(address)s",
                    seconds=window_seconds, count=failures, name=user.name, address=address)
    return notify(sorted(_active_ids_with_role("admin")), "system", title, content, priority="high")


def notify_delivery_risk(work_order, projected_finish: str) -> list[Notification]:
    """交期风险 → the creator and the customer's salesperson, once: when the plan's projected finish
    first passes the delivery date (DOMAIN.md §12; app.services.planning.projection)."""
    customer = work_order.customer
    with _plant_language():
        title = _("交期风险：施工单 %(number)s", number=work_order.number)
        content = _("施工单 %(number)s 预计 %(finish)s 完成，晚于交货日期 %(delivery)s",
                    number=work_order.number, finish=projected_finish, delivery=work_order.delivery_date.isoformat())
    recipients = [work_order.created_by_id, customer.salesperson_id if customer is not None else None]
    return notify(_without(recipients, None), "delivery_risk", title, content, priority="urgent",
                  work_order=work_order, dedupe_key=f"risk:{work_order.id}")


def create_due_soon(today: date | None = None) -> int:
    """交货期预警 for approved, unfinished 施工单 due in 3 and in 1 days (safe to run every hour).

    Recipients: the creator and the supervisors of the departments holding its tasks. Each
    recipient gets at most one per 施工单 and day (``dedupe_key``). Returns the rows created.
    """
    today = today or plant_today()
    created = 0
    for days in REMINDER_DAYS:
        work_orders = list(db.session.scalars(
            select(WorkOrder).where(
                WorkOrder.approval_status == "approved", WorkOrder.status.in_(DUE_SOON_STATUSES),
                WorkOrder.delivery_date == today + timedelta(days=days),
            ).order_by(WorkOrder.id)
        ))
        if not work_orders:
            continue
        key = f"due:{days}:{today.isoformat()}"
        departments = _task_departments([wo.id for wo in work_orders])
        already = set(db.session.execute(
            select(Notification.work_order_id, Notification.recipient_id)
            .where(Notification.dedupe_key == key, Notification.work_order_id.in_([wo.id for wo in work_orders]))
        ).all())
        for work_order in work_orders:
            recipients = supervisor_ids_of(departments.get(work_order.id, ())) | {work_order.created_by_id}
            new = [u for u in recipients if u is not None and (work_order.id, u) not in already]
            with _plant_language():
                title = _("交货期预警")
                content = _("施工单 %(number)s 将在 %(days)s 天后到期", number=work_order.number, days=days)
            created += len(notify(new, "delivery_due", title, content, priority="urgent" if days <= 1 else "high",
                                  work_order=work_order, dedupe_key=key, data={"days": days}))
    return created


def _task_departments(work_order_ids: list[int]) -> dict[int, set[int]]:
    rows = db.session.execute(
        select(Task.work_order_id, Task.department_id).distinct()
        .where(Task.work_order_id.in_(work_order_ids), Task.department_id.is_not(None),
               Task.status.not_in(("draft", "cancelled")))
    )
    departments: dict[int, set[int]] = {}
    for work_order_id, department_id in rows:
        departments.setdefault(work_order_id, set()).add(department_id)
    return departments


# --- reading and read state ---------------------------------------------------------------

def visible_since(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=settings_service.get("notification_retention_days"))


def _visible_to(user):
    return (Notification.recipient_id == user.id, Notification.created_at >= visible_since())


def list_for(user, *, read: str | None = None, type_: str | None = None, page: int = 1, per_page: int = 20):
    """The user's notifications of the retention window, newest first, one page of them."""
    query = select(Notification).where(*_visible_to(user))
    if read in READ_FILTERS:
        query = query.where(Notification.is_read.is_(read == "read"))
    if type_:
        query = query.where(Notification.type == type_)
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def latest_for(user, limit: int = BELL_LATEST) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(*_visible_to(user))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(*_visible_to(user), Notification.is_read.is_(False))
    )


def mark_read(user, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read; anybody else's is simply not found."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.recipient_id != user.id:
        raise NotFound(_l("通知不存在"))
    if not row.is_read:
        row.is_read = True
        row.read_at = utcnow()
        events.publish("notification", user_ids=[user.id])  # the user's other tabs update their bell
    return row


def mark_all_read(user) -> int:
    changed = db.session.execute(
        update(Notification).where(Notification.recipient_id == user.id, Notification.is_read.is_(False))
        .values(is_read=True, read_at=utcnow())
    ).rowcount
    if changed:
        events.publish("notification", user_ids=[user.id])
    return changed


def purge(now: datetime | None = None) -> int:
    """Delete notifications older than the retention window; one audit row says how many."""
    cutoff = visible_since(now)
    deleted = db.session.execute(delete(Notification).where(Notification.created_at < cutoff)).rowcount
    if deleted:
        audit.record(None, "notification", None, "purge", detail={"deleted": deleted, "before": cutoff.isoformat()})
    return deleted
