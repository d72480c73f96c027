"""A throwaway PostgreSQL cluster from the local binaries (DESIGN.md §6).

initdb refuses to run as root, so as root every server command runs as the ``postgres``
user in a postgres-owned temporary directory; the server listens on a unix socket only,
with fsync off.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time


def find_bin_dir() -> str | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


class ThrowawayCluster:
    def __init__(self, bin_dir: str):
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.base = tempfile.mkdtemp(prefix="wo-pg-")
        self.data = os.path.join(self.base, "data")
        self.socket_dir = self.base
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
        os.chmod(self.base, 0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [os.path.join(self.bin_dir, args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.resume()

    def resume(self) -> None:
        """Start the server (again, after ``pause``) and wait until it accepts connections."""
        options = (
            f"-F -k {self.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB "
            # as docs/DEPLOYMENT.md §2 sets up production (SSD: a random read costs about a sequential one)
            "-c random_page_cost=1.1"
        )
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.base, "server.log"), "-w", "start")
        for _ in range(50):
            if self._run("pg_isready", "-h", self.socket_dir, check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not become ready")

    def pause(self) -> None:
        """Stop the server and keep its data, as a database restart or outage would (``resume`` ends it)."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template``, which nobody may be connected to, if given)."""
        self._run("createdb", "-h", self.socket_dir, "-U", "postgres", *(["-T", template] if template else []), name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@/{name}?host={self.socket_dir}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)
