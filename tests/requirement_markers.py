"""Which tests carry which ``@pytest.mark.req`` ids, read from the test sources.

Read with ``ast`` rather than by collecting the suite, so the cross-check is
instant and sees every file, whatever is deselected. The forms understood are
the ones the suite uses — a decorator on a test function or method, and a
module's or class's ``pytestmark`` — and any other use of ``mark.req`` (inside
``pytest.param``, with a computed id) is reported as a problem rather than
silently missed. ``python -m tests.requirement_markers`` prints the ``tests:``
list of each requirement, for ``docs/requirements.yaml``.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def _req_ids(node: ast.AST, problems: list[str], where: str) -> list[str]:
    """The ids of every ``pytest.mark.req(...)`` call in ``node`` (a decorator or a list)."""
    ids: list[str] = []
    for call in ast.walk(node):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "req"
        ):
            continue
        for arg in call.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                ids.append(arg.value)
            else:
                problems.append(f"{where}: mark.req with an id that is not a string literal")
        if not call.args or call.keywords:
            problems.append(f"{where}: mark.req takes requirement ids only")
    return ids


def _pytestmark(body: list[ast.stmt], problems: list[str], where: str) -> list[str]:
    ids: list[str] = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
        ):
            ids += _req_ids(stmt.value, problems, where)
    return ids


def _is_test(node: ast.stmt) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
        "test"
    )


def scan_file(path: Path, problems: list[str]) -> dict[str, set[str]]:
    """``{"tests/x.py::test_y": {"REQ-..."}}`` for one test file."""
    rel = path.relative_to(REPO).as_posix()
    tree = ast.parse(path.read_text("utf-8"))
    module_ids = _pytestmark(tree.body, problems, rel)
    found: dict[str, set[str]] = {}
    seen: set[int] = set()

    def visit(body: list[ast.stmt], prefix: str, inherited: list[str]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                where = f"{rel}::{node.name}"
                own = inherited + _pytestmark(node.body, problems, where)
                seen.update(id(d) for d in node.decorator_list)
                visit(node.body, f"{prefix}{node.name}::", own)
            elif _is_test(node):
                where = f"{rel}::{prefix}{node.name}"
                ids = inherited.copy()
                for decorator in node.decorator_list:
                    ids += _req_ids(decorator, problems, where)
                    seen.update(id(n) for n in ast.walk(decorator))
                if ids:
                    found[where] = set(ids)

    visit(tree.body, "", module_ids)
    for stmt in tree.body:  # pytestmark assignments were read above
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
        ):
            seen.update(id(n) for n in ast.walk(stmt))
        if isinstance(stmt, ast.ClassDef):
            for inner in stmt.body:
                if isinstance(inner, ast.Assign):
                    seen.update(id(n) for n in ast.walk(inner))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "req" and id(node) not in seen:
            if isinstance(node.value, ast.Attribute) and node.value.attr == "mark":
                problems.append(f"{rel}:{node.lineno}: mark.req used where it marks no test")
    return found


def scan(root: Path = TESTS) -> tuple[dict[str, set[str]], list[str]]:
    """Every marked test of the suite and the problems found on the way."""
    problems: list[str] = []
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("test_*.py")):
        found.update(scan_file(path, problems))
    return found, problems


def tests_by_requirement(found: dict[str, set[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for test, ids in sorted(found.items()):
        for req in ids:
            out.setdefault(req, []).append(test)
    return dict(sorted(out.items()))


if __name__ == "__main__":  # pragma: no cover - a maintainer's helper
    markers, issues = scan()
    for requirement, tests in tests_by_requirement(markers).items():
        print(f"{requirement}:")
        for test in tests:
            print(f"      - {test}")
    for issue in issues:
        print("problem:", issue)


def cross_check(requirements: list, markers: dict[str, set[str]]) -> list[str]:
    """Every disagreement between the catalogue and the markers, one line each."""
    known = {r.id: r for r in requirements}
    problems = []
    for test, ids in sorted(markers.items()):
        for unknown in sorted(ids - known.keys()):
            problems.append(f"{test} names {unknown}, which docs/requirements.yaml does not list")
    marked = tests_by_requirement(markers)
    for requirement in requirements:
        listed, carrying = set(requirement.tests), set(marked.get(requirement.id, []))
        if not listed and not carrying:
            problems.append(f"{requirement.id} has no test: mark the tests that prove it")
        for test in sorted(listed - carrying):
            problems.append(f"{requirement.id} lists {test}, which does not carry its marker")
        for test in sorted(carrying - listed):
            problems.append(f"{test} carries {requirement.id} but is not in its tests list")
    return problems
