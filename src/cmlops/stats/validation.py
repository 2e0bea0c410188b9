"""Validate a frame against a stored schema: pass / warn / fail per check, with examples.

``validate(df, schema)`` runs three layers and reports every declared check, so a
reviewer sees what was checked and not only what failed:

1. schema level, by cmlops: a schema column missing from the frame, a frame column
   the schema does not know, a dtype family that differs (a column's value checks
   are then *skipped*, with the reason, rather than run on the wrong type);
2. column value checks (not null, min, max, allowed values, unique, regex);
3. dataset checks over several columns (unique key, date order).

Layers 2 and 3 run in pandera (``pandera.pandas``) with lazy validation, which
collects every failure case instead of stopping at the first. Why pandera: it is a
maintained, widely used validation library (MIT licence) that supports pandas 3,
reports failing values with their row index, and leaves room for Polars and other
back ends later; cmlops adds what clinical QA needs on top - severities, the JSON
schema contract, counts and examples per check, and schema-level problems as
results rather than exceptions. Great Expectations was not chosen: heavier (a
project context, stores, many dependencies) for the same checks. Rows are located
by position internally (the frame's own index may repeat), and examples report the
frame's own index labels.
"""

from __future__ import annotations

from typing import Any

from cmlops.spark_frames import is_spark_frame
from cmlops.stats.schema import (
    SCHEMA_VERSION,
    CheckSpec,
    ColumnSchema,
    DatasetCheck,
    Schema,
    SchemaError,
    dtype_family,
    families_compatible,
)
from cmlops.stats.schema import as_schema as _coerce_schema
from cmlops.stats.schema_infer import check_frame, infer_schema
from cmlops.stats.validation_result import CheckResult, ValidationResult, verdict_of
from cmlops.stats.validation_result import check_result as _result

__all__ = ["Schema", "SchemaError", "ValidationResult", "infer_schema", "validate"]


def _bound(value: Any, family: str) -> Any:
    import pandas as pd

    if family.startswith("datetime"):
        return pd.Timestamp(value)
    if family == "timedelta":
        return pd.Timedelta(value)
    return value


def _column_fn(spec: CheckSpec, family: str):
    kind, value = spec.kind, spec.value
    if kind == "min":
        bound = _bound(value, family)
        return lambda s: s >= bound
    if kind == "max":
        bound = _bound(value, family)
        return lambda s: s <= bound
    if kind == "allowed_values":
        allowed = list(value or [])
        return lambda s: s.isin(allowed)
    if kind == "unique":
        return lambda s: ~s.duplicated(keep=False)
    if kind == "regex":
        pattern = str(value)
        return lambda s: s.astype(str).str.fullmatch(pattern).fillna(False).astype(bool)
    raise SchemaError(f"unknown column check {kind!r}")


def _dataset_fn(check: DatasetCheck):
    cols = list(check.columns)
    if check.kind == "unique_key":
        return lambda d: ~d.duplicated(subset=cols, keep=False)
    start, end = cols
    return lambda d: (d[start] <= d[end]) | d[start].isna() | d[end].isna()


def _examples(df: Any, positions: list[int], cols: list[str], k: int) -> list[dict[str, Any]]:
    from cmlops.json_safe import json_safe

    out = []
    for pos in positions[:k]:
        if len(cols) == 1:
            value = json_safe(df[cols[0]].iloc[pos])
        else:
            value = {c: json_safe(df[c].iloc[pos]) for c in cols}
        out.append({"row": json_safe(df.index[pos]), "value": value})
    return out


