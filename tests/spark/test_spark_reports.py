"""drift_report and data_validation on Spark data, end to end through ``cmlops report run``.

The same data go through each template twice — as Parquet folders read by Spark in
the report's kernel, and as CSV files read by pandas — and the two packages must
agree: verdict, criteria, per-column drift flags, validation counts. The Spark
package's manifest must record the Spark version, the sketch parameters and the
error bounds, and the folders' content digests a reviewer can recompute.

Cost: each Spark run starts a JVM in the report's kernel (the dominant cost), so the
module runs each template once per engine (four runs) and the tests share them.
The kernel's Spark reads ``spark-defaults.conf`` from ``SPARK_CONF_DIR`` (local[2],
four shuffle partitions), Spark's own mechanism for a session one does not build.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import cmlops
from cmlops.cli.package import package
from cmlops.cli.report import report
from cmlops.reports.data_inputs import check_dataset, read_dataset
from cmlops.reports.verify import verify_package

#: a Spark run starts a JVM in the report's kernel: minutes on a loaded 2-core machine
pytestmark = [pytest.mark.spark, pytest.mark.kernel, pytest.mark.timeout(900)]
SRC = Path(__file__).resolve().parents[2] / "src"


def frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 3000
    ref = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.normal(60, 10, n),
            "sex": rng.choice(["F", "M"], n),
            "dose": rng.exponential(2.0, n),
        }
    )
    cur = pd.DataFrame(
        {
            "id": np.arange(n, 2 * n),
            "age": rng.normal(66, 10, n),  # drifted
            "sex": rng.choice(["F", "M"], n),
            "dose": rng.exponential(2.0, n),
        }
    )
    cur.loc[:4, "age"] = np.nan  # not null fails in validation
    return ref, cur


def run(args: list[str]) -> dict:
    result = CliRunner().invoke(report, ["run", *args, "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    folder = Path(args[args.index("--out") + 1])
    return json.loads((folder / "manifest.json").read_text("utf-8"))


class Packages:
    """The packages of this module, each run once on first use (a JVM start per Spark run)."""

    RUNS: ClassVar[dict[str, list[str]]] = {
        # sketch_k=256: the sketches compact on 3,000 rows, so the bounds are not zero
        "drift-spark": [
            "drift_report",
            "-p",
            "reference=ref",
            "-p",
            "current=cur",
            "-p",
            "sketch_k=256",
        ],
        "drift-pandas": ["drift_report", "-p", "reference=ref.csv", "-p", "current=cur.csv"],
        "valid-spark": ["data_validation", "-p", "data=cur", "-p", "reference=ref"],
        "valid-pandas": ["data_validation", "-p", "data=cur.csv", "-p", "reference=ref.csv"],
    }

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[str, dict] = {}

    def __getitem__(self, name: str) -> dict:
        if name not in self.made:
            args = self.RUNS[name] + ["--out", str(self.root / name)]
            if name.startswith("drift"):
                args += ["-p", "columns=age,sex,dose"]
            cwd = Path.cwd()
            os.chdir(self.root)
            try:
                self.made[name] = run(args)
            finally:
                os.chdir(cwd)
        return self.made[name]


@pytest.fixture(scope="module")
def packages(spark, tmp_path_factory) -> Iterator[Packages]:
    """The data as Parquet folders (for Spark) and CSV files (for pandas); the kernel's env."""
    root = tmp_path_factory.mktemp("spark-reports")
    conf = root / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text(
        "spark.master local[2]\nspark.sql.shuffle.partitions 4\nspark.ui.enabled false\n"
        "spark.ui.showConsoleProgress false\nspark.sql.session.timeZone UTC\n"
    )
    ref, cur = frames()
    for name, frame in (("ref", ref), ("cur", cur)):
        spark.createDataFrame(frame).repartition(2).write.parquet(str(root / name))
        frame.to_csv(root / f"{name}.csv", index=False)
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p),
        "SPARK_CONF_DIR": str(conf),
        "CMLOPS_DISPLAY": "static",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield Packages(root)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def listing_digest(folder: Path) -> str:
    """The documented folder digest, recomputed as a reviewer would (sha256sum per file)."""
    lines = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(("_", ".")) for p in rel.parts):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{rel.as_posix()}\tsha256:{digest}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


