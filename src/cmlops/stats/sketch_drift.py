"""Drift of one numeric column from two profiles (sketch or exact): the result and its bound.

When both profiles hold every value (a small Spark frame, whose KLL sketch never
compacted, or a pandas frame) the column goes through the exact engine
(:func:`cmlops.stats._drift_engine.numeric_column`) and its result is the pandas
path's, bit for bit. Otherwise the statistic comes from the sketches
(:mod:`cmlops.stats.sketch_distribution`) with the interval that holds the exact
value; ``error_bound`` is its half-width and ``uncertain`` says that the
interval straddles the threshold, so the verdict could be either.
"""

from __future__ import annotations

import math

import numpy as np

from cmlops.stats import _drift_engine as eng
from cmlops.stats import _drift_numeric as num
from cmlops.stats import sketch_distribution as sd
from cmlops.stats._drift_result import ColumnDrift
from cmlops.stats._ks_pvalue import ks_pvalue
from cmlops.stats.spark_profile import NumericProfile

__all__ = ["numeric_from_profiles", "summary"]


def summary(p: NumericProfile) -> dict:
    """The column summary of the exact path; quartiles from the sketch when it is one."""
    out: dict = {
        "n": int(p.n),
        "n_missing": int(p.n_missing),
        "missing_share": (p.n_missing / p.n) if p.n else None,
        "n_infinite": int(p.n_pos_inf + p.n_neg_inf),
    }
    if p.dist is not None:
        q = p.dist.quantiles(np.array([0.25, 0.5, 0.75]))
        out.update(
            mean=p.mean,
            std=p.std,
            min=p.dist.minimum,
            q25=float(q[0]),
            median=float(q[1]),
            q75=float(q[2]),
            max=p.dist.maximum,
        )
        if not p.dist.exact:
            out["quartiles"] = "approximate (KLL sketch)"
    return out


def _expanded(p: NumericProfile) -> np.ndarray:
    """Every value of an exact profile, with NaN for missing and ±inf, as the exact engine takes."""
    finite = p.dist.expanded() if p.dist is not None else np.zeros(0)
    return np.concatenate(
        (
            finite,
            np.full(p.n_missing, np.nan),
            np.full(p.n_pos_inf, np.inf),
            np.full(p.n_neg_inf, -np.inf),
        )
    )


def numeric_from_profiles(
    column: str, r: NumericProfile, c: NumericProfile, opts: eng.Options
) -> ColumnDrift:
    """Drift of a numeric column; exact when both sides are exact, else from the sketches."""
    exact = all(p.dist is None or p.dist.exact for p in (r, c))
    if exact:
        res = eng.numeric_column(column, _expanded(r), _expanded(c), opts)
        res.error_bound = 0.0 if res.status == "ok" else None
        return res
    r_sum, c_sum = summary(r), summary(c)
    for label, p in (("reference", r), ("current", c)):
        if p.dist is None:
            why = "is empty" if p.n == 0 else "has no finite values"
            return eng.skipped(
                column, "numeric", f"{label} sample {why}; nothing to test", r_sum, c_sum
            )
    method = opts.methods.get(column) or (
        "ks" if r.n_finite <= eng.AUTO_MAX_TEST_N else "wasserstein"
    )
    return _sketch_column(column, r, c, method, opts, r_sum, c_sum)


def _notes(r: NumericProfile, c: NumericProfile) -> list[str]:
    notes = []
    r_inf, c_inf = r.n_pos_inf + r.n_neg_inf, c.n_pos_inf + c.n_neg_inf
    if r_inf or c_inf:
        notes.append(
            f"{r_inf} reference and {c_inf} current infinite values excluded from the test"
        )
    if r.dist.minimum == r.dist.maximum:
        notes.append("reference sample is constant")
    return notes


def _sketch_details(r: NumericProfile, c: NumericProfile) -> dict:
    return {
        "engine": "sketch",
        "sketch": {
            "library": "Apache DataSketches KLL (doubles)",
            "rank_error_reference": r.dist.eps,
            "rank_error_current": c.dist.eps,
            "pmf_rank_error_reference": r.dist.eps_pmf,
            "pmf_rank_error_current": c.dist.eps_pmf,
            "retained_reference": int(r.dist.values.size),
            "retained_current": int(c.dist.values.size),
            "confidence": 0.99,
        },
        "histogram": _histogram(r.dist, c.dist),
    }


