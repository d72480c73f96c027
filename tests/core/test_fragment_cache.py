"""The HTML of a kiosk card, a 主管看板 card or a task centre row is reused only while everything it
shows is unchanged (KioskCardRow, Board.card_key, app.tasks.centre.row_key,
app.templating.cached_fragment)."""
import re
from datetime import timedelta

import pytest

import factories as f
from app.extensions import db as _db
from app.services.core import settings
from app.templating import RENDERED_FRAGMENTS
from app.utils.lru import LRU
from support.apps import variant_app
from support.caches import cached_and_fresh
from support.kiosk_world import build_world, reload

# A signed CSRF token: payload.timestamp.signature (the timestamp makes each request's differ).
SIGNED_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{4,8}\.[\w-]{20,}")
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def world(db):
    RENDERED_FRAGMENTS.clear()
    world = build_world()
    world.running = f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator,
                                  status="in_progress", number="TSG2026110001-03", content="印刷：进行中",
                                  target_quantity=500, completed_quantity=120, defective_quantity=3)
    world.paused = f.TaskFactory(step=world.print_step, department=world.printing, operator=world.operator,
                                 status="paused", pause_reason="plate", number="TSG2026110001-04",
                                 content="印刷：暂停中")
    world.earlier_step = f.WorkOrderStepFactory(work_order=world.work_order, sequence=10, status="completed",
                                                process=f.ProcessFactory(code="CTP", name="制版", sort_order=10))
    _db.session.commit()
    return world


def kiosk(client, url="/kiosk") -> str:
    """The page without its CSRF tokens."""
    response = client.get(url)
    assert response.status_code == 200
    return SIGNED_TOKEN.sub("TOKEN", response.get_data(as_text=True))


def change_setting(world, key, value):
    settings.update(world.admin, {key: value})


