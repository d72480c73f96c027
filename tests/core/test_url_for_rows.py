"""Links built once for every row of a long list are the links url_for gives."""
from flask import url_for

from app.templating import url_for_rows


def test_each_row_gets_the_link_url_for_would_build(app):
    with app.test_request_context("/tasks"):
        tasks, work_orders = url_for_rows("tasks.detail", "task_id"), url_for_rows("workorders.detail", "work_order_id")
        for value in (1, 7, 42, 2**31 - 1, 123456789012):
            assert tasks(value) == url_for("tasks.detail", task_id=value)
            assert work_orders(value) == url_for("workorders.detail", work_order_id=value)
        assert tasks(42) == "/tasks/42"
