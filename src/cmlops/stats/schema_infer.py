"""Infer a first-draft :class:`~cmlops.stats.schema.Schema` from a frame.

What is inferred, and with which severity by default (why: a schema inferred from
one extract describes that extract; only some of what it saw is a rule):

===============  ============================================  ========
check            inferred when                                 severity
===============  ============================================  ========
dtype            always (the dtype *family*)                   fail
not_null         the column has no missing value               fail
min / max        numeric or datetime; finite observed extremes warn
allowed_values   string, object, category, boolean or integer  warn
                 with at most ``max_categories`` distinct
                 values
unique           integer, string or object column with no      fail
                 missing and no repeated value (a candidate
                 key); never for floats, which are unique by
                 chance
===============  ============================================  ========

Ranges and allowed values default to ``warn`` because new data legitimately holds
a value one extract did not (an older patient, a new site); pass
``severity={"min": "fail", ...}`` to make them binding. Regex checks, date ordering
and composite keys cannot be guessed and are declared with ``regex=``,
``date_order=`` and ``keys=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cmlops.spark_frames import is_spark_frame
from cmlops.stats.schema import (
    CheckSpec,
    ColumnSchema,
    Schema,
    SchemaError,
    dtype_family,
    sorted_values,
)

__all__ = ["DEFAULT_SEVERITY", "check_frame", "infer_schema"]

DEFAULT_SEVERITY = {
    "dtype": "fail",
    "not_null": "fail",
    "min": "warn",
    "max": "warn",
    "allowed_values": "warn",
    "unique": "fail",
    "regex": "fail",
}
_KEY_FAMILIES = ("integer", "string", "object")
_SET_FAMILIES = ("string", "object", "category", "boolean", "integer")


def check_frame(df: Any, what: str = "df") -> None:
    """Reject what no schema can describe: non-frames, duplicate or non-text column names."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    cols = list(df.columns)
    dupes = sorted({str(c) for c in cols if cols.count(c) > 1})
    if dupes:
        raise SchemaError(
            f"{what} has duplicate column names {dupes[:5]}; rename them so each is unique"
        )
    bad = [c for c in cols if not isinstance(c, str)]
    if bad:
        raise SchemaError(
            f"{what} has non-text column names such as {bad[0]!r}; "
            "rename with df.columns = df.columns.map(str)"
        )


def _infer_column(s: Any, family: str, max_categories: int, sev: Mapping[str, str]) -> list:
    import numpy as np
    import pandas as pd

    checks = [CheckSpec("dtype", str(s.dtype), sev["dtype"])]
    n = len(s)
    n_null = int(s.isna().sum())
    if n and not n_null:
        checks.append(CheckSpec("not_null", None, sev["not_null"]))
    present = s.dropna()
    if present.empty:
        return checks
    if family in ("integer", "float"):
        vals = present.to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            cast = int if family == "integer" else float
            checks.append(CheckSpec("min", cast(vals.min()), sev["min"]))
            checks.append(CheckSpec("max", cast(vals.max()), sev["max"]))
    elif family.startswith("datetime"):
        checks.append(CheckSpec("min", pd.Timestamp(present.min()).isoformat(), sev["min"]))
        checks.append(CheckSpec("max", pd.Timestamp(present.max()).isoformat(), sev["max"]))
    if family in _SET_FAMILIES:
        try:
            if family == "category":
                values = list(s.cat.categories)
            else:
                values = list(pd.unique(present.to_numpy()))
            if len(values) <= max_categories:
                checks.append(CheckSpec("allowed_values", sorted_values(values),
                                        sev["allowed_values"]))  # fmt: skip
            if family in _KEY_FAMILIES and not n_null and n >= 2 and not s.duplicated().any():
                checks.append(CheckSpec("unique", None, sev["unique"]))
        except TypeError:  # unhashable values (lists, dicts) in an object column
            pass
    return checks


def _infer_columns(df: Any, max_categories: int, sev: Mapping[str, str]) -> list[ColumnSchema]:
    return [
        ColumnSchema(
            col,
            dtype_family(df[col].dtype),
            _infer_column(df[col], dtype_family(df[col].dtype), max_categories, sev),
        )
        for col in df.columns
    ]


def infer_schema(
    df: Any,
    *,
    max_categories: int = 20,
    keys: Iterable[str | Iterable[str]] | None = None,
    regex: Mapping[str, str] | None = None,
    date_order: Iterable[tuple[str, str]] | None = None,
    severity: Mapping[str, str] | None = None,
    infer_unique: bool = True,
    name: str = "",
) -> Schema:
    """Draft a schema from ``df`` (see the module docstring for what is inferred).

    Args:
        df: the reference frame (pandas, or a Spark DataFrame: then inferred by Spark
            aggregations, see :mod:`cmlops.stats.spark_validation`).
        max_categories: columns with at most this many distinct values get an
            allowed-values check.
        keys: columns (or tuples of columns) that must be unique together.
        regex: ``{column: pattern}``; each non-null value must match entirely.
        date_order: ``[("start", "end"), ...]``; start <= end where both are present.
        severity: override the default severity per check kind (``"fail"``/``"warn"``).
        infer_unique: set False to not guess single-column keys.
        name: free-text name stored in the schema.
    """
    spark = is_spark_frame(df)
    if not spark:
        check_frame(df)
    sev = dict(DEFAULT_SEVERITY)
    for kind, level in (severity or {}).items():
        if kind not in sev:
            raise SchemaError(f"unknown check kind {kind!r} in severity; use one of {list(sev)}")
        if level not in ("fail", "warn"):
            raise SchemaError(f"severity of {kind!r} must be 'fail' or 'warn', got {level!r}")
        sev[kind] = level
    if spark:
        from cmlops.stats.spark_validation import infer_columns

        rows, columns = infer_columns(df, max_categories, sev)
    else:
        rows, columns = len(df), _infer_columns(df, max_categories, sev)
    if not infer_unique:
        for col in columns:
            col.checks = [c for c in col.checks if c.kind != "unique"]
    source = {"rows": rows, "columns": len(columns), "max_categories": max_categories}
    if spark:
        source["engine"] = "spark"
    schema = Schema(columns=columns, name=name, source=source)
    for column, pattern in (regex or {}).items():
        schema.add_regex(column, pattern, sev["regex"])
    for pair in date_order or []:
        start, end = pair
        schema.add_date_order(start, end)
    for key in keys or []:
        schema.add_key(key)
    return schema
