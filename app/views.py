"""Helpers shared by the thin views of every blueprint."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.policy import require
from app.services import submissions
from app.utils.http import is_htmx


def not_ready(title, purpose, action: str):
    """An honest empty page for an area whose issue has not landed yet."""
    require(current_user, action)
    return render_template("main/not_ready.html", title=title, purpose=purpose)


def render_page(template: str, partial: str | None = None, status: int = 200, **context):
    """The whole page, or only its partial when htmx asks for the region."""
    name = partial if partial and is_htmx() else template
    return render_template(name, **context), status


def create_once(model, create, result_id=lambda record: record.id) -> submissions.Outcome:
    """``create`` once per create form instance (its hidden key) or API ``Idempotency-Key``."""
    key = request.headers.get(submissions.HEADER_NAME) or request.form.get(submissions.FIELD_NAME)
    return submissions.create_once(current_user, key, model, create, result_id)
