"""``cmlops.drift``: compare a current data frame with a reference, column by column.

What a biostatistician gets: for every common column the test chosen (by dtype
and sample size, as documented in docs/statistics-drift.md, or as asked in
``methods``), its statistic and p-value, the threshold and multiple-testing
correction used, an effect size, both samples' summaries, missing-share and
unseen-category signals, and a dataset verdict. Columns that cannot be tested
are reported with the reason. Optionally the same per stratum (``by=``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from cmlops.errors import InvalidInputError
from cmlops.spark_frames import is_spark_frame
from cmlops.stats import _drift_categorical as cat
from cmlops.stats import _drift_engine as eng
from cmlops.stats._drift_corrections import apply_correction, check_correction
from cmlops.stats._drift_result import ColumnDrift, DriftResult
from cmlops.stats.drift_inputs import (
    as_frame,
    column_kind,
    epoch_seconds,
    float_values,
    label_counts,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["ColumnDrift", "DriftResult", "drift"]

#: KLL sketch parameter of the Spark path (see cmlops.stats.spark_profile.DEFAULT_SKETCH_K).
DEFAULT_SKETCH_K = 4096
#: below this many values per sample (both summed) a thread pool costs more than it saves.
_PARALLEL_MIN_VALUES = 200_000


def drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] = (),
    methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    drift_share: float = 0.5,
    missing_threshold: float = 0.05,
    unseen_threshold: float = 0.0,
    n_bins: int = 10,
    psi_epsilon: float = 1e-4,
    by: str | None = None,
    min_stratum_rows: int = 30,
    n_jobs: int | None = None,
    exact: bool = False,
    sketch_k: int = DEFAULT_SKETCH_K,
) -> DriftResult:
    """Compare ``current`` with ``reference`` column by column.

    Args:
        reference, current: data frames (anything ``pandas.DataFrame`` accepts).
        columns: columns to compare (default: all common columns except ``by``).
        categorical: numeric columns to treat as categorical (codes, scores).
        methods: per-column test, e.g. ``{"age": "psi"}``; numeric: ks, wasserstein,
            psi, jensenshannon, anderson; categorical: chi2, proportions, psi,
            jensenshannon, total_variation. Unlisted columns get the automatic choice.
        thresholds: per-column or per-method threshold (a column name wins over a
            method name); p-value tests default to ``alpha``, distances to 0.1.
        alpha: significance level of p-value tests, compared with adjusted p-values.
        correction: none, bonferroni, holm (default) or bh, across the p-value tests.
        drift_share: dataset drift when at least this share of tested columns drifted.
        missing_threshold: flag a column whose missing share changed by more than this.
        unseen_threshold: flag a categorical column whose share of current values in
            categories absent from the reference exceeds this (default: any).
        n_bins, psi_epsilon: reference-quantile bins and empty-bin share for PSI/JS.
        by: grouping column; adds one result per stratum in ``result.strata``.
        min_stratum_rows: strata with fewer rows on either side are reported as skipped.
        n_jobs: threads over columns (default: CPU count, used for large inputs only).
        exact: Spark frames only: exact KS and Wasserstein computed in Spark instead of
            from sketches (costs a distributed sort; see docs/spark.md).
        sketch_k: Spark frames only: the KLL sketch parameter (larger: smaller error bound).

    Either frame may be a ``pyspark.sql.DataFrame``: the statistics are then computed
    in Spark (:mod:`cmlops.stats.spark_drift`), with an error bound per statistic.

    Raises:
        InvalidInputError: no common columns, unknown column/method/correction, bad settings.
    """
    on_spark = is_spark_frame(reference) or is_spark_frame(current)
    if not on_spark:
        ref = as_frame(reference, "reference")
        cur = as_frame(current, "current")
    corr = check_correction(correction)
    _check_settings(alpha, drift_share, n_bins)
    forced_cat = set(categorical)
    opts = eng.Options(
        alpha=float(alpha),
        thresholds=dict(thresholds or {}),
        methods=dict(methods or {}),
        missing_threshold=float(missing_threshold),
        unseen_threshold=float(unseen_threshold),
        n_bins=int(n_bins),
        psi_epsilon=float(psi_epsilon),
    )
    settings = _settings(opts, corr, drift_share, forced_cat)
    if on_spark:
        return _drift_on_spark(
            reference, current, columns, forced_cat, (opts, settings), by=by, exact=exact,
            sketch_k=sketch_k,
        )  # fmt: skip
    names = _select_columns(ref, cur, columns, by)
    _check_overrides(names, opts.methods, opts.thresholds)

    def compare(r: pd.DataFrame, c: pd.DataFrame) -> DriftResult:
        return _drift_frames(r, c, names, forced_cat, opts, corr, drift_share, settings, n_jobs)

    warnings = _column_set_warnings(ref, cur, names, columns, by)
    overall = compare(ref, cur)
    overall.warnings[:0] = warnings
    if by is not None:
        _add_strata(overall, ref, cur, by, min_stratum_rows, compare)
    return overall


def _check_settings(alpha: float, drift_share: float, n_bins: int) -> None:
    if not 0 < alpha < 1:
        raise InvalidInputError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not 0 < drift_share <= 1:
        raise InvalidInputError(f"drift_share must be in (0, 1], got {drift_share!r}")
    if int(n_bins) < 2:
        raise InvalidInputError(f"n_bins must be at least 2, got {n_bins!r}")


def _add_strata(overall, ref, cur, by: str, min_rows: int, compare) -> None:
    """One result per value of ``by`` with enough rows on both sides; the others listed."""
    overall.by = by
    ref_groups = ref.groupby(by, observed=True, sort=True, dropna=True).indices
    cur_groups = cur.groupby(by, observed=True, sort=True, dropna=True).indices
    n_na = int(ref[by].isna().sum() + cur[by].isna().sum())
    if n_na:
        overall.warnings.append(f"{n_na} rows with missing {by!r} are in the overall result only")
    for key in sorted(set(ref_groups) | set(cur_groups), key=lambda k: str(k)):
        label = str(key)
        ri = ref_groups.get(key, np.array([], dtype=np.int64))
        ci = cur_groups.get(key, np.array([], dtype=np.int64))
        if len(ri) < min_rows or len(ci) < min_rows:
            overall.strata_skipped.append(
                {
                    "stratum": label,
                    "n_reference": len(ri),
                    "n_current": len(ci),
                    "reason": f"fewer than min_stratum_rows={min_rows} rows on one side",
                }
            )
            continue
        overall.strata[label] = compare(ref.iloc[ri], cur.iloc[ci])
    if overall.strata_skipped:
        overall.warnings.append(
            f"{len(overall.strata_skipped)} strata of {by!r} too small to test: "
            + ", ".join(s["stratum"] for s in overall.strata_skipped)
        )


def _settings(opts: eng.Options, corr: str, drift_share: float, forced_cat: set[str]) -> dict:
    """The settings the result records: the per-column options, the correction, the dataset
    rule, the numeric columns read as categorical and the defaults the choice relied on."""
    return {
        "alpha": opts.alpha,
        "correction": corr,
        "drift_share": float(drift_share),
        "auto_max_test_n": eng.AUTO_MAX_TEST_N,
        "default_distance_thresholds": dict(eng.DEFAULT_DISTANCE_THRESHOLDS),
        "methods": opts.methods,
        "thresholds": opts.thresholds,
        "missing_threshold": opts.missing_threshold,
        "unseen_threshold": opts.unseen_threshold,
        "n_bins": opts.n_bins,
        "psi_epsilon": opts.psi_epsilon,
        "categorical": sorted(forced_cat),
    }


def _drift_on_spark(
    reference, current, columns, forced, options: tuple[eng.Options, dict], *, by, exact, sketch_k
) -> DriftResult:
    """The Spark path (:mod:`cmlops.stats.spark_drift`): same options, statistics in Spark."""
    from cmlops.stats.spark_drift import drift_spark

    if by is not None:
        raise InvalidInputError(
            "by= is not supported on Spark frames: filter the frames per stratum "
            "(df.where(...)) and call drift on each"
        )
    if isinstance(sketch_k, bool) or not isinstance(sketch_k, int) or not 8 <= sketch_k <= 65535:
        raise InvalidInputError(f"sketch_k must be an integer in [8, 65535], got {sketch_k!r}")
    opts, settings = options
    return drift_spark(
        reference,
        current,
        columns=columns,
        forced=forced,
        opts=opts,
        corr=settings["correction"],
        drift_share=settings["drift_share"],
        settings=settings,
        exact=bool(exact),
        sketch_k=sketch_k,
        check=lambda names: _check_overrides(names, opts.methods, opts.thresholds),
    )


def _select_columns(ref, cur, columns, by) -> list[str]:
    for label, frame in (("reference", ref), ("current", cur)):
        dup = frame.columns[frame.columns.duplicated()]
        if len(dup):
            raise InvalidInputError(
                f"{label} has duplicated column names {sorted(map(str, set(dup)))}; rename them"
            )
    if by is not None:
        for label, frame in (("reference", ref), ("current", cur)):
            if by not in frame.columns:
                raise InvalidInputError(f"grouping column {by!r} is not in the {label} frame")
    if columns is not None:
        names = list(columns)
        missing = [c for c in names if c not in ref.columns or c not in cur.columns]
        if missing:
            raise InvalidInputError(
                f"columns not in both frames: {', '.join(map(str, missing))}; "
                "pass columns present in reference and current"
            )
        return names
    cur_cols = set(cur.columns)
    names = [c for c in ref.columns if c in cur_cols and c != by]
    if not names:
        raise InvalidInputError(
            "reference and current have no column in common; compare frames with the same columns"
        )
    return names


def _check_overrides(names: list[str], methods: dict, thresholds: dict) -> None:
    unknown = [c for c in methods if c not in names]
    if unknown:
        raise InvalidInputError(f"methods given for columns not compared: {unknown}")
    valid = eng.NUMERIC_METHODS | eng.CATEGORICAL_METHODS
    bad = {c: m for c, m in methods.items() if m not in valid}
    if bad:
        raise InvalidInputError(f"unknown drift method(s) {bad}; use one of {sorted(valid)}")
    odd = [k for k in thresholds if k not in names and k not in valid]
    if odd:
        raise InvalidInputError(f"thresholds keys are neither compared columns nor methods: {odd}")


def _column_set_warnings(ref, cur, names, columns, by) -> list[str]:
    if columns is not None:
        return []
    only_ref = [str(c) for c in ref.columns if c not in set(cur.columns) and c != by]
    only_cur = [str(c) for c in cur.columns if c not in set(ref.columns) and c != by]
    out = []
    if only_ref:
        out.append(f"columns only in reference, not compared: {', '.join(only_ref)}")
    if only_cur:
        out.append(f"columns only in current, not compared: {', '.join(only_cur)}")
    return out


def _drift_frames(ref, cur, names, forced_cat, opts, corr, drift_share, settings, n_jobs):
    """Drift of every column of one (reference, current) pair, then the correction."""
    jobs = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    big = (len(ref) + len(cur)) >= _PARALLEL_MIN_VALUES
    if jobs > 1 and big and len(names) > 1:
        with ThreadPoolExecutor(max_workers=min(jobs, len(names))) as pool:
            cols = list(pool.map(lambda c: _one_column(ref, cur, c, forced_cat, opts), names))
    else:
        cols = [_one_column(ref, cur, c, forced_cat, opts) for c in names]
    apply_correction(cols, corr)
    tested = [c for c in cols if c.status == "ok"]
    n_drifted = sum(c.drifted for c in tested)
    share = n_drifted / len(tested) if tested else 0.0
    warnings = []
    if not tested:
        warnings.append("no column could be tested; see each column's warning")
    return DriftResult(
        columns=cols,
        correction=corr,
        alpha=opts.alpha,
        drift_share=float(drift_share),
        n_tested=len(tested),
        n_drifted=int(n_drifted),
        share_drifted=float(share),
        dataset_drift=bool(tested) and share >= drift_share,
        n_reference=len(ref),
        n_current=len(cur),
        settings=settings,
        warnings=warnings,
    )


def _one_column(ref, cur, name, forced_cat, opts) -> ColumnDrift:
    r, c = ref[name], cur[name]
    label = str(name)
    kind_r, kind_c = column_kind(r, name in forced_cat), column_kind(c, name in forced_cat)
    if kind_r == "datetime" or kind_c == "datetime":
        return _datetime_column(label, r, c, kind_r, kind_c, opts)
    if kind_r != kind_c:
        return eng.skipped(
            label,
            "unsupported",
            f"dtype mismatch: reference {r.dtype} is {kind_r}, current {c.dtype} is {kind_c}; "
            "cast both to the same type",
        )
    if kind_r == "numeric":
        return eng.numeric_column(label, float_values(r), float_values(c), opts)
    return eng.categorical_counts(label, _codes(r, c), opts)


def _codes(r, c) -> cat.Counts:
    """Counts per category of both samples, aligned on the union of their categories.

    Only counts are needed, never per-row codes: ``value_counts`` (hash or
    category-code based) for typed columns, ``factorize`` + ``bincount`` for
    object columns, where it is the faster of the two.
    """
    import pandas as pd

    r_lab, r_cnt, r_na = label_counts(r)
    c_lab, c_cnt, c_na = label_counts(c)
    pos = pd.Index(r_lab).get_indexer(pd.Index(c_lab)) if len(c_lab) else np.array([], int)
    new = pos < 0
    k = len(r_lab)
    pos[new] = k + np.arange(int(new.sum()))
    labels = [*list(r_lab), *list(np.asarray(c_lab, dtype=object)[new])]
    ref_counts = np.zeros(len(labels), dtype=np.int64)
    ref_counts[:k] = r_cnt
    cur_counts = np.zeros(len(labels), dtype=np.int64)
    cur_counts[pos] = c_cnt
    return cat.Counts(labels, ref_counts, cur_counts, r_na, c_na)


def _datetime_column(label, r, c, kind_r, kind_c, opts) -> ColumnDrift:
    """Datetimes are compared as seconds since the epoch (UTC for tz-aware values)."""
    if kind_r != kind_c:
        return eng.skipped(
            label,
            "unsupported",
            f"dtype mismatch: reference {r.dtype} vs current {c.dtype}; cast both to datetimes",
        )
    notes: list[str] = []
    arrays = []
    tz_kinds = set()
    for s in (r, c):
        conv, note, tz = epoch_seconds(s)
        if conv is None:
            return eng.skipped(label, "unsupported", note)
        tz_kinds.add(tz)
        if note:
            notes.append(note)
        arrays.append(conv)
    if len(tz_kinds) > 1:
        return eng.skipped(
            label,
            "unsupported",
            "time-zone mismatch: one frame has tz-aware and the other tz-naive datetimes; "
            "localise both (e.g. tz_localize('UTC'))",
        )
    res = eng.numeric_column(label, arrays[0], arrays[1], opts)
    res.warnings.extend([*notes, "datetimes tested as seconds since 1970-01-01 (UTC)"])
    res.details["datetime"] = True
    return res
