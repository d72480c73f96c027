"""HTTP load: the four personas of locustfile.py against gunicorn (2 workers) on PostgreSQL.

    DATABASE_URL=postgresql://… .venv/bin/python bench/load_bench.py [--scale 1] [--users 100]
        [--seconds 60] [--runs 3] [--ramp-seconds 30] [--ramp-step 100] [--ramp-limit 1000] [--no-ramp] [--ws-sockets 300]

Without DATABASE_URL it starts a throwaway PostgreSQL cluster. In an empty database the schema is
created and the plant loaded as `flask demo --scale N` does (bulk inserts); a database that already
holds it (an earlier run's) is used as it is. Then ``gunicorn -k gthread --workers 2`` serves it
with production's settings (ops/gunicorn.conf.py, metrics on) and locust runs headless in its own process
(never imported here: it monkey-patches with gevent). Users start at 5 per second and log in;
the statistics are reset once all run. First the steady runs (100 users, 60 s; --runs, 3 by
default, each on a fresh copy of the plant): requests per second, p50/p95/p99 and errors per
endpoint, and locust's SLA verdict; the run with the median average is the verdict (a shared
machine's neighbours can double one run's latencies). Then the same load once more with
bench/ws_bench.py beside it (its own gunicorn, 300 sockets, on its own database of the same
server): the live-update delivery latency while the HTTP load runs. Then the ramp: 100, 200,
300 … users for 30 s each until p95 passes 500 ms; the saturation throughput is the best requests
per second seen. Everything, with the load average of the machine before and after each run, goes
to bench-results/load-<UTC time>.json. Numbers are reported; the exit code is locust's SLA verdict
of the median steady run.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pgdatabase import postgres_database  # noqa: E402

SATURATION_P95_MS = 500
SPAWN_RATE = 5  # users per second: each login hashes a password or PIN on purpose
# Users think for 2–15 s between requests; with gunicorn's 2 s keep-alive the server closes idle
# connections just as the client reuses them ("connection reset by peer"). In production nginx holds
# the clients' connections, so the bench keeps them open longer than a user's pause instead.
# Production's settings (ops/gunicorn.conf.py, metrics on) apart from the worker count and threads.
GUNICORN_CONFIG = os.path.join(ROOT, "ops", "gunicorn.conf.py")
GUNICORN_ENV = {"GUNICORN_CMD_ARGS": "--keep-alive 30", "METRICS_ENABLED": "1"}
THREADS_PER_WORKER = 16


def load_plant(url: str, scale: float) -> dict:
    """Schema, presets, demo logins and the scaled plant, as `flask demo --scale` builds them; a
    database already holding the plant (an earlier run's) is used as it is."""
    from sqlalchemy import func, select

    from app import create_app, scale_demo
    from app.extensions import db
    from app.models import Task, TimeLog, User, WorkOrder
    from app.seed import load_demo, seed_presets

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "METRICS_ENABLED": False,
                      "SECRET_KEY": "load-bench-secret-key-not-for-production"})
    with app.app_context():
        db.create_all()
        if scale_demo.already_built():
            count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
            counts = {"work_orders": count(WorkOrder), "tasks": count(Task), "people": count(User),
                      "time_logs": count(TimeLog), "seconds": 0, "reused": True}
        else:
            seed_presets()
            load_demo()
            db.session.commit()
            started = time.perf_counter()
            counts = scale_demo.build(scale)
            counts["seconds"] = round(time.perf_counter() - started, 1)
        db.session.remove()  # its connection back to the pool first, or dispose() leaves it open
        db.engine.dispose()
    return counts


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def run_locust(base_url: str, users: int, seconds: int, spawn_rate: float, sla: dict | None = None) -> dict:
    """One headless locust run in its own process; its JSON summary plus exit code and load average.

    The users start at ``spawn_rate`` per second and log in; the statistics are reset once all are
    running, so the figures are ``seconds`` of steady work (a shift's logins are not its load).
    """
    with tempfile.NamedTemporaryFile(prefix="locust-", suffix=".json", delete=False) as handle:
        summary_path = handle.name
    env = {**os.environ, "LOAD_SUMMARY_JSON": summary_path, **(sla or {})}
    command = [os.path.join(os.path.dirname(sys.executable), "locust"), "-f", os.path.join(ROOT, "locustfile.py"),
               "--headless", "--only-summary", "--reset-stats", "-u", str(users), "-r", str(spawn_rate),
               "-t", f"{seconds + math.ceil(users / spawn_rate)}s",
               "--stop-timeout", "5", "--host", base_url, "--loglevel", "WARNING"]
    before = load_average()
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=seconds + 120)
    try:
        with open(summary_path, encoding="utf-8") as handle:
            result = json.load(handle)
    except (OSError, ValueError) as error:
        raise RuntimeError(
            f"locust wrote no summary (exit {finished.returncode}):\n{finished.stderr[-3000:]}") from error
    finally:
        os.unlink(summary_path)
    result.update(exit_code=finished.returncode, seconds=seconds, users=users, load_before=before,
                  load_after=load_average())
    return result


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (Linux /proc)."""
    ticks = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(server, base_url: str, users: int, seconds: int, **kwargs) -> dict:
    """run_locust, plus the app's CPU time per request: on a shared machine the latencies grow with
    the other load, the CPU cost of a request does not (it is what sizes a dedicated server)."""
    pids = server.worker_pids()
    before = cpu_seconds(pids)
    result = run_locust(base_url, users, seconds, **kwargs)
    requests = result["all_requests"]["requests"]
    result["app_cpu_ms_per_request"] = round((cpu_seconds(pids) - before) * 1000 / requests, 1) if requests else None
    return result


def fanout_alongside(url: str, delay: float, sockets: int) -> tuple[threading.Thread, dict]:
    """bench/ws_bench.py started ``delay`` seconds from now, on a new empty database of the same server."""
    result: dict = {}

    def run() -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        time.sleep(delay)
        name = "ws_fanout"
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            connection.execute(text(f"CREATE DATABASE {name}"))
        engine.dispose()
        ws_url = make_url(url).set(database=name).render_as_string(hide_password=False)
        finished = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "ws_bench.py"), "--sockets", str(sockets)],
                                  cwd=ROOT, env={**os.environ, "DATABASE_URL": ws_url}, capture_output=True, text=True,
                                  timeout=600)
        result.update(exit_code=finished.returncode, output=finished.stdout.strip().splitlines(),
                      errors=finished.stderr.strip().splitlines()[-5:] if finished.returncode else [])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def print_run(title: str, result: dict) -> None:
    print(f"--- {title}: {result['users']} users, {result['seconds']} s "
          f"(load average before {result['load_before']}, after {result['load_after']})")
    print(f"{'endpoint':<48}{'reqs':>7}{'err':>5}{'rps':>7}{'avg':>7}{'p50':>6}{'p95':>6}{'p99':>6}")
    for row in [*result["endpoints"], result["total"]]:
        name = f"{row['method'] or ''} {row['name']}".strip()
        print(f"{name[:47]:<48}{row['requests']:>7}{row['failures']:>5}{row['rps']:>7.1f}{row['avg_ms']:>7.1f}"
              f"{row['p50_ms']:>6.0f}{row['p95_ms']:>6.0f}{row['p99_ms']:>6.0f}")
    if result["conflicts"]:
        print("expected conflicts (409): " + ", ".join(f"{k} {v}" for k, v in sorted(result["conflicts"].items())))
    for error in result["errors"][:10]:
        print(f"error: {error['method']} {error['name']}: {error['error']} × {error['occurrences']}")
    print(f"app CPU per request (both workers, whole run incl. logins): {result['app_cpu_ms_per_request']} ms")
    verdict = "; ".join(result["sla"]["failed"]) or "met"
    print(f"SLA (errors ≤ {result['sla']['max_errors']}, p95 < {result['sla']['p95_ms']} ms, "
          f"average < {result['sla']['avg_ms']} ms): {verdict}")


def ramp(server, step: int, seconds: int, limit: int) -> dict:
    """More users each round until p95 passes SATURATION_P95_MS; the best throughput is the saturation."""
    rounds = []
    users = step
    while users <= limit:
        result = measured(server, server.url, users, seconds, spawn_rate=SPAWN_RATE,
                            sla={"LOAD_SLA_P95_MS": "1e9", "LOAD_SLA_AVG_MS": "1e9", "LOAD_SLA_MAX_ERRORS": "1000000000"})
        total = result["total"]
        rounds.append({"users": users, "rps": total["rps"], "p50_ms": total["p50_ms"], "p95_ms": total["p95_ms"],
                       "p99_ms": total["p99_ms"], "avg_ms": total["avg_ms"], "errors": total["failures"],
                       "requests": total["requests"], "load_before": result["load_before"],
                       "load_after": result["load_after"], "app_cpu_ms_per_request": result["app_cpu_ms_per_request"]})
        print(f"ramp {users:>5} users: {total['rps']:>7.1f} req/s, p50 {total['p50_ms']:.0f} ms, "
              f"p95 {total['p95_ms']:.0f} ms, p99 {total['p99_ms']:.0f} ms, {total['failures']} errors, "
              f"app CPU {result['app_cpu_ms_per_request']} ms/request "
              f"(load {result['load_after']})", flush=True)
        if total["p95_ms"] > SATURATION_P95_MS:
            break
        users += step
    best = max(rounds, key=lambda r: r["rps"])
    print(f"saturation: {best['rps']:.1f} req/s at {best['users']} users "
          f"(p95 passed {SATURATION_P95_MS} ms at {rounds[-1]['users']} users)"
          if rounds[-1]["p95_ms"] > SATURATION_P95_MS else
          f"p95 stayed under {SATURATION_P95_MS} ms up to {rounds[-1]['users']} users; best {best['rps']:.1f} req/s")
    return {"rounds": rounds, "saturation_rps": best["rps"], "saturation_users": best["users"]}


@contextmanager
def plant_copy(url: str, name: str):
    """A new database ``name`` on the same server, copied from ``url``'s (its plant as built): each run
    starts from the same plant, not from what the previous run left (claimed tasks, 施工单 approved)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    source = make_url(url).database
    # From the server's maintenance database: a connection to the source would itself keep the copy from starting.
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()  # CREATE DATABASE … TEMPLATE needs the source without connections
        with engine.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {source}"))
        engine.dispose()
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()


