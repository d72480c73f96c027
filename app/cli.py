"""flask seed / flask create-admin / flask demo / flask translate ..."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from app.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def register_cli(app) -> None:
    @app.cli.command("seed")
    def seed_command():
        """Load the preset processes, departments, rules, roles and settings (idempotent)."""
        from app.seed import seed_presets

        summary = seed_presets()
        db.session.commit()
        click.echo(summary)

    @app.cli.command("create-admin")
    @click.option("--username", prompt="用户名 / username")
    @click.option("--name", prompt="姓名 / name")
    @click.password_option(prompt="密码 / password", confirmation_prompt="再输一次 / again")
    def create_admin_command(username, name, password):
        """Create an administrator (a new plant's first one), with the admin pages' checks and audit."""
        from app.services.admin import users as admin_users
        from app.services.core.errors import Invalid

        if "admin" not in {role.code for role in admin_users.all_roles()}:
            raise click.ClickException("还没有角色：请先运行 flask seed / no roles yet: run flask seed first")
        try:
            user = admin_users.create_user(None, {"username": username, "name": name, "password": password,
                                                  "roles": ["admin"], "is_active": True})
        except Invalid as refused:
            db.session.rollback()
            raise click.ClickException("；".join(str(problem) for problem in refused.fields.values())) from None
        db.session.commit()
        click.echo(f"已创建管理员 / administrator created: {user.username}（{user.name}）")

    @app.cli.command("demo")
    @click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=None,
                  help="Also bulk-load a large plant: 1 = 5,000 施工单, 50,000 tasks, 200 people, 90 days.")
    @click.option("--reset", is_flag=True,
                  help="Drop every table of the database first and migrate it again (a fresh demo plant).")
    def demo_command(scale, reset):
        """Add demo people, master data and 施工单 (idempotent) and print the logins."""
        import time

        from app import scale_demo
        from app.seed import load_demo, seed_presets

        if reset:
            _rebuild_database()
        seed_presets()
        logins = load_demo()
        db.session.commit()
        if scale is not None:
            started = time.perf_counter()
            try:
                counts = scale_demo.build(scale)
            except scale_demo.AlreadyBuilt:
                raise click.ClickException("规模演示数据已存在，未做任何更改 / the scaled demo data is already "
                                           "in this database; nothing changed") from None
            click.echo(f"规模演示数据 / scaled plant: {counts['work_orders']} 施工单, {counts['tasks']} tasks, "
                       f"{counts['people']} people, {counts['time_logs']} time logs "
                       f"({time.perf_counter() - started:.1f} s)")
        click.echo(logins)

    @app.cli.group("translate")
    def translate():
        """Extract, update and compile the message catalogs."""

    @translate.command("update")
    def translate_update():
        """Extract every string, merge both catalogs; Chinese msgids are their own translation."""
        pot = ROOT / "messages.pot"
        subprocess.run([_pybabel(), "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."], cwd=ROOT,
                       check=True)
        for locale in LOCALES:
            catalog_dir = ROOT / "translations" / locale / "LC_MESSAGES"
            command = "update" if (catalog_dir / "messages.po").exists() else "init"
            subprocess.run([_pybabel(), command, "-i", str(pot), "-d", "translations", "-l", locale,
                            *(["--no-fuzzy-matching"] if command == "update" else [])], cwd=ROOT, check=True)
        pot.unlink()
        fill_source_catalog(ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po")
        missing = untranslated(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po")
        click.echo(f"en: {len(missing)} untranslated")

    @translate.command("compile")
    def translate_compile():
        subprocess.run([_pybabel(), "compile", "-d", "translations"], cwd=ROOT, check=True)


LOCALES = ("zh_Hans_CN", "en")


def _pybabel() -> str:
    return str(Path(sys.executable).with_name("pybabel"))


def fill_source_catalog(path: Path) -> None:
    """The Chinese catalog translates every msgid to itself, so it is complete by construction."""
    from babel.messages.pofile import read_po, write_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0)


def untranslated(path: Path) -> list[str]:
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def _rebuild_database() -> None:
    """Every table dropped (the migrations' own record too) and the schema migrated again from nothing."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=str(ROOT / "migrations"))
    click.echo("数据库已重建 / database rebuilt")
