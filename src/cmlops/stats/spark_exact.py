"""Exact KS and Wasserstein distances of Spark columns (``drift(..., exact=True)``).

Both statistics need the two empirical CDFs at every distinct value. In Spark:

1. the finite values of both samples are counted per distinct value (one
   ``groupBy`` over their union: a shuffle of at most the number of rows);
2. the distinct values are split into about 64 ranges at the sketches' quantiles,
   and each range's totals are collected (64 rows): the counts below each range;
3. within each range a window computes the running counts, so every distinct value
   gets F_ref and F_cur exactly; one aggregation returns
   D = max |F_ref − F_cur| and W = Σ |F_ref − F_cur| · (next value − value).

Cost: a shuffle and a sort of the distinct values (about one pass over the data
plus a sort of up to n values), against one pass for the sketches; see
docs/spark.md. Samples of at most 10,000 values are collected instead and go
through the exact pandas engine, which gives SciPy's exact p-value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cmlops.spark_frames import spark_errors
from cmlops.stats import _drift_engine as eng
from cmlops.stats import _drift_numeric as num
from cmlops.stats._drift_result import ColumnDrift
from cmlops.stats._ks_pvalue import ks_pvalue
from cmlops.stats.sketch_drift import summary
from cmlops.stats.spark_profile import NumericProfile, finite_values
from cmlops.stats.spark_ranges import searchsorted

__all__ = ["N_RANGES", "exact_numeric"]

#: ranges of distinct values processed as separate window partitions.
N_RANGES = 64
_EXACT_METHODS = ("ks", "wasserstein")


def exact_numeric(
    name: str, ref: Any, cur: Any, r: NumericProfile, c: NumericProfile, opts: eng.Options
) -> ColumnDrift | None:
    """The exact result of a numeric column, or None when the sketch path is already exact.

    ``ref``/``cur`` are the two sides (:class:`cmlops.stats.spark_drift.Side`).
    """
    if r.dist is None or c.dist is None or (r.dist.exact and c.dist.exact):
        return None
    method = opts.methods.get(name) or (
        "ks" if r.n_finite <= eng.AUTO_MAX_TEST_N else "wasserstein"
    )
    if method not in _EXACT_METHODS:
        return None
    if max(r.n_finite, c.n_finite) <= num.KS_EXACT_MAX_N:
        return _collected(name, ref, cur, r, c, opts)
    session = (ref if ref.spark else cur).frame.sparkSession
    v_r, v_c = (_values(side, name, session) for side in (ref, cur))
    d, w_raw = exact_cdf_statistics(v_r, v_c, _edges(r, c))
    return _result(name, method, d, w_raw, r, c, opts)


def _values(side: Any, name: str, session: Any) -> Any:
    """A one-column Spark frame ``v`` of the side's finite values."""
    if side.spark:
        v = finite_values(name, side.types[name])
        return side.frame.select(v.alias("v")).where("v is not null")
    import pandas as pd

    values = side.profiles[name].dist.expanded()
    return session.createDataFrame(pd.DataFrame({"v": values}))


def _collected(name, ref, cur, r, c, opts) -> ColumnDrift:
    """Small samples: every value to the driver, then the exact pandas engine."""
    arrays = []
    for side, prof in ((ref, r), (cur, c)):
        if side.spark:
            v = finite_values(name, side.types[name])
            with spark_errors(f"collecting {name!r} of the {side.label}"):
                rows = side.frame.select(v.alias("v")).where("v is not null").collect()
            finite = np.array([row[0] for row in rows], dtype=np.float64)
        else:
            finite = prof.dist.expanded()
        rest = [
            np.full(prof.n_missing, np.nan),
            np.full(prof.n_pos_inf, np.inf),
            np.full(prof.n_neg_inf, -np.inf),
        ]
        arrays.append(np.concatenate([finite, *rest]))
    res = eng.numeric_column(name, arrays[0], arrays[1], opts)
    res.error_bound = 0.0
    res.details["engine"] = "exact (collected: at most 10,000 values per sample)"
    return res


def _edges(r: NumericProfile, c: NumericProfile) -> np.ndarray:
    q = np.linspace(0.0, 1.0, N_RANGES + 1)[1:-1]
    return np.unique(np.concatenate((r.dist.quantiles(q), c.dist.quantiles(q))))[::2]


