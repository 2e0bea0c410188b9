"""Fingerprints of Spark DataFrames: by content (a Spark job) or by derivation (no job).

``cmlops.fingerprint(spark_df)`` is a **content** fingerprint, computed in Spark
without collecting the data: each row's SHA-256 over its canonical JSON (times as
integer microseconds/days, so no time-zone or precision loss), rows grouped into 256
buckets by the first byte of their hash, each bucket's sorted hashes hashed again;
the driver receives 256 digests and hashes them with the schema and the row count.
A Spark frame has no row order, so the fingerprint names the *multiset* of rows:
the same rows in any partitioning give the same value; one changed cell, a renamed
column or a changed type give another.

A tracked cell cannot afford a job for every frame it defines (Spark frames are
lazy), so capture records a **derivation identity** instead
(:func:`cmlops.spark_sources.plan_identity`):
the schema, the analysed logical plan (expression ids removed) and the content
digests of the files or Delta tables the plan reads (:mod:`cmlops.spark_sources`).
Frames built from in-memory data have no such input: they are identified within
the running session only, and say so.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cmlops.spark_frames import spark_errors

__all__ = ["content_fingerprint", "spark_schema_summary"]


def _canonical(f: Any) -> Any:
    from pyspark.sql import functions as F

    c = F.col("`" + f.name.replace("`", "``") + "`")
    t = f.dataType.typeName()
    if t == "timestamp":
        return F.unix_micros(c).alias(f.name)
    if t == "timestamp_ntz":
        epoch = "TIMESTAMP_NTZ'1970-01-01 00:00:00'"
        return F.expr(f"timestampdiff(MICROSECOND, {epoch}, `{f.name.replace('`', '``')}`)").alias(
            f.name
        )
    if t == "date":
        return F.unix_date(c).alias(f.name)
    if t == "binary":
        return F.base64(c).alias(f.name)
    return c


def spark_schema_summary(df: Any) -> dict[str, Any]:
    """Columns and types of a Spark frame, without running a job (rows are not counted)."""
    return {
        "kind": "spark_dataframe",
        "rows": None,
        "columns": [
            {"name": f.name, "dtype": f.dataType.simpleString(), "nullable": bool(f.nullable)}
            for f in df.schema.fields
        ],
    }


def content_fingerprint(df: Any) -> str:
    """``sha256:<hex>`` of the multiset of rows, computed in Spark (see the module docstring)."""
    from pyspark.sql import functions as F

    row = F.to_json(F.struct(*[_canonical(f) for f in df.schema.fields]))
    hashed = df.select(F.sha2(row, 256).alias("h"))
    buckets = hashed.groupBy(F.substring("h", 1, 2).alias("b")).agg(
        F.count(F.lit(1)).alias("n"),
        F.sha2(F.concat_ws("", F.array_sort(F.collect_list("h"))), 256).alias("d"),
    )
    with spark_errors("fingerprinting the Spark frame"):
        parts = sorted((r["b"], int(r["n"]), r["d"]) for r in buckets.collect())
    basis = {
        "format": "cmlops.spark-rows/1",
        "schema": spark_schema_summary(df)["columns"],
        "rows": sum(n for _, n, _ in parts),
        "buckets": [list(p) for p in parts],
    }
    text = json.dumps(basis, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
