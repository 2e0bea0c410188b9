"""The requirements catalogue: what cmlops must do, which regulation asks for it, what proves it.

The catalogue is ``docs/requirements.yaml`` in the repository; the wheel ships
a copy as ``cmlops/selftest/requirements.yaml`` (force-included by
``pyproject.toml``), so an installation can print its own traceability matrix.
Each requirement has an id (``REQ-AUD-001``), a title, the regulation clauses it
serves, the feature that meets it and the tests that prove it — tests carry the
id as a ``@pytest.mark.req("REQ-AUD-001")`` marker, and the test suite fails
when the catalogue and the markers disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError

SCHEMA = "cmlops.requirements/1"
FILE_NAME = "requirements.yaml"
ID_PATTERN = re.compile(r"REQ-[A-Z]{2,5}-[0-9]{3}")
#: a test named by its file and function: ``tests/store/test_x.py::test_y`` (or Class::test_y)
TEST_PATTERN = re.compile(r"tests/[A-Za-z0-9_/]+\.py::[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z0-9_]+)?")

_TEXT = {"type": "string", "minLength": 1, "pattern": "^[^\\n\\r\\x00-\\x1f]+$"}
JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "requirements"],
    "properties": {
        "schema": {"const": SCHEMA},
        "requirements": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "title", "clauses", "feature", "tests"],
                "properties": {
                    "id": {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
                    "title": _TEXT,
                    "clauses": {"type": "array", "minItems": 1, "items": _TEXT},
                    "feature": {"type": "string", "minLength": 1},
                    "tests": {
                        "type": "array",
                        "items": {"type": "string", "pattern": f"^{TEST_PATTERN.pattern}$"},
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Requirement:
    """One requirement of the catalogue."""

    id: str
    title: str
    clauses: tuple[str, ...]
    feature: str
    tests: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "clauses": list(self.clauses),
            "feature": self.feature,
            "tests": list(self.tests),
        }


def catalogue_path() -> Path:
    """The shipped catalogue (wheel), else the source checkout's ``docs/requirements.yaml``."""
    try:
        packaged = Path(str(resources.files("cmlops.selftest") / FILE_NAME))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - namespace edge cases
        packaged = None
    if packaged is not None and packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "docs" / FILE_NAME
    if checkout.is_file():
        return checkout
    raise InvalidInputError(f"no {FILE_NAME} found: reinstall cmlops (the wheel ships it)")


def load_requirements(path: str | Path | None = None) -> list[Requirement]:
    """The catalogue's requirements, validated (a one-line error names the first problem)."""
    import jsonschema
    import yaml

    source = Path(path) if path is not None else catalogue_path()
    try:
        document = yaml.safe_load(source.read_text("utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"cannot read the requirements catalogue {source}: {exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise InvalidInputError(f"{source} is not valid YAML{line}: fix the catalogue") from None
    errors = sorted(
        jsonschema.Draft202012Validator(JSON_SCHEMA).iter_errors(document),
        key=lambda err: list(err.absolute_path),
    )
    if errors:
        where = "/".join(map(str, errors[0].absolute_path)) or "(root)"
        raise InvalidInputError(f"{source}: {where}: {errors[0].message}")
    requirements = [
        Requirement(
            id=item["id"],
            title=item["title"],
            clauses=tuple(item["clauses"]),
            feature=" ".join(item["feature"].split()),
            tests=tuple(item["tests"]),
        )
        for item in document["requirements"]
    ]
    seen: set[str] = set()
    for requirement in requirements:
        if requirement.id in seen:
            raise InvalidInputError(f"{source}: requirement {requirement.id} appears twice")
        seen.add(requirement.id)
    return requirements
