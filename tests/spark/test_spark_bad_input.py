"""Issue 13's bad input on a real Spark: one-line errors or a skipped column with its reason.

Drift's own cases (no common column, dtype mismatch, map/array/binary, all-null,
empty partitions and an empty side) are in test_spark_drift.py, monitoring's in
test_spark_monitor.py; here: validation and fingerprints of the same inputs, a
path that does not exist, a table that does not exist, and Java missing or broken.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cmlops
from cmlops.errors import InvalidInputError
from cmlops.reports.data_inputs import read_dataset
from cmlops.spark_frames import spark_errors

pytestmark = pytest.mark.spark

ODD = (
    "select id, map('a', id) as m, array(id) as arr, cast('x' as binary) as bin, "
    "cast(null as double) as nothing, cast(id as double) as v from range({n})"
)


def test_validation_of_odd_types_all_null_and_empty_partitions(spark) -> None:
    frame = spark.sql(ODD.format(n=40)).repartition(16)  # 40 rows, some partitions empty
    schema = cmlops.infer_schema(frame)
    families = {c.name: c.family for c in schema.columns}
    assert families["m"] == families["arr"] == families["bin"] == "object"
    assert families["v"] == "float" and families["id"] == "integer"
    result = cmlops.validate(frame, schema)
    assert result.n_rows == 40 and not result.failures()
    nothing = [r for r in result.checks if r.column == "nothing"]
    assert nothing and all(r.status != "fail" for r in nothing)
    # the same schema on a frame where 'v' is all null and a column is missing
    worse = (
        spark.sql(ODD.format(n=40))
        .drop("bin")
        .selectExpr("id", "m", "arr", "nothing", "cast(null as double) as v")
    )
    got = cmlops.validate(worse, schema)
    by = {(r.column, r.check): r for r in got.checks}
    assert by[("bin", "column_present")].status == "fail"
    assert by[("v", "not_null")].failing_rows == 40


def test_fingerprints_of_odd_types_are_stable_and_need_no_collect(spark) -> None:
    a = spark.sql(ODD.format(n=30))
    b = spark.sql(ODD.format(n=30)).repartition(7)
    assert cmlops.fingerprint(a) == cmlops.fingerprint(b)
    c = spark.sql(ODD.format(n=30).replace("array(id)", "array(id, 1)"))
    assert cmlops.fingerprint(c) != cmlops.fingerprint(a)


def test_missing_path_and_table_are_one_line(spark, tmp_path) -> None:
    """Spark's own PATH_NOT_FOUND / TABLE_OR_VIEW_NOT_FOUND, raised by a real JVM."""
    with pytest.raises(InvalidInputError) as info:
        with spark_errors("reading the reference"):
            spark.read.parquet(str(tmp_path / "nowhere")).count()
    assert str(info.value).startswith("reading the reference: Path does not exist")
    one_line(str(info.value))
    with pytest.raises(InvalidInputError, match="reading the Spark table nowhere") as info:
        read_dataset("table:nowhere")
    one_line(str(info.value))
    with pytest.raises(InvalidInputError, match="does not exist") as info:
        read_dataset(str(tmp_path / "gone"))  # removed after the parameters were checked
    one_line(str(info.value))


def one_line(message: str) -> None:
    assert "\n" not in message and "at org.apache" not in message and len(message) < 300


def test_monitor_and_drift_of_frames_that_do_not_match(spark) -> None:
    df = pd.DataFrame(
        {"when": pd.date_range("2025-01-01", periods=90, freq="D", tz="UTC"), "x": range(90)}
    )
    sdf = spark.createDataFrame(df)
    other = spark.createDataFrame(pd.DataFrame({"y": [1.0, 2.0]}))
    with pytest.raises(InvalidInputError, match="no column in common") as info:
        cmlops.monitor(sdf, time="when", window="MS", reference=other)
    assert "\n" not in str(info.value)


FAKE_JAVA = "#!/bin/sh\necho 'Error: could not create the Java Virtual Machine.' >&2\nexit 1\n"
PROBE = """
import sys
from cmlops.errors import CmlopsError
from cmlops.spark_frames import spark_session
try:
    spark_session("probe", master="local[1]")
except CmlopsError as exc:
    print(type(exc).__name__ + ": " + str(exc))
    sys.exit(3)
print("started")
"""


@pytest.mark.parametrize("java", ["broken", "absent"])
def test_java_missing_or_broken_is_one_line(tmp_path: Path, java: str) -> None:
    """A fresh interpreter, so no Spark session of this test run is reused."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK", "PYSPARK"))}
    home = tmp_path / "jdk"
    if java == "broken":
        (home / "bin").mkdir(parents=True)
        (home / "bin" / "java").write_text(FAKE_JAVA)
        (home / "bin" / "java").chmod(0o755)
        env["JAVA_HOME"] = str(home)
        probe = PROBE
    else:
        env["JAVA_HOME"] = str(home)  # no bin/java there, none on PATH, no Debian JDK
        env["PATH"] = "/nonexistent"
        probe = "import glob; glob.glob = lambda pattern: []\n" + PROBE
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("SparkError: "), done.stdout
    assert "Java" in lines[0] and ("openjdk-17-jre-headless" in lines[0] or "JAVA_HOME" in lines[0])
    assert "Traceback" not in done.stdout
