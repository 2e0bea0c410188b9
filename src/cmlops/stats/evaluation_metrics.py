"""One sample's metric rows for :func:`cmlops.stats.evaluation.evaluate`.

``evaluate`` runs :func:`sample_block` on the whole sample and on every subgroup; this
module computes what one sample shows — discrimination (AUROC with DeLong CI, AUPRC),
the probabilities' accuracy and calibration, the curves, and the metrics at each
pre-specified threshold — each row with the method that produced it (:data:`METHODS`,
shown in the Methods table). Deciding what a row can support (events, clipped scores,
degenerate intervals), subgroup gaps and criteria stay in ``evaluation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cmlops.stats._eval_inputs import EvaluationInputError
from cmlops.stats.evaluation_result import MetricRow

__all__ = [
    "METHODS",
    "ROC_MAX_POINTS",
    "checked_thresholds",
    "probabilities",
    "sample_block",
    "thin",
]

ROC_MAX_POINTS = 1001
METHODS = {
    "auroc": "Mann-Whitney AUC; DeLong (1988) variance by midranks (Sun & Xu 2014); Wald CI",
    "auprc": (
        "average precision (sklearn.metrics.average_precision_score); "
        "logit interval with n = events (Boyd, Eng & Page 2013)"
    ),
    "brier": "mean squared error of the probability; normal CI of the mean",
    "scaled_brier": "1 - Brier / (prevalence * (1 - prevalence)); no CI",
    "log_loss": "sklearn.metrics.log_loss; normal CI of the mean per-case loss",
    "calibration_intercept": "logistic, offset logit(p), slope fixed at 1; Wald CI",
    "calibration_slope": "logistic regression of y on logit(p); Wald CI",
    "oe_ratio": "sum(y) / sum(p); Poisson CI on the observed count",
    "prevalence": "events / n; Wilson CI",
    "threshold metrics": "positive if score >= threshold; Wilson CIs; F1 without CI",
    "net_benefit": "Vickers & Elkin 2006: TP/n - FP/n * pt / (1 - pt)",
    "gaps": "max - min over subgroups; Newcombe (1998) hybrid score CI for that pair",
    "calibration_curve": (
        "lowess, tricube, local linear, span 2/3, no robustness iterations; "
        "fitted on a fixed-seed subsample of 200,000 cases above that size"
    ),
}


def thin(x: np.ndarray, max_points: int) -> np.ndarray:
    if x.size <= max_points:
        return np.arange(x.size)
    return np.unique(np.linspace(0, x.size - 1, max_points).round().astype(int))


def _logit_interval(value: float, n: int, z: float) -> tuple[float | None, float | None]:
    """expit(logit(v) +- z / sqrt(n v (1 - v))): the AUPRC interval of Boyd et al. 2013
    (ECML PKDD, "Area under the precision-recall curve: point estimates and confidence
    intervals"), which kept near-nominal coverage where the bootstrap did not."""
    if not 0.0 < value < 1.0 or n == 0:
        return None, None
    from scipy.special import expit, logit

    half = z / np.sqrt(n * value * (1.0 - value))
    return float(expit(logit(value) - half)), float(expit(logit(value) + half))


def _mean_ci(values: np.ndarray, z: float) -> tuple[float, float | None, float | None]:
    m = float(values.mean())
    if values.size < 2:
        return m, None, None
    half = z * float(values.std(ddof=1)) / np.sqrt(values.size)
    return m, m - half, m + half


def probabilities(clean: Any, scores: str) -> np.ndarray | None:
    """The scores as probabilities (``logit`` scores through the logistic function); None
    for ``raw`` scores, whose probability metrics are not defined (noted in the warnings)."""
    from scipy.special import expit

    if scores == "raw":
        clean.warnings.append(
            "scores='raw': calibration, Brier, log loss and net benefit are not defined "
            "for a score that is not a probability and are not reported"
        )
        return None
    return expit(clean.score) if scores == "logit" else clean.score


def checked_thresholds(threshold: Any, thresholds: Any, scores: str) -> list[float]:
    """The decision thresholds, sorted and unique; finite, and in [0, 1] for probabilities."""
    try:
        extra = [] if thresholds is None else np.atleast_1d(np.asarray(thresholds, dtype=float))
        ts = sorted({float(t) for t in [*([] if threshold is None else [threshold]), *extra]})
    except (TypeError, ValueError):
        raise EvaluationInputError(
            f"threshold(s) must be numbers, got {threshold!r} / {thresholds!r}"
        ) from None
    if any(not np.isfinite(t) for t in ts):
        raise EvaluationInputError(f"thresholds must be finite numbers, got {ts}")
    if scores != "raw" and any(not 0.0 <= t <= 1.0 for t in ts):
        raise EvaluationInputError(
            f"thresholds {ts} must lie in [0, 1] for probability scores; use scores='raw' "
            "to threshold an uncalibrated score"
        )
    return ts


def sample_block(
    y: np.ndarray,
    s: np.ndarray,
    prob: np.ndarray | None,
    label: str,
    thresholds: Sequence[float],
    level: float,
    z: float,
    warnings: list[str],
    curves: dict[str, dict[str, Any]] | None,
    dca_thresholds: np.ndarray | None,
) -> list[MetricRow]:
    """Every metric for one sample (the whole set or one subgroup)."""
    from cmlops.stats.decision_curve import _proportion

    n, ev = int(y.size), int(y.sum())
    out = _Rows(label, n, ev)
    if n == 0:
        warnings.append(f"subgroup {label} has no cases; its metrics are undefined")
        out.add("prevalence", None, note="empty subgroup")
        return out.rows
    prev = _proportion(ev, n, level)
    out.add("prevalence", prev.value, prev.ci_low, prev.ci_high, method=METHODS["prevalence"])
    both = 0 < ev < n
    if not both:
        what = "no events" if ev == 0 else "no non-events"
        warnings.append(
            f"{label}: only one class present ({what}); AUROC, AUPRC, scaled Brier and "
            "calibration intercept/slope are undefined and reported as None"
        )
    _discrimination(out, y, s, both, level, z, curves)
    if prob is not None:
        _probability_metrics(out, y, prob, both, (level, z), warnings)
        if curves is not None:
            _probability_curves(curves, label, y, prob, level, dca_thresholds)
    _at_thresholds(out, y, s, prob, thresholds, level)
    return out.rows


_ONE_CLASS = "undefined: only one outcome class"


class _Rows:
    """The metric rows of one sample, each with its label, size and events."""

    def __init__(self, label: str, n: int, events: int) -> None:
        self.label, self.n, self.events = label, n, events
        self.rows: list[MetricRow] = []

    def add(self, metric: str, value: Any, lo: Any = None, hi: Any = None, **kw: Any) -> None:
        self.rows.append(MetricRow(metric, self.label, value, lo, hi, self.n, self.events, **kw))


def _discrimination(
    out: _Rows,
    y: np.ndarray,
    s: np.ndarray,
    both: bool,
    level: float,
    z: float,
    curves: dict[str, dict[str, Any]] | None,
) -> None:
    """AUROC (DeLong CI), AUPRC (logit CI) and the ROC curve; None with one class."""
    from sklearn.metrics import average_precision_score, roc_curve

    from cmlops.stats.delong import auroc_delong

    if not both:
        out.add("auroc", None, note=_ONE_CLASS)
        out.add("auprc", None, note=_ONE_CLASS)
        return
    d = auroc_delong(y, s, level)
    out.add("auroc", d.auc, d.ci_low, d.ci_high, method=METHODS["auroc"], note=f"se={d.se:.6g}")
    ap = float(average_precision_score(y, s))
    alo, ahi = _logit_interval(ap, out.events, z)
    out.add("auprc", ap, alo, ahi, method=METHODS["auprc"])
    if curves is not None:
        fpr, tpr, thr = roc_curve(y, s)
        keep = thin(fpr, ROC_MAX_POINTS)
        curves.setdefault("roc", {})[out.label] = {
            "fpr": fpr[keep].tolist(),
            "tpr": tpr[keep].tolist(),
            "thresholds": [float(t) if np.isfinite(t) else None for t in thr[keep]],
        }


def _probability_metrics(
    out: _Rows,
    y: np.ndarray,
    prob: np.ndarray,
    both: bool,
    level_z: tuple[float, float],
    warnings: list[str],
) -> None:
    """Brier, scaled Brier, log loss, calibration intercept and slope, O/E."""
    from sklearn.metrics import log_loss

    from cmlops.stats import calibration as cal

    level, z = level_z
    b, blo, bhi = _mean_ci((prob - y) ** 2, z)
    out.add("brier", b, blo, bhi, method=METHODS["brier"])
    sb = cal.scaled_brier(y, prob)
    out.add("scaled_brier", sb, method=METHODS["scaled_brier"], note="" if both else _ONE_CLASS)
    eps = float(np.finfo(float).eps)
    pc = np.clip(prob, eps, 1 - eps)
    per_case = -(y * np.log(pc) + (1 - y) * np.log1p(-pc))
    _, llo, lhi = _mean_ci(per_case, z)
    ll = float(log_loss(y, prob, labels=[0, 1]))
    out.add("log_loss", ll, llo, lhi, method=METHODS["log_loss"])
    for name, fit in (
        ("calibration_intercept", cal.calibration_intercept),
        ("calibration_slope", cal.calibration_slope),
    ):
        if not both:
            out.add(name, None, note=_ONE_CLASS)
            continue
        f = fit(y, prob, level)
        note = "" if f.converged else "did not converge (separation?)"
        if note:
            warnings.append(f"{out.label}: {name} fit {note}")
        out.add(name, f.estimate, f.ci_low, f.ci_high, method=METHODS[name], note=note)
    oe, olo, ohi = cal.observed_expected(y, prob, level)
    out.add("oe_ratio", oe, olo, ohi, method=METHODS["oe_ratio"])


def _probability_curves(
    curves: dict[str, dict[str, Any]],
    label: str,
    y: np.ndarray,
    prob: np.ndarray,
    level: float,
    dca_thresholds: np.ndarray | None,
) -> None:
    """The smoothed and binned calibration curves and the decision curve, for the views."""
    from cmlops.stats import calibration as cal
    from cmlops.stats.decision_curve import decision_curve

    grid, smooth = cal.lowess_curve(y, prob)
    curves.setdefault("calibration_curve", {})[label] = {
        "predicted": grid.tolist(),
        "observed": smooth.tolist(),
    }
    curves.setdefault("calibration_bins", {})[label] = cal.binned_calibration(y, prob, level=level)
    curves.setdefault("decision_curve", {})[label] = decision_curve(y, prob, dca_thresholds)


def _at_thresholds(
    out: _Rows,
    y: np.ndarray,
    s: np.ndarray,
    prob: np.ndarray | None,
    thresholds: Sequence[float],
    level: float,
) -> None:
    """Sensitivity, specificity, PPV, NPV (Wilson CIs), F1 and net benefit per threshold."""
    from cmlops.stats.decision_curve import net_benefit, threshold_metrics

    nb_at: dict[float, float] = {}
    if prob is not None:
        inner = [t for t in thresholds if 0.0 < t < 1.0]
        nb_at = dict(zip(inner, net_benefit(y, prob, np.asarray(inner)).tolist(), strict=True))
    for t in thresholds:
        tm = threshold_metrics(y, s if prob is None else prob, t, level)
        for name in ("sensitivity", "specificity", "ppv", "npv"):
            p = getattr(tm, name)
            note = "" if p.denominator else "undefined: zero denominator"
            out.add(name, p.value, p.ci_low, p.ci_high, threshold=t, note=note,
                    method=f"{p.numerator}/{p.denominator}; Wilson CI")  # fmt: skip
        out.add("f1", tm.f1, threshold=t, method=f"tp={tm.tp} fp={tm.fp} fn={tm.fn}; no CI")
        if t in nb_at:
            out.add("net_benefit", nb_at[t], threshold=t, method=METHODS["net_benefit"])
