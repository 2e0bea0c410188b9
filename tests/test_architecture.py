"""The one-way flow of docs/architecture.md, checked on the source: a module imports
only its own layer and the layers to its left. And the public API is complete."""

from __future__ import annotations

import ast
from pathlib import Path

import cmlops

SOURCE = Path(__file__).resolve().parents[1] / "src" / "cmlops"
LAYERS = [
    {"_version", "errors", "config", "atomic_files", "json_safe"},
    {"fingerprinting", "_fingerprint_support"},
    {"store"},
    {"trust"},
    {"capture"},
    {"stats"},
    {"widgets"},
    {"reports"},
    {"lifecycle"},
    {"server", "cli"},
]


def layer_of(dotted: str) -> int | None:
    parts = dotted.split(".")
    if parts[0] != "cmlops" or len(parts) < 2:
        return None
    for index, members in enumerate(LAYERS):
        if parts[1] in members:
            return index
    raise AssertionError(f"{dotted} is in no layer: add it to LAYERS and docs/architecture.md")


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_modules_import_only_to_their_left() -> None:
    violations = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE.parent).with_suffix("")
        dotted = ".".join(relative.parts)
        if dotted in ("cmlops.__init__",) or "labextension" in relative.parts:
            continue
        own = layer_of(dotted.removesuffix(".__init__"))
        for target in imports(path):
            other = layer_of(target)
            if other is not None and own is not None and other > own:
                violations.append(f"{dotted} imports {target}")
    assert not violations, "\n".join(violations)


def test_every_public_name_resolves() -> None:
    missing = [name for name in cmlops.__all__ if getattr(cmlops, name, None) is None]
    assert not missing
    assert set(dir(cmlops)) == set(cmlops.__all__)
