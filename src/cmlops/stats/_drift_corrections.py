"""Multiple-testing corrections across the p-value tests of one drift call.

Testing 25 columns at p < 0.05 flags about one clean column per run by chance;
a drift report that cries wolf is ignored. The correction is explicit, applied
to adjusted p-values (compared with the same alpha) and recorded in the result.

- ``"none"``: raw p-values.
- ``"bonferroni"``: ``min(1, m p)``; family-wise error rate (FWER) control.
- ``"holm"`` (default): Holm's step-down; FWER control, uniformly more powerful
  than Bonferroni, no assumption on dependence between columns.
- ``"bh"``: Benjamini–Hochberg step-up; false discovery rate control, equal to
  ``scipy.stats.false_discovery_control(p, method="bh")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cmlops.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from cmlops.stats._drift_result import ColumnDrift

CORRECTIONS = ("none", "bonferroni", "holm", "bh")


def check_correction(name: str) -> str:
    key = str(name).lower().replace("-", "_")
    key = {"benjamini_hochberg": "bh", "fdr_bh": "bh", "fdr": "bh"}.get(key, key)
    if key not in CORRECTIONS:
        raise InvalidInputError(f"unknown correction {name!r}: use one of {', '.join(CORRECTIONS)}")
    return key


def adjust(pvalues: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values of a family (same order as given)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    if m == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ps * (m - np.arange(m)))
    elif method == "bh":
        adj = np.minimum.accumulate((ps * m / np.arange(1, m + 1))[::-1])[::-1]
    else:  # pragma: no cover - guarded by check_correction
        raise InvalidInputError(f"unknown correction {method!r}")
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def apply_correction(cols: list[ColumnDrift], corr: str) -> None:
    """Adjust the p-values of every tested column and decide ``drifted`` on the adjusted ones."""
    family = [c for c in cols if c.status == "ok" and c.p_value is not None]
    adjusted = adjust(np.array([c.p_value for c in family]), corr)
    for c, p_adj in zip(family, adjusted, strict=True):
        c.p_value_adjusted = float(p_adj)
        c.correction = corr
        c.drifted = bool(p_adj < c.threshold)
        c.details["family_size"] = len(family)
