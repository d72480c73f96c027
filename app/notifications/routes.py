"""通知中心, the bell and its drop-down. Everyone sees only their own notifications."""
from __future__ import annotations

from urllib.parse import quote

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import SQLAlchemyError

from app.enums import NotificationType
from app.extensions import db
from app.notifications import bp
from app.services.core import settings as settings_service
from app.services.notifications import inbox as notification_service
from app.services.notifications import listing as notification_listing
from app.templating import cached_fragment, url_for_rows
from app.utils.fields import lenient_int
from app.utils.http import is_htmx, safe_next
from app.utils.memo import per_request, translated_texts
from app.utils.timeutil import utcnow
from app.views import memoized_gettext, render_page

# htmx regions that show notifications listen for this event (sent in HX-Trigger) besides live-refresh.
CHANGED_EVENT = "notifications-changed"


def relative_time(moment, now=None) -> str:
    """刚刚 / N分钟前 / N小时前 / N天前 (moments are naive UTC, like the database); each distinct
    text is worded once per request (a list repeats them)."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    if seconds < 60:
        unit, n = "now", 0
    elif seconds < 3600:
        unit, n = "minutes", seconds // 60
    elif seconds < 86400:
        unit, n = "hours", seconds // 3600
    else:
        unit, n = "days", seconds // 86400
    worded = translated_texts()
    text = worded.get(("ago", unit, n))
    if text is None:
        text = worded[("ago", unit, n)] = _word_ago(unit, n)
    return text


def _word_ago(unit: str, n: int) -> str:
    if unit == "now":
        return _("刚刚")
    if unit == "minutes":
        return _("%(n)s分钟前", n=n)
    if unit == "hours":
        return _("%(n)s小时前", n=n)
    return _("%(n)s天前", n=n)


def notice_words() -> dict:
    """What every notification item shares, looked up once per request and only when an item is
    rendered anew (templates/notifications/_item.html)."""
    words = per_request("notice_words")
    if not words:
        words.update(
            types={value: str(label) for value, label in NotificationType.choices()}, unread=_("未读"),
            view_task=_("查看任务"), view_work_order=_("查看施工单"), mark_read=_("标记已读"),
            read_url=url_for_rows("notifications.read", "notification_id"), csrf=generate_csrf())
    return words


def notice_key(notification, compact: bool, ago: str) -> tuple:
    """An item's HTML is reused while this is unchanged (app.templating.cached_fragment adds the
    language, the plant day and the session): the row holds every value the item shows but its
    relative time. The list is fetched again on every notification while most items stay the same."""
    return ("notice", notification, ago, bool(compact))


def render_notice(notification, compact: bool, macro):
    """One item (``macro`` is _item.html's ``notice``), rendered once per ``notice_key``."""
    ago = relative_time(notification.created_at)
    return cached_fragment(notice_key(notification, compact, ago),
                           lambda: macro(notification, compact, ago, notice_words()))


def badge_text(count: int) -> str:
    return "99+" if count > 99 else str(count)


@bp.app_template_filter("ago")
def ago_filter(moment):
    return relative_time(moment)


# The unread count of this request, for the bell (a view that has read it already leaves it here).
BELL_COUNT = "notification_bell"


def _unread_count_for_bell() -> int:
    """The bell must never break a page — not even the error page shown when the database is down."""
    counted = per_request(BELL_COUNT)
    if "unread" in counted:  # the top bar's key and the bell itself ask for it; one count a request
        return counted["unread"]
    try:
        counted["unread"] = notification_service.unread_count(current_user)
    except SQLAlchemyError:
        db.session.rollback()
        return 0
    return counted["unread"]


@bp.app_context_processor
def notification_helpers():
    return {
        "unread_notification_count": _unread_count_for_bell,
        "notification_badge": badge_text,
        "notice_words": notice_words,
        "render_notice": render_notice,
    }


def _filters() -> dict:
    read = request.args.get("read", "")
    type_ = request.args.get("type", "")
    page = request.args.get("page", "1")
    return {
        "read": read if read in notification_service.READ_FILTERS else "",
        "type": type_ if type_ in NotificationType.values() else "",
        "page": max(1, lenient_int(page, 1)),
    }


@bp.route("/notifications")
def index():
    filters = _filters()
    # The whole page shows the bell: its count comes with the rows.
    pagination = notification_listing.page_for(current_user, read=filters["read"] or None,
                                               type_=filters["type"] or None, page=filters["page"],
                                               with_unread=not is_htmx())
    if pagination.unread is not None:
        per_request(BELL_COUNT)["unread"] = pagination.unread
    return render_page("notifications/index.html", "notifications/_list.html", gettext=memoized_gettext(),
                       pagination=pagination, filters=filters,
                       types=NotificationType.choices(),
                       retention_days=settings_service.get("notification_retention_days"))


@bp.route("/notifications/bell")
def bell():
    return render_template("notifications/_bell_count.html")


@bp.route("/notifications/latest")
def latest():
    items = notification_listing.latest_rows(current_user)
    return render_template("notifications/_dropdown.html", items=items)


def _done(message: str | None = None):
    """htmx: an empty 200 that tells every notification region to refresh; else back to the page."""
    if is_htmx():
        headers = {"HX-Trigger": CHANGED_EVENT}
        if message:
            headers["X-Message"] = quote(message)
        return "", 200, headers
    return redirect(safe_next(request.values.get("next"), url_for("notifications.index")), code=303)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def read(notification_id: int):
    notification_service.mark_read(current_user, notification_id)
    db.session.commit()
    return _done()


@bp.route("/notifications/read-all", methods=["POST"])
def read_all():
    changed = notification_service.mark_all_read(current_user)
    db.session.commit()
    return _done(_("已将 %(count)s 条通知标记为已读", count=changed))
