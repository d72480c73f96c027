"""Departments: the tree, for choosing a filter or a target department."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api import bp
from app.api.resources import DEPARTMENT_LIST, department_json
from app.api.spec import operation, string
from app.policy import require
from app.services.admin import departments as admin_departments
from app.services.admin.master_data import ListQuery

# The plant has a few dozen departments: the API returns the whole tree at once.
ALL_DEPARTMENTS = 10_000


@operation(bp, "GET", "/departments", summary=_l("部门列表（树形顺序，含负责的工序）"), tag="部门",
           response=DEPARTMENT_LIST,
           query={"q": string(50, description="搜索：部门名称或编码"),
                  "active": {"type": "boolean", "description": "true = 仅启用（默认），false = 仅停用"}})
def department_list(query: dict):
    require(current_user, "department.list")
    active = "1" if query.get("active", True) else "0"
    page = admin_departments.tree(ListQuery(search=query.get("q", ""), filters={"active": active},
                                            per_page=ALL_DEPARTMENTS))
    return {"items": [department_json(row) for row in page.items]}
