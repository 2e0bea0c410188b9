"""A report on Spark tables named ``table:NAME``, end to end through ``cmlops report run``.

A table outlives a Spark session only in a metastore. Here, as on a cluster, the
report's kernel finds it through its Spark configuration: ``spark-defaults.conf`` in
``SPARK_CONF_DIR`` selects Spark's Hive catalog with an embedded Derby metastore and a
warehouse folder. Another process (not this test's session) writes the tables and
stops; the report then reads them by name. The package must record which table each
parameter named, with the content fingerprint of what was read — equal to the
fingerprint of the same rows read here from the Parquet files they were made from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cmlops
from cmlops.cli.report import report
from cmlops.reports.verify import verify_package
from tests.spark.test_spark_reports import SRC, frames

pytestmark = [pytest.mark.spark, pytest.mark.kernel, pytest.mark.timeout(900)]

CREATE_TABLES = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
for name in ("ref", "cur"):
    spark.read.parquet(f"{sys.argv[1]}/{name}").write.saveAsTable(f"claims_{name}")
spark.stop()
"""


def _conf(root: Path) -> Path:
    conf = root / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text(
        "spark.master local[2]\nspark.sql.shuffle.partitions 4\nspark.ui.enabled false\n"
        "spark.ui.showConsoleProgress false\nspark.sql.session.timeZone UTC\n"
        "spark.sql.catalogImplementation hive\n"
        f"spark.sql.warehouse.dir {root / 'warehouse'}\n"
        f"spark.driver.extraJavaOptions -Dderby.system.home={root / 'derby'}\n"
    )
    return conf


def test_drift_report_reads_tables_by_name_and_records_what_it_read(
    spark, tmp_path, monkeypatch
) -> None:
    ref, cur = frames()
    for name, frame in (("ref", ref), ("cur", cur)):
        spark.createDataFrame(frame).repartition(2).write.parquet(str(tmp_path / name))
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p),
        "SPARK_CONF_DIR": str(_conf(tmp_path)),
        "CMLOPS_DISPLAY": "static",
    }
    made = subprocess.run(
        [sys.executable, "-c", CREATE_TABLES, str(tmp_path)],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    args = ["run", "drift_report", "-p", "reference=table:claims_ref"]
    args += ["-p", "current=table:claims_cur", "-p", "columns=age,sex,dose"]
    result = CliRunner().invoke(report, [*args, "--out", str(tmp_path / "pkg"), "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "EXECUTED", manifest.get("error")
    metrics = manifest["results"]["metrics"]
    assert metrics["drift_n_tested"] == 3 and metrics["drift_drifted[age]"] == 1
    assert metrics["drift_drifted[dose]"] == 0
    assert manifest["parameters"]["reference"] == "table:claims_ref"
    tables = {t["parameter"]: t for t in manifest["spark"]["tables"]}
    assert {p: t["table"] for p, t in tables.items()} == {
        "reference": "claims_ref",
        "current": "claims_cur",
    }
    for parameter, folder in (("reference", "ref"), ("current", "cur")):
        read_here = cmlops.fingerprint(spark.read.parquet(str(tmp_path / folder)))
        assert tables[parameter]["fingerprint"] == read_here, parameter
    assert verify_package(tmp_path / "pkg").ok
