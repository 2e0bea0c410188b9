"""Paired comparison of two risk models on the same cases: ``cmlops.compare``.

``compare(y, score_a, score_b, thresholds=[0.1, 0.2], groups=df["sex"])`` answers
"is model b better than model a on these patients?" the way a reviewer expects, for
the whole sample and for every pre-declared subgroup, each difference ``a - b`` with
its paired interval and two-sided p-value:

- discrimination: AUROC of each model and DeLong's test for two correlated ROC
  curves (:func:`cmlops.stats.delong.paired_auroc_delong`; R pROC ``roc.test``);
- overall accuracy: Brier score of each, paired t-test of the per-case losses;
- calibration: calibration intercept (calibration-in-the-large) and slope of each,
  difference with the paired sandwich covariance of the two recalibration fits;
- clinical utility: net benefit at each pre-specified threshold, paired t-test of
  the per-case utilities
  (:mod:`cmlops.stats.paired_differences`).

Optional acceptance criteria on the differences (non-inferiority with a margin,
e.g. ``{"auroc_difference_ci_high": ("<=", 0.05)}``: the AUROC of a exceeds b's by
less than 0.05) set ``passed`` and the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cmlops.stats._eval_inputs import EvaluationInputError, clean_paired_inputs, sample_fields
from cmlops.stats.comparison_result import ComparisonResult, ComparisonRow
from cmlops.stats.criteria import Criterion, apply_criteria, as_given, parse_criterion

__all__ = ["ComparisonResult", "ComparisonRow", "compare"]

OVERALL = "all"
METRICS = ("auroc", "brier", "calibration_intercept", "calibration_slope", "net_benefit")
#: criterion key suffix -> the row field it judges
CRITERION_FIELDS = {
    "_difference_ci_low": "ci_low",
    "_difference_ci_high": "ci_high",
    "_difference": "difference",
    "_p_value": "p_value",
}
METHODS = {
    "auroc": (
        "DeLong (1988) test for two correlated ROC curves: covariance of the placements "
        "by midranks, z test, Wald CI of the difference (R pROC roc.test, paired)"
    ),
    "brier": "mean of (p - y)^2 per model; paired t-test and t CI of the per-case difference",
    "calibration_intercept": (
        "logistic, offset logit(p), slope fixed at 1, per model; difference with the "
        "paired sandwich (stacked fits, HC0 clustered by case); Wald z"
    ),
    "calibration_slope": (
        "logistic regression of y on logit(p) per model; difference with the paired "
        "sandwich (stacked fits, HC0 clustered by case); Wald z"
    ),
    "net_benefit": (
        "Vickers & Elkin 2006, treated if p >= threshold; paired t-test and t CI of the "
        "per-case utilities"
    ),
    "differences": "every difference is model a - model b",
    "subgroups": "subgroup p-values and intervals are not adjusted for multiplicity",
}
ONE_CLASS = "undefined: only one outcome class"
#: fewer events (or non-events) than this in a sample: its differences are not evaluable
MIN_EVENTS = 10


def _mark_not_evaluable(rows: list[ComparisonRow], min_events: int) -> None:
    """Say on each row why its difference cannot support an acceptance decision.

    The rules of :func:`cmlops.evaluate`: undefined, too few events or non-events,
    no interval or a zero-width one (identical models), a fit that did not converge.
    """
    for r in rows:
        non_events = r.n - r.events
        if r.difference is None:
            r.not_evaluable = r.note or "undefined"
        elif min(r.events, non_events) < min_events:
            r.not_evaluable = (
                f"fewer than {min_events} events or non-events "
                f"({r.events} events, {non_events} non-events)"
            )
        elif "did not converge" in r.note:
            r.not_evaluable = f"fit {r.note}"
        elif r.ci_low is None or r.ci_high is None:
            r.not_evaluable = f"no confidence interval ({r.note or 'degenerate'})"
        elif r.ci_high - r.ci_low <= 1e-12:
            r.not_evaluable = "degenerate confidence interval (zero width)"


def _parse_criteria(criteria: Mapping[str, Any] | None) -> dict[str, Criterion]:
    parsed: dict[str, Criterion] = {}
    for key, spec in (criteria or {}).items():
        for suffix, field in CRITERION_FIELDS.items():
            metric = key[: -len(suffix)] if key.endswith(suffix) else None
            if metric in METRICS:
                parsed[key] = parse_criterion(key, spec, metric, field, EvaluationInputError)
                break
        else:
            raise EvaluationInputError(
                f"criterion {str(key)[:60]!r} names no comparison: use <metric>_difference, "
                "<metric>_difference_ci_low, <metric>_difference_ci_high or <metric>_p_value "
                f"with a metric among {', '.join(METRICS)}"
            )
    return parsed


def _options(names: Any, thresholds: Any, scores: str, level: float, scope: str) -> tuple:
    if not 0.0 < level < 1.0:
        raise EvaluationInputError(f"level must lie in (0, 1), got {level!r}")
    if scope not in ("overall", "subgroups"):
        raise EvaluationInputError("criteria_scope must be 'overall' or 'subgroups'")
    if (
        not isinstance(names, (tuple, list))
        or len(names) != 2
        or not all(isinstance(x, str) and x.strip() for x in names)
        or names[0] == names[1]
    ):
        raise EvaluationInputError(
            f"names must be two different, non-empty strings, got {str(names)[:80]}"
        )
    try:
        ts = sorted({float(t) for t in np.atleast_1d(np.asarray(thresholds or [], dtype=float))})
    except (TypeError, ValueError):
        raise EvaluationInputError(f"thresholds must be numbers, got {thresholds!r}") from None
    if any(not 0.0 < t < 1.0 for t in ts):
        raise EvaluationInputError(
            f"thresholds {ts} must lie strictly between 0 and 1 (net benefit needs a "
            "probability threshold)"
        )
    if ts and scores == "raw":
        raise EvaluationInputError(
            "thresholds need probability scores: net benefit is not defined for "
            "scores='raw'; drop thresholds or pass probabilities"
        )
    return [str(n) for n in names], ts


def _sample_rows(
    y: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    probs: tuple[np.ndarray, np.ndarray] | None,
    label: str,
    thresholds: Sequence[float],
    level: float,
    warnings: list[str],
) -> list[ComparisonRow]:
    """Every comparison row of one sample (the whole set or one subgroup)."""
    from cmlops.stats.delong import paired_auroc_delong
    from cmlops.stats.paired_differences import (
        net_benefit_utilities,
        paired_calibration_difference,
        paired_mean_difference,
    )

    n, ev = int(y.size), int(y.sum())
    rows: list[ComparisonRow] = []

    def add(metric: str, d: Any, threshold: float | None = None, note: str = "") -> None:
        values = (None,) * 6 if d is None else (d.value_a, d.value_b, d.difference,
                                                 d.ci_low, d.ci_high, d.p_value)  # fmt: skip
        note = note or ("" if d is None else d.note)
        rows.append(ComparisonRow(metric, label, threshold, *values, n=n, events=ev,
                                  method=METHODS[metric], note=note))  # fmt: skip

    if n == 0:
        warnings.append(f"subgroup {label} has no cases; its comparison is undefined")
        add("auroc", None, note="empty subgroup")
        return rows
    both = 0 < ev < n
    if both:
        add("auroc", _delong_as_difference(paired_auroc_delong(y, a, b, level)))
    else:
        warnings.append(f"{label}: only one outcome class; AUROC and calibration are undefined")
        add("auroc", None, note=ONE_CLASS)
    if probs is None:
        return rows
    pa, pb = probs
    add("brier", paired_mean_difference((pa - y) ** 2, (pb - y) ** 2, level))
    for parameter in ("intercept", "slope"):
        metric = f"calibration_{parameter}"
        if not both:
            add(metric, None, note=ONE_CLASS)
            continue
        d = paired_calibration_difference(y, pa, pb, parameter, level)
        if "did not converge" in d.note:
            warnings.append(f"{label}: {metric} {d.note}")
        add(metric, d)
    for t in thresholds:
        ua, ub = net_benefit_utilities(y, pa, t), net_benefit_utilities(y, pb, t)
        add("net_benefit", paired_mean_difference(ua, ub, level), threshold=t)
    return rows


def _delong_as_difference(d: Any) -> Any:
    from cmlops.stats.paired_differences import PairedDifference

    note = "" if d.se is None else f"se={d.se:.6g}; z={d.z:.6g}" if d.z is not None else ""
    if d.se is None:
        note = "undefined variance: needs at least two events and two non-events"
    return PairedDifference(d.auc_a, d.auc_b, d.difference, d.ci_low, d.ci_high, d.p_value,
                            d.z, note)  # fmt: skip


def _curves(y: np.ndarray, a: np.ndarray, b: np.ndarray, probs: Any) -> dict[str, Any]:
    """ROC, lowess calibration and decision curves of both models on the whole sample."""
    from sklearn.metrics import roc_curve

    from cmlops.stats.calibration import lowess_curve
    from cmlops.stats.decision_curve import decision_curve
    from cmlops.stats.evaluation_metrics import ROC_MAX_POINTS, thin

    out: dict[str, Any] = {"roc": {}, "calibration_curve": {}, "decision_curve": {}}
    for key, s in (("a", a), ("b", b)):
        fpr, tpr, thr = roc_curve(y, s)
        keep = thin(fpr, ROC_MAX_POINTS)
        out["roc"][key] = {"fpr": fpr[keep], "tpr": tpr[keep], "thresholds": thr[keep]}
    if probs is not None:
        for key, p in (("a", probs[0]), ("b", probs[1])):
            grid, smooth = lowess_curve(y, p)
            out["calibration_curve"][key] = {"predicted": grid, "observed": smooth}
        da, db = decision_curve(y, probs[0]), decision_curve(y, probs[1])
        out["decision_curve"] = {
            "thresholds": da["thresholds"],
            "a": da["model"],
            "b": db["model"],
            "treat_all": da["treat_all"],
            "treat_none": da["treat_none"],
        }
    return out


def _paired_scores(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    groups: Any,
    scores: str,
    missing: str,
    pos_label: Any,
    max_subgroups: int,
) -> tuple[Any, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Checked inputs: outcome and groups, both scores, both probabilities (None if raw)."""
    from scipy.special import expit

    clean, found = clean_paired_inputs(y_true, {"score_a": score_a, "score_b": score_b}, groups,
                                       scores=scores, missing=missing, pos_label=pos_label,
                                       max_subgroups=max_subgroups)  # fmt: skip
    y, a, b = clean.y, found["score_a"], found["score_b"]
    n, ev = int(y.size), int(y.sum())
    if ev in (0, n):
        what = "no events" if ev == 0 else "no non-events"
        raise EvaluationInputError(
            f"y_true has only one outcome class ({what} in {n} cases): two models cannot be "
            "compared on it; use cases with both outcomes"
        )
    if scores == "raw":
        clean.warnings.append(
            "scores='raw': only the AUROC is compared (the others need probabilities)"
        )
        return clean, a, b, None
    return clean, a, b, ((expit(a), expit(b)) if scores == "logit" else (a, b))


