"""`flask create-admin`: a new plant's first administrator, with the admin pages' rules and audit."""
from sqlalchemy import select

from app.models import AuditLog, User

STRONG = "Plant-2026-admin"


def create_admin(app, *args):
    return app.test_cli_runner().invoke(args=["create-admin", *args])


def test_creates_an_active_administrator_who_can_log_in_and_audits_it(app, db, seeded):
    result = create_admin(app, "--username", "boss", "--name", "王厂长", "--password", STRONG)

    assert result.exit_code == 0, result.output
    assert "已创建管理员 / administrator created: boss（王厂长）" in result.output
    user = db.session.scalar(select(User).where(User.username == "boss"))
    assert (user.is_active, [role.code for role in user.roles], user.check_password(STRONG)) == (True, ["admin"], True)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "user", AuditLog.object_id == user.id)).all()
    assert [(row.action, row.user_id, row.detail["after"]["password_set"]) for row in audit] == [("create", None, True)]


def test_prompts_for_what_is_missing_and_asks_for_the_password_twice(app, db, seeded):
    result = app.test_cli_runner().invoke(args=["create-admin"], input=f"boss\n王厂长\n{STRONG}\n{STRONG}\n")

    assert result.exit_code == 0, result.output
    assert "再输一次 / again" in result.output and STRONG not in result.output
    assert db.session.scalar(select(User.name).where(User.username == "boss")) == "王厂长"


def test_refuses_a_weak_password_or_a_taken_username_and_creates_nothing(app, db, seeded):
    weak = create_admin(app, "--username", "boss", "--name", "王厂长", "--password", "12345678")
    assert weak.exit_code == 1
    assert "密码至少8位，且不能全是数字" in weak.output

    create_admin(app, "--username", "boss", "--name", "王厂长", "--password", STRONG)
    taken = create_admin(app, "--username", "boss", "--name", "李厂长", "--password", STRONG)
    assert taken.exit_code == 1
    assert "用户名 boss 已被用户「王厂长」使用" in taken.output
    assert db.session.scalars(select(User.name).where(User.username == "boss")).all() == ["王厂长"]


def test_refuses_before_the_presets_are_loaded(app, db):
    result = create_admin(app, "--username", "boss", "--name", "王厂长", "--password", STRONG)

    assert result.exit_code == 1
    assert "还没有角色：请先运行 flask seed" in result.output
    assert db.session.scalar(select(User.id).where(User.username == "boss")) is None
