"""The result of :func:`cmlops.stats.evaluation.evaluate`: a plain dataclass.

Kept apart from the computation so renderers (widgets, reports) and the monitoring
code can import the type without the statistics. Display, export and the exact
round trip come from the result protocol (:class:`cmlops.stats.result.Result`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from cmlops.stats.criteria import CriteriaVerdict
from cmlops.stats.result import ListOf, Record, Result, records_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["FRAME_COLUMNS", "EvaluationResult", "MetricRow"]

#: columns of :meth:`EvaluationResult.to_frame`, in order
FRAME_COLUMNS = (
    "metric",
    "subgroup",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "events",
    "threshold",
    "passed",
    "criterion",
    "method",
    "note",
    "not_evaluable",
)


@dataclass
class MetricRow(Record):
    """One metric for one subgroup (and one threshold for threshold metrics).

    ``subgroup`` is ``"all"`` for the whole sample, ``"<variable>=<value>"`` for a
    subgroup, and the grouping variable's name for a between-subgroup gap.
    ``value``/``ci_low``/``ci_high`` are None when undefined (``note`` says why);
    ``passed`` is None unless an acceptance criterion applies to the row (and
    None too when the row is not evaluable). ``not_evaluable`` says why the value
    cannot support an acceptance decision (one class, too few events, a degenerate
    interval, too many clipped scores); empty when it can.
    """

    metric: str
    subgroup: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    events: int = 0
    threshold: float | None = None
    passed: bool | None = None
    criterion: str | None = None
    method: str = ""
    note: str = ""
    not_evaluable: str = ""


@dataclass
class EvaluationResult(CriteriaVerdict, Result):
    """Discrimination, calibration, threshold and decision metrics of a binary risk model.

    Attributes:
        metrics: every :class:`MetricRow` (overall, per subgroup, gaps).
        n, events, prevalence: of the whole evaluated sample (after dropping
            missing rows when ``missing="drop"``).
        score_scale: ``"probability"``, ``"logit"`` (converted with the logistic
            function before any probability metric) or ``"raw"`` (ranking metrics
            and thresholds only; calibration, Brier, log loss and net benefit are
            not defined for a score that is not a probability).
        thresholds: the pre-specified thresholds (probability scale unless raw).
        level: confidence level of every interval (0.95).
        group_variables: names of the grouping variables; ``subgroups`` the labels.
        roc: ``{subgroup: {"fpr": [...], "tpr": [...], "thresholds": [...]}}``,
            thinned to at most 1,001 points for plotting.
        calibration_curve: ``{subgroup: {"predicted": [...], "observed": [...]}}``,
            the lowess-smoothed observed risk on a grid of predicted risk.
        calibration_bins: ``{subgroup: {"predicted", "observed", "ci_low", "ci_high",
            "n", "events"}}``, the decile (grouped) calibration points.
        decision_curve: ``{subgroup: {"thresholds", "model", "treat_all",
            "treat_none"}}``, net benefit per threshold probability.
        criteria: the acceptance criteria as given, ``{key: [op, bound, ...]}``.
        passed: True when every criterion row passed, False when any failed,
            None when no criteria were given or a criterion row is not evaluable
            (and none failed); ``warnings`` then names the rows and reasons.
            ``verdict`` is then "not evaluable": None is never a pass.
        warnings: everything the caller should know (one class, dropped rows,
            empty subgroups, non-converged fits ...); never silent.
        methods: which estimator and interval each metric used.
    """

    _cmlops_result_kind: ClassVar[str] = "evaluation"
    _nested: ClassVar[dict] = {"metrics": ListOf(MetricRow)}
    _title: ClassVar[str] = "Model evaluation"
    _judged_rows: ClassVar[str] = "metrics"

    metrics: list[MetricRow]
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
    calibration_bins: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    decision_curve: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    criteria: dict[str, list[Any]] = field(default_factory=dict)
    passed: bool | None = None
    warnings: list[str] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per (metric, subgroup, threshold) with the columns of FRAME_COLUMNS."""
        floats = ("value", "ci_low", "ci_high", "threshold")
        dtypes = {**dict.fromkeys(floats, "float64"), "passed": "boolean"}
        return records_frame(self.metrics, FRAME_COLUMNS, dtypes)

    def _summary(self) -> str:
        judged = [m for m in self.metrics if m.criterion is not None]
        failed = sum(m.passed is False for m in judged)
        open_ = sum(m.passed is None for m in judged)
        crit = "no criteria, "
        if judged:
            crit = f"{failed} of {len(judged)} criteria failed, "
            crit += f"{open_} not evaluated, " if open_ else ""
        auc = next((m for m in self.metrics if m.metric == "auroc" and m.subgroup == "all"), None)
        auc_text = "AUROC undefined"
        if auc is not None and auc.value is not None:
            auc_text = f"AUROC {auc.value:.3f}"
            if auc.ci_low is not None and auc.ci_high is not None:
                auc_text += f" ({auc.ci_low:.3f}-{auc.ci_high:.3f})"
        groups = f", {len(self.subgroups)} subgroups" if self.subgroups else ""
        return f"{crit}{auc_text}, n={self.n}, events={self.events}{groups}"

    def metric(self, name: str, subgroup: str = "all", threshold: float | None = None) -> MetricRow:
        """The row of metric ``name`` for ``subgroup`` (and ``threshold``); KeyError if absent."""
        for m in self.metrics:
            if m.metric == name and m.subgroup == subgroup:
                if threshold is None or (m.threshold is not None and m.threshold == threshold):
                    return m
        raise KeyError(f"no metric {name!r} for subgroup {subgroup!r} threshold {threshold!r}")

    def value(self, name: str, subgroup: str = "all", threshold: float | None = None) -> Any:
        """Shortcut for ``metric(name, subgroup, threshold).value``."""
        return self.metric(name, subgroup, threshold).value