def exact_cdf_statistics(v_ref: Any, v_cur: Any, edges: np.ndarray) -> tuple[float, float]:
    """(max |F_ref − F_cur|, ∫ |F_ref − F_cur| dx) of two one-column (``v``) Spark frames."""
    from pyspark.sql import functions as F

    union = v_ref.select("v", F.lit(1).alias("r"), F.lit(0).alias("c")).unionByName(
        v_cur.select("v", F.lit(0).alias("r"), F.lit(1).alias("c"))
    )
    counts = union.groupBy("v").agg(F.sum("r").alias("r"), F.sum("c").alias("c"))
    counts = counts.withColumn("b", searchsorted(F.col("v"), edges.tolist()))
    with spark_errors("computing the exact KS and Wasserstein distances"):
        counts = counts.persist()
        try:
            totals = counts.groupBy("b").agg(F.sum("r"), F.sum("c"), F.min("v")).collect()
            d, w = _scan(counts, totals)
        finally:
            counts.unpersist()
    return d, w


def _scan(counts: Any, totals: list) -> tuple[float, float]:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    totals = sorted((int(b), int(r), int(c), float(v)) for b, r, c, v in totals)
    n_r, n_c = sum(t[1] for t in totals), sum(t[2] for t in totals)
    off_r, off_c, nxt = {}, {}, {}
    seen_r = seen_c = 0
    for i, (b, r, c, _) in enumerate(totals):
        off_r[b], off_c[b] = seen_r, seen_c
        seen_r, seen_c = seen_r + r, seen_c + c
        nxt[b] = totals[i + 1][3] if i + 1 < len(totals) else None

    def lookup(mapping: dict) -> Any:
        pairs = [x for b, value in mapping.items() for x in (F.lit(b), F.lit(value))]
        return F.create_map(*pairs)[F.col("b")]

    ordered = Window.partitionBy("b").orderBy("v")
    running = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    f_r = (lookup(off_r) + F.sum("r").over(running)) / F.lit(float(n_r))
    f_c = (lookup(off_c) + F.sum("c").over(running)) / F.lit(float(n_c))
    nxt_v = F.coalesce(F.lead("v").over(ordered), lookup(nxt).cast("double"))
    gaps = counts.select(F.abs(f_r - f_c).alias("d"), (nxt_v - F.col("v")).alias("dz"))
    row = gaps.agg(F.max("d"), F.sum(F.col("d") * F.coalesce(F.col("dz"), F.lit(0.0)))).first()
    return float(row[0]), float(row[1] or 0.0)


def _result(name, method, d, w_raw, r, c, opts) -> ColumnDrift:
    r_sum, c_sum = summary(r), summary(c)
    n_r = r.n_finite
    std = r.std * math.sqrt((n_r - 1) / n_r) if r.std and n_r > 1 else 0.0
    w_norm = w_raw / std if std > 0 else None
    details: dict = {
        "engine": "exact (distributed sort in Spark)",
        "wasserstein_raw": w_raw,
        "reference_std_ddof0": std,
    }
    notes: list[str] = []
    p = None
    if method == "ks":
        stat, p = d, ks_pvalue(d, r.n_finite, c.n_finite)
        details["ks_method"] = "asymp"
        drifted = p < eng.threshold_for(name, method, opts)
    else:
        stat = w_norm if w_norm is not None else w_raw
        if w_norm is None:
            notes.append(
                "reference standard deviation is 0: Wasserstein reported unnormalised "
                "and any difference counts as drift"
            )
        threshold = eng.threshold_for(name, method, opts)
        drifted = w_raw > 0 if w_norm is None else stat >= threshold
    ms_r, ms_c = r_sum["missing_share"], c_sum["missing_share"]
    return ColumnDrift(
        column=name,
        kind="numeric",
        test=method,
        statistic=float(stat),
        p_value=p,
        p_value_adjusted=p,
        threshold=eng.threshold_for(name, method, opts),
        correction="none",
        effect_size=w_norm if w_norm is not None else w_raw,
        effect_size_name="wasserstein_normalised" if w_norm is not None else "wasserstein_raw",
        drifted=bool(drifted),
        reference=r_sum,
        current=c_sum,
        missing_share_reference=ms_r,
        missing_share_current=ms_c,
        missing_drifted=eng._missing_flag(ms_r, ms_c, opts),
        warnings=notes,
        details=details,
        error_bound=0.0,
    )
