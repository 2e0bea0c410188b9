"""One real local Spark for the whole test session (``local[2]``, no UI, quiet logs).

Spark 4 needs Java 17 (``.ci/setup --test`` installs Debian's openjdk-17-jre-headless).
Starting a session costs ~10 s on this machine, so it is started once and shared;
tests use small data. Deselect every Spark test with ``-m 'not spark'``.
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.fail("pyspark is not installed (pip install 'cmlops[spark]'), "
                    "or deselect these tests with -m 'not spark'")  # fmt: skip
    java17 = sorted(glob.glob("/usr/lib/jvm/java-17-openjdk-*"))
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if "JAVA_HOME" not in os.environ and java17:
        os.environ["JAVA_HOME"] = java17[0]
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("cmlops-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
