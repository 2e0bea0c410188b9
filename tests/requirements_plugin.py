"""A pytest plugin: the outcome of every test, per requirement, written to a results file.

Tests carry the requirement they prove as ``@pytest.mark.req("REQ-AUD-001")``
(ids from ``docs/requirements.yaml``). At the end of a session this plugin
writes ``test-artifacts/requirements-results.json`` (or ``$CMLOPS_TEST_RESULTS``):
the environment the tests ran in (the *tested set*), the commit, whether the run
was complete (the whole suite, nothing deselected, not stopped early) and each
marked test's outcome. ``cmlops traceability`` renders it as the traceability
matrix; the file of a full run is shipped as ``src/cmlops/selftest/tested.json``
(``bash .ci/publish-test-results``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
RESULTS_ENV = "CMLOPS_TEST_RESULTS"
DEFAULT_RESULTS = REPO / "test-artifacts" / "requirements-results.json"
SCHEMA = "cmlops.test-results/1"
_PARAMS = re.compile(r"\[.*\]$")


def base_id(nodeid: str) -> str:
    """``tests/x.py::test_y`` for ``tests/x.py::test_y[sqlite]`` (parametrizations are one test)."""
    return _PARAMS.sub("", nodeid)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _worse(old: str | None, new: str) -> str:
    order = {"passed": 0, "skipped": 1, "failed": 2}
    return new if old is None or order[new] > order[old] else old


class RequirementResults:
    """Collects markers at collection and outcomes as tests report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.requirements: dict[str, set[str]] = {}  # base test id -> requirement ids
        self.outcomes: dict[str, str] = {}  # node id -> outcome
        self.deselected = 0
        self.collected = 0

    @pytest.hookimpl(trylast=True)
    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = len(session.items)
        for item in session.items:
            ids = {str(arg) for mark in item.iter_markers("req") for arg in mark.args}
            if ids:
                self.requirements.setdefault(base_id(item.nodeid), set()).update(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            outcome = "failed"
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            return
        self.outcomes[report.nodeid] = _worse(self.outcomes.get(report.nodeid), outcome)

    def _complete(self, session: pytest.Session) -> bool:
        option = self.config.option
        whole = [Path(a).resolve() for a in self.config.args] == [REPO / "tests"]
        return bool(
            whole
            and not self.deselected
            and not option.keyword
            and not option.markexpr
            and not session.shouldstop
            and len(self.outcomes) == self.collected
        )

    def document(self, session: pytest.Session) -> dict[str, Any]:
        from cmlops.build_info import build_info

        tests: dict[str, dict[str, Any]] = {}
        for nodeid, outcome in sorted(self.outcomes.items()):
            test = base_id(nodeid)
            if test in self.requirements:
                entry = tests.setdefault(
                    test, {"requirements": sorted(self.requirements[test]), "outcome": None}
                )
                entry["outcome"] = _worse(entry["outcome"], outcome)
        totals = {k: list(self.outcomes.values()).count(k) for k in ("passed", "failed", "skipped")}
        return {
            "schema": SCHEMA,
            "started": self.started,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "commit": _git("rev-parse", "HEAD") or "unknown",
            "modified_files": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "complete": self._complete(session),
            "collected": self.collected,
            "totals": totals,
            "environment": build_info(),
            "tests": tests,
        }

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from cmlops.atomic_files import write_atomic

        if not self.outcomes:
            return  # --collect-only, or nothing ran: keep the last results
        target = Path(os.environ.get(RESULTS_ENV) or DEFAULT_RESULTS)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.document(session), indent=1, sort_keys=True) + "\n"
        write_atomic(target, text)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(RequirementResults(config), "cmlops-requirement-results")
