"""`flask demo` builds a plant that looks lived in: weeks of history behind every board, dashboard and chart."""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Notification, Task, TimeLog, WorkOrder
from app.seed import load_demo
from app.utils.timeutil import utcnow


def _history():
    return db.session.scalars(select(WorkOrder).where(WorkOrder.notes.like("【演示】历史%"))).all()


def test_the_demo_has_weeks_of_work_behind_it(demo_plant):
    history = _history()
    assert sorted(wo.status for wo in history) == ["completed", "completed", "completed", "in_progress", "in_progress"]
    assert min(wo.created_at for wo in history) < utcnow() - timedelta(days=20)
    completed = db.session.scalars(select(Task.completed_at).where(Task.status == "completed")).all()
    days = {moment.date() for moment in completed}
    assert len(days) >= 8, days  # completions spread over the weeks, not all today
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.status == "paused",
                                                                          Task.pause_reason == "material")) == 1
    periods = db.session.scalars(select(TimeLog).where(TimeLog.ended_at.is_not(None))).all()
    assert len(periods) >= 15 and all(p.ended_at - p.started_at >= timedelta(hours=1) for p in periods)
    worked = db.session.scalars(select(Task).where(Task.status == "completed", Task.worked_seconds.is_not(None))).all()
    for task in worked:  # what the statistics sum is what the periods say
        closed = [p for p in periods if p.task_id == task.id]
        assert task.worked_seconds == sum(int((p.ended_at - p.started_at).total_seconds()) for p in closed)
    assert worked
    assert {"assign", "claim", "start", "report"} <= set(db.session.scalars(select(AuditLog.action).distinct()))
    assert db.session.scalar(select(func.count()).select_from(Notification)) >= 20


def test_the_history_is_made_once(demo_plant):
    counts = [db.session.scalar(select(func.count()).select_from(model)) for model in (WorkOrder, Task, AuditLog)]
    load_demo()
    db.session.commit()
    assert [db.session.scalar(select(func.count()).select_from(model)) for model in (WorkOrder, Task, AuditLog)] == counts


def test_first_login_finds_figures_on_the_dashboard_and_statistics(demo_plant, client, login):
    from app.models import User
    login(db.session.scalar(select(User).where(User.username == "admin")))
    stats = client.get("/stats").get_data(as_text=True)
    assert 'data-figure="completed_tasks"><span class="label">' in stats
    assert '<div class="num">0</div>' not in stats.split('data-figure="completed_tasks"')[1][:120]
    assert client.get("/").status_code == 200
