"""``cmlops.validate`` and ``cmlops.infer_schema`` on Spark frames: checks as Spark aggregations.

The same schema, the same result rows as the pandas path (:mod:`cmlops.stats.validation`),
computed where the data are:

- every value check (not null, min, max, allowed values, regex, date order) is one
  ``count_if`` in a single aggregation over the frame: exact failing counts;
- uniqueness (a column, or a composite key) is a ``groupBy`` of the key keeping the
  groups seen more than once: exact counts of the rows involved;
- a failed check fetches ``max_examples`` offending rows (``limit``), never more.

Differences a reviewer should know: a Spark frame has no row labels, so examples
carry ``"row": None`` and the offending values; regular expressions run in the
JVM (``rlike``, Java syntax, anchored as ``re.fullmatch``) — Python-only syntax
(``(?P<name>…)``) is translated, anything else that differs between the two
dialects is the user's to check. NaN counts as missing, as in pandas.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from cmlops.spark_frames import spark_errors
from cmlops.stats.schema import (
    SCHEMA_VERSION,
    CheckSpec,
    ColumnSchema,
    Schema,
    SchemaError,
    as_schema,
    families_compatible,
    sorted_values,
)
from cmlops.stats.spark_profile import _col
from cmlops.stats.validation_result import (
    CheckResult,
    ValidationResult,
    check_result,
    verdict_of,
)

__all__ = ["infer_columns", "spark_family", "validate_spark"]

_FAMILIES = {
    "byte": "integer",
    "short": "integer",
    "integer": "integer",
    "long": "integer",
    "float": "float",
    "double": "float",
    "decimal": "float",
    "boolean": "boolean",
    "string": "string",
    "varchar": "string",
    "char": "string",
    "timestamp": "datetime[UTC]",
    "timestamp_ntz": "datetime",
    "date": "date",
}
_SET_FAMILIES = ("string", "boolean", "integer")
_KEY_FAMILIES = ("integer", "string")


def spark_family(type_name: str) -> str:
    """The schema family of a Spark type (an instant is ``datetime[UTC]``, as pandas reads it)."""
    return _FAMILIES.get(type_name, "object")


def _types(df: Any) -> dict[str, tuple[str, str]]:
    names = list(df.columns)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaError(
            f"df has duplicate column names {dupes[:5]}; rename them so each is unique"
        )
    return {f.name: (f.dataType.typeName(), f.dataType.simpleString()) for f in df.schema.fields}


def java_regex(pattern: str) -> str:
    """A Python ``re.fullmatch`` pattern as a Java regex that Spark's ``rlike`` anchors the same."""
    java = re.sub(r"\(\?P<([A-Za-z]\w*)>", r"(?<\1>", pattern)
    java = re.sub(r"\(\?P=([A-Za-z]\w*)\)", r"\\k<\1>", java)
    return rf"\A(?:{java})\z"


def _bound(value: Any, type_name: str) -> Any:
    from pyspark.sql import functions as F

    if type_name in ("timestamp", "timestamp_ntz", "date"):
        return F.lit(str(value)).cast(type_name)
    return F.lit(value)


def _violation(spec: CheckSpec, name: str, type_name: str) -> Any:
    """A boolean column: true on the rows that break ``spec`` (missing values never do,
    except for not_null)."""
    from pyspark.sql import functions as F

    c = _col(name)
    nan = F.isnan(c) if type_name in ("float", "double") else F.lit(False)
    if spec.kind == "not_null":
        return c.isNull() | nan
    present = c.isNotNull() & ~nan
    if spec.kind == "min":
        return present & (c < _bound(spec.value, type_name))
    if spec.kind == "max":
        return present & (c > _bound(spec.value, type_name))
    if spec.kind == "allowed_values":
        return present & ~c.isin(list(spec.value or []))
    if spec.kind == "regex":
        return present & ~c.cast("string").rlike(java_regex(str(spec.value)))
    raise SchemaError(f"unknown column check {spec.kind!r}")


def _schema_level(df: Any, sch: Schema, types: dict) -> tuple[dict, dict, list]:
    """Missing columns, dtype families and unknown columns, as rows; and the runnable columns."""
    by_col: dict[str, list[CheckResult]] = {c.name: [] for c in sch.columns}
    runnable: dict[str, ColumnSchema] = {}
    for col in sch.columns:
        if col.name not in types:
            if sch.missing_columns != "ignore":
                spec = CheckSpec("column_present", None, sch.missing_columns)
                by_col[col.name].append(
                    check_result(col.name, spec, False, message="column is missing from the frame")
                )
            by_col[col.name] += [
                check_result(col.name, s, None, message="not run: column missing")
                for s in col.checks
            ]
            continue
        type_name, simple = types[col.name]
        found = spark_family(type_name)
        spec = col.check("dtype") or CheckSpec("dtype", col.family, "fail")
        ok = families_compatible(col.family, found)
        msg = "" if ok else f"expected {col.family} ({spec.value}), found {found} ({simple})"
        by_col[col.name].append(check_result(col.name, spec, ok, message=msg))
        if ok:
            runnable[col.name] = col
        else:
            by_col[col.name] += [
                check_result(col.name, s, None, message=f"not run: dtype is {found}")
                for s in col.checks
                if s.kind != "dtype"
            ]
    extras = []
    if sch.extra_columns != "ignore":
        known = set(sch.column_names)
        spec = CheckSpec("column_known", None, sch.extra_columns)
        extras = [
            check_result(n, spec, False, message="column is not in the schema")
            for n in types
            if n not in known
        ]
    return by_col, runnable, extras


