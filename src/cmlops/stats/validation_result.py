"""The result of :func:`cmlops.stats.validation.validate`: one row per check.

Display, export and the exact round trip come from the result protocol
(:class:`cmlops.stats.result.Result`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from cmlops.stats.result import ListOf, Record, Result, records_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "FRAME_COLUMNS",
    "CheckResult",
    "ValidationResult",
    "check_result",
    "expected_text",
    "verdict_of",
]

FRAME_COLUMNS = (
    "column",
    "check",
    "passed",
    "severity",
    "status",
    "failing_rows",
    "failing_share",
    "expected",
    "examples",
    "message",
)


@dataclass
class CheckResult(Record):
    """Outcome of one check.

    ``column`` is the column name, or the columns joined by ``", "`` for a dataset
    check. ``status`` is ``"pass"``, ``"warn"`` (failed, severity warn), ``"fail"``
    (failed, severity fail) or ``"skipped"`` (not run; ``message`` says why, e.g. the
    column is missing or has the wrong dtype; ``passed`` is then None).
    ``examples`` holds up to ``max_examples`` failing cases as ``{"row": <index
    label>, "value": <value>}`` (a dict of the involved columns for dataset checks).
    """

    column: str
    check: str
    passed: bool | None
    severity: str
    status: str
    failing_rows: int = 0
    failing_share: float | None = None
    expected: Any = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


@dataclass
class ValidationResult(Result):
    """Every check of a schema on a frame, and the verdict.

    Attributes:
        checks: one :class:`CheckResult` per check, schema-level problems first.
        verdict: ``"fail"`` if a fail-severity check failed, else ``"warn"`` if any
            check failed, else ``"pass"``.
        n_rows, n_columns: of the validated frame.
        schema_name, schema_version: of the schema used; ``schema`` its full dict.
        engine: the library that ran the value checks (pandera and its version).
        warnings: notes that are not check failures (an empty frame ...).
    """

    _cmlops_result_kind: ClassVar[str] = "validation"
    _nested: ClassVar[dict] = {"checks": ListOf(CheckResult)}
    _title: ClassVar[str] = "Data validation"

    checks: list[CheckResult]
    verdict: str
    n_rows: int
    n_columns: int
    schema_name: str = ""
    schema_version: int = 1
    schema: dict[str, Any] = field(default_factory=dict)
    engine: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True unless a check of severity fail failed."""
        return self.verdict != "fail"

    def failures(self) -> list[CheckResult]:
        """The checks that failed (status warn or fail)."""
        return [c for c in self.checks if c.status in ("warn", "fail")]

    def to_frame(self) -> pd.DataFrame:
        """One row per check with the columns of FRAME_COLUMNS."""
        dtypes = {"passed": "boolean", "failing_rows": "int64", "failing_share": "float64"}
        return records_frame(self.checks, FRAME_COLUMNS, dtypes)

    def _summary(self) -> str:
        counts = {status: 0 for status in ("fail", "warn", "skipped")}
        for c in self.checks:
            if c.status in counts:
                counts[c.status] += 1
        return (
            f"{counts['fail']} failed, {counts['warn']} warned, {counts['skipped']} skipped of "
            f"{len(self.checks)} checks on {self.n_rows} rows x {self.n_columns} columns"
        )

    def _consistent(self) -> bool:
        """``verdict`` follows from the checks' statuses (as :func:`validate` sets it)."""
        return self.verdict == verdict_of(self.checks)


def verdict_of(checks: Iterable[CheckResult]) -> str:
    """``"fail"`` if a check failed, else ``"warn"`` if one warned, else ``"pass"``.

    The one rule of the verdict, for the pandas and the Spark validation alike.
    """
    statuses = {c.status for c in checks}
    return "fail" if "fail" in statuses else ("warn" if "warn" in statuses else "pass")


def expected_text(spec: Any) -> Any:
    """The rule in words a reviewer reads: '>= 18', the allowed list, 'start <= end'."""
    if hasattr(spec, "columns"):  # a dataset check
        return " <= ".join(spec.columns) if spec.kind == "date_order" else list(spec.columns)
    if spec.kind == "min":
        return f">= {spec.value}"
    if spec.kind == "max":
        return f"<= {spec.value}"
    return spec.value


def check_result(column: str, spec: Any, passed: bool | None, **kw: Any) -> CheckResult:
    """The result row of one check (``passed`` None: skipped, with the reason in ``message``)."""
    status = "skipped" if passed is None else ("pass" if passed else spec.severity)
    return CheckResult(
        column=column,
        check=spec.kind,
        passed=passed,
        severity=spec.severity,
        status=status,
        expected=expected_text(spec),
        **kw,
    )
