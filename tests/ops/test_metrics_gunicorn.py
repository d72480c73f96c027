"""/metrics while gunicorn (ops/gunicorn.conf.py) runs 2 workers on PostgreSQL: the samples of both are summed."""
import os
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from simple_websocket import ConnectionClosed
from sqlalchemy import create_engine, text

from support.metrics import sample
from testkit.live import Gunicorn, connect, create_schema_and_user, http_login, http_request, receive

pytestmark = pytest.mark.postgres

REQUESTS = 60


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):
    url = pg_cluster.create_database(f"metrics_{uuid.uuid4().hex[:8]}")
    user_id = create_schema_and_user(url, "metrics_admin", roles=("admin",))
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # left by a previous run: must be wiped
    gunicorn = Gunicorn(url, workers=2, threads=8, config=os.path.join("ops", "gunicorn.conf.py"),
                        extra_env={"METRICS_ENABLED": "1", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    with gunicorn:
        yield gunicorn, metrics_dir, user_id


def files_by_pid(metrics_dir) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for name in os.listdir(metrics_dir):
        match = re.match(r"^(\w+?)_(?:\w+_)?(\d+)\.db$", name)
        if match:
            found.setdefault(int(match.group(2)), set()).add(match.group(1))
    return found


def test_requests_on_both_workers_are_summed_and_the_custom_metrics_are_there(server):
    gunicorn, metrics_dir, _ = server
    workers = set(gunicorn.worker_pids())
    assert len(workers) == 2
    assert not (metrics_dir / "counter_999999.db").exists()

    healthz = dict(method="GET", status="200", url_rule="/healthz")
    before = sample(http_request(gunicorn.url, "GET", "/metrics")[1], "flask_http_request_duration_seconds_count",
                    **healthz) or 0  # the start-up probes
    # Each request on a new connection: the kernel spreads them over both workers' accept calls, but
    # on a busy machine one worker may take a whole round; send rounds until both have served some.
    sent, deadline = 0, time.monotonic() + 30
    while True:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: http_request(gunicorn.url, "GET", "/healthz")[0], range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        sent += REQUESTS
        counted_by = {pid for pid, kinds in files_by_pid(metrics_dir).items() if "counter" in kinds}
        if counted_by == workers or time.monotonic() > deadline:
            break
    assert counted_by == workers, "the requests did not reach both workers"

    cookie = http_login(gunicorn.url, "metrics_admin", "demo123456")
    sockets = [connect(gunicorn.url, cookie=cookie) for _ in range(6)]
    socket_workers = {receive(sockets_ws)["server"] for sockets_ws in sockets}
    status, body, _ = http_request(gunicorn.url, "GET", "/metrics")
    for ws in sockets:
        try:
            ws.close()
        except ConnectionClosed:
            pass

    assert status == 200
    assert sample(body, "flask_http_request_duration_seconds_count", **healthz) - before == sent
    assert sample(body, "flask_http_request_total", method="GET", status="200") >= sent
    assert sample(body, "workorder_websocket_connections") == 6, socket_workers
    assert sample(body, "workorder_db_pool_checked_out") is not None
    assert sample(body, "workorder_event_delivery_seconds_count") is not None
    assert 'url_rule="/ws"' not in body


def test_event_delivery_is_measured_and_open_tasks_counted_at_scrape_time(server):
    gunicorn, _, user_id = server
    url = gunicorn.env["DATABASE_URL"]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO notifications (recipient_id, type, title, content, priority, is_read, created_at, data) "
            "VALUES (:user, 'system', '系统通知', '', 'normal', false, now() at time zone 'utc', '{}')"),
            {"user": user_id})
    engine.dispose()
    cookie = http_login(gunicorn.url, "metrics_admin", "demo123456")
    ws = connect(gunicorn.url, cookie=cookie)
    receive(ws)
    _, page, cookie = http_request(gunicorn.url, "GET", "/notifications", cookie=cookie)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    status, _, _ = http_request(gunicorn.url, "POST", "/notifications/read-all", cookie=cookie,
                                headers={"X-CSRFToken": token, "HX-Request": "true", "Origin": gunicorn.url})
    assert status == 200
    assert receive(ws, timeout=2.0)["event"] == "notification"
    ws.close()

    _, body, _ = http_request(gunicorn.url, "GET", "/metrics")
    assert sample(body, "workorder_event_delivery_seconds_count") >= 1
    assert 0 < sample(body, "workorder_event_delivery_seconds_sum") < 5
    # Counted by the serving worker's query (tests/ops/test_metrics.py checks the numbers).
    assert "# TYPE workorder_open_tasks gauge" in body
