"""The fast Smirnov series against SciPy's ``kstwo.sf``, both sides of every switch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from cmlops.stats import _ks_pvalue as kp

pytestmark = pytest.mark.req("REQ-STA-003")


def _d(n: float, nd2: float) -> float:
    return math.sqrt(nd2 / n)


@pytest.mark.parametrize("n", [20_000, 54_321, 250_000])
@pytest.mark.parametrize("nd2", [2.19, 2.2, 2.21, 4.0, 30.0, 150.0, 369.9, 370.0])
def test_pvalue_equals_kstwo_across_its_switches(n, nd2):
    d = _d(n, nd2)
    want = float(np.clip(stats.kstwo.sf(d, n), 0.0, 1.0))
    got = kp.ks_pvalue(d, 2 * n, 2 * n)  # round(4n² / 4n) = n
    assert got == pytest.approx(want, rel=1e-11, abs=1e-300)
    assert kp._uses_smirnov_series(n, d) == (2.2 <= n * d * d < 370.0)


@pytest.mark.parametrize("n", [19_999, 30_000, 1_000_000, 1_000_001])
@pytest.mark.parametrize("d", [0.5, 0.75, 0.99999])
def test_large_statistics_follow_scipys_exact_branch(n, d):
    want = float(np.clip(stats.kstwo.sf(d, n), 0.0, 1.0))
    assert kp.ks_pvalue(d, 2 * n, 2 * n) == pytest.approx(want, rel=1e-11, abs=1e-300)


def test_series_equals_smirnov_at_the_largest_n_it_serves():
    n = kp.SMIRNOV_SERIES_MAX_N
    for nd2 in (2.5, 12.0):
        d = _d(n, nd2)
        assert kp._uses_smirnov_series(n, d)
        assert kp.smirnov_series(n, d) == pytest.approx(special.smirnov(n, d), rel=1e-11)


def test_outside_its_range_scipy_is_called_as_is():
    # SciPy's smirnov is asymptotic above 10^6 and cheap below 2*10^4: no series there
    for n in (kp.FAST_MIN_N - 1, kp.SMIRNOV_SERIES_MAX_N + 1):
        assert not kp._uses_smirnov_series(n, _d(n, 5.0))
    assert not kp._uses_smirnov_series(50_000, 0.0)
    assert not kp._uses_smirnov_series(50_000, 1.0)


def test_unequal_samples_use_the_effective_size():
    n1, n2, d = 900_000, 60_000, 0.012
    en = round(n1 * n2 / (n1 + n2))
    assert kp._uses_smirnov_series(en, d)
    assert kp.ks_pvalue(d, n1, n2) == pytest.approx(float(stats.kstwo.sf(d, en)), rel=1e-11)
    assert kp.ks_pvalue(d, n2, n1) == kp.ks_pvalue(d, n1, n2)