def _plan(runnable: dict, types: dict, sch: Schema) -> list[tuple]:
    """Every check: (label, columns, spec, violation column | "unique" | "unique_key" | None)."""
    from pyspark.sql import functions as F

    plan = []
    for name, col in runnable.items():
        for spec in col.checks:
            if spec.kind == "dtype":
                continue
            how = "unique" if spec.kind == "unique" else _violation(spec, name, types[name][0])
            plan.append((name, [name], spec, how))
    for ds in sch.dataset_checks:
        label = ", ".join(ds.columns)
        if not set(ds.columns) <= set(runnable):
            plan.append((label, list(ds.columns), ds, None))
        elif ds.kind == "unique_key":
            plan.append((label, list(ds.columns), ds, "unique_key"))
        else:
            start, end = (_col(c) for c in ds.columns)
            plan.append((label, list(ds.columns), ds, F.coalesce(start > end, F.lit(False))))
    return plan


def _duplicates(df: Any, cols: list[str], skip_nulls: bool, k: int) -> tuple[int, list]:
    """Rows whose key occurs more than once, and up to ``k`` such keys with their counts."""
    from pyspark.sql import functions as F

    keyed = df.select(*[_col(c).alias(f"k{i}") for i, c in enumerate(cols)])
    if skip_nulls:
        keyed = keyed.where(" and ".join(f"k{i} is not null" for i in range(len(cols))))
    groups = keyed.groupBy(*keyed.columns).count().where("count > 1")
    row = groups.agg(F.sum("count")).first()
    total = int(row[0] or 0)
    examples = groups.limit(k).collect() if total and k else []
    return total, examples


def _example(values: list, cols: list[str]) -> dict:
    from cmlops.json_safe import json_safe

    value = (
        json_safe(values[0])
        if len(cols) == 1
        else {c: json_safe(v) for c, v in zip(cols, values, strict=True)}
    )
    return {"row": None, "value": value}


def _run(df: Any, plan: list[tuple], n: int, k: int) -> list[CheckResult]:
    from pyspark.sql import functions as F

    counted = [
        (i, how)
        for i, (_, _, _, how) in enumerate(plan)
        if not isinstance(how, str) and how is not None
    ]
    with spark_errors("validating the Spark frame"):
        row = (
            df.agg(*[F.count_if(how).alias(f"v{i}") for i, how in counted]).first()
            if counted
            else None
        )
        out = []
        for i, (label, cols, spec, how) in enumerate(plan):
            if how is None:
                out.append(
                    check_result(
                        label,
                        spec,
                        None,
                        message="not run: a column is missing or has the wrong dtype",
                    )
                )
                continue
            if isinstance(how, str):
                bad, groups = _duplicates(df, cols, how == "unique", k)
                examples = [_example(list(g)[:-1], cols) for g in groups]
            else:
                bad = int(row[f"v{i}"])
                rows = (
                    df.where(how).select(*[_col(c) for c in cols]).limit(k).collect()
                    if bad and k
                    else []
                )
                examples = [_example(list(r), cols) for r in rows]
            out.append(_outcome(label, spec, bad, n, examples))
    return out


def _outcome(label: str, spec: Any, bad: int, n: int, examples: list) -> CheckResult:
    if not bad:
        return check_result(label, spec, True, failing_share=0.0 if n else None)
    return check_result(
        label,
        spec,
        False,
        failing_rows=bad,
        failing_share=bad / n if n else None,
        examples=examples,
        message=f"{bad} of {n} rows fail",
    )


def validate_spark(df: Any, schema: Any, *, max_examples: int = 5) -> ValidationResult:
    """:func:`cmlops.validate` of a Spark frame (see the module docstring)."""
    from cmlops.spark_frames import spark_version

    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 0:
        raise SchemaError(f"max_examples must be a non-negative integer, got {max_examples!r}")
    types = _types(df)
    sch = as_schema(schema)
    by_col, runnable, extras = _schema_level(df, sch, types)
    with spark_errors("counting the rows of the Spark frame"):
        n = int(df.count())
    results = _run(df, _plan(runnable, types, sch), n, max_examples)
    n_column_checks = sum(
        len([s for s in c.checks if s.kind != "dtype"]) for c in runnable.values()
    )
    for r in results[:n_column_checks]:
        by_col[r.column].append(r)
    datasets = results[n_column_checks:]
    ordered = [r for c in sch.columns for r in by_col[c.name]] + extras + datasets
    return ValidationResult(
        checks=ordered,
        verdict=verdict_of(ordered),
        n_rows=n,
        n_columns=len(types),
        schema_name=sch.name,
        schema_version=SCHEMA_VERSION,
        schema=sch.to_dict(),
        engine=f"spark {spark_version(df)}",
        warnings=[] if n else ["the frame has no rows: value checks pass vacuously"],
    )


