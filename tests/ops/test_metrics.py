"""/metrics in one process: request counts per endpoint, the custom metrics, and who may scrape."""
import re
import time

import pytest

import factories as f
from app import create_app
from app.metrics import EVENT_DELIVERY, event_created_at, observe_event_delivery
from app.realtime.hub import Connection, EventMessage, Hub
from support.metrics import sample

TOKEN = "scrape-token-0123456789"


@pytest.fixture()
def metrics_app(app, db):
    """Another app on the test database, with metrics on (the shared test app has them off)."""
    return create_app({
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "METRICS_ENABLED": True,
        "METRICS_ALLOW": ["127.0.0.1", "10.1.0.0/16"], "METRICS_TOKEN": TOKEN,
    })


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_requests_are_counted_per_endpoint_and_static_files_not(metrics_app):
    client = metrics_app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    client.get("/static/js/app.js")
    text = scrape(client)
    # Per endpoint: the latency histogram's count; the total counts every tracked request (static excluded).
    assert sample(text, "flask_http_request_total", method="GET", status="200") == 3
    assert sample(text, "flask_http_request_duration_seconds_count", method="GET", status="200",
                  url_rule="/healthz") == 3
    assert "/static" not in text and 'url_rule="/metrics"' not in text


def test_open_tasks_are_counted_by_status_and_department(metrics_app, db):
    printing, cutting = f.DepartmentFactory(code="printing"), f.DepartmentFactory(code="cutting")
    for status, department in [("pending", printing), ("pending", printing), ("in_progress", printing),
                               ("paused", cutting), ("completed", cutting), ("cancelled", printing),
                               ("draft", cutting), ("pending", None)]:
        f.TaskFactory(status=status, department=department)
    text = scrape(metrics_app.test_client())
    found = {(labels, float(value)) for labels, value in
             re.findall(r'^workorder_open_tasks\{(.*)\} (\S+)$', text, re.MULTILINE)}
    assert found == {
        ('department="printing",status="pending"', 2.0), ('department="printing",status="in_progress"', 1.0),
        ('department="cutting",status="paused"', 1.0), ('department="",status="pending"', 1.0),
    }


def test_the_process_metrics_are_exported(metrics_app):
    text = scrape(metrics_app.test_client())
    for name in ("workorder_websocket_connections", "workorder_db_pool_checked_out",
                 "workorder_event_delivery_seconds_count", "workorder_plan_lock_wait_seconds_count"):
        assert sample(text, name) is not None, name


def test_an_event_sent_on_a_socket_records_its_delivery_time(app):
    hub, connection = Hub(), Connection(7, {"user:7"})
    hub.register(connection)
    created = time.time() - 0.2
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1e6):06d}"
    hub.dispatch({"type": "notification", "id": "1-1", "user_ids": [7], "department_ids": [], "at": at})
    message = connection.next(timeout=0)
    assert isinstance(message, EventMessage)
    assert message == {"type": "event", "event": "notification", "id": "1-1", "topics": ["user:7"]}
    assert message.created_at == pytest.approx(created, abs=1e-3)

    before = EVENT_DELIVERY._sum.get()
    observe_event_delivery(message.created_at)
    assert EVENT_DELIVERY._sum.get() - before == pytest.approx(0.2, abs=0.1)


@pytest.mark.parametrize("payload", [{}, {"at": None}, {"at": "not a time"}])
def test_an_event_without_a_readable_time_is_not_measured(payload):
    assert event_created_at(payload) is None
    before = EVENT_DELIVERY._sum.get()
    observe_event_delivery(None)
    assert EVENT_DELIVERY._sum.get() == before


@pytest.mark.parametrize("address, headers, status", [
    ("127.0.0.1", {}, 200),
    ("10.1.2.3", {}, 200),  # inside the allowed 10.1.0.0/16
    ("192.0.2.9", {}, 403),
    ("192.0.2.9", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("192.0.2.9", {"Authorization": "Bearer wrong"}, 403),
])
def test_only_allowed_addresses_or_the_token_may_scrape(metrics_app, address, headers, status):
    response = metrics_app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == status
    if status == 403:
        assert response.get_data(as_text=True) == "无权访问监控指标"


def test_the_default_allows_only_this_host(monkeypatch):
    from app.config import load_config

    monkeypatch.delenv("METRICS_ALLOW", raising=False)
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    config = load_config({"SECRET_KEY": "x" * 40})
    assert (config["METRICS_ALLOW"], config["METRICS_TOKEN"]) == (["127.0.0.1", "::1"], "")
