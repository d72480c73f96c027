"""Notifications: the caller's own, and marking one read."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api import bp
from app.api.resources import NOTIFICATION, notification_json, page_of, page_schema
from app.api.spec import PAGE_SIZES, enum, operation, pagination
from app.enums import NotificationType
from app.extensions import db
from app.policy import require
from app.services.notifications import inbox as service

TAG = "通知"


@operation(bp, "GET", "/notifications", summary=_l("我的通知（最新在前）"), tag=TAG, response=page_schema(NOTIFICATION),
           query={"read": enum(service.READ_FILTERS, description="unread = 未读，read = 已读；默认全部"),
                  "type": enum(NotificationType.values(), description="通知类型"), **pagination()})
def notification_list(query: dict):
    require(current_user, "notifications.view")
    result = service.list_for(current_user, read=query.get("read"), type_=query.get("type"),
                              page=query.get("page", 1), per_page=query.get("per_page", PAGE_SIZES[0]))
    return page_of([notification_json(row) for row in result.items], result)


@operation(bp, "POST", "/notifications/{notification_id}/read", summary=_l("将一条通知标记为已读"), tag=TAG,
           response=NOTIFICATION, errors=(404,))
def notification_read(notification_id: int):
    require(current_user, "notifications.view")
    row = service.mark_read(current_user, notification_id)
    db.session.commit()
    return notification_json(row)
