"""Every admin action and every override leaves an audit row.

The behaviour is tested per area (test_admin_*, test_dispatch_*, test_realtime_board, test_assignment);
this guard reads the services so that a new admin or override action without an audit call fails here.
An action is a public service function taking ``actor`` in the modules below; it must reach
``audit.record`` (directly, through ``record_change``/a module helper — its own or one imported from
another module listed here, such as master_data's ``audited_create`` — or through another audited action).
"""
import ast
import importlib
import inspect

import pytest

# The name each module is known by in the services that call it → its place under app/services/.
ACTION_MODULES = {
    "admin_customers": "admin.customers", "admin_departments": "admin.departments", "admin_plates": "admin.plates",
    "admin_processes": "admin.processes", "admin_products": "admin.products", "admin_users": "admin.users",
    "dispatch_rules": "dispatch.rules", "settings": "core.settings", "board": "dispatch.board",
    "assignment": "dispatch.assignment", "master_data": "admin.master_data",
}
READ_ONLY = {("admin_customers", "list_customers")}
AUDIT_CALLS = {"record", "record_change", "record_many"}


def _tree(module_name: str) -> ast.Module:
    return ast.parse(inspect.getsource(importlib.import_module(f"app.services.{ACTION_MODULES[module_name]}")))


def _functions(module_name: str) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in _tree(module_name).body if isinstance(node, ast.FunctionDef)}


def _imported(module_name: str) -> dict[str, str]:
    """Names this module imports from another module listed here → that module's name."""
    by_path = {f"app.services.{path}": name for name, path in ACTION_MODULES.items()}
    return {alias.asname or alias.name: by_path[node.module] for node in _tree(module_name).body
            if isinstance(node, ast.ImportFrom) and node.module in by_path for alias in node.names}


FUNCTIONS = {name: _functions(name) for name in ACTION_MODULES}
IMPORTED = {name: _imported(name) for name in ACTION_MODULES}


def _called(node) -> set[tuple[str | None, str]]:
    """(module alias or None, function name) of every call in ``node``."""
    found = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            if isinstance(call.func, ast.Name):
                found.add((None, call.func.id))
            elif isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
                found.add((call.func.value.id, call.func.attr))
    return found


def _audits(module: str, name: str, seen: set) -> bool:
    if (module, name) in seen or name not in FUNCTIONS.get(module, {}):
        return False
    seen.add((module, name))
    for alias, called in _called(FUNCTIONS[module][name]):
        if called in AUDIT_CALLS and alias in (None, "audit"):
            return True
        home = IMPORTED[module].get(called, module) if alias is None else alias
        if _audits(home, called, seen):
            return True
    return False


ACTIONS = [
    (module, name) for module, functions in FUNCTIONS.items() for name, node in functions.items()
    if not name.startswith("_") and "actor" in [a.arg for a in node.args.args] and (module, name) not in READ_ONLY
]


def test_the_guard_sees_the_actions():
    assert {("admin_users", "update_user"), ("assignment", "move"), ("board", "revoke_token"),
            ("dispatch_rules", "set_auto_dispatch"), ("settings", "update")} <= set(ACTIONS)


@pytest.mark.parametrize("module, name", ACTIONS, ids=[f"{m}.{n}" for m, n in ACTIONS])
def test_every_admin_and_override_action_is_audited(module, name):
    assert _audits(module, name, set()), f"app/services/{ACTION_MODULES[module].replace('.', '/')}.py: {name}() writes no audit row"
