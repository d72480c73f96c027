"""Loader options several services share."""
from __future__ import annotations

from sqlalchemy.orm import lazyload

from app.models import User


def name_only(user_path):
    """A user a page shows by name: not their roles and departments (two more queries for every load)."""
    return user_path.options(lazyload(User.roles), lazyload(User.departments))
