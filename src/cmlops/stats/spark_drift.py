"""``cmlops.drift`` when either frame is a Spark DataFrame: same tests, same result class.

The data never leave Spark: each frame is profiled in two Spark jobs
(:mod:`cmlops.stats.spark_profile`) and only sketches and category counts reach the
driver, so driver memory does not grow with the number of rows. Categorical columns
are tested on exact counts (the exact path's statistics, to the last digit);
numeric and time columns on KLL sketches, each statistic with the interval that
holds its exact value (``ColumnDrift.error_bound``, ``details["statistic_interval"]``)
and ``uncertain`` when that interval straddles the threshold. ``exact=True``
computes exact KS and Wasserstein distances in Spark instead
(:mod:`cmlops.stats.spark_exact`). Columns whose type has no test (maps, arrays,
structs, binary, intervals) are reported as skipped with the reason.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from cmlops.errors import InvalidInputError
from cmlops.spark_frames import is_spark_frame, spark_version
from cmlops.stats import _drift_categorical as cat
from cmlops.stats import _drift_engine as eng
from cmlops.stats._drift_corrections import adjust
from cmlops.stats._drift_corrections import apply_correction as base_correction
from cmlops.stats._drift_result import ColumnDrift, DriftResult
from cmlops.stats.drift_inputs import as_frame, column_kind
from cmlops.stats.sketch_drift import numeric_from_profiles
from cmlops.stats.spark_profile import (
    MAX_CATEGORIES,
    CategoricalProfile,
    NumericProfile,
    count_categories,
    pandas_profiles,
    spark_kind,
    spark_profiles,
)

__all__ = ["Side", "drift_spark", "needs_counts", "prefetched_profiles", "unsupported"]

_TIME_KINDS = ("datetime", "datetime_naive")
#: frame id -> (frame, sketch k, rows, profiles): profiles computed beforehand (see below)
_PREFETCHED: contextvars.ContextVar[Mapping[int, tuple] | None] = contextvars.ContextVar(
    "cmlops_prefetched_profiles", default=None
)


@contextlib.contextmanager
def prefetched_profiles(entries: list[tuple[Any, int, int, dict]]) -> Iterator[None]:
    """Within the block, ``drift`` of these frames uses the profiles given, not new jobs.

    ``entries``: ``(frame, sketch_k, rows, {column: profile})`` with category counts
    filled where needed. Why: ``cmlops.monitor`` profiles every window of a Spark frame
    in one grouped job (:func:`~cmlops.stats.spark_profile.grouped_profiles`) and then
    calls ``drift(reference, window_frame, **drift_options)`` per window exactly as the
    pandas path does — same options, same checks, same result — without a Spark job
    per window. A frame not listed, another ``sketch_k`` or a column not profiled
    falls back to its own jobs.
    """
    table = {id(frame): (frame, k, rows, profiles) for frame, k, rows, profiles in entries}
    token = _PREFETCHED.set(table)
    try:
        yield
    finally:
        _PREFETCHED.reset(token)


def _prefetched(frame: Any, names: list[str], k: int) -> tuple[int, dict] | None:
    entry = (_PREFETCHED.get() or {}).get(id(frame))
    if (
        entry is None
        or entry[0] is not frame
        or (entry[1] != k and any(isinstance(entry[3].get(n), NumericProfile) for n in names))
    ):
        return None
    if any(n not in entry[3] for n in names):
        return None
    return entry[2], {n: entry[3][n] for n in names}


class Side:
    """One frame of a comparison: its columns' kinds and, once profiled, their profiles."""

    def __init__(self, frame: Any, label: str) -> None:
        self.label = label
        self.spark = is_spark_frame(frame)
        self.types: dict[str, str] = {}
        if self.spark:
            names = list(frame.columns)
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise InvalidInputError(f"{label} has duplicated column names {dupes}; rename them")
            self.types = {f.name: f.dataType.typeName() for f in frame.schema.fields}
        else:
            frame = as_frame(frame, label)
        self.frame = frame
        self.names = list(frame.columns)
        self.kinds: dict[str, str] = {}
        self.rows = 0
        self.profiles: dict[str, Any] = {}
        self.prefetched = False

    def classify(self, names: list[str], forced: set[str]) -> None:
        """numeric, categorical, datetime (an instant), datetime_naive or unsupported."""
        if not self.spark:
            self.kinds = _pandas_kinds(self.frame, names, forced)
            return
        for name in names:
            kind = spark_kind(self.types[name])
            self.kinds[name] = "categorical" if kind == "numeric" and name in forced else kind

    def profile(self, names: list[str], k: int) -> None:
        known = _prefetched(self.frame, names, k)
        if known is not None:
            self.rows, self.profiles = known
            self.prefetched = True
            return
        if self.spark:
            specs = {n: (self.kinds[n], self.types[n]) for n in names}
            self.rows, self.profiles = spark_profiles(self.frame, specs, k, self.label)
        else:
            kinds = {n: self.kinds[n] for n in names}
            self.rows, self.profiles = pandas_profiles(self.frame, kinds)
            self.rows = len(self.frame)

    def count(self, names: list[str]) -> None:
        """Exact category counts (Spark side; a pandas side was counted when profiled)."""
        if self.prefetched:
            names = [n for n in names if not _counted(self.profiles[n])]
        if not names or not self.spark:
            return
        specs = {n: (self.kinds[n], self.types[n]) for n in names}
        for name, counts in count_categories(self.frame, specs, self.label).items():
            prof = self.profiles[name]
            if isinstance(prof, CategoricalProfile):
                prof.counts = counts
            else:
                prof.exact_counts = counts


