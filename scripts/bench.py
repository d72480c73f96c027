"""`make bench`: start a throwaway PostgreSQL cluster and run each benchmark on its own database
(the last one, bench/load_bench.py, is the locust load run and its ramp)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from testkit.pgcluster import ThrowawayCluster, find_bin_dir  # noqa: E402

BENCHMARKS = ["bench/approve_bench.py", "bench/kiosk_bench.py", "bench/tasks_bench.py", "bench/load_bench.py"]


def main() -> int:
    cluster = ThrowawayCluster(find_bin_dir())
    cluster.start()
    failures = 0
    try:
        for index, script in enumerate(BENCHMARKS):
            url = cluster.create_database(f"bench{index}")
            print(f"=== {script} ===", flush=True)
            env = {**os.environ, "DATABASE_URL": url}
            failures += subprocess.run([sys.executable, os.path.join(ROOT, script)], env=env, cwd=ROOT).returncode != 0
    finally:
        cluster.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
