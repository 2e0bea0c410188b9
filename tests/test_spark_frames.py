"""Spark frames are recognised without importing pyspark; Spark errors become one line.

No Java needed here: these run in every environment (the Spark tests proper are in
tests/spark, marked ``spark``).
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from cmlops.errors import InvalidInputError, SparkError
from cmlops.spark_frames import is_spark_frame, spark_errors


def test_importing_cmlops_and_its_statistics_does_not_import_pyspark() -> None:
    code = (
        "import sys, cmlops, cmlops.stats.drift, cmlops.stats.validation, "
        "cmlops.fingerprinting, cmlops.capture.hooks\n"
        "import pandas as pd\n"
        "cmlops.drift(pd.DataFrame({'a': [1.0, 2.0]}), pd.DataFrame({'a': [1.0, 3.0]}))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pandas_frames_are_not_spark_frames() -> None:
    assert not is_spark_frame(pd.DataFrame({"a": [1]}))
    assert not is_spark_frame(None)


def test_spark_analysis_errors_become_one_line_input_errors() -> None:
    # the exception classes only: no JVM is started
    from pyspark.errors import AnalysisException, PySparkRuntimeError

    with pytest.raises(InvalidInputError) as info:
        with spark_errors("reading the reference"):
            raise AnalysisException(
                message="[PATH_NOT_FOUND] Path does not exist: file:/no/such. SQLSTATE: 42K03"
            )
    assert str(info.value) == "reading the reference: Path does not exist: file:/no/such"
    with pytest.raises(SparkError, match="could not start Java: install Java 17"):
        with spark_errors("starting Spark"):
            raise PySparkRuntimeError(errorClass="JAVA_GATEWAY_EXITED", messageParameters={})
    with pytest.raises(KeyError):  # anything else passes through untouched
        with spark_errors("x"):
            raise KeyError("not Spark's")


def test_pandas_drift_views_do_not_show_sketch_columns() -> None:
    import cmlops

    res = cmlops.drift(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), pd.DataFrame({"a": [1.0, 2.5, 4.0]}))
    assert res["a"].error_bound is None and not res.uncertain
    html = res._repr_html_()
    assert "error_<wbr>bound" not in html and "KLL" not in html
