"""Numeric two-sample statistics computed from sorted samples.

Why sorted samples: an exact Kolmogorov–Smirnov statistic needs the two
empirical CDFs at every observed value, and so does the Wasserstein distance.
Sorting each sample once (NumPy's sort releases the GIL and is vectorised)
gives both statistics — each sample's ECDF is its positions, the other's one
``searchsorted`` — the reference quantiles for PSI bins and the bin counts, in
a few linear passes and without a merged copy of both samples. Each statistic
is checked against its SciPy reference in the tests: ``ks_2samp`` (statistic
and p-value, bit for bit in the statistic), ``wasserstein_distance``,
``jensenshannon`` and ``anderson_ksamp``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from cmlops.stats._drift_ks import ks_statistic
from cmlops.stats._ks_pvalue import ks_pvalue

#: SciPy's ``ks_2samp(method="auto")`` is exact when both samples have at most this many values.
KS_EXACT_MAX_N = 10_000
#: number of reference-quantile bins used by PSI and Jensen–Shannon on numeric columns.
N_BINS = 10
#: equal-width bins of the display histogram kept in each numeric column's details.
HIST_BINS = 30
#: proportion put in empty bins before taking logarithms in PSI (as in Evidently).
PSI_EPSILON = 1e-4


def ks_test(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, str, list[str]]:
    """Two-sided KS test with SciPy's ``method="auto"`` semantics.

    Returns (statistic, p, method, warnings). Up to ``KS_EXACT_MAX_N`` values per
    sample SciPy computes the exact distribution; that is cheap at this size, so
    we call ``ks_2samp`` itself. Above it SciPy uses
    ``kstwo.sf(d, round(n1*n2/(n1+n2)))``; we compute the same statistic from the
    merged sample and call the same distribution function on it.
    """
    from scipy import stats

    n1, n2 = ref.size, cur.size
    if max(n1, n2) <= KS_EXACT_MAX_N:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = stats.ks_2samp(ref, cur, method="auto")
        notes = [f"ks_2samp: {w.message}" for w in caught]
        method = "asymp" if any("Switching" in n for n in notes) else "exact"
        return float(res.statistic), float(res.pvalue), method, notes
    d = ks_statistic(ref, cur)
    return d, ks_pvalue(d, n1, n2), "asymp", []


def wasserstein(ref: np.ndarray, cur: np.ndarray, block: int = 1 << 18) -> float:
    """First Wasserstein distance of two sorted samples, as ``scipy.stats.wasserstein_distance``.

    Computed as the integral of the distance between the two quantile functions,
    which are step functions with steps at i/n1 and j/n2: with equal sizes it is
    the mean absolute difference of the sorted samples; otherwise the steps are
    merged on the integer grid i*n2, j*n1 (no search in the data needed), one
    window of about ``block`` steps at a time so the temporary memory stays small.
    """
    n1, n2 = ref.size, cur.size
    if n1 == n2:
        d = ref - cur
        np.abs(d, out=d)
        return float(d.mean())
    total, width = n1 * n2, max(1, (n1 * n2 * block) // (n1 + n2))
    area, last = 0.0, 0
    for low in range(0, total, width):
        high = min(low + width, total)
        grid = np.concatenate(  # the steps in (low, high]
            (
                np.arange(low // n2 + 1, high // n2 + 1, dtype=np.int64) * n2,
                np.arange(low // n1 + 1, high // n1 + 1, dtype=np.int64) * n1,
            )
        )
        if not grid.size:
            continue
        grid.sort()
        widths = np.diff(grid, prepend=last)
        last = int(grid[-1])
        gaps = np.abs(ref[-(-grid // n2) - 1] - cur[-(-grid // n1) - 1])  # ceil(t*n) - 1
        area += float((widths * gaps).sum())
    return area / total


def quantile_edges(ref_sorted: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Inner bin edges at the reference quantiles (linear interpolation), de-duplicated.

    The outer bins are open (-inf, e1] ... (ek, inf) so that every current value
    falls in a bin. Ties in the reference can merge quantiles, giving fewer bins.
    """
    qs = sorted_quantiles(ref_sorted, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
    return np.unique(qs)


def sorted_quantiles(sorted_values: np.ndarray, q) -> np.ndarray:
    """``np.quantile(x, q)`` (linear method) of an already sorted sample, in O(len(q))."""
    q = np.asarray(q, dtype=np.float64)
    h = (sorted_values.size - 1) * q
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, sorted_values.size - 1)
    frac = h - lo
    a, b = sorted_values[lo], sorted_values[hi]
    return a + frac * (b - a)


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in bins (-inf, e1], (e1, e2], ..., (ek, inf) from a sorted sample."""
    cuts = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(np.concatenate(([0], cuts, [sorted_values.size])))


def psi(p_ref: np.ndarray, p_cur: np.ndarray, eps: float = PSI_EPSILON) -> float:
    """Population stability index sum((q - p) * ln(q / p)), empty bins set to ``eps``."""
    p = np.where(p_ref == 0, eps, p_ref)
    q = np.where(p_cur == 0, eps, p_cur)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """Jensen–Shannon distance (natural logarithm), equal to ``scipy...jensenshannon``."""
    m = (p_ref + p_cur) / 2.0

    def _kl(a: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / m[mask])))

    js = (_kl(p_ref) + _kl(p_cur)) / 2.0
    return math.sqrt(max(js, 0.0))


def anderson(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, list[str]]:
    """k-sample Anderson–Darling via SciPy (midrank variant), with its warnings kept.

    SciPy interpolates p-values from a table and floors them at 0.001 and caps
    them at 0.25; the warning saying so is recorded rather than lost.
    """
    from scipy import stats

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = stats.anderson_ksamp([ref, cur], variant="midrank")
        except TypeError:  # SciPy < 1.17: no ``variant``; midrank is the default there
            res = stats.anderson_ksamp([ref, cur])
    notes = [f"anderson_ksamp: {w.message}" for w in caught]
    return float(res.statistic), float(res.pvalue), notes


def _integer_valued(*samples: np.ndarray, block: int = 1 << 16) -> bool:
    """All values whole numbers; block by block, so continuous data stops at the first block."""
    for x in samples:
        for start in range(0, x.size, block):
            part = x[start : start + block]
            if not np.array_equal(np.floor(part), part):
                return False
    return True


def histogram_edges(lo: float, hi: float, bins: int, integers: bool) -> np.ndarray:
    """Equal-width edges over [lo, hi]; for integer data, edges halfway between integers
    and an integer width, so every bin holds the same number of possible values
    (non-integer edges over ages or counts draw a comb of empty and double bins)."""
    if integers:
        width = max(1, int(np.ceil((hi - lo + 1) / bins)))
        n = int(np.ceil((hi - lo + 1) / width))
        return lo - 0.5 + width * np.arange(n + 1, dtype=float)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, bins + 1)


def shared_histogram(ref: np.ndarray, cur: np.ndarray, bins: int = HIST_BINS) -> dict:
    """Counts of both sorted samples in equal-width bins over their joint range.

    For display only (the widgets draw overlaid histograms from it); computed by
    binary search on the sorted samples, so it costs O(bins log n) plus one pass
    to tell integer data, which is binned on integers.
    """
    lo, hi = float(min(ref[0], cur[0])), float(max(ref[-1], cur[-1]))
    integers = _integer_valued(ref, cur)
    edges = histogram_edges(lo, hi, bins, integers)

    def counts(s: np.ndarray) -> list[int]:
        cuts = np.searchsorted(s, edges[:-1], side="left")
        return np.diff(np.append(cuts, s.size)).tolist()  # last bin closed, as np.histogram

    return {
        "edges": edges.tolist(),
        "reference": counts(ref),
        "current": counts(cur),
        "integers": integers,
    }


def _mean_std(x: np.ndarray) -> tuple[float, float | None]:
    """Mean and sample standard deviation (ddof=1).

    Plain NumPy reductions on purpose: ``np.dot`` would be one pass fewer but goes
    through multi-threaded BLAS, which on a busy machine is slower by 100x.
    """
    return float(x.mean()), (float(x.std(ddof=1)) if x.size > 1 else None)


def summary(sorted_values: np.ndarray, n_total: int, n_missing: int, n_inf: int) -> dict:
    """n, missing share, mean, std and quartiles of a sorted finite sample."""
    out: dict = {
        "n": int(n_total),
        "n_missing": int(n_missing),
        "missing_share": (n_missing / n_total) if n_total else None,
        "n_infinite": int(n_inf),
    }
    if sorted_values.size:
        q = sorted_quantiles(sorted_values, [0.0, 0.25, 0.5, 0.75, 1.0])
        mean, std = _mean_std(sorted_values)
        out.update(
            mean=mean,
            std=std,
            min=float(q[0]),
            q25=float(q[1]),
            median=float(q[2]),
            q75=float(q[3]),
            max=float(q[4]),
        )
    return out
