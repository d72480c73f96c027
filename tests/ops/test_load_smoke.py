"""CI smoke load: the personas of locustfile.py, 20 users for 20 s against gunicorn (2 workers)
on PostgreSQL with a small scaled plant; fails when locust's SLA check fails.

Locust runs in its own process (it monkey-patches with gevent on import), through the same
runner as `make bench` (bench/load_bench.py).
"""
import os
import sys

import pytest

from app import scale_demo
from app.seed import load_demo, seed_presets
from testkit.live import Gunicorn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench"))
from load_bench import GUNICORN_CONFIG, GUNICORN_ENV, run_locust  # noqa: E402

# `load`: make test runs it on its own after the parallel pass, so no other test shares the cores.
pytestmark = [pytest.mark.postgres, pytest.mark.load]

SCALE = 0.05  # 250 施工单, 2,500 tasks: enough work for every persona
# The gate CI holds: no error, and the earlier system's SLA for latency (reference §12.2: average
# < 500 ms, p95 < 1000 ms). Our aim is ten times tighter (locustfile.py's defaults, p95 < 150 ms,
# average < 50 ms); `make bench` measures it at 100 users and reports whether it is met.
EARLIER_SYSTEM_SLA = {"LOAD_SLA_MAX_ERRORS": "0", "LOAD_SLA_P95_MS": "1000", "LOAD_SLA_AVG_MS": "500"}


def test_twenty_users_for_twenty_seconds_meet_the_earlier_systems_sla(db, database_url):
    seed_presets()
    load_demo()
    db.session.commit()
    scale_demo.build(SCALE)
    db.session.remove()
    with Gunicorn(database_url, workers=2, extra_env=GUNICORN_ENV, config=GUNICORN_CONFIG) as server:
        result = run_locust(server.url, users=20, seconds=20, spawn_rate=5, sla=EARLIER_SYSTEM_SLA)
    total = result["total"]
    print(f"smoke load: {total['requests']} requests, {total['rps']} req/s, average {total['avg_ms']} ms, "
          f"p95 {total['p95_ms']} ms, conflicts {result['conflicts']}, load average {result['load_after']}")
    for slow in sorted(result["endpoints"], key=lambda entry: -entry["avg_ms"])[:8]:
        print(f"  {slow['method']} {slow['name']}: {slow['requests']} requests, average {slow['avg_ms']} ms, "
              f"p95 {slow['p95_ms']} ms")
    assert result["errors"] == []
    assert {entry["name"] for entry in result["endpoints"]} >= {"/kiosk?region=claimable", "/supervisor", "/tasks/[id]/claim"}
    assert (result["sla"]["failed"], result["exit_code"]) == ([], 0)
