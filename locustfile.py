"""Load test (run only as its own process: `locust -f locustfile.py`; locust monkey-patches gevent).

Minimal for now: a desk user (maker1 from `flask demo`) logs in and browses the 施工单 list and a
detail page. The load issue adds the four plant personas and the SLA check.
"""
import re

from locust import HttpUser, between, task

PASSWORD = "demo123456"


class DeskUser(HttpUser):
    wait_time = between(2, 5)

    def on_start(self):
        page = self.client.get("/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        self.client.post("/login", data={"csrf_token": token, "username": "maker1", "password": PASSWORD})

    @task(3)
    def work_order_list(self):
        self.client.get("/workorders")

    @task(1)
    def dashboard(self):
        self.client.get("/")
