"""The result of :func:`cmlops.compare`: two models on the same cases, metric by metric.

Kept apart from the computation so renderers can import the type without the
statistics. Display, export and the exact round trip come from the result protocol
(:class:`cmlops.stats.result.Result`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from cmlops.stats.criteria import CriteriaVerdict
from cmlops.stats.result import ListOf, Record, Result, records_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["FRAME_COLUMNS", "ComparisonResult", "ComparisonRow"]

#: columns of :meth:`ComparisonResult.to_frame`, in order
FRAME_COLUMNS = (
    "metric",
    "subgroup",
    "threshold",
    "value_a",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "events",
    "passed",
    "criterion",
    "method",
    "note",
    "not_evaluable",
)


@dataclass
class ComparisonRow(Record):
    """One metric of both models on one sample, and their paired difference ``a - b``.

    ``subgroup`` is ``"all"`` or ``"<variable>=<value>"``; ``threshold`` is set for
    net benefit. ``ci_low``/``ci_high``/``p_value`` belong to the difference; any of
    them is None when undefined (``note`` says why). ``passed`` is None unless an
    acceptance criterion applies to the row, and None too when the row is not
    evaluable: ``not_evaluable`` says why the difference cannot support an acceptance
    decision (too few events, no or a zero-width interval, a fit that did not
    converge); empty when it can.
    """

    metric: str
    subgroup: str
    threshold: float | None
    value_a: float | None
    value_b: float | None
    difference: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    n: int = 0
    events: int = 0
    passed: bool | None = None
    criterion: str | None = None
    method: str = ""
    note: str = ""
    not_evaluable: str = ""


@dataclass
class ComparisonResult(CriteriaVerdict, Result):
    """Paired comparison of two binary risk models scored on the same cases.

    Attributes:
        rows: every :class:`ComparisonRow` (overall, then per subgroup).
        names: display names of model a and model b (differences are a - b).
        n, events, prevalence: of the compared sample (after dropping missing rows).
        score_scale: ``"probability"``, ``"logit"`` or ``"raw"`` (AUROC only).
        thresholds: the pre-specified decision thresholds of the net-benefit rows.
        level: confidence level of every interval.
        group_variables, subgroups: the grouping variables and subgroup labels.
        roc: ``{"a": {"fpr", "tpr", "thresholds"}, "b": {...}}`` of the whole sample.
        calibration_curve: ``{"a": {"predicted", "observed"}, "b": {...}}`` (lowess).
        decision_curve: ``{"thresholds", "a", "b", "treat_all", "treat_none"}``.
        criteria: acceptance criteria as given, ``{key: [op, bound, ...]}``.
        passed: True when every criterion row passed, False when any failed, None
            without criteria or when a criterion row was not evaluable and none failed
            (``verdict`` "not evaluable").
        warnings, methods: what the caller should know; the method of each metric.
    """

    _cmlops_result_kind: ClassVar[str] = "comparison"
    _nested: ClassVar[dict] = {"rows": ListOf(ComparisonRow)}
    _title: ClassVar[str] = "Model comparison"
    _judged_rows: ClassVar[str] = "rows"

    rows: list[ComparisonRow]
    names: list[str]
    n: int
    events: int
    prevalence: float | None
    score_scale: str
    thresholds: list[float]
    level: float
    group_variables: list[str] = field(default_factory=list)
    subgroups: list[str] = field(default_factory=list)
    roc: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    calibration_curve: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    decision_curve: dict[str, list[float]] = field(default_factory=dict)
    criteria: dict[str, list[Any]] = field(default_factory=dict)
    passed: bool | None = None
    warnings: list[str] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per (metric, subgroup, threshold) with the columns of FRAME_COLUMNS."""
        floats = ("threshold", "value_a", "value_b", "difference", "ci_low", "ci_high", "p_value")
        dtypes = {**dict.fromkeys(floats, "float64"), "passed": "boolean"}
        return records_frame(self.rows, FRAME_COLUMNS, dtypes)

    def row(
        self, metric: str, subgroup: str = "all", threshold: float | None = None
    ) -> ComparisonRow:
        """The row of ``metric`` for ``subgroup`` (and ``threshold``); KeyError if absent."""
        for r in self.rows:
            if r.metric == metric and r.subgroup == subgroup and r.threshold == threshold:
                return r
        raise KeyError(f"no row {metric!r} for subgroup {subgroup!r} threshold {threshold!r}")

    def _summary(self) -> str:
        a, b = (repr(x[:30]) for x in self.names)
        text = f"{a} vs {b}"
        auc = next((r for r in self.rows if r.metric == "auroc" and r.subgroup == "all"), None)
        if auc is not None and auc.difference is not None:
            text += f", AUROC {auc.value_a:.3f} vs {auc.value_b:.3f}"
            text += f", difference {auc.difference:+.3f}"
            if auc.ci_low is not None and auc.ci_high is not None:
                text += f" ({auc.ci_low:+.3f} to {auc.ci_high:+.3f})"
            if auc.p_value is not None:
                text += f", p={auc.p_value:.3g}"
        judged = [r for r in self.rows if r.criterion is not None]
        if judged:
            text += f"; {sum(r.passed is False for r in judged)} of {len(judged)} criteria failed"
            open_ = sum(r.passed is None for r in judged)
            text += f", {open_} not evaluated" if open_ else ""
        return f"{text}; n={self.n}, events={self.events}"
