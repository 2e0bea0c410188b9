"""Spark reads and writes in a tracked cell become used / generated dataset entities.

While a tracked cell runs, ``DataFrameReader.load|table|parquet|csv|json|orc|text``
and ``DataFrameWriter.save|saveAsTable|insertInto|parquet|csv|json|orc|text`` are
wrapped (only when the cell's process has already imported pyspark; the classic
Spark session's classes — Spark Connect's are not wrapped). A read is noted with its
location (or table name resolved to its location) and hashed on the capture thread
while Spark works; a write is hashed when the cell ends, once the files exist. The
identity is :func:`cmlops.spark_sources.dataset_identity`: the per-file SHA-256 of
the data files, or a Delta table's version and log digest.
"""

from __future__ import annotations

from typing import Any

from cmlops.spark_sources import dataset_identity, shared_digests

__all__ = ["spark_hooks"]

READERS = ("load", "parquet", "csv", "json", "orc", "text", "table")
WRITERS = ("save", "parquet", "csv", "json", "orc", "text", "saveAsTable", "insertInto")


def _table_location(session: Any, name: str) -> str:
    rows = session.sql(f"DESCRIBE TABLE EXTENDED {_quoted(name)}").collect()
    for row in rows:
        if str(row[0]).strip() == "Location":
            return str(row[1]).strip()
    raise OSError(f"table {name} has no location (a view or an external source)")


def _quoted(name: str) -> str:
    return ".".join("`" + part.replace("`", "``") + "`" for part in str(name).split("."))


def _reader_targets(method: str):
    def targets(args: tuple, kwargs: dict) -> tuple[Any, str | None]:
        owner = args[0]
        if method == "table":
            name = args[1] if len(args) > 1 else kwargs.get("tableName")
            return {"table": name, "session": owner._spark}, "input"
        paths = list(args[1:2]) if method == "load" else list(args[1:])
        paths = paths or [kwargs.get("path") or kwargs.get("paths")]
        if len(paths) == 1 and isinstance(paths[0], (list, tuple)):
            paths = list(paths[0])
        version = kwargs.get("versionAsOf")
        return {"paths": [p for p in paths if isinstance(p, str)], "version": version}, "input"

    return targets


def _writer_targets(method: str):
    def targets(args: tuple, kwargs: dict) -> tuple[Any, str | None]:
        owner = args[0]
        if method in ("saveAsTable", "insertInto"):
            name = args[1] if len(args) > 1 else kwargs.get("name") or kwargs.get("tableName")
            return {"table": name, "session": owner._spark}, "output"
        path = args[1] if len(args) > 1 else kwargs.get("path")
        return {"paths": [path] if isinstance(path, str) else []}, "output"

    return targets


def _identity(target: dict, location: str | None) -> dict:
    where = (
        location if location is not None else _table_location(target["session"], target["table"])
    )
    ident = dataset_identity(where, shared_digests(), target.get("version"))
    if target.get("table"):
        ident["table"] = target["table"]
    return ident


def _prepare(log: Any, event_type: Any):
    def prepare(target: dict, role: str, via: str) -> list[Any]:
        locations = target.get("paths") or [None]
        events = []
        for location in locations:
            label = location or f"table:{target.get('table')}"
            event = event_type(label, role, via, kind="dataset")
            job = lambda loc=location: _identity(target, loc)  # noqa: E731
            if role == "input":
                event.pending = log.background(job)
            else:
                event.resolve = job
            events.append(event)
        return events

    return prepare


def spark_hooks(log: Any, event_type: Any) -> list[tuple]:
    """``(owner, method, role, via, prepare)`` of every Spark reader and writer to wrap.

    ``log`` is the cell's :class:`~cmlops.capture.hooks.IOLog`, ``event_type`` its
    ``FileEvent`` (passed in, so this module does not import the hooks that call it).
    """
    from pyspark.sql.readwriter import DataFrameReader, DataFrameWriter

    prepare = _prepare(log, event_type)
    specs = [(DataFrameReader, m, _reader_targets(m), f"spark.read.{m}", prepare) for m in READERS]
    specs += [
        (DataFrameWriter, m, _writer_targets(m), f"DataFrame.write.{m}", prepare) for m in WRITERS
    ]
    return specs
