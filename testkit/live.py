"""Helpers for the WebSocket and gunicorn tests and for bench/ (ws_bench, load_bench): sockets, logins, a real gunicorn."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import simple_websocket

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_cookie(app, user_id: int) -> str:
    """A signed Flask session that logs ``user_id`` in (what the login page would set)."""
    serializer = app.session_interface.get_signing_serializer(app)
    return f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={serializer.dumps({'_user_id': str(user_id), '_fresh': True})}"


def _cookie_from(response) -> str | None:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or ():
        jar.load(header)
    morsel = jar.get("session")
    return f"session={morsel.value}" if morsel else None


def http_login(base_url: str, username: str, password: str) -> str:
    """Log in through GET/POST /login (with its CSRF token) and return the session cookie."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", "/login")
    page = connection.getresponse()
    html = page.read().decode()
    cookie = _cookie_from(page)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = urlencode({"csrf_token": token, "username": username, "password": password})
    connection.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Referer": f"{base_url}/login",
    })
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 302, f"login failed with {response.status}"
    return _cookie_from(response)


def http_request(base_url: str, method: str, path: str, cookie: str | None = None, headers: dict | None = None):
    """(status, body, the session cookie to use from now on)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(method, path, headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body, _cookie_from(response) or cookie


def csrf_for(base_url: str, cookie: str) -> tuple[str, str]:
    """(CSRF token, session cookie holding it) as a page's <meta name="csrf-token"> gives them."""
    _, page, cookie = http_request(base_url, "GET", "/notifications", cookie=cookie)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1), cookie


def ws_url(base_url: str, query: dict | None = None) -> str:
    url = base_url.replace("http://", "ws://") + "/ws"
    return f"{url}?{urlencode(query)}" if query else url


class Client(simple_websocket.Client):
    """simple-websocket's client, reading the frames that arrive together with the handshake reply.

    Its handshake takes the reply from one read and parses only the reply; a frame right behind it
    (the hello, or the close 4401 of an anonymous socket) would wait for the next read, which never
    comes once the server has closed the connection: the close would be reported as 1005.
    """

    def _thread(self):
        self.connected = self._handle_events()
        super()._thread()


def connect(base_url: str, cookie: str | None = None, origin: str | None = "same", query: dict | None = None):
    """A WebSocket client; ``origin="same"`` sends the Origin a browser on this site would send.

    simple-websocket sends ``Host`` without the port, so the matching Origin has no port either.
    """
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if origin == "same":
        origin = "http://" + urlsplit(base_url).hostname
    if origin:
        headers["Origin"] = origin
    return Client.connect(ws_url(base_url, query), headers=headers)


def receive(ws, timeout: float = 5.0) -> dict | None:
    raw = ws.receive(timeout=timeout)
    return json.loads(raw) if raw is not None else None


def receive_until(ws, predicate, timeout: float = 5.0) -> dict | None:
    """The first message matching ``predicate`` within ``timeout`` seconds (others are skipped)."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        message = receive(ws, remaining)
        if message is None:
            return None
        if predicate(message):
            return message
    return None


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


def open_on_both_workers(server, cookie, wanted=8):
    """Open sockets until each worker holds half of ``wanted``.

    The kernel picks the accepting worker, and a worker still booting accepts none: keep trying for
    a while, closing the sockets a worker does not need, so that no worker ever runs out of threads
    (a handshake waiting for a free thread would stall the test).
    """
    per_worker = wanted // 2
    kept: dict[int, list] = {}
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(4) as pool:
        while time.monotonic() < deadline:
            for ws in pool.map(lambda _: connect(server.url, cookie=cookie), range(4)):
                worker_sockets = kept.setdefault(receive(ws)["server"], [])
                if len(worker_sockets) < per_worker:
                    worker_sockets.append(ws)
                else:
                    ws.close()
            if len(kept) == 2 and all(len(sockets) == per_worker for sockets in kept.values()):
                break
            time.sleep(0.2)
    assert len(kept) == 2, "every socket landed on one worker for 30 s"
    return [(worker, ws) for worker, sockets in kept.items() for ws in sockets]


# gunicorn's default access log format: '127.0.0.1 - - [29/Nov/2026:15:41:25 +0000] "GET / HTTP/1.1" 200 …'
ACCESS_LOG_LINE = re.compile(r'^\S+ - \S+ \[[^\]]+\] "')


class Gunicorn:
    """``gunicorn -k gthread`` serving ``app:create_app()`` on a free port, as production runs it."""

    def __init__(self, database_url: str, workers: int = 2, threads: int = 16, extra_env: dict | None = None,
                 config: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115 - lives as long as the server
        self.command = [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-k", "gthread",
            "--workers", str(workers), "--threads", str(threads), "--no-control-socket", "--graceful-timeout", "1",
            "-b", f"127.0.0.1:{self.port}", *(["-c", config] if config else []), "app:create_app()",
        ]
        self.env = {
            **os.environ, "DATABASE_URL": database_url, "METRICS_ENABLED": "0",
            "SECRET_KEY": "live-test-secret-key-0123456789abcdef", **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log)
        if not wait_for(self._ready, timeout=30, interval=0.2):
            self.stop()
            raise RuntimeError(f"gunicorn did not start:\n{self.output()}")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.output()}")
        try:
            return http_request(self.url, "GET", "/healthz")[0] == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        result = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in result.stdout.split()]

    def output(self, access_log: bool = True) -> str:
        """The end of what the server printed (without the access log's lines: its errors)."""
        with open(self.log.name, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        if not access_log:
            text = "".join(line for line in text.splitlines(keepends=True) if not ACCESS_LOG_LINE.match(line))
        return text[-5000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc):
        self.stop()
        os.unlink(self.log.name)


# The password of every user the suite and the benchmarks make, hashed with one PBKDF2 round (cheap to check).
PASSWORD = "demo123456"
CHEAP_HASH_METHOD = "pbkdf2:sha256:1"


def create_schema_and_user(database_url: str, username: str, roles=("operator",), name: str = "测试用户") -> int:
    """Tables (db.create_all, as the integrator's migration would) and one user with the password ``PASSWORD``."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from werkzeug.security import generate_password_hash

    from app import models as m
    from app.extensions import db

    engine = create_engine(database_url)
    db.metadata.create_all(engine)
    with Session(engine) as session:
        user = m.User(username=username, name=name, is_active=True,
                      password_hash=generate_password_hash(PASSWORD, method=CHEAP_HASH_METHOD))
        user.roles = [session.query(m.Role).filter_by(code=code).one_or_none() or m.Role(code=code, name=code)
                      for code in roles]
        session.add(user)
        session.commit()
        user_id = user.id
    engine.dispose()
    return user_id


def change(db, task_id: int, event: str, **values) -> None:
    """What a task service does: change the row, publish, commit."""
    from app.models import Task
    from app.realtime import events

    task = db.session.get(Task, task_id)
    for name, value in values.items():
        setattr(task, name, value)
    task.version += 1
    events.publish(event, task=task)
    db.session.commit()
