"""The suite's own shape: no module imports a test module (what tests share lives in tests/support/ or a
conftest.py fixture), and testkit/ (shared with bench/) imports neither tests/ nor bench/."""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
TESTKIT = TESTS.parent / "testkit"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in ``path``, relative ones with their leading dots."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.append((node.lineno, base))
            # ``from . import test_x`` and ``from integration import test_x`` name the module in the alias.
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def names_a_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") or part == "conftest" for part in dotted.split(".") if part)


def test_no_module_under_tests_imports_a_test_module():
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, name in imported_modules(path)
        if names_a_test_module(name)
    ]
    assert offenders == [], "move what is shared to tests/support/ or a fixture:\n" + "\n".join(offenders)


def test_testkit_stands_on_its_own():
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {name}"
        for path in sorted(TESTKIT.rglob("*.py"))
        for line, name in imported_modules(path)
        if name.split(".")[0] in {"tests", "bench", "factories", "support", "conftest"} or names_a_test_module(name)
    ]
    assert offenders == []


def test_the_check_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import test_a\nfrom integration.test_b import x\nfrom .test_c import y\n"
                      "from . import test_d\nfrom tests.api import test_e\nfrom support.api import bearer\n"
                      "def f():\n    from core.test_f import z\n")
    assert [name for _, name in imported_modules(sample) if names_a_test_module(name)] == [
        "test_a", "integration.test_b", "integration.test_b.x", ".test_c", ".test_c.y", "..test_d",
        "tests.api.test_e", "core.test_f", "core.test_f.z"]
