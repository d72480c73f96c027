"""Two app servers behind nginx (issue #22, docs/DEPLOYMENT.md §13): two gunicorn masters on their own
ports, as two hosts would run them, sharing PostgreSQL, with nginx and production's ops/nginx.conf in front.

A change made through one server reaches the sockets held by the other (and by nginx's), because events
travel through PostgreSQL NOTIFY to every worker of every server; the claim race and the operator's cap
hold across the servers, because they are decided in the database.
"""
import os
import shutil
import sys
import threading
from urllib.parse import unquote

import pytest
from flask import Flask

import factories as f
from app.models import Task
from support.kiosk_world import build_world, reload
from testkit.live import (
    Client,
    Gunicorn,
    connect,
    csrf_for,
    receive_until,
    session_cookie,
)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench"))
from plant_bench import Nginx, unverified_tls

pytestmark = pytest.mark.postgres

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture()
def world(app, db):
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed")
    world = build_world()
    world.second_task = f.TaskFactory(step=world.print_step, department=world.printing, task_type="printing")
    db.session.commit()
    return world


@pytest.fixture()
def servers(world, database_url):
    first, second = Gunicorn(database_url, workers=1, threads=16), Gunicorn(database_url, workers=1, threads=16)
    with first, second, Nginx([f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"], binary=NGINX) as proxy:
        yield first, second, proxy


def cookie_for(server: Gunicorn, user) -> str:
    """A login session as the servers sign it (they share SECRET_KEY, as docs §13 requires)."""
    signer = Flask(__name__)
    signer.secret_key = server.env["SECRET_KEY"]
    return session_cookie(signer, user.id)


def claim(server: Gunicorn, cookie: str, task: tuple[int, int]) -> tuple[int, str]:
    """POST /tasks/<id>/claim as the kiosk does (CSRF header, htmx); (status, X-Message)."""
    import http.client
    from urllib.parse import urlsplit

    task_id, version = task
    token, cookie = csrf_for(server.url, cookie)
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("POST", f"/tasks/{task_id}/claim", body=f"version={version}", headers={
        "Cookie": cookie, "X-CSRFToken": token, "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, unquote(response.getheader("X-Message", ""))


def race(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - a crash fails the test, it does not vanish with the thread
            results[index] = (500, repr(error))

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_claim_through_one_server_reaches_sockets_on_the_other_and_through_nginx(world, servers):
    first, second, proxy = servers
    watcher = cookie_for(second, world.supervisor)
    on_second = connect(second.url, cookie=watcher)
    # As a browser on https://<host> opens it (simple-websocket sends Host without the port: so does Origin).
    through_nginx = Client.connect(f"wss://127.0.0.1:{proxy.https_port}/ws", ssl_context=unverified_tls(),
                                   headers={"Cookie": watcher, "Origin": "https://127.0.0.1"})
    hello_second = receive_until(on_second, lambda m: m["type"] == "hello", timeout=10)
    hello_nginx = receive_until(through_nginx, lambda m: m["type"] == "hello", timeout=10)

    status, _ = claim(first, cookie_for(first, world.operator), (world.task.id, world.task.version))

    def task_changed(message):
        return message["type"] == "event" and message["event"] == "task.updated"

    seen_second = receive_until(on_second, task_changed, timeout=10)
    seen_nginx = receive_until(through_nginx, task_changed, timeout=10)
    on_second.close()
    through_nginx.close()
    assert status == 200
    assert hello_second["server"] in second.worker_pids()
    assert hello_nginx["server"] in first.worker_pids() + second.worker_pids()
    assert f"dept:{world.printing.id}" in seen_second["topics"] and seen_second["id"] == seen_nginx["id"]


def test_the_claim_race_has_one_winner_across_the_two_servers(world, servers):
    first, second, _ = servers
    task = (world.task.id, world.task.version)
    cookies = cookie_for(first, world.operator), cookie_for(second, world.other_operator)
    calls = [lambda: claim(first, cookies[0], task), lambda: claim(second, cookies[1], task)]

    results = race(calls)

    assert sorted(status for status, _ in results) == [200, 409], results
    task = reload(world.task)
    assert task.operator_id in {world.operator.id, world.other_operator.id}


def test_the_operators_cap_holds_across_the_two_servers(world, servers, db):
    first, second, _ = servers
    f.SettingFactory(key="operator_task_cap", value=1)
    db.session.commit()
    cookie = cookie_for(first, world.operator)
    tasks = (world.task.id, world.task.version), (world.second_task.id, world.second_task.version)
    calls = [lambda: claim(first, cookie, tasks[0]), lambda: claim(second, cookie, tasks[1])]

    results = race(calls)

    assert sorted(status for status, _ in results) == [200, 409], results
    assert [message for status, message in results if status == 409] == ["已达任务上限 1/1"]
    db.session.expire_all()
    assert db.session.query(Task).filter_by(operator_id=world.operator.id).count() == 1