def _histogram(a: sd.Distribution, b: sd.Distribution, bins: int = num.HIST_BINS) -> dict:
    """Display histogram (approximate counts from the step CDFs), like the exact path's."""
    lo, hi = min(a.minimum, b.minimum), max(a.maximum, b.maximum)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)

    def counts(d: sd.Distribution) -> list[int]:
        below = np.concatenate(([0.0], d.cdf(edges[1:-1] - 1e-12 * (hi - lo)), [1.0]))
        return np.rint(np.diff(below) * d.n).astype(np.int64).tolist()

    return {
        "edges": edges.tolist(),
        "reference": counts(a),
        "current": counts(b),
        "approximate": True,
    }


def _sketch_column(column, r, c, method, opts, r_sum, c_sum) -> ColumnDrift:
    notes = _notes(r, c)
    details = _sketch_details(r, c)
    w = sd.wasserstein_from_sketches(r.dist, c.dist)
    n_r = r.dist.n
    std = r.std * math.sqrt((n_r - 1) / n_r) if r.std and n_r > 1 else 0.0
    w_norm = w.scaled(1.0 / std) if std > 0 else None
    details.update(wasserstein_raw=w.estimate, reference_std_ddof0=std)
    got = _statistic(method, r, c, w, w_norm, opts, details, notes)
    if got is None:
        why = f"method {method!r} needs every value, not a sketch: on Spark frames use ks, "
        return eng.skipped(
            column, "numeric", why + "wasserstein, psi or jensenshannon", r_sum, c_sum
        )
    iv, p, p_iv = got
    threshold = eng.threshold_for(column, method, opts)
    details["statistic_interval"] = [iv.low, iv.high]
    if p is not None:
        drifted, uncertain = p < threshold, False  # decided after the correction
        details["p_value_interval"] = list(p_iv)
    elif method == "wasserstein" and w_norm is None:
        drifted, uncertain = w.estimate > 0, w.low == 0 < w.high
    else:
        drifted = iv.estimate >= threshold
        uncertain = iv.low < threshold <= iv.high
    if uncertain:
        notes.append(
            f"verdict uncertain: the exact {method} lies in [{iv.low:.4g}, {iv.high:.4g}] "
            f"around the threshold {threshold:g}; use exact=True"
        )
    ms_r, ms_c = r_sum["missing_share"], c_sum["missing_share"]
    return ColumnDrift(
        column=column,
        kind="numeric",
        test=method,
        statistic=float(iv.estimate),
        p_value=p,
        p_value_adjusted=p,
        threshold=threshold,
        correction="none",
        effect_size=(w_norm or w).estimate,
        effect_size_name="wasserstein_normalised" if w_norm else "wasserstein_raw",
        drifted=bool(drifted),
        reference=r_sum,
        current=c_sum,
        missing_share_reference=ms_r,
        missing_share_current=ms_c,
        missing_drifted=eng._missing_flag(ms_r, ms_c, opts),
        warnings=notes,
        details=details,
        error_bound=iv.bound,
        uncertain=bool(uncertain),
    )


def _statistic(method, r, c, w, w_norm, opts, details, notes):
    """(interval, p-value, p-value interval) of ``method``, or None if a sketch cannot give it."""
    if method == "ks":
        details["ks_method"] = "asymp (statistic from sketches)"
        return _ks(r, c)
    if method == "wasserstein":
        details["normalisation"] = (
            "reference std (ddof=0)" if w_norm else "none (constant reference)"
        )
        if w_norm is None:
            notes.append(
                "reference standard deviation is 0: Wasserstein reported unnormalised "
                "and any difference counts as drift"
            )
        return (w_norm if w_norm is not None else w), None, None
    if method in ("psi", "jensenshannon"):
        return _binned(r, c, method, opts, details), None, None
    return None


def _ks(r: NumericProfile, c: NumericProfile):
    iv = sd.ks_from_sketches(r.dist, c.dist)
    n1, n2 = r.dist.n, c.dist.n
    p = ks_pvalue(iv.estimate, n1, n2)
    return iv, p, (ks_pvalue(iv.high, n1, n2), ks_pvalue(iv.low, n1, n2))


def _binned(r, c, method, opts, details) -> sd.Interval:
    edges, p_ref, p_cur = sd.binned_shares(r.dist, c.dist, opts.n_bins)
    details.update(
        bins=int(edges.size + 1),
        bin_edges=edges.tolist(),
        bin_edges_from="reference KLL sketch quantiles",
    )
    dp, dq = r.dist.eps_pmf, c.dist.eps_pmf
    if method == "psi":
        details["epsilon"] = opts.psi_epsilon
        return sd.psi_interval(p_ref, p_cur, dp, dq, opts.psi_epsilon)
    details["log_base"] = "e"
    return sd.js_interval(p_ref, p_cur, dp, dq)
