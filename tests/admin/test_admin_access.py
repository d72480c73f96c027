"""Access matrix of every admin route × every role → the exact status.

Admins reach everything; a salesperson only the customer pages (their own customers), a designer
only the plate pages; everyone else gets 403 and the anonymous are sent to /login.
"""
import pytest

import factories as f
from support.admin import build_plant

ROLES = ("anonymous", "admin", "salesperson", "designer", "maker", "supervisor", "operator")
CUSTOMERS, PLATES, ADMIN = "customers", "plates", "admin"


def routes(w):
    """name → (area, method, url, form data, status for whoever may use it)."""
    return {
        "index": (ADMIN, "GET", "/admin/", None, 200),
        "users": (ADMIN, "GET", "/admin/users", None, 200),
        "user_new": (ADMIN, "GET", "/admin/users/new", None, 200),
        "user_create": (ADMIN, "POST", "/admin/users", {"username": "newbie", "name": "新人"}, 303),
        "user_edit": (ADMIN, "GET", f"/admin/users/{w.owner.id}/edit", None, 200),
        "user_update": (ADMIN, "POST", f"/admin/users/{w.owner.id}",
                        {"username": "sales1", "name": "业务员甲", "roles": "salesperson", "is_active": "y"}, 303),
        "user_deactivate": (ADMIN, "POST", f"/admin/users/{w.other_sales.id}/deactivate", {}, 303),
        "user_activate": (ADMIN, "POST", f"/admin/users/{w.other_sales.id}/activate", {}, 303),
        "user_delete": (ADMIN, "POST", f"/admin/users/{w.designer.id}/delete", {}, 303),
        "departments": (ADMIN, "GET", "/admin/departments", None, 200),
        "department_new": (ADMIN, "GET", "/admin/departments/new", None, 200),
        "department_create": (ADMIN, "POST", "/admin/departments", {"name": "质检部", "code": "qc"}, 303),
        "department_edit": (ADMIN, "GET", f"/admin/departments/{w.department.id}/edit", None, 200),
        "department_update": (ADMIN, "POST", f"/admin/departments/{w.department.id}",
                              {"name": "装订车间", "code": "binding", "is_active": "y"}, 303),
        "department_delete": (ADMIN, "POST", f"/admin/departments/{w.department.id}/delete", {}, 303),
        "processes": (ADMIN, "GET", "/admin/processes", None, 200),
        "process_new": (ADMIN, "GET", "/admin/processes/new", None, 200),
        "process_create": (ADMIN, "POST", "/admin/processes", {"code": "LAM_X", "name": "覆膜X"}, 303),
        "process_edit": (ADMIN, "GET", f"/admin/processes/{w.process.id}/edit", None, 200),
        "process_update": (ADMIN, "POST", f"/admin/processes/{w.process.id}",
                           {"code": "BIND", "name": "装订", "is_active": "y"}, 303),
        "process_delete": (ADMIN, "POST", f"/admin/processes/{w.process.id}/delete", {}, 303),
        "process_reorder": (ADMIN, "POST", "/admin/processes/reorder", {"id": [w.process.id, w.prt.id]}, 204),
        "customers": (CUSTOMERS, "GET", "/admin/customers", None, 200),
        "customer_new": (CUSTOMERS, "GET", "/admin/customers/new", None, 200),
        "customer_create": (CUSTOMERS, "POST", "/admin/customers", {"name": "新客户"}, 303),
        "customer_edit": (CUSTOMERS, "GET", f"/admin/customers/{w.customer.id}/edit", None, 200),
        "customer_update": (CUSTOMERS, "POST", f"/admin/customers/{w.customer.id}", {"name": "华美印业"}, 303),
        "customer_delete": (CUSTOMERS, "POST", f"/admin/customers/{w.customer.id}/delete", {}, 303),
        "products": (ADMIN, "GET", "/admin/products", None, 200),
        "product_new": (ADMIN, "GET", "/admin/products/new", None, 200),
        "product_create": (ADMIN, "POST", "/admin/products", {"code": "PR777", "name": "台历", "unit": "本"}, 303),
        "product_edit": (ADMIN, "GET", f"/admin/products/{w.product.id}/edit", None, 200),
        "product_update": (ADMIN, "POST", f"/admin/products/{w.product.id}",
                           {"code": "PR001", "name": "宣传册", "unit": "本"}, 303),
        "product_delete": (ADMIN, "POST", f"/admin/products/{w.product.id}/delete", {}, 303),
        "product_material_row": (ADMIN, "GET", "/admin/products/material-row?material_next=3", None, 200),
        "materials": (ADMIN, "GET", "/admin/materials", None, 200),
        "material_new": (ADMIN, "GET", "/admin/materials/new", None, 200),
        "material_create": (ADMIN, "POST", "/admin/materials", {"code": "M901", "name": "白卡", "unit": "张"}, 303),
        "material_edit": (ADMIN, "GET", f"/admin/materials/{w.material.id}/edit", None, 200),
        "material_update": (ADMIN, "POST", f"/admin/materials/{w.material.id}",
                            {"code": "M900", "name": "铜版纸", "unit": "张"}, 303),
        "material_delete": (ADMIN, "POST", f"/admin/materials/{w.material.id}/delete", {}, 303),
        "plates": (PLATES, "GET", "/admin/plates", None, 200),
        "plate_new": (PLATES, "GET", "/admin/plates/new?kind=die", None, 200),
        "plate_create": (PLATES, "POST", "/admin/plates", {"kind": "die", "name": "盒型刀模"}, 303),
        "plate_edit": (PLATES, "GET", f"/admin/plates/{w.plate.id}/edit", None, 200),
        "plate_update": (PLATES, "POST", f"/admin/plates/{w.plate.id}", {"name": "封面"}, 303),
        "plate_delete": (PLATES, "POST", f"/admin/plates/{w.plate.id}/delete", {}, 303),
        "plate_confirm": (PLATES, "POST", f"/admin/plates/{w.plate.id}/confirm", {}, 303),
        "plate_new_version": (PLATES, "POST", f"/admin/plates/{w.plate.id}/new-version", {}, 303),
        "plate_product_row": (PLATES, "GET", "/admin/plates/product-row?product_next=1", None, 200),
        "workstations": (ADMIN, "GET", "/admin/workstations", None, 200),
        "workstation_new": (ADMIN, "GET", "/admin/workstations/new", None, 200),
        "workstation_create": (ADMIN, "POST", "/admin/workstations",
                               {"department_id": w.printing.id, "code": "PRT-10", "name": "四色机 10号",
                                "processes-0-process_id": w.prt.id, "processes-0-rate_per_hour": "8000",
                                "processes-0-setup_minutes": "30"}, 303),
        "workstation_edit": (ADMIN, "GET", f"/admin/workstations/{w.workstation.id}/edit", None, 200),
        "workstation_update": (ADMIN, "POST", f"/admin/workstations/{w.workstation.id}",
                               {"department_id": w.printing.id, "code": "PRT-09", "name": "四色机 9号",
                                "is_active": "y", "processes-0-process_id": w.prt.id,
                                "processes-0-rate_per_hour": "7500", "processes-0-setup_minutes": "20"}, 303),
        "workstation_deactivate": (ADMIN, "POST", f"/admin/workstations/{w.workstation.id}/deactivate", {}, 303),
        "workstation_activate": (ADMIN, "POST", f"/admin/workstations/{w.workstation.id}/activate", {}, 303),
        "workstation_process_row": (ADMIN, "GET", "/admin/workstations/process-row?process_next=1", None, 200),
        "calendar": (ADMIN, "GET", "/admin/calendar", None, 200),
        "calendar_update": (ADMIN, "POST", "/admin/calendar",
                            {"day_0": "08:00-12:00, 13:00-17:00", "day_5": "08:00-12:00",
                             "closed_dates": "2027-01-01"}, 303),
        "settings": (ADMIN, "GET", "/admin/settings", None, 200),
        "settings_update": (ADMIN, "POST", "/admin/settings",
                            {"operator_task_cap": "8", "kiosk_idle_logout_seconds": "120",
                             "notification_retention_days": "30", "planning_enabled": "y"}, 303),
        "audit": (ADMIN, "GET", "/admin/audit", None, 200),
        "system": (ADMIN, "GET", "/admin/system", None, 200),
        "api_tokens_list": (ADMIN, "GET", "/admin/api-tokens", None, 200),
        "api_token_new": (ADMIN, "GET", "/admin/api-tokens/new", None, 200),
        "api_token_create": (ADMIN, "POST", "/admin/api-tokens", {"name": "ERP", "owner_id": w.owner.id}, 200),
        # no token exists: the access check comes first, then the admin is told it is not found
        "api_token_revoke": (ADMIN, "POST", "/admin/api-tokens/999/revoke", {}, 404),
    }


