"""Numeric drift statistics from quantile sketches, each with the error bound it carries.

A KLL sketch (Apache DataSketches) of n values keeps a few thousand of them with
weights; its empirical CDF F̂ is within ε of the true CDF F at every point with 99 %
confidence, where ε is the sketch's *normalised rank error* (about 0.0007 for
k = 4096; :func:`rank_error`). Everything here follows from that one guarantee:

- **Kolmogorov–Smirnov** D = sup |F_r − F_c|: evaluated on the two step CDFs at
  every retained value (where the sup of two step functions is attained), so
  |D̂ − D| ≤ ε_r + ε_c (the "±2ε" of a symmetric pair).
- **Wasserstein-1** W = ∫ |F_r − F_c| dx: the same integral over the step CDFs,
  which is ``scipy.stats.wasserstein_distance`` of the weighted retained values;
  since |F_r − F_c| is within ε_r + ε_c of |F̂_r − F̂_c| at every x and both CDFs
  are exactly 0 below and 1 above the exact minimum and maximum, W lies in
  [∫ max(0, |Δ̂| − b) dx, ∫ min(1, |Δ̂| + b) dx] with b = ε_r + ε_c.
- **PSI and Jensen–Shannon** on bins at the sketch's reference quantiles: each
  bin's share is within the double-sided ("PMF") rank error of its true share;
  both statistics are sums of per-bin terms that are jointly convex in (p, q),
  zero on p = q and monotone away from it, so each term's range over the box
  [p ± δ_r] × [q ± δ_c] is found at its corners (0 when the box meets p = q).

The bounds are therefore probabilistic (the sketch's 99 % confidence per sketch),
and exact (zero) when a sketch kept every value (``Distribution.exact``).
A pandas side is represented exactly (every value, weight 1, ε = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cmlops.stats import _drift_numeric as num

__all__ = [
    "Distribution",
    "Interval",
    "binned_shares",
    "ks_from_sketches",
    "psi_interval",
    "rank_error",
    "wasserstein_from_sketches",
]


def rank_error(k: int, pmf: bool = False) -> float:
    """DataSketches' normalised rank error of a KLL sketch with parameter k (99 % confidence).

    The same formula as ``kll_sketch.get_normalized_rank_error`` (an empirical fit
    by the DataSketches authors): single-sided for rank/CDF queries, double-sided
    (``pmf=True``) for the mass between two points.
    """
    if pmf:
        return 2.446 / math.pow(k, 0.9433)
    return 2.296 / math.pow(k, 0.9723)


@dataclass(frozen=True)
class Interval:
    """A statistic's estimate and the interval that holds its exact value."""

    estimate: float
    low: float
    high: float

    @property
    def bound(self) -> float:
        """Half-width that covers the interval on both sides of the estimate."""
        return max(self.estimate - self.low, self.high - self.estimate, 0.0)

    def scaled(self, factor: float) -> Interval:
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)


@dataclass(frozen=True)
class Distribution:
    """A sample as a weighted step CDF: sorted distinct values, their weights, rank errors.

    ``eps``/``eps_pmf`` are 0 and ``exact`` True when every value is represented.
    ``minimum``/``maximum`` are exact in both cases (KLL keeps them).
    """

    values: np.ndarray
    weights: np.ndarray
    eps: float
    eps_pmf: float
    exact: bool

    @property
    def n(self) -> float:
        return float(self.weights.sum())

    @property
    def minimum(self) -> float:
        return float(self.values[0])

    @property
    def maximum(self) -> float:
        return float(self.values[-1])

    @classmethod
    def from_sorted(cls, sorted_values: np.ndarray) -> Distribution:
        """Every value of a sorted finite sample: an exact distribution."""
        values, counts = _runs(sorted_values)
        return cls(values, counts.astype(np.float64), 0.0, 0.0, True)

    @classmethod
    def from_kll(cls, blob: bytes) -> Distribution:
        """A serialised DataSketches ``KllDoublesSketch`` (Spark's ``kll_sketch_agg_double``)."""
        from datasketches import kll_doubles_sketch

        sketch = kll_doubles_sketch.deserialize(bytes(blob))
        # the values come from the sketch's items, the weights from its own CDF at each of
        # them: the item iterator's weights are wrong for sketches merged by Spark's JVM
        values = np.fromiter((item for item, _ in sketch), dtype=np.float64)
        if values.size:  # the exact extremes (KLL tracks them) bound the support
            values = np.unique(np.append(values, [sketch.get_min_value(), sketch.get_max_value()]))
            cdf = np.asarray(sketch.get_cdf(values.tolist(), True), dtype=np.float64)[:-1]
            summed = np.diff(np.concatenate(([0.0], cdf))) * float(sketch.n)
        else:
            summed = np.zeros(0)
        exact = not sketch.is_estimation_mode()
        if exact:  # every value kept with weight 1: counts are integers
            summed = np.rint(summed)
        eps = 0.0 if exact else float(sketch.normalized_rank_error(False))
        eps_pmf = 0.0 if exact else float(sketch.normalized_rank_error(True))
        return cls(values, summed, eps, eps_pmf, exact)

    def expanded(self) -> np.ndarray:
        """Every value repeated by its weight (only meaningful when ``exact``)."""
        return np.repeat(self.values, np.rint(self.weights).astype(np.int64))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Share of the sample at or below each x (right-continuous step CDF)."""
        cum = np.cumsum(self.weights)
        idx = np.searchsorted(self.values, np.asarray(x, dtype=np.float64), side="right")
        below = np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0)
        return below / cum[-1]

    def quantiles(self, q: np.ndarray) -> np.ndarray:
        """The smallest value whose CDF reaches each q (DataSketches' inclusive quantile)."""
        cum = np.cumsum(self.weights) / self.weights.sum()
        idx = np.searchsorted(cum, np.asarray(q, dtype=np.float64) - 1e-12, side="left")
        return self.values[np.minimum(idx, self.values.size - 1)]

    def mean_std(self) -> tuple[float, float | None]:
        """Weighted mean and sample SD (ddof=1) of the represented values."""
        w = self.weights
        mean = float(np.dot(w, self.values) / w.sum())
        if w.sum() <= 1:
            return mean, None
        var = float(np.dot(w, (self.values - mean) ** 2) / (w.sum() - 1))
        return mean, math.sqrt(var)


def _runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if sorted_values.size == 0:
        return sorted_values.astype(np.float64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))
    counts = np.diff(np.append(starts, sorted_values.size))
    return sorted_values[starts].astype(np.float64), counts


