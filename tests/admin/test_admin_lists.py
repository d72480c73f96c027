"""The admin lists load in a fixed number of queries however many rows a page shows (no N+1)."""
import pytest
from sqlalchemy import event

import factories as f
from app.extensions import db
from support.admin import HTMX, build_plant


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def queries_for(client, url) -> int:
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(url, headers=HTMX).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return counter.count


def grow(plant, kind: str, n: int) -> None:
    for _ in range(n):
        if kind == "users":
            f.UserFactory(roles=["operator", "supervisor"], departments=[plant.printing, plant.production])
        elif kind == "customers":
            f.CustomerFactory(salesperson=plant.owner)
        elif kind == "products":
            product = f.ProductFactory()
            f.ProductProcessFactory(product=product, process=plant.prt)
            f.ProductMaterialFactory(product=product)
        elif kind == "plates":
            f.PlateProductFactory(plate=f.PlateFactory(confirmed_by=plant.designer, confirmed=True),
                                  product=plant.product)
        elif kind == "audit":
            f.AuditLogFactory(object_type="product", object_id=plant.product.id, user_id=plant.admin.id)


@pytest.mark.parametrize("kind, url", [
    ("users", "/admin/users"), ("customers", "/admin/customers"), ("products", "/admin/products"),
    ("plates", "/admin/plates"), ("audit", "/admin/audit"), ("users", "/admin/departments"),
    ("users", "/admin/materials"), ("users", "/admin/processes"),
])
def test_list_query_count_does_not_grow_with_rows(client, login, seeded, kind, url):
    plant = build_plant()
    login(plant.admin)
    grow(plant, kind, 2)
    few = queries_for(client, url)
    grow(plant, kind, 10)
    assert queries_for(client, url) == few


def test_history_restore_gets_the_whole_page_and_junk_parameters_are_ignored(client, login, seeded):
    plant = build_plant()
    login(plant.admin)
    restored = client.get("/admin/users", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.get_data(as_text=True)
    junk = client.get("/admin/users?page=²&department=x&sort=;drop&role=nobody&active=maybe", headers=HTMX)
    assert junk.status_code == 200 and "共 0 人" in junk.get_data(as_text=True)
    assert "共 4 人" in client.get("/admin/users?page=²&department=x&sort=;drop", headers=HTMX).get_data(as_text=True)
