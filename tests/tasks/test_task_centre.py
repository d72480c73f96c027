"""任务中心 /tasks: visibility per role, every filter, search, sort, pages, status counts, query count."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from app.extensions import db as _db
from app.models import Task
from app.utils.timeutil import plant_today
from support.reports_world import HTMX, VISIBLE, numbers, row_numbers

ALL = "per_page=100"


@pytest.fixture()
def world(reports_world):
    return reports_world


def shown(client, query="", headers=None):
    response = client.get(f"/tasks?{ALL}&{query}", headers=headers)
    assert response.status_code == 200
    return set(row_numbers(response))


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_role_sees_exactly_its_tasks(client, sign_in, world, who):
    user = world.supervisor if who == "supervisor" else world.admin if who == "admin" else getattr(world, who)
    sign_in(user)
    response = client.get(f"/tasks?{ALL}")
    assert set(row_numbers(response)) == numbers(world, VISIBLE[who])
    assert f"共 {len(VISIBLE[who])} 个任务" in response.get_data(as_text=True)


def test_drafts_are_hidden_unless_asked_for_and_only_their_viewers_see_them(client, sign_in, world):
    sign_in(world.maker)
    assert shown(client, "drafts=include") == numbers(world, ["t1", "t2", "t3", "t4", "t9"])
    assert shown(client, "drafts=only") == numbers(world, ["t9"])
    assert shown(client, "status=draft") == numbers(world, ["t9"])
    sign_in(world.liu)
    assert shown(client, "drafts=only") == set()
    sign_in(world.admin)
    assert shown(client, "drafts=include") == numbers(world, VISIBLE["admin"] + ["t9"])


@pytest.mark.parametrize("query, expected", [
    ("department={printing}", ["t1", "t3", "t4", "t5", "t7", "t10"]),
    ("department={production}", ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t10"]),  # its workshops included
    ("department=none", ["t8"]),
    ("status=pending", ["t6", "t8"]),
    ("status=open", ["t5", "t6", "t8"]),
    ("operator={liu}", ["t1", "t3", "t5", "t10"]),
    ("operator=none", ["t6", "t8"]),
    ("priority=urgent", ["t1", "t2"]),
    ("task_type=die_cutting", ["t2", "t6"]),
    ("process_id={die_process}", ["t2", "t6"]),
    ("work_order=sg2026030002", ["t3", "t4"]),
    # T2 was completed at 16:30 UTC on 03-05, which is 00:30 on 03-06 at the plant.
    ("date_by=completed&date_from=2026-03-06&date_to=2026-03-06", ["t2", "t3"]),
    ("date_by=completed&date_to=2026-03-05", ["t1", "t10"]),
    ("date_by=created&date_from=2026-03-15&date_to=2026-03-15", ["t5", "t6", "t7", "t8"]),
    ("overdue=1", ["t5", "t6", "t8"]),
    ("department={printing}&status=completed&priority=high", ["t3", "t4"]),
    ("status=bogus&priority=bogus&department=bogus&date_from=not-a-date", VISIBLE["admin"]),
    ("process_id=none&operator=-1&department=999999", VISIBLE["admin"]),
])
# The whole page checks ids against the filter choices; the list region re-fetched alone does not load them.
@pytest.mark.parametrize("headers", [None, HTMX], ids=["page", "region"])
def test_filters(client, sign_in, world, query, expected, headers):
    sign_in(world.admin)
    ids = {"printing": world.printing.id, "production": world.production.id, "liu": world.liu.id,
           "die_process": world.die_process.id}
    assert shown(client, query.format(**ids), headers) == numbers(world, expected)


def test_delivery_date_range(client, sign_in, world):
    sign_in(world.admin)
    today = plant_today()
    query = f"date_by=delivery&date_from={today - timedelta(days=3)}&date_to={today}"
    assert shown(client, query) == numbers(world, ["t5", "t6", "t7", "t8", "t10"])


@pytest.mark.parametrize("q, expected", [
    ("彩盒", ["t1", "t2"]),
    ("uv", ["t2"]),  # the text says UV
    ("SG2026030002", ["t3", "t4"]),  # 施工单号
    ("sg2026030001-02", ["t2"]),  # task number, any case
    ("TSG2026030003-04", ["t8"]),
    ("100%", []),  # % and _ are searched for, not wildcards
    ("SG2026_3", []),
])
def test_search(client, sign_in, world, q, expected):
    sign_in(world.admin)
    assert shown(client, f"q={q.replace('%', '%25')}") == numbers(world, expected)


def test_search_stays_within_what_the_viewer_sees(client, sign_in, world):
    sign_in(world.sales)
    assert shown(client, "q=SG20260300") == numbers(world, ["t1", "t2"])


def status_counts(response) -> dict[str, int]:
    html = response.get_data(as_text=True)
    return {status: int(count) for status, count in
            re.findall(r'data-status="(\w+)"[^>]*>\s*[^<]*<span class="count">(\d+)</span>', html)}


def test_status_counts_follow_every_filter_but_the_status(client, sign_in, world):
    sign_in(world.admin)
    expected = {"all": 6, "open": 1, "pending": 0, "in_progress": 1, "paused": 0, "completed": 4, "cancelled": 1}
    response = client.get(f"/tasks?department={world.printing.id}")
    assert status_counts(response) == expected
    response = client.get(f"/tasks?department={world.printing.id}&status=completed")
    assert status_counts(response) == expected
    assert set(row_numbers(response)) == numbers(world, ["t1", "t3", "t4", "t10"])
    assert "共 4 个任务" in response.get_data(as_text=True)
    # A search counts through a different path (one grouped pass): same answers.
    response = client.get(f"/tasks?department={world.printing.id}&q=SG")
    assert status_counts(response) == expected
    response = client.get("/tasks?drafts=include&operator=none")
    assert status_counts(response) == {"all": 3, "open": 2, "draft": 1, "pending": 2, "in_progress": 0, "paused": 0,
                                       "completed": 0, "cancelled": 0}


def test_status_tabs_keep_the_other_filters(client, sign_in, world):
    sign_in(world.admin)
    html = client.get(f"/tasks?department={world.printing.id}&q=SG&status=completed").get_data(as_text=True)
    tab = re.search(r'<a href="([^"]+)"[^>]*data-status="pending"', html).group(1)
    assert tab == f"/tasks?status=pending&amp;department={world.printing.id}&amp;q=SG"
    everything = re.search(r'<a href="([^"]+)"[^>]*data-status="all"', html).group(1)
    assert everything == f"/tasks?department={world.printing.id}&amp;q=SG"


@pytest.mark.parametrize("sort, expected", [
    # most urgent 施工单 first, then delivery date, then the task's own order
    ("priority", ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t10"]),
    ("number", ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t10"]),
    ("-number", ["t10", "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1"]),
    ("delivery", ["t3", "t4", "t1", "t2", "t5", "t6", "t7", "t8", "t10"]),
    ("-created", ["t10", "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1"]),
])
def test_sorting(client, sign_in, world, sort, expected):
    sign_in(world.admin)
    response = client.get(f"/tasks?{ALL}&sort={sort}")
    assert row_numbers(response) == [getattr(world, name).number for name in expected]


def _many_tasks(world, count: int) -> None:
    """Tasks on many 施工单, departments and operators (so a page has something to join)."""
    _db.session.execute(insert(Task), [
        {"number": f"TBULK-{n:04d}", "work_order_id": world.wo3.id, "step_id": world.t6.step_id, "task_type": "general",
         "content": f"批量任务 {n}", "target_quantity": 10, "completed_quantity": 0, "defective_quantity": 0,
         "status": "pending", "department_id": (world.printing, world.die_cutting)[n % 2].id,
         "operator_id": (world.liu, None, world.huang)[n % 3].id if n % 3 != 1 else None, "version": 1,
         "production_requirements": "", "notes": "", "pause_note": "", "cancel_reason": "", "completion_reason": "",
         "auto_complete": False}
        for n in range(count)
    ])
    _db.session.commit()


def test_pages_carry_the_filters_and_an_out_of_range_page_shows_the_last(client, sign_in, world):
    _many_tasks(world, 45)
    sign_in(world.admin)
    response = client.get("/tasks?status=pending&sort=number&page=2")
    html = response.get_data(as_text=True)
    assert "共 47 个任务" in html
    assert row_numbers(response) == [f"TBULK-{n:04d}" for n in range(20, 40)]
    assert 'href="/tasks?page=3&amp;status=pending&amp;sort=number"' in html
    last = client.get("/tasks?status=pending&sort=number&page=99")
    assert row_numbers(last) == [f"TBULK-{n:04d}" for n in range(40, 45)] + [world.t6.number, world.t8.number]
    assert len(row_numbers(client.get("/tasks?status=pending&per_page=50"))) == 47


def test_htmx_gets_the_list_region_alone_and_it_refreshes_itself_with_its_filters(client, sign_in, world):
    sign_in(world.admin)
    response = client.get(f"/tasks?department={world.printing.id}&status=completed", headers=HTMX)
    html = response.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<div id="task-list"')
    assert f'hx-get="/tasks?department={world.printing.id}&amp;status=completed"' in html
    assert 'hx-trigger="live-refresh, tasks-refresh from:body"' in html and 'data-live="all"' in html
    assert "<tr" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_an_operators_list_listens_to_their_own_channels(client, sign_in, world):
    sign_in(world.liu)
    html = client.get("/tasks", headers=HTMX).get_data(as_text=True)
    topics = re.search(r'data-live="([^"]+)"', html).group(1).split()
    assert topics[:2] == [f"user:{world.liu.id}", f"dept:{world.printing.id}"]
    assert set(topics[2:]) == {f"wo:{world.wo1.id}", f"wo:{world.wo2.id}", f"wo:{world.wo3.id}"}


@pytest.fixture()
def count_queries(app):
    with app.app_context():
        engine = _db.engine
    seen = []

    def listener(*args):
        seen.append(args[2])

    def count(call):
        seen.clear()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            call()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    return count


@pytest.mark.parametrize("who", ["admin", "liu", "maker"])
# The list region, after the first request (the signed-in user stays in the session): the status
# counts and the page; a department filter adds the reference version, under which its filter
# choices (it is checked against them) and the department tree (its workshops are included) are
# kept (app.services.core.reference).
@pytest.mark.parametrize("query, expected", [
    ("", 2), ("department={printing}&status=pending", 3), ("q=SG&sort=priority&overdue=1", 2),
])
def test_the_query_count_does_not_grow_with_the_page(client, sign_in, world, count_queries, who, query, expected):
    _many_tasks(world, 120)
    sign_in(world.admin if who == "admin" else getattr(world, who))
    query = query.format(printing=world.printing.id)

    def fetch(size):
        response = client.get(f"/tasks?per_page={size}&{query}", headers=HTMX)
        assert response.status_code == 200

    fetch(20)  # the first request also loads what the session keeps (the signed-in user)
    counts = {count_queries(lambda: fetch(size)) for size in (20, 50, 100)}  # noqa: B023 - called at once, inside the loop
    assert counts == {expected}
