"""Calibration of predicted probabilities: how far predicted risk is from observed risk.

Discrimination (AUROC) says whether cases are ranked right; calibration says
whether a predicted 20 % risk means 20 % of such patients have the event, which is
what a clinician acting on the number needs (Van Calster et al. 2019, BMC Medicine
17:230, "Calibration: the Achilles heel of predictive analytics"). Functions here:

- :func:`brier` and :func:`scaled_brier` - mean squared error of the probability
  and its improvement over always predicting the prevalence;
- :func:`calibration_intercept` - calibration-in-the-large: the intercept ``a`` of
  ``logit P(y=1) = a + 1 * logit(p)`` (slope fixed at 1 through an offset); 0 is ideal,
  > 0 means risks are underestimated;
- :func:`calibration_slope` - the slope ``b`` of ``logit P(y=1) = a + b * logit(p)``;
  1 is ideal, < 1 means predictions are too extreme (overfitting);
- :func:`observed_expected` - O/E ratio of the event count to the sum of predicted
  risks, with a Poisson interval on O;
- :func:`lowess_curve` and :func:`binned_calibration` - the smoothed and the grouped
  calibration curve for plotting.

Logistic fits are unpenalised maximum likelihood by Newton-Raphson, with Wald
intervals from the observed information (the inverse Hessian at the optimum): the
same numbers as an unpenalised logistic regression in R ``glm`` or statsmodels,
without depending on statsmodels. Probabilities of exactly 0 or 1 are clipped to
``[EPS, 1 - EPS]`` before the logit, otherwise the logit is infinite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "EPS",
    "LogisticFit",
    "binned_calibration",
    "brier",
    "calibration_intercept",
    "calibration_slope",
    "logit",
    "lowess_curve",
    "observed_expected",
    "scaled_brier",
]

#: probabilities are clipped to [EPS, 1 - EPS] before taking the logit
EPS = 1e-12


@dataclass(frozen=True)
class LogisticFit:
    """One calibration coefficient with its Wald standard error and interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    converged: bool
    iterations: int


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product without BLAS: on a busy machine threaded BLAS ``dot`` was 20x slower."""
    return float(np.einsum("i,i->", a, b))


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2.0))


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) after clipping p to [EPS, 1 - EPS]."""
    p = np.clip(np.asarray(p, dtype=float), EPS, 1.0 - EPS)
    return np.log(p) - np.log1p(-p)


