"""SciPy's asymptotic two-sample KS p-value, without its one slow branch.

``ks_2samp(method="asymp")`` returns ``kstwo.sf(d, n)`` with
``n = round(n1 n2 / (n1 + n2))``. For ``n > 140`` SciPy evaluates that as
``2 * scipy.special.smirnov(n, d)`` when ``2.2 <= n d² < 370`` (or ``d >= 0.5``),
and ``smirnov`` sums the Birnbaum–Tingey series term by term with a ``pow`` per
term up to ``n = 1,000,000`` (above that it switches to an asymptotic form and is
instant): 1.5 s for one column at ``n = 10⁶``, as long as the sort of both
samples, for every column whose p-value lies between about 10⁻¹⁶⁰ and 0.03.

The series is a sum of binomial probabilities,

    P(D⁺ ≥ d) = d · Σ_{j=0}^{⌊n(1−d)⌋} C(n, j) u_j^(j−1) (1 − u_j)^(n−j)
              = d · Σ_j binom.pmf(j; n, u_j) / u_j,        u_j = d + j/n,

so we evaluate it with SciPy's vectorised binomial pmf (Boost's, accurate to a
few ulps for any ``n``) block by block: ten times faster, and equal to
``smirnov`` to about 10⁻¹² relative (tests compare it with ``kstwo.sf`` on a
grid of ``n`` and ``d``, both sides of every switch). Every other case is left
to ``kstwo.sf`` itself, so the dispatch below mirrors SciPy's ``_kolmogn``.
"""

from __future__ import annotations

import math

import numpy as np

#: below this ``n`` SciPy's own ``smirnov`` is already fast (< 30 ms).
FAST_MIN_N = 20_000
#: above this ``n`` SciPy's ``smirnov`` is asymptotic and instant, so it is used as is.
SMIRNOV_SERIES_MAX_N = 1_000_000
#: terms summed per block (bounds the temporary memory to a few MB).
BLOCK = 1 << 17


def ks_pvalue(d: float, n1: float, n2: float) -> float:
    """``kstwo.sf(d, round(n1 n2 / (n1 + n2)))`` in [0, 1], as ``ks_2samp(method="asymp")``."""
    from scipy import stats

    m, k = sorted([float(n1), float(n2)], reverse=True)
    n = float(np.round(m * k / (m + k)))
    if _uses_smirnov_series(n, d):
        p = 2.0 * smirnov_series(int(n), d)
    else:
        p = float(stats.kstwo.sf(d, n))
    return float(np.clip(p, 0.0, 1.0))


def _uses_smirnov_series(n: float, d: float) -> bool:
    """True where SciPy's ``kstwo.sf`` would call ``smirnov``'s slow exact series."""
    if not (FAST_MIN_N <= n <= SMIRNOV_SERIES_MAX_N) or not (0.0 < d < 1.0):
        return False
    if n * d >= n - 1:  # SciPy's Ruben–Gambino closed form
        return False
    return d >= 0.5 or 2.2 <= n * d * d < 370.0


def smirnov_series(n: int, d: float) -> float:
    """One-sided ``P(D⁺_n ≥ d)`` by the Birnbaum–Tingey series (``scipy.special.smirnov``)."""
    from scipy import stats

    last = math.floor(n * (1.0 - d))
    total = 0.0
    for low in range(0, last + 1, BLOCK):
        j = np.arange(low, min(low + BLOCK, last + 1), dtype=np.float64)
        u = np.minimum(d + j / n, 1.0)
        total += float(np.sum(stats.binom.pmf(j, n, u) / u))
    return d * total
