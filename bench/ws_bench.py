"""Live-update delivery latency through gunicorn (2 workers) and PostgreSQL NOTIFY (target: p95 < 100 ms).

    .venv/bin/python bench/ws_bench.py [--sockets 300] [--events 200] [--interval 0.02]

With DATABASE_URL (or BENCH_DATABASE_URL) pointing at an EMPTY PostgreSQL database the bench
creates its tables there; without it, it starts its own throwaway cluster (testkit/pgcluster.py).
It starts ``gunicorn -k gthread --workers 2``, logs one user in, opens the sockets (they spread
over both workers), then commits events one by one from this process exactly as a service
would (``events.publish`` + commit → NOTIFY → each worker's listener → hub → socket) and
measures, for every socket and event, the time from just before the commit to the message's
arrival. It prints p50/p95/p99 and the workers' resident memory per socket.
"""
from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from wsproto import ConnectionType, WSConnection  # noqa: E402
from wsproto.events import CloseConnection, Pong, RejectConnection, Request, TextMessage  # noqa: E402

from app.realtime import events  # noqa: E402
from testkit.live import Gunicorn, create_schema_and_user, http_login  # noqa: E402
from testkit.pgcluster import ThrowawayCluster, find_bin_dir  # noqa: E402

TARGET_P95_MS = 100.0
OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING = 0x1, 0x8, 0x9


def database_url() -> tuple[str, ThrowawayCluster | None]:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url, None
    bin_dir = find_bin_dir()
    if not bin_dir:
        sys.exit("no DATABASE_URL and no PostgreSQL binaries for a throwaway cluster")
    cluster = ThrowawayCluster(bin_dir)
    cluster.start()
    return cluster.create_database("ws_bench"), cluster


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RawSocket:
    """A bare client: the bench reads every socket from one thread, so the time noted is the time
    the bytes arrived, not the time a Python thread got the GIL back.

    wsproto makes the handshake (and the pongs and the close); the events' frames are read here:
    the reader notes a socket's arrival time only after parsing the sockets before it, and
    wsproto's parsing made that wait, and the client's share of the machine's two cores, part of
    the latency it reported (docs/PERFORMANCE.md).
    The client offers no extension, so the server's frames are plain, unmasked and unfragmented.
    """

    def __init__(self, base_url: str, cookie: str):
        parts = urlsplit(base_url)
        self.sock = socket.create_connection((parts.hostname, parts.port))
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=parts.hostname, target="/ws", extra_headers=[
            ("Cookie", cookie), ("Origin", f"http://{parts.hostname}")])))
        self.arrivals: dict[str, float] = {}
        self.server = None
        self.pending = b""
        while self.server is None:
            if not self._handshake():
                raise ConnectionError("the server refused the WebSocket")
        self.sock.setblocking(False)

    def _handshake(self) -> bool:
        """Until the server's hello (sent once this socket is subscribed), through wsproto."""
        data = self.sock.recv(65536)
        if not data:
            return False
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, TextMessage):
                message = json.loads(event.data)
                if message["type"] == "hello":
                    self.server = message["server"]
            elif isinstance(event, (CloseConnection, RejectConnection)):
                return False
        return True

    def read(self, now: float) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        buffer, offset = self.pending + data, 0
        while len(buffer) - offset >= 2:
            opcode, length, start = buffer[offset] & 0x0F, buffer[offset + 1] & 0x7F, offset + 2
            if length >= 126:
                size = 2 if length == 126 else 8
                if len(buffer) < start + size:
                    break
                length, start = int.from_bytes(buffer[start:start + size], "big"), start + size
            if len(buffer) < start + length:
                break
            payload, offset = buffer[start:start + length], start + length
            if opcode == OPCODE_TEXT:
                message = json.loads(payload)
                if message["type"] == "event":
                    self.arrivals[message["id"]] = now
            elif opcode == OPCODE_PING:
                self.sock.sendall(self.ws.send(Pong(payload)))
            elif opcode == OPCODE_CLOSE:
                return False
            else:
                raise ConnectionError(f"unexpected WebSocket frame (opcode {opcode})")
        self.pending = buffer[offset:]
        return True

    def close(self):
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except Exception:  # noqa: BLE001 - closing a socket the server may have dropped
            pass
        self.sock.close()


def read_all(sockets: list[RawSocket], stop: threading.Event) -> None:
    selector = selectors.DefaultSelector()
    for raw in sockets:
        selector.register(raw.sock, selectors.EVENT_READ, raw)
    while not stop.is_set():
        for key, _ in selector.select(timeout=0.1):
            now = time.perf_counter()
            if not key.data.read(now):
                selector.unregister(key.fileobj)
    selector.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between two events")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    url, cluster = database_url()
    try:
        username = f"bench_{uuid.uuid4().hex[:6]}"
        user_id = create_schema_and_user(url, username, roles=("admin",))
        # Every socket holds a gthread thread: room for all of them on one worker, plus HTTP headroom.
        with Gunicorn(url, workers=args.workers, threads=args.sockets + 32) as server:
            cookie = http_login(server.url, username, "demo123456")
            workers = server.worker_pids()
            before = {pid: rss_kib(pid) for pid in workers}

            with ThreadPoolExecutor(8) as pool:
                opened = list(pool.map(lambda _: RawSocket(server.url, cookie), range(args.sockets)))
            time.sleep(1.0)  # let the workers settle before measuring memory
            after = {pid: rss_kib(pid) for pid in workers}
            per_worker = {pid: sum(1 for raw in opened if raw.server == pid) for pid in workers}
            stop = threading.Event()
            reader = threading.Thread(target=read_all, args=(opened, stop), daemon=True)
            reader.start()

            engine = create_engine(url)
            sent: dict[str, float] = {}
            with Session(engine) as session:
                session.execute(text("SELECT 1"))
                session.commit()
                for _ in range(args.events):
                    payload = events.publish("bench", user_ids=[user_id], session=session)
                    sent[payload["id"]] = time.perf_counter()
                    session.commit()
                    time.sleep(args.interval)
            time.sleep(1.0)  # stragglers
            engine.dispose()

            stop.set()
            reader.join()
            latencies = [(raw.arrivals[event_id] - t0) * 1000 for raw in opened for event_id, t0 in sent.items()
                         if event_id in raw.arrivals]
            expected = args.sockets * args.events
            for raw in opened:
                raw.close()

        memory_delta = sum(after[pid] - before[pid] for pid in workers)
        print(f"sockets: {args.sockets} over {len(workers)} workers {sorted(per_worker.values())}; "
              f"events: {args.events} every {args.interval * 1000:.0f} ms")
        print(f"delivered: {len(latencies)} of {expected} ({100 * len(latencies) / expected:.2f} %)")
        if latencies:
            p50, p95, p99 = (percentile(latencies, f) for f in (0.50, 0.95, 0.99))
            print(f"latency ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {max(latencies):.1f}  "
                  f"mean {statistics.mean(latencies):.1f}")
        print(f"worker RSS: {sum(before.values()) / 1024:.1f} MiB before, {sum(after.values()) / 1024:.1f} MiB with "
              f"sockets; {memory_delta / args.sockets:.1f} KiB per socket")
        ok = bool(latencies) and len(latencies) == expected and percentile(latencies, 0.95) < TARGET_P95_MS
        print(f"target p95 < {TARGET_P95_MS:.0f} ms and nothing lost: {'OK' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
