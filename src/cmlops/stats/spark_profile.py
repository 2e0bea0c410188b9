"""Per-column profiles of a Spark frame, computed in Spark: nothing but summaries reach the driver.

Two jobs per frame, whatever its size:

1. one aggregation over all columns: row count, missing (null and NaN) and infinite
   counts, exact min / max / mean / SD of the finite values and, for every numeric
   or time column, a DataSketches KLL sketch built by Spark itself
   (``kll_sketch_agg_double``: per partition, merged by Spark's aggregation);
   for categorical columns an approximate distinct count (HyperLogLog), which
   guards the driver against collecting millions of categories;
2. exact counts per category of every categorical column (and of numeric columns
   whose sketch shows at most two values), in one ``GROUPING SETS`` aggregation.

The same profile is built from a pandas frame (exact: every value, rank error 0),
so one side may be pandas and the other Spark.

Why Spark's built-in KLL and not ``approx_percentile``: ``approx_percentile``
(Greenwald–Khanna) has a deterministic rank error but returns only the quantiles
asked for and no sketch; KS, Wasserstein, PSI and Jensen–Shannon need the whole
approximate CDF on the driver and its stated error, which the serialised KLL sketch
gives (read back with the ``datasketches`` library, the same Apache DataSketches
format). Mergeable, computed in the JVM (no Python workers), a few hundred KB per
column whatever the row count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cmlops.spark_frames import spark_errors
from cmlops.stats.drift_inputs import epoch_seconds, float_values, label_counts
from cmlops.stats.sketch_distribution import Distribution

__all__ = [
    "DEFAULT_SKETCH_K",
    "GROUP",
    "MAX_CATEGORIES",
    "CategoricalProfile",
    "NumericProfile",
    "count_categories",
    "empty_profiles",
    "finite_values",
    "grouped_profiles",
    "pandas_profiles",
    "spark_kind",
    "spark_profiles",
]

#: KLL parameter: rank error about 0.0007 (single-sided, 99 % confidence), ~100 KB a column.
DEFAULT_SKETCH_K = 4096
#: categorical columns with more distinct values (HyperLogLog estimate) are not counted.
MAX_CATEGORIES = 100_000
#: name of the group column in grouped jobs (a name no user column is expected to have)
GROUP = "__cmlops_group"

_NUMERIC = {"byte", "short", "integer", "long", "float", "double", "decimal"}
_FLOATING = {"float", "double"}
_TEXT = {"string", "varchar", "char", "boolean"}


def spark_kind(type_name: str) -> str:
    """numeric, categorical, datetime (an instant), datetime_naive, or unsupported."""
    if type_name in _NUMERIC:
        return "numeric"
    if type_name in _TEXT:
        return "categorical"
    if type_name == "timestamp":
        return "datetime"
    if type_name in ("timestamp_ntz", "date"):
        return "datetime_naive"
    return "unsupported"


@dataclass
class NumericProfile:
    """Counts, exact moments and the distribution (sketch or exact) of a numeric column."""

    n: int
    n_missing: int
    n_pos_inf: int
    n_neg_inf: int
    mean: float | None
    std: float | None
    dist: Distribution | None
    few_values: bool = False  # the sketch holds at most two distinct values
    exact_counts: dict[float, int] | None = None  # finite values counted, when few_values

    @property
    def n_finite(self) -> int:
        return self.n - self.n_missing - self.n_pos_inf - self.n_neg_inf


@dataclass
class CategoricalProfile:
    """Rows, missing values and exact counts per category (filled by the second job)."""

    n: int
    n_missing: int
    approx_distinct: int = 0
    counts: dict[Any, int] = field(default_factory=dict)


def _col(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def finite_values(name: str, type_name: str) -> Any:
    """The column as float64 seconds / values, null where missing or infinite."""
    from pyspark.sql import functions as F

    c = _col(name)
    if type_name == "timestamp":
        return F.unix_micros(c) / F.lit(1e6)
    if type_name == "timestamp_ntz":
        return F.expr(
            f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', `{_q(name)}`)"
        ) / F.lit(1e6)
    if type_name == "date":
        return F.unix_date(c).cast("double") * F.lit(86400.0)
    v = c.cast("double")
    if type_name in _FLOATING:
        return F.when(F.isnan(v) | (F.abs(v) == float("inf")), None).otherwise(v)
    return v


def _q(name: str) -> str:
    return name.replace("`", "``")


def _numeric_aggs(j: int, name: str, type_name: str, k: int) -> list[Any]:
    from pyspark.sql import functions as F

    c, v = _col(name), finite_values(name, type_name)
    nan = F.count_if(F.isnan(c.cast("double"))) if type_name in _FLOATING else F.lit(0)
    pos = F.count_if(c.cast("double") == float("inf")) if type_name in _FLOATING else F.lit(0)
    neg = F.count_if(c.cast("double") == float("-inf")) if type_name in _FLOATING else F.lit(0)
    return [
        F.count(c).alias(f"n{j}"),
        nan.alias(f"nan{j}"),
        pos.alias(f"pinf{j}"),
        neg.alias(f"ninf{j}"),
        F.avg(v).alias(f"mean{j}"),
        F.stddev_samp(v).alias(f"sd{j}"),
        F.call_function("kll_sketch_agg_double", v, F.lit(int(k))).alias(f"kll{j}"),
    ]


def _profile_aggs(specs: dict[str, tuple[str, str]], k: int) -> list[Any]:
    from pyspark.sql import functions as F

    aggs: list[Any] = [F.count(F.lit(1)).alias("rows")]
    for j, (name, (kind, type_name)) in enumerate(specs.items()):
        if kind == "categorical":
            aggs += [
                F.count(_col(name)).alias(f"n{j}"),
                F.approx_count_distinct(_col(name)).alias(f"hll{j}"),
            ]
        else:
            aggs += _numeric_aggs(j, name, type_name, k)
    return aggs


def _profiles_of(row: dict, specs: dict[str, tuple[str, str]]) -> tuple[int, dict]:
    rows = int(row["rows"])
    out: dict[str, Any] = {}
    for j, (name, (kind, _)) in enumerate(specs.items()):
        if kind == "categorical":
            out[name] = CategoricalProfile(rows, rows - int(row[f"n{j}"]), int(row[f"hll{j}"]))
        else:
            out[name] = _numeric_profile(rows, row, j)
    return rows, out


def spark_profiles(frame: Any, specs: dict[str, tuple[str, str]], k: int, label: str):
    """Profiles of the columns of one Spark frame; returns (rows, {column: profile}).

    ``specs`` maps column -> (kind, Spark type name), kind one of numeric, categorical,
    datetime, datetime_naive. Numeric and time columns get a :class:`NumericProfile`,
    categorical ones a :class:`CategoricalProfile` (counts filled by :func:`count_categories`).
    """
    with spark_errors(f"profiling the {label} Spark frame"):
        row = frame.agg(*_profile_aggs(specs, k)).first().asDict()
    return _profiles_of(row, specs)


def grouped_profiles(
    frame: Any, group: Any, specs: dict[str, tuple[str, str]], k: int, label: str
) -> dict[Any, tuple[int, dict]]:
    """:func:`spark_profiles` of every group of rows (``group``: a column), in one Spark job.

    A group with no rows is absent (see :func:`empty_profiles`). Each group's sketches
    are built and merged by Spark like those of a whole frame, so a group's profile is
    the profile of the frame filtered to that group.
    """
    with spark_errors(f"profiling the {label} Spark frame"):
        rows = frame.groupBy(group.alias(GROUP)).agg(*_profile_aggs(specs, k)).collect()
    return {r[GROUP]: _profiles_of(r.asDict(), specs) for r in rows}


def empty_profiles(specs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The profiles of a frame without rows (every column: nothing to test)."""
    return {
        name: CategoricalProfile(0, 0)
        if kind == "categorical"
        else NumericProfile(0, 0, 0, 0, None, None, None)
        for name, (kind, _) in specs.items()
    }