def _epoch_to_iso(value: Any, type_name: str) -> str:
    """A min/max collected as integers (micros or days) as the ISO text pandas would store."""
    epoch = _dt.datetime(1970, 1, 1)
    if type_name == "date":
        return (epoch.date() + _dt.timedelta(days=int(value))).isoformat()
    moment = epoch + _dt.timedelta(microseconds=int(value))
    if type_name == "timestamp":
        return moment.replace(tzinfo=_dt.timezone.utc).isoformat()
    return moment.isoformat()


def _profile_aggs(names: list[str], types: dict) -> list:
    from pyspark.sql import functions as F

    from cmlops.stats.spark_profile import finite_values

    aggs = [F.count(F.lit(1)).alias("rows")]
    for j, name in enumerate(names):
        type_name = types[name][0]
        family = spark_family(type_name)
        c = _col(name)
        nan = F.count_if(F.isnan(c)) if type_name in ("float", "double") else F.lit(0)
        aggs += [F.count(c).alias(f"n{j}"), nan.alias(f"nan{j}")]
        if family in ("integer", "float"):
            v = finite_values(name, type_name)
            aggs += [F.min(v).alias(f"lo{j}"), F.max(v).alias(f"hi{j}")]
        elif type_name in ("timestamp", "timestamp_ntz", "date"):
            v = (
                F.unix_date(c)
                if type_name == "date"
                else (finite_values(name, type_name) * F.lit(1e6)).cast("long")
            )
            aggs += [F.min(v).alias(f"lo{j}"), F.max(v).alias(f"hi{j}")]
        if family in _SET_FAMILIES:
            aggs.append(F.approx_count_distinct(c).alias(f"hll{j}"))
    return aggs


def _values_and_keys(df, names, types, stats, max_categories) -> dict:
    """Second job: exact value sets (small columns), exact distinct counts (candidate keys)."""
    from pyspark.sql import functions as F

    aggs = []
    for j, name in enumerate(names):
        family = spark_family(types[name][0])
        hll = stats.get(f"hll{j}")
        if hll is None:
            continue
        if hll <= 2 * max_categories + 10:
            aggs.append(F.collect_set(_col(name)).alias(f"set{j}"))
        no_nulls = stats[f"n{j}"] == stats["rows"] and not stats[f"nan{j}"]
        if (
            family in _KEY_FAMILIES
            and no_nulls
            and stats["rows"] >= 2
            and hll >= 0.9 * stats["rows"]
        ):
            aggs.append(F.count_distinct(_col(name)).alias(f"nd{j}"))
    if not aggs:
        return {}
    with spark_errors("inferring the schema of the Spark frame"):
        return df.agg(*aggs).first().asDict()


def infer_columns(df: Any, max_categories: int, sev: dict) -> tuple[int, list[ColumnSchema]]:
    """(rows, column schemas) of a Spark frame, by the rules of :func:`cmlops.infer_schema`."""
    types = _types(df)
    names = list(types)
    with spark_errors("inferring the schema of the Spark frame"):
        stats = df.agg(*_profile_aggs(names, types)).first().asDict()
    extra = _values_and_keys(df, names, types, stats, max_categories)
    rows = int(stats["rows"])
    columns = []
    for j, name in enumerate(names):
        type_name, simple = types[name]
        family = spark_family(type_name)
        checks = [CheckSpec("dtype", simple, sev["dtype"])]
        missing = rows - int(stats[f"n{j}"]) + int(stats[f"nan{j}"])
        if rows and not missing:
            checks.append(CheckSpec("not_null", None, sev["not_null"]))
        lo, hi = stats.get(f"lo{j}"), stats.get(f"hi{j}")
        if lo is not None:
            if family in ("integer", "float"):
                cast = int if family == "integer" else float
                lo, hi = cast(lo), cast(hi)
            else:
                lo, hi = _epoch_to_iso(lo, type_name), _epoch_to_iso(hi, type_name)
            checks += [CheckSpec("min", lo, sev["min"]), CheckSpec("max", hi, sev["max"])]
        values = extra.get(f"set{j}")
        if values is not None and 0 < len(values) <= max_categories:
            checks.append(CheckSpec("allowed_values", sorted_values(values), sev["allowed_values"]))
        if extra.get(f"nd{j}") == rows:
            checks.append(CheckSpec("unique", None, sev["unique"]))
        columns.append(ColumnSchema(name, family, checks))
    return rows, columns