@contextmanager
def served(url: str, name: str):
    """gunicorn (2 workers, production's settings) on a fresh copy of the plant."""
    from testkit.live import Gunicorn

    with plant_copy(url, name) as copy, \
            Gunicorn(copy, workers=2, threads=THREADS_PER_WORKER, extra_env=GUNICORN_ENV, config=GUNICORN_CONFIG) as server:
        yield copy, server


def steady_runs(url: str, args, report: dict) -> dict:
    """``args.runs`` steady runs, each on a fresh copy of the plant; the one with the median average is
    the verdict. On a shared 2-core machine one run's latencies can double with the neighbours' load
    (docs/PERFORMANCE.md)."""
    runs = []
    for index in range(args.runs):
        with served(url, f"load_run{index}") as (_, server):
            result = measured(server, server.url, args.users, args.seconds, spawn_rate=SPAWN_RATE)
            if result["errors"]:  # what the server said about them (5xx tracebacks, worker timeouts)
                result["gunicorn_log_tail"] = server.output(access_log=False)
        print_run(f"steady run {index + 1} of {args.runs}", result)
        if result["errors"]:
            print("--- the server's log without its access lines (the errors' tracebacks):")
            print(result["gunicorn_log_tail"])
        runs.append(result)
    median = sorted(runs, key=lambda r: r["total"]["avg_ms"])[len(runs) // 2]
    report["steady_runs"] = runs
    report["steady"] = median
    print(f"--- the median run (by average) of {len(runs)}: run {runs.index(median) + 1}: "
          f"average {median['total']['avg_ms']} ms, p95 {median['total']['p95_ms']} ms, "
          f"{median['total']['failures']} errors; every run: "
          + ", ".join(f"{r['total']['avg_ms']}/{r['total']['p95_ms']} ms" for r in runs) + " (average/p95)")
    return median


def run(url: str, args) -> int:
    counts = load_plant(url, args.scale)
    print(f"plant (scale {args.scale}): {counts['work_orders']} 施工单, {counts['tasks']} tasks, "
          f"{counts['people']} people, {counts['time_logs']} time logs in {counts['seconds']} s", flush=True)
    report = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "plant": counts, "gunicorn": {"workers": 2, "threads": THREADS_PER_WORKER}}
    median = steady_runs(url, args, report)
    if args.ws_sockets:
        # Another run of the same load with the fan-out benchmark beside it (once every user works).
        with served(url, "load_fanout") as (copy, server):
            thread, fanout = fanout_alongside(copy, args.users / SPAWN_RATE + 5, args.ws_sockets)
            alongside = measured(server, server.url, args.users, args.seconds, spawn_rate=SPAWN_RATE)
            thread.join()
        print_run("with the WebSocket fan-out beside it", alongside)
        print("--- WebSocket fan-out (bench/ws_bench.py) during that run:")
        print("\n".join(fanout.get("output", []) + fanout.get("errors", [])))
        report["with_websocket_fanout"] = alongside
        report["websocket_fanout_during_load"] = fanout
    if not args.no_ramp:
        with served(url, "load_ramp") as (_, server):
            report["ramp"] = ramp(server, args.ramp_step, args.ramp_seconds, args.ramp_limit)
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    path = os.path.join(ROOT, "bench-results", f"load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
    print(f"summary written to {os.path.relpath(path, ROOT)}")
    return median["exit_code"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3, help="steady runs; the median one (by average) is the verdict")
    parser.add_argument("--ramp-step", type=int, default=100)
    parser.add_argument("--ramp-seconds", type=int, default=30)
    parser.add_argument("--ramp-limit", type=int, default=1000)
    parser.add_argument("--no-ramp", action="store_true")
    parser.add_argument("--ws-sockets", type=int, default=300, help="sockets of the fan-out run beside the steady run (0: none)")
    args = parser.parse_args()
    with postgres_database("load_bench") as url:
        return run(url, args)


if __name__ == "__main__":
    sys.exit(main())