def _numeric_profile(rows: int, row: dict, j: int) -> NumericProfile:
    n_nan = int(row[f"nan{j}"])
    missing = rows - int(row[f"n{j}"]) + n_nan
    blob = row[f"kll{j}"]
    dist = None
    if blob is not None:
        dist = Distribution.from_kll(blob)
        if dist.values.size == 0:
            dist = None
    sd = row[f"sd{j}"]
    return NumericProfile(
        n=rows,
        n_missing=missing,
        n_pos_inf=int(row[f"pinf{j}"]),
        n_neg_inf=int(row[f"ninf{j}"]),
        mean=None if row[f"mean{j}"] is None else float(row[f"mean{j}"]),
        std=None if sd is None or sd != sd else float(sd),
        dist=dist,
        few_values=dist is not None and dist.values.size <= 2,
    )


def count_categories(
    frame: Any,
    specs: dict[str, tuple[str, str]],
    label: str,
    group: Any = None,
    only: dict[str, list] | None = None,
) -> dict:
    """Exact counts per value of each column, in one GROUPING SETS job.

    ``specs`` as for :func:`spark_profiles`. Numeric columns are counted on their
    finite values (NaN and ±inf are missing, as in the numeric profile).
    Returns ``{column: {value: count}}`` without missing values; with ``group`` (a
    column) ``{group: {column: {value: count}}}``, each column counted only in the
    groups ``only[column]`` lists (all groups when ``only`` does not name it), so a
    column with millions of values in some group is never collected for it.
    """
    from pyspark.sql import functions as F

    names = list(specs)
    if not names:
        return {}
    exprs = []
    for j, name in enumerate(names):
        kind, type_name = specs[name]
        e = _col(name) if kind == "categorical" else finite_values(name, type_name)
        exprs.append(e.alias(f"c{j}"))
    keys = [f"c{j}" for j in range(len(names))]
    if group is None:
        grouped = frame.select(*exprs).groupingSets([[k] for k in keys], *keys)
    else:
        selected = frame.select(group.alias(GROUP), *exprs)
        for j, name in enumerate(names):
            if only is not None and name in only:
                wanted = F.col(GROUP).isin(list(only[name]))
                selected = selected.withColumn(keys[j], F.when(wanted, F.col(keys[j])))
        sets = [[GROUP, k] for k in keys]
        grouped = selected.groupingSets(sets, GROUP, *keys)
    flags = [F.grouping(k).alias(f"g{j}") for j, k in enumerate(keys)]
    with spark_errors(f"counting categories of the {label} Spark frame"):
        rows = grouped.agg(F.count(F.lit(1)).alias("n"), *flags).collect()
    out: dict[Any, dict[str, dict]] = {}
    for r in rows:
        d = r.asDict()
        counts = out.setdefault(d.get(GROUP), {name: {} for name in names})
        for j, name in enumerate(names):
            if d[f"g{j}"] == 0:
                if d[f"c{j}"] is not None:
                    counts[name][_label(d[f"c{j}"])] = int(d["n"])
                break
    if group is None:
        return out.get(None, {name: {} for name in names})
    return out


