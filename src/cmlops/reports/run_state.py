"""What one report run is: the facts fixed before its kernel starts, and how it ended.

The runner (:mod:`cmlops.reports.runner`), the package assembly
(:mod:`cmlops.reports.package_assembly`) and the run's chain records
(:mod:`cmlops.reports.run_records`) all read a run through these two frozen
values, so each part sees the same identity, inputs, status and error. The
names of the files a run adds to its package are here for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops.reports.catalogue import Template
from cmlops.reports.execute import ExecutionOutcome
from cmlops.reports.plan import RecordedPlan

#: the executed notebook, the offline HTML report and the template as run, in a package
NOTEBOOK = "notebook.ipynb"
HTML = "report.html"
TEMPLATE_COPY = "template.ipynb"


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the microsecond (a run's start and end)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class RunStart:
    """What is fixed before the kernel starts: the run's identity, inputs and audit head."""

    template: Template
    values: dict[str, Any]
    plan: RecordedPlan
    inputs: list[dict[str, Any]]
    run_id: str
    user: str
    started: str
    target: Path
    head_before: dict[str, Any] | None

    @property
    def activity_id(self) -> str:
        return f"report:{self.run_id}"


@dataclass(frozen=True)
class RunEnd:
    """How the notebook run ended, the results it left, and inputs that changed meanwhile."""

    outcome: ExecutionOutcome
    ended: str
    results: dict[str, Any]
    changed_inputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.outcome.stopped_by:
            return "ABORTED"
        return "EXECUTED" if self.outcome.ok and not self.changed_inputs else "FAILED"

    @property
    def message(self) -> str:
        """One line: why the run did not simply execute ('' when it did)."""
        if not self.changed_inputs:
            return self.outcome.error
        names = ", ".join(f"{i['parameter']} ({i['path']})" for i in self.changed_inputs)
        text = (
            f"input file changed during the run: {names}; its SHA-256 after the run is not the "
            "one recorded before it, so the results may not come from the recorded data: "
            "keep inputs unchanged while a report runs and run it again"
        )
        return f"{self.outcome.error}; {text}" if self.outcome.error else text

    @property
    def error(self) -> dict[str, Any] | None:
        if self.status == "EXECUTED":
            return None
        error: dict[str, Any] = {
            "type": self.outcome.error_type,
            "message": self.message,
            "cell_index": self.outcome.cell_index,
        }
        if self.changed_inputs:
            error["type"] = self.outcome.error_type if self.outcome.stopped_by else "InputChanged"
            error["inputs"] = self.changed_inputs
        return error
