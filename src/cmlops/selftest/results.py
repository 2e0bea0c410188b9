"""Test-run results: which tests ran for which requirement, how they ended, and where.

``tests/requirements_plugin.py`` writes this file at the end of every pytest
session (``cmlops.test-results/1``). The results of a full run of the suite are
shipped in the wheel as ``cmlops/selftest/tested.json``: they are the *tested
set* that installation qualification compares an installation with (Python,
platform, each runtime dependency's version) and the "last result" column of
the traceability matrix.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError

SCHEMA = "cmlops.test-results/1"
SHIPPED = "tested.json"
OUTCOMES = ("passed", "failed", "skipped")


def shipped_results_path() -> Path:
    """The results of the full test run shipped with this build."""
    return Path(str(resources.files("cmlops.selftest") / SHIPPED))


def load_results(path: str | Path | None = None) -> dict[str, Any]:
    """A results document, checked for the fields the matrix and IQ use (one-line errors)."""
    source = Path(path) if path is not None else shipped_results_path()
    try:
        document = json.loads(source.read_text("utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"no test results at {source}: run the test suite first") from None
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{source} is not a readable test-results file ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise InvalidInputError(f"{source} is not a cmlops test-results file ({SCHEMA})")
    tests = document.get("tests")
    environment = document.get("environment")
    if not isinstance(tests, dict) or not isinstance(environment, dict):
        raise InvalidInputError(f"{source} lacks its tests or environment: regenerate it")
    for name, entry in tests.items():
        if not (
            isinstance(entry, dict)
            and entry.get("outcome") in OUTCOMES
            and isinstance(entry.get("requirements"), list)
        ):
            raise InvalidInputError(f"{source}: the entry of {name!r} is malformed")
    return document


def outcomes_by_test(document: dict[str, Any]) -> dict[str, str]:
    """``{"tests/x.py::test_y": "passed"}`` from a results document."""
    return {name: entry["outcome"] for name, entry in document["tests"].items()}
