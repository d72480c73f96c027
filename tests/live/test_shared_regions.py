"""A live region is rendered once for every viewer who sees the same thing, and only reused when it
began after every event the viewer has heard of reached this process (app/shared_regions.py)."""
import itertools
import re
import threading

import pytest

import factories as f
from app import shared_regions
from app.extensions import db as _db
from app.realtime import events
from app.services.core import settings
from support.apps import variant_app
from support.kiosk_world import build_world, reload

HTMX = {"HX-Request": "true"}
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_ids = itertools.count(1)


@pytest.fixture()
def world(db):
    shared_regions.clear()
    world = build_world()
    world.second = f.TaskFactory(step=world.print_step, department=world.printing, number="TSG2026110001-05",
                                 content="印刷：第二个")
    _db.session.commit()
    return world


def delivered() -> str:
    """An event this process has delivered now (as its LISTEN thread would): its id."""
    event_id = f"test-{next(_ids)}"
    events.deliver({"id": event_id, "type": "test.event"})
    return event_id


@pytest.fixture()
def renders(monkeypatch, app):
    """How many times the kiosk's regions were really rendered (the check that renders reused ones again is off)."""
    import app.kiosk.routes as kiosk_routes

    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    calls = []
    real = kiosk_routes.kiosk_board
    monkeypatch.setattr(kiosk_routes, "kiosk_board", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def claimable(client, seen: str | None = None) -> str:
    headers = dict(HTMX, **({shared_regions.SEEN_HEADER: seen} if seen else {}))
    response = client.get("/kiosk?region=claimable", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert shared_regions.CSRF_PLACEHOLDER not in html
    return html


def test_viewers_of_one_department_share_one_render_after_the_event_they_heard(client, sign_in, world, renders):
    event = delivered()
    sign_in(world.operator, kiosk=True)
    first = claimable(client, event)
    sign_in(world.other_operator, kiosk=True)
    second = claimable(client, event)

    assert len(renders) == 1
    assert world.task.number in first and world.second.number in first
    assert FORM_TOKEN.sub("", first) == FORM_TOKEN.sub("", second)


def test_a_render_older_than_the_event_heard_is_not_reused(client, sign_in, world, renders):
    sign_in(world.operator, kiosk=True)
    claimable(client, delivered())
    world.task.operator_id, world.task.status = world.operator.id, "in_progress"  # claimed and started elsewhere
    _db.session.commit()
    after_the_claim = delivered()

    sign_in(world.other_operator, kiosk=True)
    html = claimable(client, after_the_claim)

    assert len(renders) == 2
    assert world.task.number not in html and world.second.number in html


@pytest.mark.parametrize("seen", [None, "never-delivered-here", "a b c"], ids=["no header", "unknown", "too many"])
def test_without_a_known_event_the_region_is_rendered_anew(client, sign_in, world, renders, seen):
    event = delivered()
    sign_in(world.operator, kiosk=True)
    claimable(client, event)
    sign_in(world.other_operator, kiosk=True)

    claimable(client, seen)

    assert len(renders) == 2


def test_the_event_of_the_viewers_own_action_must_have_arrived_too(client, sign_in, world, renders):
    heard = delivered()
    sign_in(world.operator, kiosk=True)
    claimable(client, heard)
    own = delivered()

    claimable(client, f"{heard} {own}")

    assert len(renders) == 2


def test_a_viewer_at_the_cap_or_in_another_department_gets_a_render_of_their_own(client, sign_in, world, renders):
    settings.update(world.admin, {"operator_task_cap": 1})
    f.TaskFactory(step=world.print_step, department=world.printing, operator=world.other_operator,
                  status="in_progress", number="TSG2026110001-06")
    _db.session.commit()
    event = delivered()
    sign_in(world.operator, kiosk=True)
    free = claimable(client, event)
    sign_in(world.other_operator, kiosk=True)
    at_cap = claimable(client, event)
    sign_in(world.outsider, kiosk=True)
    elsewhere = claimable(client, event)

    assert len(renders) == 3
    assert free.count(">认领</button>") == 2
    assert ">认领</button>" not in at_cap and at_cap.count("已达任务上限 1/1") == 2
    assert world.die_task.number in elsewhere and world.second.number not in elsewhere


def test_the_shared_render_carries_each_sessions_own_csrf_token(app, database_url, db, world):
    strict = variant_app(app, database_url, WTF_CSRF_ENABLED=True, VERIFY_CACHED_FRAGMENTS=False)
    first, second = strict.test_client(), strict.test_client()
    event = delivered()
    for client, operator in ((first, world.operator), (second, world.other_operator)):
        with client.session_transaction() as session:
            session.update({"_user_id": str(operator.id), "_fresh": True, "kiosk_session": True,
                            "kiosk_last_seen": 9e9})
    first_html = claimable(first, event)
    second_html = claimable(second, event)
    token = FORM_TOKEN.search(second_html).group(1)
    assert token != FORM_TOKEN.search(first_html).group(1)

    response = second.post(f"/tasks/{world.task.id}/claim", data={"csrf_token": token, "version": world.task.version},
                           headers=HTMX)

    assert response.status_code == 200
    assert reload(world.task).operator_id == world.other_operator.id


def test_a_key_that_misses_what_the_region_shows_fails_the_check(client, sign_in, world, monkeypatch):
    import app.kiosk.routes as kiosk_routes

    monkeypatch.setattr(kiosk_routes, "claimable_region_key", lambda user, **filters: ("one key for everyone",))
    event = delivered()
    sign_in(world.operator, kiosk=True)
    claimable(client, event)
    sign_in(world.outsider, kiosk=True)

    with pytest.raises(AssertionError, match="differs from a fresh render"):
        claimable(client, event)


def test_an_answer_names_the_last_event_its_request_committed(client, sign_in, world, announced):
    sign_in(world.operator, kiosk=True)
    quiet = client.get("/kiosk?region=claimable", headers=HTMX)
    response = client.post(f"/tasks/{world.task.id}/claim", data={"version": world.task.version}, headers=HTMX)

    assert shared_regions.COMMITTED_HEADER not in quiet.headers
    assert response.status_code == 200
    assert response.headers[shared_regions.COMMITTED_HEADER] == announced()[-1]["id"]


def test_a_viewer_waits_for_a_reusable_render_in_flight_instead_of_rendering_again(app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    event = delivered()
    started, release = threading.Event(), threading.Event()
    renders, answers = [], []

    def slow_render():
        renders.append(1)
        started.set()
        release.wait(5)
        return "<p>区域</p>"

    def viewer(render):
        with app.test_request_context("/", headers={shared_regions.SEEN_HEADER: event}):
            shared_regions.note_request_began()
            answers.append(shared_regions.shared(("test-region",), render))

    shared_regions.clear()
    first = threading.Thread(target=viewer, args=(slow_render,))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=viewer, args=(lambda: renders.append(1) or "<p>另一个</p>",))
    second.start()
    release.set()
    first.join(5), second.join(5)

    assert renders == [1]
    assert answers == ["<p>区域</p>", "<p>区域</p>"]


def logged_in(app, user):
    """A client of its own (its own session, so its own CSRF token)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session.update({"_user_id": str(user.id), "_fresh": True})
    return client


def test_the_supervisors_of_a_department_share_its_board(world, monkeypatch, app):
    import app.supervision.routes as supervision_routes

    colleague = f.UserFactory(name="钱印刷", roles=["supervisor"], departments=[world.printing])
    _db.session.commit()
    boards = []
    real = supervision_routes.build_board
    monkeypatch.setattr(supervision_routes, "build_board", lambda department: boards.append(1) or real(department))
    event = delivered()
    url = f"/supervisor?department={world.printing.id}"
    headers = dict(HTMX, **{shared_regions.SEEN_HEADER: event})
    mine, theirs = logged_in(app, world.supervisor), logged_in(app, colleague)
    first = mine.get(url, headers=headers).get_data(as_text=True)
    second = theirs.get(url, headers=headers).get_data(as_text=True)  # reused, and rendered again by the check

    assert boards == [1, 1]
    assert world.task.number in first
    assert FORM_TOKEN.sub("", first) == FORM_TOKEN.sub("", second)
    # Each answer carries its own session's tokens only (the board's cards are macros of the template itself,
    # which read csrf_token from the context Flask-WTF fills).
    first_tokens = {token.split(".")[0] for token in FORM_TOKEN.findall(first)}
    second_tokens = {token.split(".")[0] for token in FORM_TOKEN.findall(second)}
    assert len(first_tokens) == 1 and len(second_tokens) == 1 and first_tokens != second_tokens
    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    mine.get(url, headers=headers)
    assert boards == [1, 1]


def test_the_screens_watching_a_department_share_its_tv_board_and_its_time(world, monkeypatch, app):
    import app.board.routes as board_routes

    token = board_routes.board_service.issue_token(None, world.printing)
    _db.session.commit()
    snapshots = []
    real = board_routes.board_service.snapshot
    monkeypatch.setattr(board_routes.board_service, "snapshot",
                        lambda department, **kwargs: snapshots.append(kwargs["now"]) or real(department, **kwargs))
    event = delivered()
    headers = dict(HTMX, **{shared_regions.SEEN_HEADER: event})
    operator, colleague = logged_in(app, world.operator), logged_in(app, world.other_operator)
    first = operator.get("/board/printing", headers=headers).get_data(as_text=True)
    # reused, and rendered again by the check at the time the reused render read its data
    second = colleague.get("/board/printing", headers=headers).get_data(as_text=True)
    by_link = app.test_client().get(f"/board/printing?token={token}", headers=headers).get_data(as_text=True)

    assert len(snapshots) == 3 and snapshots[0] == snapshots[1] < snapshots[2]  # the link is a key of its own
    assert first == second and world.task.number in first
    assert f"更新于 {snapshots[0]:%H:%M:%S}" in first
    assert f'hx-get="/board/printing?token={token}"' in by_link and 'hx-get="/board/printing"' in first
    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    colleague.get("/board/printing", headers=headers)
    assert len(snapshots) == 3


@pytest.mark.parametrize("column", ["unassigned", "operator", "summary"])
def test_the_supervisors_of_a_department_share_each_part_of_its_board(world, monkeypatch, app, column):
    import app.supervision.routes as supervision_routes

    colleague = f.UserFactory(name="钱印刷", roles=["supervisor"], departments=[world.printing])
    _db.session.commit()
    builds = []
    for name in ("build_column", "build_summary", "build_board"):
        real = getattr(supervision_routes, name)
        monkeypatch.setattr(supervision_routes, name,
                            lambda *a, _real=real, _name=name: builds.append(_name) or _real(*a))
    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    part = str(world.operator.id) if column == "operator" else column
    url = f"/supervisor?department={world.printing.id}&column={part}"
    headers = dict(HTMX, **{shared_regions.SEEN_HEADER: delivered()})
    mine, theirs = logged_in(app, world.supervisor), logged_in(app, colleague)
    first = mine.get(url, headers=headers).get_data(as_text=True)
    second = theirs.get(url, headers=headers).get_data(as_text=True)
    other_part = mine.get(f"/supervisor?department={world.printing.id}&column={world.other_operator.id}",
                          headers=headers).get_data(as_text=True)

    assert builds == ["build_summary" if column == "summary" else "build_column", "build_column"]
    assert FORM_TOKEN.sub("", first) == FORM_TOKEN.sub("", second)
    assert f'id="sv-col-{world.other_operator.id}"' in other_part


def test_viewers_who_see_every_task_share_the_task_list_s_status_counts_until_a_newer_event(
        client, sign_in, world, monkeypatch, app):
    from app.services.tasks import queries as task_queries

    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    counted = []
    real = task_queries.status_counts
    monkeypatch.setattr(task_queries, "status_counts", lambda user, filters: counted.append(user.id) or real(user, filters))
    salesperson = f.UserFactory(name="王销售", roles=["salesperson"])
    _db.session.commit()
    def pending_count(user, seen, query=""):
        sign_in(user)
        html = client.get(f"/tasks{query}", headers=dict(HTMX, **{shared_regions.SEEN_HEADER: seen})).get_data(as_text=True)
        return int(re.search(r'data-status="pending"[^>]*>\s*[^<]*<span class="count">(\d+)</span>', html).group(1))

    event = delivered()
    assert pending_count(world.admin, event) == pending_count(world.supervisor, event) == 3
    assert counted == [world.admin.id]  # the supervisor's list took the admin's counts
    assert pending_count(world.supervisor, event, "?department=" + str(world.printing.id)) == 2
    assert counted == [world.admin.id, world.supervisor.id]  # other filters: counts of their own
    pending_count(salesperson, event)
    assert counted == [world.admin.id, world.supervisor.id]  # a salesperson's counts are never shared

    world.task.operator_id, world.task.status = world.operator.id, "in_progress"  # claimed and started elsewhere
    _db.session.commit()
    after_the_start = delivered()
    assert pending_count(world.supervisor, after_the_start) == pending_count(world.admin, after_the_start) == 2
    assert counted == [world.admin.id, world.supervisor.id, world.supervisor.id]


def test_a_shared_value_whose_key_misses_what_it_depends_on_fails_the_check(app, db):
    shared_regions.clear()
    event = delivered()

    def value_in_a_live_refetch(compute):
        with app.test_request_context("/", headers={shared_regions.SEEN_HEADER: event}):
            shared_regions.note_request_began()
            return shared_regions.shared_value(("one key for two values",), compute)

    assert value_in_a_live_refetch(lambda: 1) == 1
    with pytest.raises(AssertionError, match="shared value differs"):
        value_in_a_live_refetch(lambda: 2)


def test_the_dashboard_sections_of_every_viewer_share_the_departments_figures_until_a_newer_event(
        client, sign_in, world, monkeypatch, app):
    from app.services.reports import dashboard

    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    counted = []
    real = dashboard.tasks_per_department
    monkeypatch.setattr(dashboard, "tasks_per_department", lambda today: counted.append(today) or real(today))

    def printing_row(user, seen, section="dash-departments"):
        """The 印刷车间 row's figures: 待开始, 进行中, 已暂停, 今日完成, 逾期."""
        sign_in(user)
        html = client.get("/", headers=dict(HTMX, **{"HX-Target": section, shared_regions.SEEN_HEADER: seen}))
        html = html.get_data(as_text=True)
        assert html.lstrip().startswith(f'<section class="dash-section" id="{section}"')
        row = re.search(rf'data-department="{world.printing.id}">(.*?)</tr>', html, re.S)
        return row and [int(n) for n in re.findall(r'<td class="num">(?:<a[^>]*>)?(\d+)', row.group(1))]

    event = delivered()
    assert printing_row(world.supervisor, event) == printing_row(world.head_supervisor, event) == [2, 0, 0, 0, 0]
    printing_row(world.admin, event, "dash-plant")
    assert len(counted) == 1  # three viewers, two sections: one count
    world.task.operator_id, world.task.status = world.operator.id, "in_progress"
    _db.session.commit()
    assert printing_row(world.supervisor, delivered()) == [1, 1, 0, 0, 0]
    assert len(counted) == 2