def test_drift_report_on_spark_equals_the_pandas_package(packages) -> None:
    spark, pandas = packages["drift-spark"], packages["drift-pandas"]
    assert spark["status"] == pandas["status"] == "EXECUTED", spark.get("error")
    assert spark["results"]["verdict"] == pandas["results"]["verdict"]
    outcomes = [(c["id"], c["outcome"]) for c in spark["results"]["criteria"]]
    assert outcomes == [(c["id"], c["outcome"]) for c in pandas["results"]["criteria"]]
    metrics = spark["results"]["metrics"]
    for name in ("age", "sex", "dose"):
        assert (
            metrics[f"drift_drifted[{name}]"]
            == pandas["results"]["metrics"][f"drift_drifted[{name}]"]
        )
    assert metrics["drift_drifted[age]"] == 1 and metrics["drift_n_tested"] == 3
    # the inputs: folders hashed as documented, recomputable with sha256sum
    for item in spark["inputs"]:
        folder = Path(item["path"])
        assert item["format"] == "parquet" and item["files"] >= 2
        assert item["sha256"] == listing_digest(folder)
    assert {f["name"] for f in spark["frames"]} == {"reference", "current"}
    assert verify_package(packages.root / "drift-spark").ok


def test_drift_manifest_records_spark_version_sketch_and_bounds(packages, spark) -> None:
    section = packages["drift-spark"]["spark"]
    assert section["spark_version"] == spark.version
    drift = section["drift"]
    assert drift["engine"]["engine"] == "spark" and drift["exact"] is False
    assert drift["engine"]["sketch_k"] == 256
    assert drift["engine"]["rank_error"]
    assert packages["drift-spark"]["parameters"]["sketch_k"] == 256
    assert set(drift["columns"]) == {"age", "sex", "dose"}
    ref, cur = frames()
    exact = cmlops.drift(ref, cur, columns=["age", "sex", "dose"])
    for name in ("age", "dose"):
        col = drift["columns"][name]
        assert col["error_bound"] > 0, name  # the sketches compacted
        lo, hi = col["statistic_interval"]
        assert lo <= exact[name].statistic <= hi, name
        assert abs(col["statistic"] - exact[name].statistic) <= col["error_bound"], name
    assert drift["columns"]["sex"]["error_bound"] == 0.0  # exact counts
    assert drift["columns"]["sex"]["statistic"] == pytest.approx(exact["sex"].statistic)
    assert set(section["frames"]) == {"reference", "current"}
    assert "spark" not in packages["drift-pandas"]


def test_data_validation_on_spark_equals_the_pandas_package(packages, spark) -> None:
    got, expected = packages["valid-spark"], packages["valid-pandas"]
    assert got["status"] == expected["status"] == "EXECUTED", got.get("error")
    assert got["results"]["verdict"] == expected["results"]["verdict"] == "FAIL"
    for key in ("failed_checks", "warned_checks", "rows"):
        assert got["results"]["metrics"][key] == expected["results"]["metrics"][key], key
    assert got["spark"]["spark_version"] == spark.version
    assert got["spark"]["validation"]["engine"] == f"spark {spark.version}"
    result = CliRunner().invoke(package, ["verify", str(packages.root / "valid-spark")])
    assert result.exit_code == 0, result.output


def test_dataset_values_are_checked_before_a_kernel_starts(packages, tmp_path) -> None:
    root = packages.root
    cases = [
        (["-p", "reference=table:x;drop table y", "-p", "current=cur"], "is not a table name"),
        (["-p", "reference=s3a://bucket/ref", "-p", "current=cur"], "remote locations"),
        (["-p", f"reference={root / 'nowhere'}", "-p", "current=cur"], "not found"),
        (["-p", f"reference={root / 'conf'}", "-p", "current=cur"], "cannot read as one table"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(
            report, ["run", "drift_report", *args, "--out", str(tmp_path / "x"), "--no-progress"]
        )
        assert result.exit_code == 2, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and message in errors[0], result.output
    assert not (tmp_path / "x").exists()


def test_tables_are_read_by_name(spark, packages) -> None:
    """A table of the session (here a temporary view) is read by name, never as SQL."""
    spark.read.parquet(str(packages.root / "ref")).createOrReplaceTempView("claims_ref")
    value = check_dataset("table:claims_ref", Path.cwd(), "p")
    assert value == "table:claims_ref"
    frame = read_dataset(value)
    assert frame.count() == 3000 and frame.columns == ["id", "age", "sex", "dose"]
    from cmlops.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="reading the Spark table no_such_table") as info:
        read_dataset("table:no_such_table")
    assert "\n" not in str(info.value)
