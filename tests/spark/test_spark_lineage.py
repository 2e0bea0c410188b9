"""Spark fingerprints and the lineage of Spark I/O, on a real local Spark (and real Delta logs).

Delta tables are written with ``deltalake`` (delta-rs, a real Delta writer from PyPI):
delta-spark's JVM jars come from Maven Central, which this machine cannot reach, so
Spark itself does not read Delta here (docs/spark.md says so).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cmlops
from cmlops.capture.hooks import Hooks, IOLog
from cmlops.spark_sources import FileDigests, dataset_identity, delta_identity

pytestmark = pytest.mark.spark


def frame(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"id": np.arange(n), "x": rng.normal(size=n), "s": rng.choice(["a", "b", None], n)}
    )


def listing_digest(root: Path) -> str:
    """The documented digest, recomputed independently with hashlib."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))
    lines = "".join(
        f"{p.relative_to(root)}\t{'sha256:' + hashlib.sha256(p.read_bytes()).hexdigest()}\n"
        for p in files
    )
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def test_content_fingerprint_names_the_rows_not_their_order(spark) -> None:
    pdf = frame()
    a = spark.createDataFrame(pdf)
    b = spark.createDataFrame(pdf.sample(frac=1.0, random_state=3)).repartition(5)
    fp = cmlops.fingerprint(a)
    assert fp.startswith("sha256:") and fp == cmlops.fingerprint(b)
    changed = pdf.copy()
    changed.loc[17, "x"] += 1e-12
    assert cmlops.fingerprint(spark.createDataFrame(changed)) != fp
    assert cmlops.fingerprint(a.withColumnRenamed("x", "y")) != fp
    assert cmlops.fingerprint(a.limit(199)) != fp
    t1 = spark.sql("select timestamp'2024-01-01 00:00:00.000001' as t")
    t2 = spark.sql("select timestamp'2024-01-01 00:00:00.000002' as t")
    assert cmlops.fingerprint(t1) != cmlops.fingerprint(t2)
    summary = cmlops.schema_summary(a)
    assert summary["kind"] == "spark_dataframe" and summary["rows"] is None
    assert [c["name"] for c in summary["columns"]] == ["id", "x", "s"]


def test_file_dataset_digest_is_the_documented_listing(spark, tmp_path) -> None:
    out = tmp_path / "extract"
    spark.createDataFrame(frame()).repartition(3).write.parquet(str(out))
    cache = FileDigests()
    ident = dataset_identity(f"file:{out}", cache)
    assert ident["format"] == "files" and ident["files"] == 3
    assert ident["digest"] == listing_digest(out)
    part = next(out.glob("part-*"))
    part.write_bytes(part.read_bytes() + b"\0")  # one byte more in one file
    assert dataset_identity(str(out), cache)["digest"] == listing_digest(out) != ident["digest"]
    assert dataset_identity("s3a://bucket/key", cache)["format"] == "remote"
    with pytest.raises(FileNotFoundError):
        dataset_identity(str(tmp_path / "nothing-here"), cache)


def test_delta_table_version_and_log_digest(tmp_path) -> None:
    from deltalake import write_deltalake

    table = tmp_path / "delta"
    write_deltalake(str(table), frame(50))
    cache = FileDigests()
    v0 = delta_identity(str(table), cache)
    assert v0["version"] == 0 and v0["format"] == "delta"
    write_deltalake(str(table), frame(20, seed=2), mode="append")
    v1 = dataset_identity(str(table), cache)
    assert v1["version"] == 1 and v1["log_digest"] != v0["log_digest"]
    assert v1["digest"] != v0["digest"]
    assert dataset_identity(str(table), cache, version=0)["digest"] == v0["digest"]


def test_spark_reads_and_writes_are_noted_with_their_digests(spark, tmp_path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    spark.createDataFrame(frame()).write.parquet(str(src))
    log = IOLog()
    hooks = Hooks(log)
    hooks.install()
    try:
        df = spark.read.parquet(str(src))
        df.where("x > 0").write.mode("overwrite").parquet(str(dst))
    finally:
        hooks.restore()
    log.finish()
    seen = [(e.role, e.via, e.kind, e.path, e.digest) for e in log.events]
    assert seen == [
        ("input", "spark.read.parquet", "dataset", str(src), listing_digest(src)),
        ("output", "DataFrame.write.parquet", "dataset", str(dst), listing_digest(dst)),
    ]
    from pyspark.sql.readwriter import DataFrameReader

    assert not getattr(DataFrameReader.parquet, "__cmlops_hook__", False)  # restored


def test_a_tracked_block_records_spark_io_and_frames_without_collecting(spark, tmp_path) -> None:
    src, dst = tmp_path / "in", tmp_path / "out"
    spark.createDataFrame(frame()).write.parquet(str(src))
    store = cmlops.open_store()
    ns: dict = {"spark": spark, "src": str(src), "dst": str(dst)}
    with cmlops.track("etl", namespace=ns, store=store):
        exec(
            "df = spark.read.parquet(src)\n"
            "positive = df.where('x > 0')\n"
            "positive.write.parquet(dst)\n",
            ns,
        )
    graph = store.lineage_graph()
    by_location = {e.location: e for e in graph.entities.values()}
    read, written = by_location[str(src)], by_location[str(dst)]
    assert read.kind == written.kind == "dataset"
    assert read.fingerprint == listing_digest(src)
    assert written.fingerprint == listing_digest(dst)
    variable = by_location["variable:positive"]
    assert variable.schema["kind"] == "spark_dataframe"
    assert variable.attributes["plan_inputs"][0]["location"] == str(src)
    assert variable.attributes["plan_inputs"][0]["digest"] == listing_digest(src)
    activity = next(iter(graph.activities.values()))
    used = {u.entity_id for u in graph.used if u.activity_id == activity.id}
    generated = {g.entity_id for g in graph.generated if g.activity_id == activity.id}
    assert read.id in used and written.id in generated and variable.id in generated
    assert os.path.isdir(dst)
