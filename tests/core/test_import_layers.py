"""The layers of docs/ARCHITECTURE.md, enforced: every import of every module under app/ (read with ast,
so imports inside functions count too) runs down, never up, and no blueprint imports another.

    blueprints (app/<area>/ with a Blueprint), app.views, app.forms, app.templating, app.errors  — views
    app.services, app.policy, app.realtime                                                      — rules
    app.models, app.enums, app.extensions                                                       — data
    app.utils                                                                                   — helpers
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
BLUEPRINTS = sorted(p.parent.name for p in APP.glob("*/__init__.py") if "Blueprint(" in p.read_text())
VIEW_LEVEL = {"app.views", "app.forms", "app.templating", "app.errors"}
# What each lower layer may not import (any module at or under these names).
FORBIDDEN = {
    "models": ["app.services", "app.policy", "app.realtime", *VIEW_LEVEL],
    "services": list(VIEW_LEVEL),
    "utils": ["app.models", "app.services", "app.policy", "app.realtime", *VIEW_LEVEL],
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, added: str = "") -> list[tuple[int, str]]:
    """(line, imported module) of every import in the file; ``from a import b`` counts as a.b too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text() + added, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name == "app" or name.startswith("app.")]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _blueprint_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in BLUEPRINTS else None


def _layer(name: str) -> str | None:
    if _within(name, "app.models") or name in ("app.enums", "app.extensions"):
        return "models"
    if _within(name, "app.services"):
        return "services"
    if _within(name, "app.utils"):
        return "utils"
    return None


def violations(added: dict[str, str] | None = None) -> list[str]:
    """Every import that breaks a rule; ``added`` appends source to files (the guard's own test)."""
    added = added or {}
    found = []
    for path in sorted(APP.rglob("*.py")):
        module = _module_name(path)
        home, layer = _blueprint_of(module), _layer(module)
        for line, imported in _imports(path, added.get(str(path.relative_to(APP.parent)), "")):
            where = f"{path.relative_to(APP.parent)}:{line}: {module} imports {imported}"
            other = _blueprint_of(imported)
            if other and home and other != home:
                found.append(f"{where} (a blueprint imports another blueprint)")
            elif other and layer:
                found.append(f"{where} ({layer} import a blueprint)")
            elif layer and any(_within(imported, up) for up in FORBIDDEN[layer]):
                found.append(f"{where} ({layer} import upward)")
    return found


def test_the_walk_sees_the_blueprints_and_the_layers():
    assert {"api", "kiosk", "reports", "tasks", "workorders"} <= set(BLUEPRINTS)
    assert _layer("app.services.tasks.cards") == "services" and _blueprint_of("app.tasks.routes") == "tasks"


def test_no_blueprint_imports_another_and_nothing_imports_upward():
    assert violations() == []


@pytest.mark.parametrize("source, bad", [
    ("app/api/tasks.py", "from app.tasks.routes import ACTIONS"),
    ("app/services/tasks/actions.py", "from app.views import render_page"),
    ("app/models/task.py", "from app.services.core import audit"),
    ("app/utils/fields.py", "def f():\n    from app.services.core import submissions"),
])
def test_the_guard_catches_each_kind(source, bad):
    assert [v for v in violations({source: "\n" + bad + "\n"}) if v.startswith(source)]
