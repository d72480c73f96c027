"""flask notifications purge / flask notifications due-soon — for cron (the blueprint's CLI group)."""
import click

from app.extensions import db
from app.notifications import bp
from app.services.notifications import inbox as notification_service


@bp.cli.command("purge")
def purge():
    """Delete notifications older than the retention setting (default 30 days)."""
    deleted = notification_service.purge()
    db.session.commit()
    click.echo(f"deleted {deleted} notification(s)")


@bp.cli.command("due-soon")
def due_soon():
    """Create 交货期预警 for 施工单 due in 3 and in 1 days; safe to run every hour."""
    created = notification_service.create_due_soon()
    db.session.commit()
    click.echo(f"created {created} notification(s)")