def _run_pandera(work: Any, pa_schema: Any) -> Any:
    import pandera.pandas as pa

    try:
        pa_schema.validate(work, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases
    return None


def _collect(failures: Any) -> dict[str, tuple[list[int], str]]:
    """Map pandera check name -> (sorted failing positions, error text of a crashed check)."""
    out: dict[str, tuple[list[int], str]] = {}
    if failures is None or len(failures) == 0:
        return out
    for (column, check), part in failures.groupby(["column", "check"], dropna=False, sort=False):
        key = f"{column}\x00not_null" if check == "not_nullable" else str(check)
        idx = part["index"].dropna()
        positions = sorted({int(i) for i in idx})
        error = "" if len(idx) else str(part["failure_case"].iloc[0])
        prev_pos, prev_err = out.get(key, ([], ""))
        out[key] = (sorted(set(prev_pos) | set(positions)), prev_err or error)
    return out


def validate(df: Any, schema: Any, *, max_examples: int = 5) -> ValidationResult:
    """Check ``df`` against ``schema`` (a Schema, its dict/JSON, or a schema file path).

    ``df`` may be a Spark DataFrame: the checks then run as Spark aggregations
    (:mod:`cmlops.stats.spark_validation`). Returns a :class:`ValidationResult` with
    one row per declared check plus one per schema-level problem; never raises for bad
    *data* - only for an unusable frame (duplicate or non-text column names) or schema
    (:class:`SchemaError`).
    """
    if is_spark_frame(df):
        from cmlops.stats.spark_validation import validate_spark

        return validate_spark(df, schema, max_examples=max_examples)
    import pandera

    check_frame(df)
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 0:
        raise SchemaError(f"max_examples must be a non-negative integer, got {max_examples!r}")
    sch = _coerce_schema(schema)
    n = len(df)
    by_col: dict[str, list[CheckResult]] = {c.name: [] for c in sch.columns}
    warnings: list[str] = [] if n else ["the frame has no rows: value checks pass vacuously"]
    runnable = _dtype_checks(df, sch, by_col)
    work = df.reset_index(drop=True)
    _value_checks(df, work, runnable, by_col, max_examples)
    results = [r for c in sch.columns for r in by_col[c.name]]
    results += _extra_columns(df, sch) + _dataset_checks(df, work, sch, runnable, max_examples)
    return ValidationResult(
        checks=results,
        verdict=verdict_of(results),
        n_rows=n,
        n_columns=df.shape[1],
        schema_name=sch.name,
        schema_version=SCHEMA_VERSION,
        schema=sch.to_dict(),
        engine=f"pandera {pandera.__version__}",
        warnings=warnings,
    )


def _dtype_checks(
    df: Any, sch: Any, by_col: dict[str, list[CheckResult]]
) -> dict[str, ColumnSchema]:
    """Presence and dtype of each declared column; the columns whose value checks can run."""
    present = set(df.columns)
    runnable: dict[str, ColumnSchema] = {}
    for col in sch.columns:
        if col.name not in present:
            if sch.missing_columns != "ignore":
                spec = CheckSpec("column_present", None, sch.missing_columns)
                by_col[col.name].append(_result(col.name, spec, False,
                                       message="column is missing from the frame"))  # fmt: skip
            for spec in col.checks:
                by_col[col.name].append(
                    _result(col.name, spec, None, message="not run: column missing")
                )
            continue
        found = dtype_family(df[col.name].dtype)
        dtype_spec = col.check("dtype") or CheckSpec("dtype", col.family, "fail")
        ok = families_compatible(col.family, found)
        msg = (
            ""
            if ok
            else f"expected {col.family} ({dtype_spec.value}), found {found} ({df[col.name].dtype})"
        )
        by_col[col.name].append(_result(col.name, dtype_spec, ok, message=msg))
        if ok:
            runnable[col.name] = col
        else:
            for spec in col.checks:
                if spec.kind != "dtype":
                    by_col[col.name].append(_result(col.name, spec, None,
                                           message=f"not run: dtype is {found}"))  # fmt: skip
    return runnable


def _extra_columns(df: Any, sch: Any) -> list[CheckResult]:
    if sch.extra_columns == "ignore":
        return []
    known = set(sch.column_names)
    spec = CheckSpec("column_known", None, sch.extra_columns)
    return [
        _result(extra, spec, False, message="column is not in the schema")
        for extra in [c for c in df.columns if c not in known]
    ]


def _value_checks(
    df: Any,
    work: Any,
    runnable: dict[str, ColumnSchema],
    by_col: dict[str, list[CheckResult]],
    max_examples: int,
) -> None:
    """Every value check of the runnable columns, in one pandera pass (lazy: all failures)."""
    import pandera.pandas as pa

    pa_columns: dict[str, Any] = {}
    check_ids: dict[int, str] = {}  # id(spec) -> pandera check name
    for i, (name, col) in enumerate(runnable.items()):
        checks = []
        for j, spec in enumerate(c for c in col.checks if c.kind not in ("dtype", "not_null")):
            cid = f"cmlops:{i}:{j}:{spec.kind}"
            check_ids[id(spec)] = cid
            checks.append(pa.Check(_column_fn(spec, col.family), name=cid))
        pa_columns[name] = pa.Column(None, checks=checks, nullable=col.nullable, required=True)
    failures = _collect(_run_pandera(work, pa.DataFrameSchema(pa_columns)))
    n = len(df)
    for name, col in runnable.items():
        for spec in col.checks:
            if spec.kind == "dtype":
                continue
            is_null = spec.kind == "not_null"
            cid = f"{name}\x00not_null" if is_null else check_ids[id(spec)]
            by_col[name].append(_finish(df, name, [name], spec, failures.get(cid), n, max_examples))


def _dataset_checks(
    df: Any, work: Any, sch: Any, runnable: dict[str, ColumnSchema], max_examples: int
) -> list[CheckResult]:
    """Checks across columns (unique combinations ...), each its own pandera pass."""
    import pandera.pandas as pa

    out = []
    for k, ds in enumerate(sch.dataset_checks):
        label = ", ".join(ds.columns)
        if not set(ds.columns) <= set(runnable):
            out.append(_result(label, ds, None, message="not run: a column is missing or "
                               "has the wrong dtype"))  # fmt: skip
            continue
        cid = f"cmlops:dataset:{k}:{ds.kind}"
        check = pa.Check(_dataset_fn(ds), name=cid, ignore_na=False)
        got = _collect(_run_pandera(work[ds.columns], pa.DataFrameSchema(checks=[check])))
        out.append(
            _finish(df, label, ds.columns, ds, got.get(cid), n=len(df), max_examples=max_examples)
        )
    return out


def _finish(
    df: Any,
    label: str,
    cols: list[str],
    spec: Any,
    failure: tuple[list[int], str] | None,
    n: int,
    max_examples: int,
) -> CheckResult:
    if failure is None:
        return _result(label, spec, True, failing_share=0.0 if n else None)
    positions, error = failure
    if error and not positions:
        return _result(label, spec, False, message=f"check could not run: {error}")
    share = len(positions) / n if n else None
    return _result(label, spec, False, failing_rows=len(positions), failing_share=share,
                   examples=_examples(df, positions, cols, max_examples),
                   message=f"{len(positions)} of {n} rows fail")  # fmt: skip
