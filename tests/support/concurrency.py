"""Requests sent at the same moment, each from its own thread (the race tests)."""
import threading
from urllib.parse import unquote


def race(app, requests):
    """Send every (client, url, form) at the same moment, each from its own thread and app context."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, client, url, form):
        barrier.wait()
        try:
            response = client.post(url, data=form, headers={"HX-Request": "true"})
            results[index] = (response.status_code, unquote(response.headers.get("X-Message", "")))
        except Exception as error:  # a crash must fail the test, not vanish with the thread
            results[index] = (500, repr(error))

    threads = [threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def logged_in_client(app, user):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client
