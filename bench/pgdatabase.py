"""The PostgreSQL database a benchmark fills: DATABASE_URL, or a throwaway cluster from the local binaries."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def postgres_database(name: str):
    """Yield the SQLAlchemy URL of a PostgreSQL database; exit with status 2 and a message when there is none.

    Without DATABASE_URL a throwaway cluster is started (as the test suite does) and removed afterwards.
    """
    url = os.environ.get("DATABASE_URL", "")
    cluster = None
    if not url:
        from testkit.pgcluster import ThrowawayCluster, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            print("需要 PostgreSQL：请设置 DATABASE_URL / set DATABASE_URL to a PostgreSQL database", file=sys.stderr)
            raise SystemExit(2)
        cluster = ThrowawayCluster(bin_dir)
        cluster.start()
        url = cluster.create_database(name)
    elif url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith("postgresql"):
        print("这个基准只在 PostgreSQL 上运行 / this benchmark runs on PostgreSQL only", file=sys.stderr)
        raise SystemExit(2)
    try:
        yield url
    finally:
        if cluster is not None:
            cluster.stop()
