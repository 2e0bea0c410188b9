"""OQ: statistics give published and reference values on the installed copy.

Known answers, each computed here by the installed cmlops and compared with a
value published or computed by an independent implementation:

* Hanley & McNeil (1982), Radiology 143:29, Table 1 — CT ratings of 58 normal
  and 51 abnormal patients: area 0.893 and standard error 0.032 (their
  closed-form approximation; the DeLong estimate is within 0.002 of it);
* the DeLong variance equals the structural-components definition (DeLong,
  DeLong & Clarke-Pearson 1988) computed pair by pair, to 1e-12;
* AUROC equals scikit-learn's ``roc_auc_score``;
* drift: on samples above 10,000 values (where cmlops computes the statistic
  itself from the merged sample, with ties) the KS statistic equals SciPy's
  ``ks_2samp`` exactly and its p-value to 1e-9; the Wasserstein distance equals
  ``scipy.stats.wasserstein_distance``; the chi-square test equals
  ``chi2_contingency`` without Yates' correction.
"""

from __future__ import annotations

import math
from typing import Any

from cmlops.selftest.checks import Check

RTOL = 1e-9


def _close(a: float | None, b: float, rel: float = RTOL, abs_tol: float = 0.0) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def _hanley_mcneil() -> tuple[Any, Any]:
    import numpy as np

    normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    return np.r_[np.zeros(58), np.ones(51)], np.r_[normal, abnormal].astype(float)


def _structural_components(y: Any, s: Any) -> tuple[float, float]:
    """AUC and DeLong standard error pair by pair, O(m n): the definition, not the fast path."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]).astype(float) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    variance = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(psi.mean()), float(math.sqrt(variance))


def _sample(n: int, seed: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(x - 1.0)))
    return rng.binomial(1, p), np.round(p, 2)  # rounded: ties between cases and controls


def auroc_checks() -> list[Check]:
    from sklearn.metrics import roc_auc_score

    import cmlops
    from cmlops.stats.delong import auroc_delong

    y, s = _hanley_mcneil()
    hm = auroc_delong(y, s)
    ref_auc, ref_se = _structural_components(y, s)
    y2, s2 = _sample(400, 11)
    fast = auroc_delong(y2, s2)
    auc2, se2 = _structural_components(y2, s2)
    sk = float(roc_auc_score(y2, s2))
    evaluated = cmlops.evaluate(y2, s2, curves=False).value("auroc")
    req = ("REQ-STA-001",)
    return [
        Check(
            "OQ-STA-01",
            "OQ",
            "AUROC of the Hanley & McNeil (1982) example",
            req,
            round(hm.auc, 3) == 0.893 and abs(hm.se - 0.032) < 0.002,
            "area 0.893, standard error 0.032 ± 0.002 (Hanley & McNeil 1982, Table 1)",
            f"area {hm.auc:.4f}, DeLong standard error {hm.se:.4f}",
        ),
        Check(
            "OQ-STA-02",
            "OQ",
            "DeLong variance equals its structural-components definition",
            req,
            _close(hm.se, ref_se, 1e-12, 1e-12)
            and _close(fast.se, se2, 1e-12, 1e-12)
            and _close(hm.auc, ref_auc, 1e-12)
            and _close(fast.auc, auc2, 1e-12),
            f"standard errors {ref_se:.12f} (Hanley & McNeil data) and {se2:.12f} "
            "(400 simulated subjects with ties), pair by pair",
            f"{hm.se:.12f} and {fast.se:.12f}",
        ),
        Check(
            "OQ-STA-03",
            "OQ",
            "AUROC equals scikit-learn's roc_auc_score",
            req,
            _close(fast.auc, sk, 1e-12) and _close(evaluated, sk, 1e-12),
            f"roc_auc_score = {sk:.12f}",
            f"auroc_delong {fast.auc:.12f}, cmlops.evaluate {evaluated:.12f}",
        ),
    ]


def drift_checks() -> list[Check]:
    import numpy as np
    import pandas as pd
    from scipy import stats

    import cmlops

    rng = np.random.default_rng(3)
    # above 10,000 values cmlops computes D itself (merged sample) and SciPy's kstwo p-value
    a = np.round(rng.normal(size=12_000) * 3)
    b = np.round(rng.normal(0.05, 1.1, size=15_000) * 3)
    ks = cmlops.drift(
        pd.DataFrame({"x": a}), pd.DataFrame({"x": b}), methods={"x": "ks"}, correction="none"
    )["x"]
    ref_ks = stats.ks_2samp(a, b)
    ws = cmlops.drift(pd.DataFrame({"x": a}), pd.DataFrame({"x": b}), methods={"x": "wasserstein"})
    raw = float(stats.wasserstein_distance(a, b))
    counts_ref, counts_cur = [30, 50, 20, 7], [25, 40, 40, 3]
    labels = ["k0", "k1", "k2", "k3"]
    chi = cmlops.drift(
        pd.DataFrame({"c": np.repeat(labels, counts_ref)}),
        pd.DataFrame({"c": np.repeat(labels, counts_cur)}),
        correction="none",
    )["c"]
    ref_chi = stats.chi2_contingency(np.array([counts_ref, counts_cur]), correction=False)
    req = ("REQ-STA-003",)
    return [
        Check(
            "OQ-STA-04",
            "OQ",
            "KS drift test equals SciPy's ks_2samp",
            req,
            ks.statistic == float(ref_ks.statistic) and _close(ks.p_value, float(ref_ks.pvalue)),
            f"D = {float(ref_ks.statistic):.12f}, p = {float(ref_ks.pvalue):.12g}",
            f"D = {ks.statistic:.12f}, p = {ks.p_value:.12g}",
        ),
        Check(
            "OQ-STA-05",
            "OQ",
            "Wasserstein distance equals SciPy's",
            req,
            _close(ws["x"].details.get("wasserstein_raw"), raw),
            f"wasserstein_distance = {raw:.12f}",
            f"{ws['x'].details.get('wasserstein_raw')!r}",
        ),
        Check(
            "OQ-STA-06",
            "OQ",
            "chi-square drift test equals SciPy's chi2_contingency",
            req,
            chi.test == "chi2"
            and _close(chi.statistic, float(ref_chi.statistic))
            and _close(chi.p_value, float(ref_chi.pvalue)),
            f"chi2 = {float(ref_chi.statistic):.12f}, p = {float(ref_chi.pvalue):.12g}",
            f"{chi.test} = {chi.statistic!r}, p = {chi.p_value!r}",
        ),
    ]