def _grid(a: Distribution, b: Distribution) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = np.union1d(a.values, b.values)
    return z, a.cdf(z), b.cdf(z)


def ks_from_sketches(a: Distribution, b: Distribution) -> Interval:
    """Two-sided KS statistic of two step CDFs, within ±(ε_a + ε_b) of the exact one."""
    _, fa, fb = _grid(a, b)
    d = float(np.abs(fa - fb).max())
    bound = a.eps + b.eps
    return Interval(d, max(0.0, d - bound), min(1.0, d + bound))


def wasserstein_from_sketches(a: Distribution, b: Distribution) -> Interval:
    """First Wasserstein distance of two step CDFs and the interval holding the exact one."""
    z, fa, fb = _grid(a, b)
    if z.size < 2:
        return Interval(0.0, 0.0, 0.0)
    gap = np.abs(fa[:-1] - fb[:-1])
    dz = np.diff(z)
    bound = a.eps + b.eps
    w = float(np.dot(gap, dz))
    low = float(np.dot(np.maximum(gap - bound, 0.0), dz))
    high = float(np.dot(np.minimum(gap + bound, 1.0), dz))
    return Interval(w, low, high)


def binned_shares(ref: Distribution, cur: Distribution, n_bins: int):
    """Inner edges at the reference's quantiles and both samples' shares in the bins.

    Bins are right-closed, the outer ones open, as in the exact path
    (:func:`cmlops.stats._drift_numeric.quantile_edges`); the edges are the
    sketch's quantiles, so they are recorded with the result.
    """
    edges = np.unique(ref.quantiles(np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))

    def shares(d: Distribution) -> np.ndarray:
        c = np.concatenate(([0.0], d.cdf(edges), [1.0]))
        return np.clip(np.diff(c), 0.0, 1.0)

    return edges, shares(ref), shares(cur)


def _term_psi(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (q - p) * np.log(q / p)


def _term_js(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / m), 0.0)
        b = np.where(q > 0, q * np.log(q / m), 0.0)
    return (a + b) / 2.0


def _box_range(term, p, q, dp, dq, floor):
    """Per-bin [min, max] of a convex, diagonal-zero term over [p ± dp] × [q ± dq]."""
    p_lo, p_hi = np.clip(p - dp, floor, 1.0), np.clip(p + dp, floor, 1.0)
    q_lo, q_hi = np.clip(q - dq, floor, 1.0), np.clip(q + dq, floor, 1.0)
    high = np.maximum(term(p_lo, q_hi), term(p_hi, q_lo))
    meets = (q_hi >= p_lo) & (q_lo <= p_hi)
    low_above = term(p_hi, q_lo)  # box above the diagonal (q > p): nearest corner
    low_below = term(p_lo, q_hi)  # box below it
    low = np.where(meets, 0.0, np.where(q_lo > p_hi, low_above, low_below))
    return np.maximum(low, 0.0), high


def psi_interval(p, q, dp: float, dq: float, epsilon: float) -> Interval:
    """PSI (empty shares set to ``epsilon``, as the exact path) and its interval."""
    p_e = np.where(p == 0, epsilon, p)
    q_e = np.where(q == 0, epsilon, q)
    est = float(np.sum(_term_psi(p_e, q_e)))
    if dp == 0 and dq == 0:
        return Interval(est, est, est)
    low, high = _box_range(_term_psi, p_e, q_e, dp, dq, epsilon)
    return Interval(est, min(est, float(low.sum())), max(est, float(high.sum())))


def js_interval(p, q, dp: float, dq: float) -> Interval:
    """Jensen–Shannon distance (natural log) of two share vectors and its interval."""
    est = num.jensen_shannon(p, q)
    if dp == 0 and dq == 0:
        return Interval(est, est, est)
    low, high = _box_range(_term_js, p, q, dp, dq, 0.0)
    lo = math.sqrt(max(float(low.sum()), 0.0))
    hi = math.sqrt(max(float(high.sum()), 0.0))
    return Interval(est, min(est, lo), max(est, hi))