def _counted(prof: Any) -> bool:
    if isinstance(prof, CategoricalProfile):
        return bool(prof.counts) or prof.n == prof.n_missing
    return prof.exact_counts is not None or not prof.few_values


def _pandas_kinds(frame: Any, names: list[str], forced: set[str]) -> dict[str, str]:
    import pandas as pd

    kinds = {}
    for name in names:
        s = frame[name]
        kind = column_kind(s, name in forced)
        if kind == "datetime":
            aware = isinstance(s.dtype, pd.DatetimeTZDtype) or s.dtype == object
            kind = "datetime" if aware else "datetime_naive"
        kinds[name] = kind
    return kinds


def select_columns(ref: Side, cur: Side, columns: Any) -> tuple[list[str], list[str]]:
    """The columns to compare and the warnings about the others (as the pandas path)."""
    if columns is not None:
        names = list(columns)
        missing = [c for c in names if c not in ref.names or c not in cur.names]
        if missing:
            raise InvalidInputError(
                f"columns not in both frames: {', '.join(map(str, missing))}; "
                "pass columns present in reference and current"
            )
        return names, []
    names = [c for c in ref.names if c in set(cur.names)]
    if not names:
        raise InvalidInputError(
            "reference and current have no column in common; compare frames with the same columns"
        )
    warnings = []
    only_ref = [c for c in ref.names if c not in set(cur.names)]
    only_cur = [c for c in cur.names if c not in set(ref.names)]
    if only_ref:
        warnings.append(f"columns only in reference, not compared: {', '.join(only_ref)}")
    if only_cur:
        warnings.append(f"columns only in current, not compared: {', '.join(only_cur)}")
    return names, warnings


def unsupported(name: str, ref: Side, cur: Side) -> ColumnDrift | None:
    """A skipped column when a type has no test or the two sides' kinds differ."""
    kr, kc = ref.kinds[name], cur.kinds[name]
    for side, kind in ((ref, kr), (cur, kc)):
        if kind == "unsupported":
            what = side.types.get(name) or str(side.frame[name].dtype)
            return eng.skipped(
                name,
                "unsupported",
                f"{side.label} column type {what} has no "
                "drift test (maps, arrays, structs, binary, intervals); "
                "select or cast the columns to compare",
            )
    if kr == kc:
        return None
    if {kr, kc} == set(_TIME_KINDS):
        return eng.skipped(
            name,
            "unsupported",
            "time-zone mismatch: one frame has instants "
            "(tz-aware / Spark TIMESTAMP) and the other local times (tz-naive / "
            "TIMESTAMP_NTZ or DATE); convert both to the same kind",
        )
    return eng.skipped(
        name,
        "unsupported",
        f"dtype mismatch: reference is {kr}, current is {kc}; cast both to the same type",
    )


