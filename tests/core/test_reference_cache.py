"""app.services.core.reference: the task centre's choices are kept per process under the reference
version, and every change to them is seen on the next request, committed or rolled back."""
import re
import threading
from contextlib import contextmanager

import pytest
from flask import g
from sqlalchemy import event, select
from sqlalchemy.orm import Session

import factories as f
from app import scale_demo
from app.extensions import db as _db
from app.models import Process, Role, Setting
from app.services.core import reference
from app.services.core import settings as settings_service
from app.services.tasks import filtering as task_filtering
from app.utils.timeutil import utcnow

SELECT = r'<select id="{name}" name="{name}">(.*?)</select>'


@pytest.fixture()
def world(reports_world):
    return reports_world


def choices(client, name: str) -> list[str]:
    """The labels of the task centre's filter select ``name``, as the admin sees them."""
    html = client.get("/tasks").get_data(as_text=True)
    options = re.search(SELECT.format(name=name), html, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", options)


def version() -> str:
    return _db.session.scalar(select(Setting.value).where(Setting.key == settings_service.REFERENCE_VERSION_KEY))


@contextmanager
def request(app):
    """A request of its own: ``g`` (where a request keeps the settings it read) outlives a
    test_request_context inside the test's app context."""
    with app.test_request_context():
        g.pop("plant_settings", None)
        yield


@pytest.fixture()
def admin_page(client, sign_in, world):
    sign_in(world.admin)
    return lambda name: choices(client, name)


@pytest.fixture()
def statements(app):
    """The SQL statements run while calling a function."""
    with app.app_context():
        engine = _db.engine

    def run(call) -> list[str]:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            call()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return seen

    return run


def test_the_choices_are_read_once_and_then_only_the_version(client, admin_page, statements):
    admin_page("department")
    seen = statements(lambda: admin_page("department"))
    assert not [s for s in seen if "FROM departments" in s or "FROM processes" in s or "JOIN user_roles" in s]
    assert len([s for s in seen if "FROM settings" in s]) == 1


@pytest.mark.parametrize("change, field, before, after", [
    (lambda w: setattr(w.printing, "name", "胶印车间"), "department", "生产部 - 印刷车间", "生产部 - 胶印车间"),
    (lambda w: setattr(w.design, "is_active", False), "department", "设计部", None),
    (lambda w: f.DepartmentFactory(name="装订车间", parent=w.production), "department", None, "生产部 - 装订车间"),
    (lambda w: setattr(w.die_process, "name", "啤机"), "process_id", "模切", "啤机"),
    (lambda w: f.ProcessFactory(name="烫金", sort_order=40), "process_id", None, "烫金"),
    (lambda w: setattr(w.liu, "name", "刘大师傅"), "operator", "刘师傅", "刘大师傅"),
    (lambda w: setattr(w.yang, "is_active", False), "operator", "杨师傅", None),
    (lambda w: f.UserFactory(name="周师傅", roles=["operator"], departments=[w.printing]), "operator", None, "周师傅"),
    (lambda w: w.maker.roles.append(_db.session.scalar(select(Role).where(Role.code == "operator"))),
     "operator", None, "李制单"),
    (lambda w: w.huang.roles.clear(), "operator", "黄师傅", None),
])
def test_each_change_of_the_reference_data_shows_on_the_next_page(admin_page, world, change, field, before, after):
    shown = admin_page(field)
    assert (before in shown) if before else (after not in shown)
    kept = version()
    change(world)
    _db.session.commit()
    assert version() != kept
    shown = admin_page(field)
    assert (after in shown) if after else (before not in shown)


def test_a_deleted_operator_is_no_longer_offered(client, admin_page, world):
    newcomer = f.UserFactory(name="吴师傅", roles=["operator"], departments=[world.printing])
    _db.session.commit()
    assert "吴师傅" in admin_page("operator")
    _db.session.delete(newcomer)
    _db.session.commit()
    assert "吴师傅" not in admin_page("operator")


def test_a_change_of_department_membership_shows_in_the_bulk_operators(client, sign_in, world):
    sign_in(world.supervisor)
    offered = lambda: set(re.findall(r'<option value="\d+">([^<（]+)（', client.get("/tasks").get_data(as_text=True)))  # noqa: E731
    assert offered() == {"刘师傅", "杨师傅"}
    world.huang.departments.append(world.printing)
    _db.session.commit()
    assert offered() == {"刘师傅", "杨师傅", "黄师傅"}


def test_a_login_a_password_or_a_task_leaves_the_version_as_it_is(admin_page, world):
    admin_page("operator")
    kept = version()
    world.liu.last_login_at = utcnow()
    world.liu.password_hash = "changed"
    world.liu.pin_hash = "changed"
    world.t5.completed_quantity += 10
    world.wo3.notes = "加急"
    _db.session.commit()
    assert version() == kept


def test_a_rolled_back_change_is_never_shown_nor_kept(app, admin_page, world):
    admin_page("department")
    kept = version()
    with request(app):
        world.printing.name = "胶印车间"
        _db.session.flush()
        # The transaction sees its own change (and keeps nothing of it) …
        assert "生产部 - 胶印车间" in [d.name for d in task_filtering.filter_options().departments]
        _db.session.rollback()
    # … which after the rollback never happened.
    assert version() == kept
    assert "生产部 - 印刷车间" in admin_page("department")
    assert "生产部 - 胶印车间" not in admin_page("department")


def test_an_unflushed_change_is_seen_by_its_own_transaction(app, admin_page, world):
    admin_page("process_id")
    with request(app):
        settings_service.reference_version()  # the version read before the change, as a page would
        world.print_process.name = "胶印"
        assert "胶印" in [p.name for p in task_filtering.filter_options().processes]
        _db.session.rollback()
    assert "印刷" in admin_page("process_id")


def test_a_change_committed_elsewhere_while_a_value_is_built_is_not_kept_under_the_new_version(app, admin_page, world):
    """The version is read before the data: the value built across another process's commit is
    kept under the version before it, so the first reader of the new version builds it again."""
    admin_page("process_id")
    kept = version()
    process_id = world.print_process.id

    engine = _db.engine

    def commit_elsewhere():
        with Session(engine) as elsewhere:
            elsewhere.get(Process, process_id).name = "胶印"
            elsewhere.commit()

    def build_across_a_commit():
        built = [p.name for p in _db.session.scalars(select(Process).order_by(Process.id))]
        # Another process's transaction (in a thread of its own: it shares nothing with this request).
        other = threading.Thread(target=commit_elsewhere)
        other.start()
        other.join()
        return built

    with request(app):
        assert reference.cached("probe", build_across_a_commit) == ["印刷", "模切"]
    assert version() != kept
    with request(app):
        assert reference.cached("probe", lambda: "built again") == "built again"
    assert "胶印" in admin_page("process_id")


def test_a_database_without_a_version_keeps_nothing(app, world):
    _db.session.execute(Setting.__table__.delete().where(Setting.key == settings_service.REFERENCE_VERSION_KEY))
    _db.session.commit()
    built = []
    for _ in range(2):
        with request(app):
            reference.cached("probe", lambda: built.append(1))
    assert len(built) == 2


def test_the_first_change_of_a_database_without_a_version_gives_it_one(db):
    assert version() is None
    f.DepartmentFactory(name="印刷车间")
    _db.session.commit()
    assert re.fullmatch(r"[0-9a-f]{16}", version())


def test_the_operators_the_demo_plant_bulk_inserts_are_offered(app, demo_plant):
    with request(app):
        before = {o.name for o in task_filtering.filter_options().operators}
    scale_demo.build(0.02)
    with request(app):
        after = {o.name for o in task_filtering.filter_options().operators}
    assert "操作员0" in after - before