def _label(value: Any) -> Any:
    import decimal

    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def pandas_profiles(frame: Any, kinds: dict[str, str]) -> tuple[int, dict]:
    """The same profiles from a pandas frame, exactly (every value; rank error 0).

    ``kinds`` maps column -> numeric | categorical | datetime | datetime_naive.
    """
    out: dict[str, Any] = {}
    for name, kind in kinds.items():
        s = frame[name]
        if kind == "categorical":
            labels, counts, n_na = label_counts(s)
            prof = CategoricalProfile(len(s), int(n_na), len(labels))
            prof.counts = {_py(lab): int(c) for lab, c in zip(labels, counts, strict=True) if c}
            out[name] = prof
            continue
        values = float_values(s) if kind == "numeric" else epoch_seconds(s)[0]
        out[name] = _exact_numeric(values)
    return len(frame), out


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _exact_numeric(values: np.ndarray) -> NumericProfile:
    x = np.sort(values)
    nan = np.isnan(x)
    pos, neg = int(np.count_nonzero(x == np.inf)), int(np.count_nonzero(x == -np.inf))
    finite = x[np.isfinite(x)]
    dist = Distribution.from_sorted(finite) if finite.size else None
    mean = float(finite.mean()) if finite.size else None
    std = float(finite.std(ddof=1)) if finite.size > 1 else None
    few = dist is not None and dist.values.size <= 2
    return NumericProfile(
        n=int(x.size),
        n_missing=int(nan.sum()),
        n_pos_inf=pos,
        n_neg_inf=neg,
        mean=mean,
        std=std,
        dist=dist,
        few_values=few,
        exact_counts=_value_counts(dist) if few else None,
    )


def _value_counts(dist: Distribution) -> dict[float, int]:
    return {float(v): int(w) for v, w in zip(dist.values, dist.weights, strict=True)}
