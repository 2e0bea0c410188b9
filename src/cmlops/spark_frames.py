"""Spark frames without importing Spark: recognise them, start a session, speak in one line.

Why here, beside ``errors``: every layer that accepts a data frame (fingerprints,
capture, statistics, reports) must tell a ``pyspark.sql.DataFrame`` apart from a
pandas one, and ``import cmlops`` must never import pyspark (it costs seconds and
needs Java). A Spark frame can only exist once its module is loaded, so looking in
``sys.modules`` is exact and free.

And a JVM error must never reach a scientist as a hundred lines of Java stack:
:func:`spark_errors` turns Spark's exceptions into one line that says what was
wrong (:class:`~cmlops.errors.InvalidInputError` for a path that does not exist or
a column that is not there; :class:`~cmlops.errors.SparkError` for the rest).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import sys
from collections.abc import Iterator
from typing import Any

from cmlops.errors import InvalidInputError, SparkError

__all__ = [
    "JAVA_HINT",
    "is_spark_frame",
    "require_pyspark",
    "spark_errors",
    "spark_session",
    "spark_version",
]

JAVA_HINT = (
    "install Java 17 (Debian: apt-get install openjdk-17-jre-headless) "
    "or set JAVA_HOME to a Java 17"
)
_INSTALL_HINT = "pip install 'cmlops[spark]'"
#: Spark error classes that are the user's input, not Spark's failure
_INPUT_CLASSES = (
    "PATH_NOT_FOUND",
    "UNRESOLVED_COLUMN",
    "TABLE_OR_VIEW_NOT_FOUND",
    "UNRESOLVED_ROUTINE",
    "DATATYPE_MISMATCH",
    "AMBIGUOUS_REFERENCE",
    "COLUMN_ALREADY_EXISTS",
    "PARSE_SYNTAX_ERROR",
    "UNABLE_TO_INFER_SCHEMA",
    "INVALID_",
    "CAST_INVALID_INPUT",
)


def is_spark_frame(obj: Any) -> bool:
    """True for a ``pyspark.sql.DataFrame`` (classic or Spark Connect); never imports pyspark."""
    module = sys.modules.get("pyspark.sql")
    frame_type = getattr(module, "DataFrame", None) if module is not None else None
    return frame_type is not None and isinstance(obj, frame_type)


def require_pyspark() -> Any:
    """Import and return ``pyspark``, or raise one line saying how to install it."""
    try:
        import pyspark
    except ImportError:
        raise InvalidInputError(f"pyspark is not installed: {_INSTALL_HINT}") from None
    return pyspark


def spark_version(frame: Any = None) -> str:
    """The version of the running Spark (the session's), else of the pyspark package."""
    session = getattr(frame, "sparkSession", None)
    version = getattr(session, "version", None)
    if version:
        return str(version)
    return str(require_pyspark().__version__)


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home:
        return os.path.exists(os.path.join(home, "bin", "java"))
    return shutil.which("java") is not None


def spark_session(app_name: str = "cmlops", master: str | None = None) -> Any:
    """The active SparkSession, or a new one (``local[*]`` unless ``master`` says otherwise).

    Raises one line when pyspark or Java is missing, instead of Spark's
    "Java gateway process exited" and its stack.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if not _java_found():
        debian = sorted(glob.glob("/usr/lib/jvm/java-17-openjdk-*"))
        if not debian:
            raise SparkError(f"Java was not found, and Spark needs it: {JAVA_HINT}")
        os.environ["JAVA_HOME"] = debian[0]
    builder = SparkSession.builder.appName(app_name).config("spark.ui.enabled", "false")
    if master:
        builder = builder.master(master)
    with spark_errors("starting Spark"):
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _first_message(text: str) -> str:
    """The message of a Java or Spark error, without its stack or error-class decoration."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    for line in lines:
        match = re.match(
            r"^(?:Caused by: )?[a-z]+(?:\.[A-Za-z0-9_$]+)+(?:Exception|Error): (.+)$", line
        )
        if match:
            return match.group(1)
    for line in lines:
        if not line.startswith(
            ("at ", "An error occurred while calling", "Traceback", "JVM stack")
        ):
            return line
    return type(text).__name__


def _clean(message: str) -> str:
    message = re.sub(r"\s*SQLSTATE: \w+\.?", "", message)
    message = re.sub(r"^\[[A-Z0-9_.]+\]\s*", "", message)
    return message.strip().rstrip(".")


@contextlib.contextmanager
def spark_errors(doing: str) -> Iterator[None]:
    """Run Spark calls; any Spark or JVM error leaves as one line naming what was being done.

    Input mistakes (missing path, unknown column or table, unreadable schema) become
    :class:`InvalidInputError`; everything else (a lost executor, out of memory, no
    Java) :class:`SparkError`. The original is chained for debugging, never printed.
    """
    try:
        yield
    except (InvalidInputError, SparkError):
        raise
    except Exception as exc:
        kind = _spark_exception_kind(exc)
        if kind is None:
            raise
        error_class = str(getattr(exc, "getCondition", lambda: None)() or "")
        if not error_class:
            found = re.search(r"\[([A-Z0-9_.]+)\]", str(exc))
            error_class = found.group(1) if found else ""
        message = _clean(_first_message(str(exc)))
        if "JAVA_GATEWAY_EXITED" in error_class or "Java gateway process exited" in str(exc):
            raise SparkError(f"{doing}: Spark could not start Java: {JAVA_HINT}") from exc
        if kind == "input" or error_class.startswith(_INPUT_CLASSES):
            raise InvalidInputError(f"{doing}: {message}") from exc
        raise SparkError(f"{doing}: Spark failed: {message}") from exc


def _spark_exception_kind(exc: BaseException) -> str | None:
    """'input' for Spark's analysis errors, 'spark' for other Spark/JVM errors, else None."""
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if not module.startswith(("pyspark", "py4j")):
        return None
    if name in ("AnalysisException", "ParseException", "IllegalArgumentException"):
        return "input"
    return "spark"
