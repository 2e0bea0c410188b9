"""Threshold metrics and decision curves for a risk score.

A clinical model is used at a threshold: above it, treat (or refer, or test). At a
*pre-specified* threshold the questions are how many events are caught
(sensitivity), how many non-events are spared (specificity) and how trustworthy a
positive or negative call is (PPV, NPV). Each proportion gets a Wilson score
interval (Wilson 1927; ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``),
which keeps its coverage near 95 % for small counts and proportions near 0 or 1,
where the Wald interval fails (Brown, Cai & DasGupta 2001). F1 has no binomial
interval and is reported without one; it is an improper score for risk models and
is offered only because reviewers ask for it.

Net benefit (Vickers & Elkin 2006, Med Decis Making 26:565) weighs true positives
against false positives at the exchange rate implied by the threshold probability
``pt``: ``NB = TP/n - FP/n * pt / (1 - pt)``. The decision curve plots it over a range
of thresholds against *treat all* (``prevalence - (1 - prevalence) * pt / (1 - pt)``)
and *treat none* (0). A case is called positive when its score is >= the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ThresholdMetrics", "decision_curve", "net_benefit", "threshold_metrics"]


@dataclass(frozen=True)
class Proportion:
    """A proportion with its counts and Wilson interval (None when the denominator is 0)."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    numerator: int
    denominator: int


@dataclass(frozen=True)
class ThresholdMetrics:
    """Confusion counts and derived proportions at one threshold (positive if score >= t)."""

    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: Proportion
    specificity: Proportion
    ppv: Proportion
    npv: Proportion
    f1: float | None


def _proportion(k: int, n: int, level: float) -> Proportion:
    if n == 0:
        return Proportion(None, None, None, k, n)
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return Proportion(k / n, float(ci.low), float(ci.high), k, n)


def threshold_metrics(
    y_true: np.ndarray, y_score: np.ndarray, threshold: float, level: float = 0.95
) -> ThresholdMetrics:
    """Sensitivity, specificity, PPV, NPV (Wilson CIs) and F1 at ``threshold``."""
    y = np.asarray(y_true).astype(bool)
    pred = np.asarray(y_score, dtype=float) >= threshold
    tp = int(np.count_nonzero(pred & y))
    fp = int(np.count_nonzero(pred & ~y))
    fn = int(np.count_nonzero(~pred & y))
    tn = int(np.count_nonzero(~pred & ~y))
    f1_den = 2 * tp + fp + fn
    return ThresholdMetrics(
        threshold=float(threshold),
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        sensitivity=_proportion(tp, tp + fn, level),
        specificity=_proportion(tn, tn + fp, level),
        ppv=_proportion(tp, tp + fp, level),
        npv=_proportion(tn, tn + fn, level),
        f1=(2 * tp / f1_den) if f1_den else None,
    )


def net_benefit(y_true: np.ndarray, y_prob: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Net benefit of the model at each threshold probability (Vickers & Elkin 2006).

    Thresholds must lie in (0, 1). Sorting once makes every threshold a binary
    search, so a 99-point curve on a million rows costs one sort.
    """
    y = np.asarray(y_true).astype(bool)
    p = np.asarray(y_prob, dtype=float)
    pt = np.asarray(thresholds, dtype=float)
    n = p.size
    if n == 0:
        return np.full(pt.shape, np.nan)
    order = np.argsort(p, kind="mergesort")
    ps = p[order]
    cum_pos_from_top = np.r_[np.cumsum(y[order][::-1])[::-1], 0]  # events with index >= i
    first = np.searchsorted(ps, pt, side="left")  # first index with p >= pt
    called = n - first
    tp = cum_pos_from_top[first]
    fp = called - tp
    return tp / n - fp / n * pt / (1.0 - pt)


def decision_curve(
    y_true: np.ndarray, y_prob: np.ndarray, thresholds: np.ndarray | None = None
) -> dict[str, list[float]]:
    """Decision curve: net benefit of model, treat-all and treat-none per threshold.

    Default thresholds are 0.01, 0.02, ..., 0.99. Returns plain lists keyed
    ``thresholds``, ``model``, ``treat_all``, ``treat_none``.
    """
    pt = np.round(np.arange(1, 100) / 100.0, 2) if thresholds is None else np.asarray(thresholds)
    y = np.asarray(y_true, dtype=float)
    prev = float(y.mean()) if y.size else float("nan")
    model = net_benefit(y, y_prob, pt)
    treat_all = prev - (1.0 - prev) * pt / (1.0 - pt)
    return {
        "thresholds": [float(t) for t in pt],
        "model": [float(v) for v in model],
        "treat_all": [float(v) for v in treat_all],
        "treat_none": [0.0] * int(pt.size),
    }
