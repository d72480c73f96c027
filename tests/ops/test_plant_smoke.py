"""CI plant smoke (issue #22): bench/plant_bench.py --quick — 50 kiosks, 5 主管看板, 2 TV boards and 5 desk
pages, each with its socket and its live regions read from the real pages, while actions run at one per
second for 20 s against gunicorn (production's settings) on PostgreSQL with a small scaled plant.

It fails if any screen that shows a change misses its re-fetch, or if the p95 of commit → every screen updated
is 1 s or more (the issue's goal). History: 9.9–11.5 s on 2026-12-06 (0.55 s of app CPU per action, load average
15–20); 0.72–1.5 s on 2026-12-07 morning (0.28–0.57 s), so the latency was an expected failure then. After the
pooled connections, the TV board's plain rows, the shared counts and the arrivals counted in place (2026-12-07
17:30 UTC, alone, three runs): p95 531 / 499 / 517 ms, 0.15–0.18 s of app CPU and 0.05 s of PostgreSQL per
action, 20.0 re-fetches per action: half the goal, so it is asserted.
"""
import os
import sys

import pytest

from app import scale_demo
from app.seed import load_demo, seed_presets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench"))
from plant_bench import arguments, simulate  # noqa: E402

# `load`: make test runs it on its own after the parallel pass, so no other test shares the cores.
pytestmark = [pytest.mark.postgres, pytest.mark.load]


def test_fifty_kiosks_and_their_plant_see_every_change(db, database_url):
    seed_presets()
    load_demo()
    db.session.commit()
    scale_demo.build(0.05)
    db.session.remove()

    report = simulate(database_url, arguments(["--quick"]))

    [step] = report["steps"]
    assert report["screens"] == {"kiosk": 50, "supervisor": 5, "board": 2, "tasks": 2, "workorder": 2, "home": 1}
    assert step["actions_succeeded"] >= 15 and step["events_shown"] >= 15
    assert step["refetch_errors"] == 0 and step["sockets_closed"] == {}
    assert step["missed_examples"] == [] and step["share_arrived"] == 1.0
    assert step["all_updated_ms"]["p95"] < 1000, (
        f"p95 commit → every screen updated {step['all_updated_ms']['p95']} ms "
        f"({step['app_cpu_s_per_action']} s of app CPU per action, load average {step['load_average']})")
