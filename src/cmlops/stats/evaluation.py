"""Clinical evaluation of a binary risk model: one call, every metric with its interval.

``evaluate(y_true, y_score, thresholds=[0.1, 0.2], groups=df["sex"])`` reports, for the
whole sample and for every pre-declared subgroup:

- discrimination: AUROC with its DeLong 95 % CI (:mod:`cmlops.stats.delong`, O(n log n)),
  AUPRC (average precision, ``sklearn.metrics.average_precision_score``, no CI);
- overall accuracy of the probabilities: Brier score and log loss (normal CI of the mean
  per-case loss), scaled Brier;
- calibration: intercept (calibration-in-the-large), slope, O/E ratio with CIs, plus the
  lowess and decile calibration curves (:mod:`cmlops.stats.calibration`);
- at each pre-specified threshold (positive when score >= threshold): sensitivity,
  specificity, PPV, NPV with Wilson CIs, F1, and net benefit
  (:mod:`cmlops.stats.decision_curve`);
- between subgroups: the TPR gap (equal opportunity), the FPR gap and their maximum
  (equalized odds) at each threshold, and the AUROC gap, with a Newcombe interval for
  the difference between the highest and lowest subgroup.

Undefined metrics (one class in a subgroup, an empty subgroup) are reported as rows
with ``value=None`` and a note, and listed in ``warnings`` - never silently NaN.
Optional acceptance ``criteria`` (e.g. ``{"auroc_ci_low": (">=", 0.70)}``) set
``passed`` on the matching rows and the overall verdict.

A value can exist and still be unable to support an acceptance decision. Each row
says so in ``not_evaluable`` (and a criterion on it is then neither passed nor
failed, ``passed=None``) when:

- its sample has fewer than ``min_events`` events or non-events (default
  :data:`MIN_EVENTS` = 10; one positive case gives a finite DeLong interval that
  means nothing — external validation guidance asks for >= 100 events, Collins,
  Ogundimu & Altman 2016, so 10 is a floor, not a target);
- its confidence interval is degenerate (zero width, e.g. AUROC = 1 with DeLong
  se = 0) or missing where the method gives one;
- its fit did not converge (calibration intercept/slope under separation);
- more than :data:`MAX_CLIPPED_SHARE` (1 %) of the probabilities are exactly 0 or
  1, for the metrics computed on the logit or log scale (calibration intercept and
  slope, log loss), which clip them to [eps, 1 - eps]. Any such score is reported
  in ``warnings`` — never clipped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cmlops.stats._eval_inputs import EvaluationInputError, clean_inputs, sample_fields
from cmlops.stats.criteria import Criterion, apply_criteria, as_given, parse_criterion
from cmlops.stats.evaluation_metrics import (
    METHODS,
    checked_thresholds,
    probabilities,
    sample_block,
)
from cmlops.stats.evaluation_result import EvaluationResult, MetricRow

__all__ = ["EvaluationInputError", "EvaluationResult", "MetricRow", "evaluate"]

OVERALL = "all"
#: fewer events (or non-events) than this in a sample: its metrics are not evaluable
MIN_EVENTS = 10
#: above this share of probabilities at exactly 0 or 1, logit/log metrics are not evaluable
MAX_CLIPPED_SHARE = 0.01
#: metrics computed on clipped probabilities (logit or log)
CLIPPED_METRICS = ("calibration_intercept", "calibration_slope", "log_loss")
#: metrics whose method gives a confidence interval (a missing one is degenerate)
CI_METRICS = (
    "prevalence",
    "auroc",
    "auprc",
    "brier",
    "log_loss",
    "calibration_intercept",
    "calibration_slope",
    "oe_ratio",
    "sensitivity",
    "specificity",
    "ppv",
    "npv",
)
THRESHOLD_METRICS = ("sensitivity", "specificity", "ppv", "npv", "f1", "net_benefit")
GAP_METRICS = ("tpr_gap", "fpr_gap", "equalized_odds_gap", "auroc_gap")
SAMPLE_METRICS = (
    "prevalence",
    "auroc",
    "auprc",
    "brier",
    "scaled_brier",
    "log_loss",
    "calibration_intercept",
    "calibration_slope",
    "oe_ratio",
)


def _clipped_count(prob: np.ndarray | None) -> int:
    return 0 if prob is None else int(((prob == 0.0) | (prob == 1.0)).sum())


def _mark_not_evaluable(rows: list[MetricRow], prob: np.ndarray | None, min_events: int) -> None:
    """Say on each row of one sample why it cannot support an acceptance decision."""
    clipped = _clipped_count(prob)
    share = clipped / prob.size if prob is not None and prob.size else 0.0
    for r in rows:
        non_events = r.n - r.events
        if r.value is None:
            reason = r.note or "undefined"
        elif r.metric != "prevalence" and min(r.events, non_events) < min_events:
            reason = (
                f"fewer than {min_events} events or non-events "
                f"({r.events} events, {non_events} non-events)"
            )
        elif r.note.startswith("did not converge"):
            reason = f"fit {r.note}"
        elif r.metric in CI_METRICS and (r.ci_low is None or r.ci_high is None):
            reason = "no confidence interval (degenerate)"
        elif r.metric in CI_METRICS and r.ci_high - r.ci_low <= 1e-12:
            reason = "degenerate confidence interval (zero width)"
        elif r.metric in CLIPPED_METRICS and share > MAX_CLIPPED_SHARE:
            reason = (
                f"{share:.1%} of probabilities are exactly 0 or 1 (clipped for the "
                f"logit/log); more than {MAX_CLIPPED_SHARE:.0%}"
            )
        else:
            reason = ""
        r.not_evaluable = reason


_GAP_BASE = {"tpr_gap": "sensitivity", "fpr_gap": "specificity", "auroc_gap": "auroc"}


def _mark_gaps(gaps: list[MetricRow], rows: list[MetricRow], levels: list[str]) -> None:
    """A gap is not evaluable when it is undefined, degenerate, or rests on a subgroup
    whose own value is not evaluable (too few events there)."""
    weak = {
        (r.metric, r.threshold): r.not_evaluable
        for r in rows
        if r.subgroup in levels and r.value is not None and r.not_evaluable
    }
    for r in gaps:
        bases = (
            ("sensitivity", "specificity")
            if r.metric == "equalized_odds_gap"
            else (_GAP_BASE.get(r.metric, ""),)
        )
        why = next((weak[(b, r.threshold)] for b in bases if (b, r.threshold) in weak), "")
        if r.value is None:
            r.not_evaluable = r.note or "undefined"
        elif why:
            r.not_evaluable = f"a subgroup's value is not evaluable: {why}"
        elif r.ci_low is not None and r.ci_high is not None and r.ci_high - r.ci_low <= 1e-12:
            r.not_evaluable = "degenerate confidence interval (zero width)"


def _newcombe(hi_row: MetricRow, lo_row: MetricRow) -> tuple[float | None, float | None]:
    vals = (hi_row.value, hi_row.ci_low, hi_row.ci_high, lo_row.value, lo_row.ci_low)
    if any(v is None for v in (*vals, lo_row.ci_high)):
        return None, None
    p1, l1, u1, p2, l2, u2 = (*vals, lo_row.ci_high)
    d = p1 - p2
    return d - float(np.hypot(p1 - l1, u2 - p2)), d + float(np.hypot(u1 - p1, p2 - l2))


def _gaps(
    rows: list[MetricRow], var: str, levels: list[str], thresholds: Sequence[float]
) -> list[MetricRow]:
    out: list[MetricRow] = []
    mine = [r for r in rows if r.subgroup in levels]
    n_all = sum(r.n for r in mine if r.metric == "prevalence")
    ev_all = sum(r.events for r in mine if r.metric == "prevalence")

    def spread(metric: str, t: float | None, flip: bool = False) -> MetricRow:
        cand = [r for r in mine if r.metric == metric and r.threshold == t and r.value is not None]
        name = {"sensitivity": "tpr_gap", "specificity": "fpr_gap", "auroc": "auroc_gap"}[metric]
        if len(cand) < 2:
            return MetricRow(name, var, None, None, None, n_all, ev_all, t,
                             note="undefined: fewer than two subgroups with a value")  # fmt: skip
        hi = max(cand, key=lambda r: r.value)
        lo = min(cand, key=lambda r: r.value)
        if flip:  # FPR = 1 - specificity: the highest FPR is the lowest specificity
            hi, lo = lo, hi
        lo_ci, hi_ci = (None, None) if metric == "auroc" else _newcombe(hi, lo)
        if flip and lo_ci is not None:
            lo_ci, hi_ci = -hi_ci, -lo_ci
        gap = abs(hi.value - lo.value)
        note = f"highest {hi.subgroup}, lowest {lo.subgroup}"
        if len(cand) > 2 and lo_ci is not None:
            note += "; CI ignores the choice of the extreme pair"
        return MetricRow(name, var, gap, lo_ci, hi_ci, n_all, ev_all, t, note=note,
                         method="" if metric == "auroc" else "max - min; Newcombe CI")  # fmt: skip

    out.append(spread("auroc", None))
    for t in thresholds:
        tpr = spread("sensitivity", t)
        fpr = spread("specificity", t, flip=True)
        out += [tpr, fpr]
        vals = [v for v in (tpr.value, fpr.value) if v is not None]
        out.append(MetricRow("equalized_odds_gap", var, max(vals) if vals else None, None, None,
                             n_all, ev_all, t, method="max(tpr_gap, fpr_gap)"))  # fmt: skip
    return out


def _parse_criteria(criteria: Mapping[str, Any] | None) -> dict[str, Criterion]:
    """``{metric[_ci_low|_ci_high]: spec}`` checked into :class:`Criterion` objects."""
    known = set(SAMPLE_METRICS) | set(THRESHOLD_METRICS) | set(GAP_METRICS)
    parsed: dict[str, Criterion] = {}
    for key, spec in (criteria or {}).items():
        base, field = key, "value"
        for suffix in ("_ci_low", "_ci_high"):
            if key.endswith(suffix):
                base, field = key[: -len(suffix)], suffix[1:]
        if base not in known:
            raise EvaluationInputError(
                f"criterion {key!r} names no metric; use one of {sorted(known)} "
                "optionally ending in _ci_low or _ci_high"
            )
        parsed[key] = parse_criterion(key, spec, base, field, EvaluationInputError)
    return parsed


def _judge(
    rows: list[MetricRow], parsed: dict[str, Criterion], scope: str, warnings: list[str]
) -> bool | None:
    """The verdict: gap rows and the whole sample's rows (every subgroup's with "subgroups")."""
    return apply_criteria(
        rows,
        parsed,
        lambda r: r.metric in GAP_METRICS or r.subgroup == OVERALL or scope == "subgroups",
        EvaluationInputError,
        warnings,
    )


def _all_rows(
    clean: Any,
    prob: np.ndarray | None,
    ts: list[float],
    level: float,
    z: float,
    curves_out: dict[str, dict[str, Any]] | None,
    dca: np.ndarray | None,
    min_events: int,
) -> tuple[list[MetricRow], list[str]]:
    """Rows of the whole sample, of each subgroup and the gaps, marked when not evaluable."""
    y, s, warnings = clean.y, clean.score, clean.warnings
    clipped = _clipped_count(prob)
    if clipped:
        warnings.append(
            f"{clipped} of {y.size} probabilities are exactly 0 or 1: calibration "
            "intercept/slope and log loss clip them to [eps, 1 - eps]"
        )
    rows = sample_block(y, s, prob, OVERALL, ts, level, z, warnings, curves_out, dca)
    _mark_not_evaluable(rows, prob, min_events)
    subgroups: list[str] = []
    for var, codes in clean.groups.items():
        for code, level_label in enumerate(clean.group_levels[var]):
            m = codes == code
            subgroups.append(level_label)
            sub_prob = None if prob is None else prob[m]
            block = sample_block(y[m], s[m], sub_prob, level_label, ts,
                           level, z, warnings, curves_out, dca)  # fmt: skip
            _mark_not_evaluable(block, sub_prob, min_events)
            rows += block
        gaps = _gaps(rows, var, clean.group_levels[var], ts)
        _mark_gaps(gaps, rows, clean.group_levels[var])
        rows += gaps
    return rows, subgroups


def evaluate(
    y_true: Any,
    y_score: Any,
    threshold: float | None = None,
    thresholds: Sequence[float] | None = None,
    groups: Any = None,
    *,
    scores: str = "probability",
    missing: str = "error",
    pos_label: Any = None,
    criteria: Mapping[str, Any] | None = None,
    criteria_scope: str = "overall",
    level: float = 0.95,
    dca_thresholds: Sequence[float] | None = None,
    curves: bool = True,
    max_subgroups: int = 100,
    min_events: int = MIN_EVENTS,
) -> EvaluationResult:
    """Evaluate a binary risk model: discrimination, calibration, thresholds, subgroups.

    Args:
        y_true: outcomes, 0/1 or boolean (or any labels with ``pos_label``).
        y_score: one score per case; a probability in [0, 1] by default.
        threshold, thresholds: pre-specified decision threshold(s); on the probability
            scale for ``scores="probability"``/``"logit"``, on the score scale for "raw".
        groups: a Series (its name is the variable), a dict of name -> values or a
            DataFrame; every metric is repeated per subgroup, plus between-group gaps.
        scores: "probability" (scores outside [0, 1] are an error), "logit" (log-odds,
            converted with the logistic function) or "raw" (a ranking score: only
            AUROC, AUPRC and threshold metrics are defined).
        missing: "error" (default: a missing outcome or score is an error naming the
            count) or "drop" (drop those rows and say so in ``warnings``).
        criteria: acceptance criteria ``{metric[_ci_low|_ci_high]: (op, bound)}`` or
            ``(\"between\", lo, hi)``; applied to the overall rows (and the gap rows),
            or to every subgroup too with ``criteria_scope="subgroups"``.
        level: confidence level of every interval.
        dca_thresholds: threshold probabilities of the decision curve (0.01..0.99).
        curves: False skips the ROC, calibration and decision curves (the metrics are
            unchanged): for monitoring, which evaluates many windows and plots none.
        max_subgroups: more subgroups than this in one grouping variable is an error
            (a per-patient or free-text column passed by mistake).
        min_events: a sample with fewer events or non-events than this has metrics
            that are reported but not evaluable against criteria (see the module doc).

    Raises:
        EvaluationInputError: (an ``InvalidInputError``) with a one-line reason.
    """
    from scipy.stats import norm

    if criteria_scope not in ("overall", "subgroups"):
        raise EvaluationInputError("criteria_scope must be 'overall' or 'subgroups'")
    if not 0.0 < level < 1.0:
        raise EvaluationInputError(f"level must lie in (0, 1), got {level!r}")
    parsed = _parse_criteria(criteria)
    ts = checked_thresholds(threshold, thresholds, scores)
    clean = clean_inputs(y_true, y_score, groups, scores=scores, missing=missing,
                         pos_label=pos_label, max_subgroups=max_subgroups)  # fmt: skip
    prob = probabilities(clean, scores)
    dca = None if dca_thresholds is None else np.asarray(dca_thresholds, dtype=float)
    if dca is not None and ((dca <= 0).any() or (dca >= 1).any()):
        raise EvaluationInputError("dca_thresholds must lie strictly between 0 and 1")
    z = float(norm.ppf(0.5 + level / 2.0))
    warnings = clean.warnings
    curves_out: dict[str, dict[str, Any]] | None = {} if curves else None
    rows, subgroups = _all_rows(clean, prob, ts, level, z, curves_out, dca, min_events)
    verdict = _judge(rows, parsed, criteria_scope, warnings)
    curves_out = curves_out or {}
    return EvaluationResult(
        metrics=rows,
        **sample_fields(clean, scores, ts, level, subgroups),
        roc=curves_out.get("roc", {}),
        calibration_curve=curves_out.get("calibration_curve", {}),
        calibration_bins=curves_out.get("calibration_bins", {}),
        decision_curve=curves_out.get("decision_curve", {}),
        criteria=as_given(parsed),
        passed=verdict,
        warnings=warnings,
        methods=dict(METHODS),
    )
