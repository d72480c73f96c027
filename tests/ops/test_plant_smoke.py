"""CI plant smoke (issue #22): bench/plant_bench.py --quick — 50 kiosks, 5 主管看板, 2 TV boards and 5 desk
pages, each with its socket and its live regions read from the real pages, while actions run at one per
second for 20 s against gunicorn (production's settings) on PostgreSQL with a small scaled plant.

It fails if any screen that shows a change misses its re-fetch. The issue's latency goal (p95 commit →
every screen updated < 1 s) is reported as an expected failure (xfail, with the figures) until the fan-out
is cheap enough: on the shared 2-core machine it measured 9.9–11.5 s (0.55 s of app CPU per action, load
average 15–20) on 2026-12-06, 1.5 s in the fresh-clone CI run of 2026-12-07 05:08 (0.57 s, load average 2–4),
and 1.08 s in the one of 08:15 (0.47 s, load average 2–4, on a slower VM). After a card claimed elsewhere
began to leave the kiosks' lists in place (2026-12-07 10:40, alone): 0.74 / 0.82 / 0.79 s (0.28–0.29 s of app
CPU per action, 19.4 re-fetches per action); the code before it measured 0.72 / 0.80 s (0.31 s, 22.9) in the
same minutes — under 1 s on a quiet VM, but not with a margin that holds on a slower one, so it stays an xfail.
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
    assert step["refetch_errors"] == 0 and step["sockets_closed"] == 0
    assert step["missed_examples"] == [] and step["share_arrived"] == 1.0
    if step["all_updated_ms"]["p95"] >= 1000:
        pytest.xfail(f"issue #22: p95 commit → every screen updated {step['all_updated_ms']['p95']} ms, not < 1 s yet "
                     f"({step['app_cpu_s_per_action']} s of app CPU per action, load average {step['load_average']})")