def brier(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Brier score: mean of (p - y)^2. 0 is perfect; equals sklearn's brier_score_loss."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_prob, dtype=float)
    return float(np.mean((p - y) ** 2))


def scaled_brier(y_true: np.ndarray, y_prob: np.ndarray) -> float | None:
    """1 - Brier / Brier_null, where Brier_null = prevalence * (1 - prevalence).

    Brier_null is the score of predicting the observed prevalence for everyone, so
    the scaled score reads like an R^2: 0 is no better than the prevalence, 1 is
    perfect, negative is worse than useless. None when only one class is present
    (Brier_null is 0 and the ratio is undefined).
    """
    y = np.asarray(y_true, dtype=float)
    prev = float(y.mean())
    null = prev * (1.0 - prev)
    if null == 0.0:
        return None
    return 1.0 - brier(y, y_prob) / null


def _newton_logistic(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray, max_iter: int = 100, tol: float = 1e-9
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Unpenalised logistic MLE of y on design x with an offset; returns (beta, cov, ok, it).

    Newton-Raphson with step halving when the log-likelihood does not increase:
    logistic log-likelihood is concave, so this converges from zero unless the data
    are separated (then ``ok`` is False and the estimate is the last iterate).
    """
    from scipy.special import expit, log_expit

    def loglik(b: np.ndarray) -> float:
        eta = offset + np.einsum("ij,j->i", x, b)
        return float(np.sum(y * log_expit(eta) + (1.0 - y) * log_expit(-eta)))

    beta = np.zeros(x.shape[1])
    ll = loglik(beta)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        mu = expit(offset + np.einsum("ij,j->i", x, beta))
        grad = np.einsum("ij,i->j", x, y - mu)
        hess = np.einsum("ij,ik->jk", x * (mu * (1.0 - mu))[:, None], x)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while True:
            cand = beta + t * step
            ll_new = loglik(cand)
            if ll_new >= ll - 1e-12 or t < 1e-8:
                break
            t /= 2.0
        beta, ll = cand, ll_new
        # converged only when the estimate stops moving: under separation the
        # log-likelihood flattens while the estimate keeps growing without bound
        if np.max(np.abs(t * step)) < tol * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
    mu = expit(offset + np.einsum("ij,j->i", x, beta))
    hess = np.einsum("ij,ik->jk", x * (mu * (1.0 - mu))[:, None], x)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.full((x.shape[1], x.shape[1]), np.nan)
    return beta, cov, converged, it


def _fit_to_result(est: float, var: float, level: float, ok: bool, it: int) -> LogisticFit:
    se = float(np.sqrt(var)) if np.isfinite(var) and var >= 0 else float("nan")
    z = _z(level)
    return LogisticFit(float(est), se, float(est - z * se), float(est + z * se), ok, it)


def calibration_intercept(
    y_true: np.ndarray, y_prob: np.ndarray, level: float = 0.95
) -> LogisticFit:
    """Calibration-in-the-large: intercept of logit P(y=1) = a + offset(logit p).

    The slope is fixed at 1 so that ``a`` measures only the overall shift
    (Steyerberg, Clinical Prediction Models, 2nd ed., ch. 15). Needs both classes.
    """
    y = np.asarray(y_true, dtype=float)
    lp = logit(y_prob)
    beta, cov, ok, it = _newton_logistic(np.ones((y.size, 1)), y, lp)
    return _fit_to_result(beta[0], cov[0, 0], level, ok, it)


def calibration_slope(y_true: np.ndarray, y_prob: np.ndarray, level: float = 0.95) -> LogisticFit:
    """Calibration slope: b in logit P(y=1) = a + b * logit(p) (Cox 1958). Needs both classes."""
    y = np.asarray(y_true, dtype=float)
    lp = logit(y_prob)
    x = np.column_stack([np.ones(y.size), lp])
    beta, cov, ok, it = _newton_logistic(x, y, np.zeros(y.size))
    return _fit_to_result(beta[1], cov[1, 1], level, ok, it)


def observed_expected(
    y_true: np.ndarray, y_prob: np.ndarray, level: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """O/E ratio = events / sum of predicted risks, with a Poisson interval.

    The interval treats the observed count O as Poisson: ``O/E * exp(+-z / sqrt(O))``
    (Debray et al. 2017, BMJ 356:i6460, appendix). Returns (None, None, None) when E
    is 0, and no interval when O is 0.
    """
    o = float(np.sum(np.asarray(y_true, dtype=float)))
    e = float(np.sum(np.asarray(y_prob, dtype=float)))
    if e <= 0.0:
        return None, None, None
    ratio = o / e
    if o == 0.0:
        return ratio, None, None
    z = _z(level)
    half = z / np.sqrt(o)
    return ratio, float(ratio * np.exp(-half)), float(ratio * np.exp(half))


def _nearest_window(ps: np.ndarray, x0: float, k: int) -> int:
    """Start of the k consecutive sorted values nearest to x0 (they are contiguous)."""
    lo, hi = 0, ps.size - k  # answer in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        # move right while the element leaving on the left is farther than the one entering
        if x0 - ps[mid] > ps[mid + k] - x0:
            lo = mid + 1
        else:
            hi = mid
    return lo


def lowess_curve(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    frac: float = 2.0 / 3.0,
    grid_size: int = 101,
    max_points: int = 200_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed calibration curve: local linear regression of y on p (lowess, no robustness).

    At each of ``grid_size`` points spread over the observed range of p, the nearest
    ``frac * n`` predictions are weighted by the tricube of their distance and a
    weighted least-squares line is fitted (Cleveland 1979). Robustness iterations are
    off (``iter = 0``) because y is 0/1 and every event is informative - the choice of
    ``rms::val.prob`` and of Austin & Steyerberg (2014, Stat Med 33:517). Evaluating
    on a grid instead of at every point, with the neighbourhood found by binary search
    in the sorted predictions, keeps it one sort plus O(grid_size * frac * n). The observed
    values are clipped to [0, 1]. Above ``max_points`` cases the curve is fitted on a
    fixed-seed random subsample of that size: the curve is a picture, its sampling
    error there is far below the line width, and the calibration *metrics* always use
    every case. Returns (grid, smoothed observed risk).
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_prob, dtype=float)
    if p.size > max_points:
        pick = np.random.default_rng(0).choice(p.size, max_points, replace=False)
        y, p = y[pick], p[pick]
    n = p.size
    if n == 0:
        return np.empty(0), np.empty(0)
    order = np.argsort(p, kind="mergesort")
    ps, ys = p[order], y[order]
    lo, hi = float(ps[0]), float(ps[-1])
    grid = np.linspace(lo, hi, grid_size) if hi > lo else np.array([lo])
    k = max(2, min(n, int(np.ceil(frac * n))))
    out = np.empty(grid.size)
    for i, x0 in enumerate(grid):
        start = _nearest_window(ps, float(x0), k)
        xi, yi = ps[start : start + k], ys[start : start + k]
        d = np.abs(xi - x0)
        h = float(d.max())
        if h == 0.0:
            out[i] = float(yi.mean())
            continue
        u = d / h
        w = 1.0 - u * u * u
        w = w * w * w  # tricube
        sw = float(w.sum())
        if sw <= 0.0:  # every neighbour sits at the window's edge (e.g. scores only 0 and 1)
            out[i] = float(yi[d == d.min()].mean())
            continue
        xm = _dot(w, xi) / sw
        ym = _dot(w, yi) / sw
        xc = xi - xm
        sxx = _dot(w, xc * xc)
        slope = _dot(w * xc, yi - ym) / sxx if sxx > 0 else 0.0
        out[i] = ym + slope * (x0 - xm)
    return grid, np.clip(out, 0.0, 1.0)


def binned_calibration(
    y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = 10, level: float = 0.95
) -> dict[str, list]:
    """Grouped calibration: observed event rate per quantile bin of predicted risk.

    Bins are deciles of p by default (ties kept together, so there may be fewer bins);
    each has its mean predicted risk, observed rate, n, events and a Wilson interval.
    """
    from scipy.stats import binomtest

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_prob, dtype=float)
    out: dict[str, list] = {k: [] for k in ("predicted", "observed", "ci_low", "ci_high", "n")}
    out["events"] = []
    if p.size == 0:
        return out
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(edges.size - 2, 0))
    for b in np.unique(which):
        m = which == b
        nb = int(m.sum())
        ev = int(y[m].sum())
        ci = binomtest(ev, nb).proportion_ci(confidence_level=level, method="wilson")
        out["predicted"].append(float(p[m].mean()))
        out["observed"].append(ev / nb)
        out["ci_low"].append(float(ci.low))
        out["ci_high"].append(float(ci.high))
        out["n"].append(nb)
        out["events"].append(ev)
    return out