def _too_many(name: str, ref: Side, cur: Side) -> ColumnDrift | None:
    for side in (ref, cur):
        prof = side.profiles[name]
        if isinstance(prof, CategoricalProfile) and prof.approx_distinct > MAX_CATEGORIES:
            return eng.skipped(
                name,
                "categorical",
                f"about {prof.approx_distinct:,} distinct "
                f"values in the {side.label} (> {MAX_CATEGORIES:,}): probably an "
                "identifier; not counted on the driver",
            )
    return None


def _counts(name: str, r: dict, c: dict, r_missing: int, c_missing: int) -> cat.Counts:
    """Counts of both sides aligned on the union of their values (reference order first)."""
    labels = list(r) + [v for v in c if v not in r]
    ref = np.array([r.get(v, 0) for v in labels], dtype=np.int64)
    cur = np.array([c.get(v, 0) for v in labels], dtype=np.int64)
    return cat.Counts(labels, ref, cur, r_missing, c_missing)


def _binary(name: str, r: NumericProfile, c: NumericProfile, opts) -> ColumnDrift | None:
    """A numeric column whose two samples together take exactly two values: a two-valued test."""
    if not (r.few_values and c.few_values) or r.exact_counts is None or c.exact_counts is None:
        return None
    values = sorted(set(r.exact_counts) | set(c.exact_counts))
    if len(values) != 2:
        return None
    counts = _counts(
        name,
        {v: r.exact_counts.get(v, 0) for v in values},
        {v: c.exact_counts.get(v, 0) for v in values},
        r.n_missing + r.n_pos_inf + r.n_neg_inf,
        c.n_missing + c.n_pos_inf + c.n_neg_inf,
    )
    res = eng.categorical_counts(name, counts, opts, binary=True)
    res.error_bound = 0.0
    return res


def column_drift(name: str, ref: Side, cur: Side, opts, exact: Any = None) -> ColumnDrift:
    """Drift of one profiled column (``exact``: a callable giving exact numeric results)."""
    skipped = unsupported(name, ref, cur) or _too_many(name, ref, cur)
    if skipped is not None:
        return skipped
    r, c = ref.profiles[name], cur.profiles[name]
    if isinstance(r, CategoricalProfile):
        res = eng.categorical_counts(
            name, _counts(name, r.counts, c.counts, r.n_missing, c.n_missing), opts
        )
        res.error_bound = 0.0 if res.status == "ok" else None
    else:
        res = _binary(name, r, c, opts)
        if res is None:
            res = exact(name, r, c) if exact is not None else None
        if res is None:
            res = numeric_from_profiles(name, r, c, opts)
    if ref.kinds[name] in _TIME_KINDS and res.status == "ok":
        res.warnings.append("datetimes tested as seconds since 1970-01-01 (UTC)")
        res.details["datetime"] = True
    return res


def apply_correction(cols: list[ColumnDrift], corr: str) -> None:
    """The multiple-testing correction, and for sketch p-values the correction of their bounds.

    Holm, Bonferroni and BH adjusted p-values do not decrease when any raw p-value
    grows, so adjusting every column's lowest and highest possible p-value gives
    the range of each adjusted p-value; a column is uncertain when it straddles
    the threshold.
    """
    base_correction(cols, corr)
    family = [c for c in cols if c.status == "ok" and c.p_value is not None]
    if not any("p_value_interval" in c.details for c in family):
        return
    lows = np.array([c.details.get("p_value_interval", [c.p_value])[0] for c in family])
    highs = np.array(
        [c.details.get("p_value_interval", [c.p_value, c.p_value])[-1] for c in family]
    )
    for c, lo, hi in zip(family, adjust(lows, corr), adjust(highs, corr), strict=True):
        c.details["p_value_adjusted_interval"] = [float(lo), float(hi)]
        c.uncertain = bool(lo < c.threshold <= hi)
        if c.uncertain:
            c.warnings.append(
                f"verdict uncertain: the adjusted p-value lies in [{lo:.3g}, "
                f"{hi:.3g}] around alpha {c.threshold:g}; use exact=True"
            )


