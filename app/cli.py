"""flask seed / flask demo / flask translate ..."""
from __future__ import annotations

import subprocess
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

    @app.cli.command("demo")
    def demo_command():
        """Add demo people, master data and 施工单 (idempotent) and print the logins."""
        from app.seed import load_demo, seed_presets

        seed_presets()
        logins = load_demo()
        db.session.commit()
        click.echo(logins)

    @app.cli.group("translate")
    def translate():
        """Extract, update and compile the message catalogs."""

    @translate.command("update")
    def translate_update():
        subprocess.run(["pybabel", "extract", "-F", "babel.cfg", "-k", "_l", "-o", "messages.pot", "."], cwd=ROOT, check=True)
        subprocess.run(["pybabel", "update", "-i", "messages.pot", "-d", "translations", "--no-fuzzy-matching"], cwd=ROOT, check=True)
        (ROOT / "messages.pot").unlink()

    @translate.command("compile")
    def translate_compile():
        subprocess.run(["pybabel", "compile", "-d", "translations"], cwd=ROOT, check=True)