def _all_rows(
    clean: Any,
    a: np.ndarray,
    b: np.ndarray,
    probs: tuple[np.ndarray, np.ndarray] | None,
    thresholds: list[float],
    level: float,
) -> tuple[list[ComparisonRow], list[str]]:
    """The rows of the whole sample, then of every subgroup; and the subgroup labels."""
    y, warnings = clean.y, clean.warnings
    rows = _sample_rows(y, a, b, probs, OVERALL, thresholds, level, warnings)
    subgroups: list[str] = []
    for var, codes in clean.groups.items():
        for code, label in enumerate(clean.group_levels[var]):
            m = codes == code
            subgroups.append(label)
            sub = None if probs is None else (probs[0][m], probs[1][m])
            rows += _sample_rows(y[m], a[m], b[m], sub, label, thresholds, level, warnings)
    return rows, subgroups


def compare(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    *,
    thresholds: Sequence[float] | None = None,
    groups: Any = None,
    names: Sequence[str] = ("A", "B"),
    scores: str = "probability",
    missing: str = "error",
    pos_label: Any = None,
    criteria: Mapping[str, Any] | None = None,
    criteria_scope: str = "overall",
    level: float = 0.95,
    curves: bool = True,
    max_subgroups: int = 100,
    min_events: int = MIN_EVENTS,
) -> ComparisonResult:
    """Compare two models scored on the same cases: paired differences ``a - b``.

    Args:
        y_true: outcomes, 0/1 or boolean (or any labels with ``pos_label``).
        score_a, score_b: each model's score per case, in the same case order.
        thresholds: pre-specified decision thresholds (probability scale) of the
            net-benefit rows.
        groups: a Series (its name is the variable), a dict of name -> values or a
            DataFrame; every comparison is repeated per subgroup.
        names: display names of model a and model b.
        scores: "probability" (default), "logit" (log-odds, converted) or "raw" (a
            ranking score: the AUROC comparison only).
        missing: "error" (default) or "drop" (a case missing y or either score is
            dropped for both models, and said so in ``warnings``).
        criteria: ``{"<metric>_difference[_ci_low|_ci_high]" | "<metric>_p_value":
            (op, bound) | ("between", lo, hi)}`` on the overall rows, or on every
            subgroup too with ``criteria_scope="subgroups"``.
        level: confidence level of every interval.
        curves: False skips the ROC, calibration and decision curves.
        max_subgroups: more subgroups than this in one variable is an error.
        min_events: a sample with fewer events or non-events than this (10) has its
            differences reported but marked ``not_evaluable``: a criterion on them is
            not evaluated (``passed`` None), never passed.

    Raises:
        EvaluationInputError: (an ``InvalidInputError``) with a one-line reason: scores
            of different lengths, one outcome class, NaN (unless ``missing="drop"``),
            infinite scores, probabilities outside [0, 1], a bad option.
    """
    model_names, ts = _options(names, thresholds, scores, level, criteria_scope)
    parsed = _parse_criteria(criteria)
    clean, a, b, probs = _paired_scores(
        y_true, score_a, score_b, groups, scores, missing, pos_label, max_subgroups
    )
    y, warnings = clean.y, clean.warnings
    rows, subgroups = _all_rows(clean, a, b, probs, ts, level)
    _mark_not_evaluable(rows, min_events)
    everywhere = criteria_scope == "subgroups"
    passed = apply_criteria(
        rows,
        parsed,
        lambda r: everywhere or r.subgroup == OVERALL,
        EvaluationInputError,
        warnings,
    )
    drawn = _curves(y, a, b, probs) if curves else {}
    return ComparisonResult(
        rows=rows,
        names=model_names,
        **sample_fields(clean, scores, ts, level, subgroups),
        roc=drawn.get("roc", {}),
        calibration_curve=drawn.get("calibration_curve", {}),
        decision_curve=drawn.get("decision_curve", {}),
        criteria=as_given(parsed),
        passed=passed,
        warnings=warnings,
        methods=dict(METHODS),
    )