class _Placeholder:
    """Stands in for the plant when only the route names are needed."""

    id = 0

    def __getattr__(self, name):
        return self


ROUTE_NAMES = list(routes(_Placeholder()))
ALLOWED = {"admin": {ADMIN, CUSTOMERS, PLATES}, "salesperson": {CUSTOMERS}, "designer": {PLATES}}


def expected_status(role: str, area: str, allowed_status: int) -> int:
    if role == "anonymous":
        return 302
    return allowed_status if area in ALLOWED.get(role, set()) else 403


@pytest.mark.parametrize("route", ROUTE_NAMES)
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, login, seeded, role, route):
    world = build_plant()
    people = {"admin": world.admin, "salesperson": world.owner, "designer": world.designer}
    if role in people:
        login(people[role])
    elif role != "anonymous":
        login(f.UserFactory(roles=[role]))
    area, method, url, form, allowed_status = routes(world)[route]
    response = client.open(url, method=method, data=form)
    assert response.status_code == expected_status(role, area, allowed_status)
    if role == "anonymous":
        assert response.headers["Location"].startswith("/login?next=")


def test_matrix_lists_every_admin_route(app):
    """A new admin route must be added to the matrix."""
    admin_rules = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")}
    assert admin_rules == {f"admin.{name}" for name in ROUTE_NAMES}


def test_nav_shows_admin_areas_by_role(client, login, seeded):
    world = build_plant()
    login(world.owner)
    page = client.get("/admin/customers").get_data(as_text=True)
    assert 'href="/admin/customers"' in page and 'href="/admin/users"' not in page
    login(world.designer)
    page = client.get("/admin/plates").get_data(as_text=True)
    assert 'href="/admin/plates"' in page and 'href="/admin/customers"' not in page
