"""Categorical two-sample statistics on integer category codes.

Why counts: counting Python string objects with ``np.unique`` is what makes
some drift tools slow (see docs/statistics-drift.md). Each sample is counted
once (``value_counts`` or ``factorize`` + ``bincount``) and the two count
vectors are aligned on the union of categories; every statistic works on them.
Checked against SciPy: ``chi2_contingency`` (2×k table, no Yates correction),
``fisher_exact``, ``jensenshannon``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cmlops.json_safe import json_safe
from cmlops.stats._drift_numeric import jensen_shannon, psi

#: Cochran's rule: below this expected count in any cell of a 2×2 table, use Fisher's exact test.
FISHER_MIN_EXPECTED = 5.0
#: number of most frequent categories kept in a summary.
TOP_K = 10
#: number of categories whose counts are kept for display.
DISPLAY_MAX = 50


@dataclass(frozen=True)
class Counts:
    """Category labels (union of both samples) and their counts in each sample."""

    labels: list
    ref: np.ndarray
    cur: np.ndarray
    ref_missing: int
    cur_missing: int


def chi_square(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, int]:
    """Pearson chi-square of homogeneity on the 2×k table, equal to SciPy's.

    Same as ``scipy.stats.chi2_contingency(table, correction=False)``: categories
    absent from both samples are dropped first (SciPy refuses zero expected
    counts); a table with one category has 0 degrees of freedom, statistic 0 and
    p = 1, as in SciPy.
    """
    from scipy import stats

    keep = (ref + cur) > 0
    obs = np.vstack([ref[keep], cur[keep]]).astype(np.float64)
    k = obs.shape[1]
    if k <= 1:
        return 0.0, 1.0, 0
    expected = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
    stat = float(np.sum((obs - expected) ** 2 / expected))
    dof = k - 1
    return stat, float(stats.chi2.sf(stat, dof)), dof


def proportions(ref: np.ndarray, cur: np.ndarray) -> tuple[str, float, float]:
    """Test of equal proportions for a two-valued column: (test name, statistic, p).

    The pooled two-proportion z-test (its square is the 2×2 chi-square without
    continuity correction) when every expected count is at least 5; otherwise
    Fisher's exact test (two-sided), whose statistic is the sample odds ratio.
    """
    from scipy import stats

    table = np.vstack([ref, cur]).astype(np.float64)
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    if expected.min() < FISHER_MIN_EXPECTED:
        res = stats.fisher_exact(table.astype(np.int64))
        odds = float(res.statistic)
        return "fisher_exact", odds, float(res.pvalue)
    n1, n2 = ref.sum(), cur.sum()
    p1, p2 = ref[1] / n1, cur[1] / n2
    pooled = (ref[1] + cur[1]) / n
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = float((p2 - p1) / se)
    return "z_proportions", z, float(2.0 * stats.norm.sf(abs(z)))


def shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype(np.float64)


def total_variation(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """Total variation distance: the share of probability mass that moved."""
    return float(0.5 * np.abs(p_ref - p_cur).sum())


def cramers_v(chi2: float, n: float) -> float:
    """Cramér's V of a 2×k table (min(r, c) - 1 = 1): sqrt(chi2 / n)."""
    return math.sqrt(chi2 / n) if n > 0 else 0.0


def summary(counts: np.ndarray, labels: list, n_missing: int) -> dict:
    """n, missing share, number of categories and the most frequent ones."""
    n_total = int(counts.sum()) + n_missing
    order = np.argsort(-counts, kind="stable")[:TOP_K]
    top = [{"value": json_safe(labels[i]), "count": int(counts[i])} for i in order if counts[i] > 0]
    return {
        "n": n_total,
        "n_missing": int(n_missing),
        "missing_share": (n_missing / n_total) if n_total else None,
        "n_categories": int(np.count_nonzero(counts)),
        "top": top,
    }


def display_counts(counts: Counts, limit: int = DISPLAY_MAX) -> dict:
    """Counts of the most frequent categories (both samples pooled), for display."""
    total = counts.ref + counts.cur
    order = np.argsort(-total, kind="stable")[:limit]
    order = order[total[order] > 0]
    return {
        "labels": [json_safe(counts.labels[i]) for i in order],
        "reference": counts.ref[order].tolist(),
        "current": counts.cur[order].tolist(),
        "truncated": bool(np.count_nonzero(total) > limit),
    }


__all__ = [
    "Counts",
    "chi_square",
    "cramers_v",
    "jensen_shannon",
    "proportions",
    "psi",
    "shares",
    "summary",
    "total_variation",
]
