"""Access declared once per blueprint: ``guard(bp, action)`` checks every view of ``bp`` before it runs.

The answers are those of ``@login_required`` followed by ``require(current_user, action)`` at the top
of each view: the anonymous are sent to the login page, a refused person gets the policy's refusal
(403 page, htmx toast or JSON, app/errors), OPTIONS is answered without a check. A view that answers
to another rule says so with ``@requires("admin.plates")``.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, request
from flask_login import current_user
from flask_login.config import EXEMPT_METHODS

from app.policy import require

_ACTION = "_access_action"


def requires(action: str) -> Callable:
    """Mark a view of a guarded blueprint as answering to ``action`` instead of the blueprint's rule."""
    def mark(view: Callable) -> Callable:
        setattr(view, _ACTION, action)
        return view
    return mark


def guard(bp: Blueprint, action: str) -> None:
    """Every view of ``bp`` requires a login and ``action`` (or the rule its ``@requires`` names)."""
    @bp.before_request
    def _check_access():
        if request.method in EXEMPT_METHODS:
            return None
        if not current_user.is_authenticated and not current_app.config.get("LOGIN_DISABLED"):
            return current_app.login_manager.unauthorized()
        view = current_app.view_functions.get(request.endpoint)
        require(current_user, getattr(view, _ACTION, action))
        return None