def dataset_verdict(cols: list[ColumnDrift], drift_share: float) -> tuple[int, float, bool, bool]:
    """(n drifted, share, dataset drift, uncertain): uncertain when the bounds could flip it."""
    tested = [c for c in cols if c.status == "ok"]
    n = len(tested)
    drifted = sum(c.drifted for c in tested)
    share = drifted / n if n else 0.0
    surely = sum(c.drifted and not c.uncertain for c in tested)
    maybe = sum(c.drifted or c.uncertain for c in tested)
    verdict = bool(tested) and share >= drift_share
    uncertain = bool(tested) and (surely / n >= drift_share) != (maybe / n >= drift_share)
    return int(drifted), float(share), verdict, uncertain


def engine_settings(ref: Side, cur: Side, k: int, exact: bool) -> dict:
    """What the manifest and the result record about how the statistics were computed."""
    spark_side = ref if ref.spark else cur
    return {
        "engine": "spark",
        "spark_version": spark_version(spark_side.frame),
        "sides": {
            "reference": "spark" if ref.spark else "pandas",
            "current": "spark" if cur.spark else "pandas",
        },
        "numeric": "exact KS and Wasserstein in Spark"
        if exact
        else "Apache DataSketches KLL sketches (Spark kll_sketch_agg_double)",
        "sketch_k": int(k),
        "rank_error": _rank_errors(k),
        "categorical": "exact counts (GROUPING SETS)",
        "max_categories": MAX_CATEGORIES,
    }


def _rank_errors(k: int) -> dict:
    from cmlops.stats.sketch_distribution import rank_error

    return {
        "single_sided": rank_error(k),
        "double_sided_pmf": rank_error(k, pmf=True),
        "confidence": 0.99,
    }


def drift_spark(
    reference: Any,
    current: Any,
    *,
    columns: Any,
    forced: set[str],
    opts: Any,
    corr: str,
    drift_share: float,
    settings: dict,
    exact: bool,
    sketch_k: int,
    check: Any = None,
) -> DriftResult:
    """Drift of two frames, at least one a Spark DataFrame (see the module docstring)."""
    ref, cur = Side(reference, "reference"), Side(current, "current")
    names, warnings = select_columns(ref, cur, columns)
    if check is not None:
        check(names)
    for side in (ref, cur):
        side.classify(names, forced)
    _profile_both(ref, cur, names, sketch_k)
    exact_fn = None
    if exact:
        from cmlops.stats.spark_exact import exact_numeric

        exact_fn = lambda n, r, c: exact_numeric(n, ref, cur, r, c, opts)  # noqa: E731
    cols = [column_drift(n, ref, cur, opts, exact_fn) for n in names]
    apply_correction(cols, corr)
    n_drifted, share, verdict, uncertain = dataset_verdict(cols, drift_share)
    n_tested = sum(c.status == "ok" for c in cols)
    if not n_tested:
        warnings.append("no column could be tested; see each column's warning")
    if uncertain:
        warnings.append(
            "dataset verdict uncertain: the error bounds of the sketch statistics "
            f"({', '.join(c.column for c in cols if c.uncertain)}) could change it; "
            "use exact=True"
        )
    return DriftResult(
        columns=cols,
        correction=corr,
        alpha=opts.alpha,
        drift_share=float(drift_share),
        n_tested=n_tested,
        n_drifted=n_drifted,
        share_drifted=share,
        dataset_drift=verdict,
        n_reference=ref.rows,
        n_current=cur.rows,
        settings={
            **settings,
            "exact": bool(exact),
            "engine": engine_settings(ref, cur, sketch_k, exact),
        },
        warnings=warnings,
        uncertain=uncertain,
    )


def _profile_both(ref: Side, cur: Side, names: list[str], sketch_k: int) -> None:
    """Two Spark jobs per Spark side: the profile, then the exact counts where needed."""
    testable = [n for n in names if unsupported(n, ref, cur) is None]
    for side in (ref, cur):
        side.profile(testable, sketch_k)
    to_count = [n for n in testable if needs_counts(n, ref, cur)]
    for side in (ref, cur):
        side.count(to_count)


def needs_counts(name: str, ref: Side, cur: Side) -> bool:
    if _too_many(name, ref, cur) is not None:
        return False
    r, c = ref.profiles[name], cur.profiles[name]
    if isinstance(r, CategoricalProfile):
        return True
    return r.few_values and c.few_values
