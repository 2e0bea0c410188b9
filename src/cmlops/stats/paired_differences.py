"""Differences between two models scored on the same cases, with paired intervals.

Scores of two models on the same patients are correlated, so their metrics cannot
be compared as if from two samples. Two exact paired methods cover every metric
:func:`cmlops.compare` reports besides the AUROC (paired DeLong, in
:mod:`cmlops.stats.delong`):

- **a mean of per-case values** (the Brier score is the mean of ``(p - y)^2``, net
  benefit the mean of per-case utilities ``y·1[p>=t] - (1-y)·1[p>=t]·t/(1-t)``): the
  difference is the mean of the paired per-case differences, tested with the
  paired t-test (``scipy.stats.ttest_rel``, its t interval);
- **a recalibration fit** (calibration intercept and slope, each an unpenalised
  logistic regression per model): both models' fits are stacked into one
  M-estimator whose covariance is the sandwich ``A^-1 B A^-1`` (A the block-diagonal
  information of the two fits, B the outer products of the per-case score vectors of
  both fits together — what makes the covariance paired; Stefanski & Boos 2002, The
  American Statistician 56:29). Wald z-test and interval of the difference. This is
  the cluster-robust (HC0) covariance of the stacked logistic model, clustered by
  case — R ``sandwich::vcovCL(type = "HC0", cadjust = FALSE)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmlops.stats.calibration import _newton_logistic, logit

__all__ = [
    "PairedDifference",
    "net_benefit_utilities",
    "paired_calibration_difference",
    "paired_mean_difference",
]

#: what a calibration difference compares: the intercept (slope fixed at 1) or the slope
CALIBRATION_PARAMETERS = ("intercept", "slope")


@dataclass(frozen=True)
class PairedDifference:
    """``value_a - value_b`` with its interval and two-sided p-value (None if undefined)."""

    value_a: float | None
    value_b: float | None
    difference: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    statistic: float | None = None
    note: str = ""


def paired_mean_difference(
    values_a: np.ndarray, values_b: np.ndarray, level: float = 0.95
) -> PairedDifference:
    """Mean of ``values_a`` minus mean of ``values_b`` (same cases): paired t-test and interval.

    Equal to ``scipy.stats.ttest_rel(values_a, values_b)`` and its
    ``confidence_interval(level)``. Fewer than two cases, or differences that are all
    equal (no variance), leave the interval and p-value undefined, with a note.
    """
    from scipy.stats import ttest_rel

    a = np.asarray(values_a, dtype=float)
    b = np.asarray(values_b, dtype=float)
    mean_a, mean_b = float(a.mean()), float(b.mean())
    d = a - b
    diff = float(d.mean())
    if d.size < 2:
        return PairedDifference(mean_a, mean_b, diff, note="fewer than two cases")
    if np.all(d == d[0]):
        note = "no variance: the per-case differences are all equal"
        return PairedDifference(mean_a, mean_b, diff, note=note)
    res = ttest_rel(a, b)
    ci = res.confidence_interval(confidence_level=level)
    return PairedDifference(
        mean_a,
        mean_b,
        diff,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=float(res.pvalue),
        statistic=float(res.statistic),
        note=f"df={int(res.df)}",
    )


def net_benefit_utilities(y_true: np.ndarray, y_prob: np.ndarray, threshold: float) -> np.ndarray:
    """Per-case utility whose mean is the net benefit at ``threshold`` (Vickers & Elkin 2006).

    A case is treated when ``p >= threshold``: +1 for a treated event, ``-t/(1-t)`` for
    a treated non-event, 0 otherwise. ``threshold`` must lie in (0, 1).
    """
    y = np.asarray(y_true, dtype=float)
    treated = np.asarray(y_prob, dtype=float) >= threshold
    return treated * (y - (1.0 - y) * threshold / (1.0 - threshold))


def _recalibration(y: np.ndarray, lp: np.ndarray, parameter: str):
    """One model's fit: (estimates, inverse information, per-case scores, converged)."""
    from scipy.special import expit

    if parameter == "slope":
        x = np.column_stack([np.ones(y.size), lp])
        offset = np.zeros(y.size)
    else:
        x = np.ones((y.size, 1))
        offset = lp
    beta, cov, converged, _ = _newton_logistic(x, y, offset)
    mu = expit(offset + np.einsum("ij,j->i", x, beta))
    return beta, cov, x * (y - mu)[:, None], converged


def paired_calibration_difference(
    y_true: np.ndarray,
    prob_a: np.ndarray,
    prob_b: np.ndarray,
    parameter: str,
    level: float = 0.95,
) -> PairedDifference:
    """Calibration intercept or slope of model a minus model b, with a paired sandwich CI.

    ``parameter`` is ``"intercept"`` (calibration-in-the-large: ``a`` in logit P(y) =
    a + offset(logit p)) or ``"slope"`` (``b`` in logit P(y) = a + b logit p), each
    estimate equal to :func:`cmlops.stats.calibration.calibration_intercept` /
    ``calibration_slope``. Needs both outcome classes; a fit that does not converge
    (separation) leaves the interval undefined, with a note.
    """
    from scipy.stats import norm

    if parameter not in CALIBRATION_PARAMETERS:
        raise ValueError(f"parameter must be one of {CALIBRATION_PARAMETERS}, got {parameter!r}")
    y = np.asarray(y_true, dtype=float)
    fit_a = _recalibration(y, logit(prob_a), parameter)
    fit_b = _recalibration(y, logit(prob_b), parameter)
    j = 1 if parameter == "slope" else 0
    k = fit_a[0].size
    est_a, est_b = float(fit_a[0][j]), float(fit_b[0][j])
    diff = est_a - est_b
    if not (fit_a[3] and fit_b[3]):
        return PairedDifference(est_a, est_b, diff, note="a fit did not converge (separation?)")
    bread = np.zeros((2 * k, 2 * k))
    bread[:k, :k], bread[k:, k:] = fit_a[1], fit_b[1]
    scores = np.hstack([fit_a[2], fit_b[2]])
    meat = np.einsum("ij,ik->jk", scores, scores)
    cov = bread @ meat @ bread
    contrast = np.zeros(2 * k)
    contrast[j], contrast[k + j] = 1.0, -1.0
    var = float(contrast @ cov @ contrast)
    if not np.isfinite(var) or var <= 0.0:
        return PairedDifference(est_a, est_b, diff, note="no variance (identical fits?)")
    se = float(np.sqrt(var))
    z = diff / se
    half = float(norm.ppf(0.5 + level / 2.0)) * se
    return PairedDifference(
        est_a,
        est_b,
        diff,
        ci_low=diff - half,
        ci_high=diff + half,
        p_value=float(2.0 * norm.sf(abs(z))),
        statistic=z,
        note=f"se={se:.6g}",
    )