# Each changes one thing a card shows, as any writer might (some without a new version).
CHANGES = {
    "task content": lambda w: setattr(w.running, "content", "印刷：改过的内容"),
    "task number": lambda w: setattr(w.running, "number", "TSG2026110001-99"),
    "good quantity": lambda w: setattr(w.running, "completed_quantity", 121),
    "target quantity": lambda w: setattr(w.running, "target_quantity", 600),
    "defective quantity": lambda w: setattr(w.running, "defective_quantity", 4),
    "status": lambda w: setattr(w.running, "status", "paused"),
    "pause reason": lambda w: setattr(w.paused, "pause_reason", "material"),
    "pause note": lambda w: setattr(w.paused, "pause_note", "等油墨"),
    "production requirements": lambda w: setattr(w.running, "production_requirements", "先打样"),
    "version": lambda w: setattr(w.running, "version", w.running.version + 1),
    "施工单 number": lambda w: setattr(w.work_order, "number", "SG2026119999"),
    "施工单 priority": lambda w: setattr(w.work_order, "priority", "urgent"),
    "delivery date": lambda w: setattr(w.work_order, "delivery_date", w.work_order.delivery_date + timedelta(days=2)),
    "process name": lambda w: setattr(w.print_step.process, "name", "胶印"),
    "earlier step unfinished": lambda w: setattr(w.earlier_step, "status", "in_progress"),
    "施工单 paused": lambda w: setattr(w.work_order, "status", "paused"),
    "task cap reached": lambda w: change_setting(w, "operator_task_cap", 1),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_changed_card_is_rendered_anew_and_matches_an_uncached_render(client, login, world, change):
    login(world.operator, kiosk=True)
    before = kiosk(client)
    assert len(RENDERED_FRAGMENTS) == 3  # the running and paused tasks (mine) and world.task (claimable)

    cached, fresh = cached_and_fresh(lambda: change(world), lambda: kiosk(client), RENDERED_FRAGMENTS)

    assert cached == fresh
    assert cached != before


BOARD_CHANGES = {
    "task content": lambda w: setattr(w.running, "content", "印刷：改过的内容"),
    "good quantity": lambda w: setattr(w.running, "completed_quantity", 121),
    "target quantity": lambda w: setattr(w.running, "target_quantity", 600),
    "status": lambda w: setattr(w.running, "status", "paused"),
    "version": lambda w: setattr(w.running, "version", w.running.version + 1),
    "operator": lambda w: setattr(w.running, "operator", w.other_operator),
    "operator name": lambda w: setattr(w.operator, "name", "刘师傅二"),
    "施工单 number": lambda w: setattr(w.work_order, "number", "SG2026119999"),
    "process name": lambda w: setattr(w.print_step.process, "name", "胶印"),
}


@pytest.mark.parametrize("change", BOARD_CHANGES.values(), ids=BOARD_CHANGES.keys())
def test_a_changed_board_card_is_rendered_anew_and_matches_an_uncached_render(client, login, world, change):
    login(world.supervisor)
    board = f"/supervisor?department={world.printing.id}"
    before = kiosk(client, board)
    assert len(RENDERED_FRAGMENTS) == 3  # world.task (未分配), the running and paused tasks

    cached, fresh = cached_and_fresh(lambda: change(world), lambda: kiosk(client, board), RENDERED_FRAGMENTS)

    assert cached == fresh
    assert cached != before


TASK_ROW_CHANGES = {
    "task number": lambda w: setattr(w.running, "number", "TSG2026110001-99"),
    "task content": lambda w: setattr(w.running, "content", "印刷：改过的内容"),
    "task type": lambda w: setattr(w.running, "task_type", "die_cutting"),
    "status": lambda w: setattr(w.running, "status", "paused"),
    "good quantity": lambda w: setattr(w.running, "completed_quantity", 121),
    "target quantity": lambda w: setattr(w.running, "target_quantity", 600),
    "defective quantity": lambda w: setattr(w.running, "defective_quantity", 4),
    "process name": lambda w: setattr(w.print_step.process, "name", "胶印"),
    "department name": lambda w: setattr(w.printing, "name", "印刷二车间"),
    "department": lambda w: setattr(w.running, "department", w.die_cutting),
    "operator": lambda w: setattr(w.running, "operator", w.other_operator),
    "operator name": lambda w: setattr(w.operator, "name", "刘师傅二"),
    "施工单 number": lambda w: setattr(w.work_order, "number", "SG2026119999"),
    "施工单 priority": lambda w: setattr(w.work_order, "priority", "urgent"),
    "delivery date": lambda w: setattr(w.work_order, "delivery_date", w.work_order.delivery_date + timedelta(days=2)),
}


@pytest.mark.parametrize("change", TASK_ROW_CHANGES.values(), ids=TASK_ROW_CHANGES.keys())
def test_a_changed_task_centre_row_is_rendered_anew_and_matches_an_uncached_render(client, login, world, change):
    login(world.admin)
    before = kiosk(client, "/tasks")
    assert len(RENDERED_FRAGMENTS) == before.count('id="task-row-') == 4

    cached, fresh = cached_and_fresh(lambda: change(world), lambda: kiosk(client, "/tasks"), RENDERED_FRAGMENTS)

    assert cached == fresh
    assert cached != before


def test_a_row_cached_for_one_viewer_is_not_shown_to_a_viewer_with_other_rights(client, login, world):
    """The supervisor's rows have check boxes (bulk actions) and 施工单 links; an operator's have
    neither. Both in one browser session, one after the other: the rows' key, not the session, tells them apart."""
    url = f"/tasks?department={world.printing.id}"
    login(world.supervisor)
    supervisor = kiosk(client, url)
    login(world.operator)
    operator = kiosk(client, url)
    check_box = f'name="task_ids" value="{world.running.id}"'
    link = f'href="/workorders/{world.work_order.id}"'
    assert f'id="task-row-{world.running.id}"' in supervisor and f'id="task-row-{world.running.id}"' in operator
    assert check_box in supervisor and link in supervisor
    assert check_box not in operator and link not in operator


def test_an_unchanged_page_is_served_from_the_cache_and_equals_an_uncached_render(client, login, world):
    login(world.operator, kiosk=True)
    first = kiosk(client)
    cached = kiosk(client)
    RENDERED_FRAGMENTS.clear()
    assert cached == first == kiosk(client)


def test_each_language_has_its_own_cards(client, login, world):
    login(world.operator, kiosk=True)
    assert ">报工</summary>" in kiosk(client)
    client.get("/kiosk?lang=en")
    english = kiosk(client)
    RENDERED_FRAGMENTS.clear()
    assert kiosk(client) == english
    assert ">报工</summary>" not in english
    assert ">Report Work</summary>" in english


@pytest.fixture()
def csrf_clients(app, database_url, db):
    """Two kiosks with CSRF protection on, as in production (each request in its own app context)."""
    strict = variant_app(app, database_url, WTF_CSRF_ENABLED=True)
    return strict.test_client(), strict.test_client()


def test_a_card_shared_by_two_sessions_carries_each_sessions_own_token(csrf_clients, world):
    first, second = csrf_clients
    def claim_token(client, operator):
        with client.session_transaction() as session:
            session.update({"_user_id": str(operator.id), "_fresh": True, "kiosk_session": True,
                            "kiosk_last_seen": 9e9})
        client.get("/kiosk")  # the second request reads the cards the first one cached
        page = client.get("/kiosk").get_data(as_text=True)
        return FORM_TOKEN.search(page[page.index(f'id="task-{world.task.id}"'):]).group(1)

    first_token, second_token = claim_token(first, world.operator), claim_token(second, world.other_operator)
    claim = f"/tasks/{world.task.id}/claim"
    refused = second.post(claim, data={"csrf_token": first_token, "version": world.task.version})
    assert refused.status_code == 400

    response = second.post(claim, data={"csrf_token": second_token, "version": world.task.version},
                           headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert reload(world.task).operator_id == world.other_operator.id


def test_the_lru_keeps_the_most_recently_used_entries():
    cache = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


# ---------------------------------------------------------------- the suite's check (VERIFY_CACHED_FRAGMENTS)

STALE_TEMPLATE = """{% macro show(name) %}<p>{{ name }} · {{ shown_elsewhere }}</p>{% endmacro -%}
{{ cached_fragment(("verify-test", name), show, name) }}"""


def render_stale(app, shown_elsewhere: str) -> str:
    """A fragment keyed by ``name`` alone that also shows a value of the page outside its key."""
    return app.jinja_env.from_string(STALE_TEMPLATE).render(name="刘师傅", shown_elsewhere=shown_elsewhere)


def test_a_fragment_showing_a_value_outside_its_key_fails_the_test(app, db):
    RENDERED_FRAGMENTS.clear()
    assert app.config["VERIFY_CACHED_FRAGMENTS"]
    with app.test_request_context("/"):
        assert render_stale(app, "印刷") == "<p>刘师傅 · 印刷</p>"
        assert render_stale(app, "印刷") == "<p>刘师傅 · 印刷</p>"  # a hit, and the fresh render agrees

        with pytest.raises(AssertionError) as refused:
            render_stale(app, "模切")

    message = str(refused.value)
    assert "('verify-test', '刘师傅')" in message
    assert "-刘师傅 · 印刷" in message and "+刘师傅 · 模切" in message


def test_without_the_check_the_stale_fragment_would_be_served(app, db, monkeypatch):
    """What the check guards against: production (the check off) serves the old HTML."""
    RENDERED_FRAGMENTS.clear()
    monkeypatch.setitem(app.config, "VERIFY_CACHED_FRAGMENTS", False)
    with app.test_request_context("/"):
        render_stale(app, "印刷")
        assert render_stale(app, "模切") == "<p>刘师傅 · 印刷</p>"


def test_the_check_lets_each_request_sign_the_sessions_csrf_token_anew(app, db, monkeypatch):
    """A fragment holds the token signed for the request that rendered it; a later request of the same
    session signs the same token with another timestamp, which is no difference."""
    from flask import g
    from itsdangerous import TimestampSigner

    RENDERED_FRAGMENTS.clear()
    template = app.jinja_env.from_string(
        "{% macro form() %}<input name=\"csrf_token\" value=\"{{ csrf_token() }}\">{% endmacro -%}"
        "{{ cached_fragment(('verify-token',), form) }}")
    with app.test_request_context("/"):
        first = template.render()
        g.pop("csrf_token")  # the next request of this session
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 2_000_000_000)
        assert template.render() == first  # served from the cache, and the check passes
        assert g.csrf_token not in first
        assert FORM_TOKEN.search(first).group(1).split(".")[0] == g.csrf_token.split(".")[0]


def test_the_kiosk_card_is_rendered_from_its_row_alone(client, login, world):
    """The card's key is its KioskCardRow: a frozen value read once from the task, 施工单 and step."""
    from dataclasses import FrozenInstanceError

    from app.services.tasks.cards import KioskCardRow, build_cards, load_in_order

    login(world.operator, kiosk=True)
    kiosk(client)
    card = build_cards(load_in_order([world.running.id]), world.operator)[0]
    assert isinstance(card.render_key(), KioskCardRow) and card.render_key() is card.row
    assert (card.row.number, card.row.work_order_number, card.row.process_name) == (
        "TSG2026110001-03", world.work_order.number, world.print_step.process.name)
    with pytest.raises(FrozenInstanceError):
        card.row.content = "改过"
    assert not hasattr(card, "task")
    card.errors = {"good": "必填"}
    assert card.render_key() is None
