"""A report's ``dataset`` parameters: a data file, a Spark data folder or a Spark table.

A ``dataset`` value is one of

- a **data file** (CSV, Parquet, Excel, JSON): read into pandas, hashed like a
  ``path`` (SHA-256 of the file);
- a **folder** of data files (Parquet, ORC, JSON or CSV parts, as Spark writes
  them) or a **Delta table** (a folder with ``_delta_log``): read by Spark; hashed
  before and after the run like the lineage of Spark reads
  (:func:`cmlops.spark_sources.dataset_identity`: SHA-256 over the sorted lines
  ``<relative path>\\tsha256:<hex>`` of its data files, or the Delta version and log
  digest), so a reviewer can recompute it with ``sha256sum``;
- ``table:NAME`` (``table:catalog.schema.table``): a table of the kernel's Spark
  session. The runner cannot read it without Spark, so its content is
  fingerprinted in the kernel (the package's ``frames``) and listed with the Spark
  version under the manifest's ``spark`` section.

Remote URIs (``s3a://``, ``abfss://`` ...) are refused: register the data as a table.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError

__all__ = [
    "TABLE_PREFIX",
    "check_dataset",
    "current_digest",
    "dataset_entry",
    "entry_changed",
    "folder_format",
    "read_dataset",
    "table_name",
]

TABLE_PREFIX = "table:"
#: ``name``, ``schema.name`` or ``catalog.schema.name``: plain identifiers only, so a
#: table name reaches Spark as a name, never as SQL.
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")
#: Spark readers by data-file suffix (compression suffixes stripped first)
_FORMATS = {".parquet": "parquet", ".orc": "orc", ".json": "json", ".csv": "csv"}
_COMMIT = re.compile(r"^\d{20}\.json$")
_COMPRESSED = (".gz", ".bz2", ".snappy", ".zst", ".lz4", ".deflate")


def table_name(value: Any) -> str | None:
    """The table a ``table:NAME`` value names, else None."""
    if isinstance(value, str) and value.startswith(TABLE_PREFIX):
        return value[len(TABLE_PREFIX) :]
    return None


def _data_files(root: Path) -> list[Path]:
    """Data files under ``root``: hidden and ``_``-prefixed files and folders left out."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        found += [Path(folder, f) for f in sorted(files) if not f.startswith(("_", "."))]
    return found


def folder_format(root: Path) -> str:
    """``delta``, or the one Spark format every data file of the folder has."""
    if (root / "_delta_log").is_dir():
        if not any(_COMMIT.match(p.name) for p in (root / "_delta_log").iterdir()):
            raise InvalidInputError(f"{root} is a Delta table without a commit in _delta_log")
        return "delta"
    files = _data_files(root)
    if not files:
        raise InvalidInputError(f"{root} holds no data files: give a folder of Parquet/CSV parts")
    kinds = set()
    for f in files:
        name = f.name.lower()
        for suffix in _COMPRESSED:
            name = name.removesuffix(suffix)
        kinds.add(_FORMATS.get(Path(name).suffix, Path(name).suffix or "no suffix"))
    if len(kinds) != 1 or next(iter(kinds)) not in _FORMATS.values():
        found = ", ".join(sorted(kinds))
        raise InvalidInputError(
            f"{root} mixes or holds files Spark cannot read as one table ({found}): "
            "give a folder of Parquet, ORC, JSON or CSV parts, or a Delta table"
        )
    return next(iter(kinds))


def check_dataset(value: Any, base: Path, where: str) -> str:
    """The checked value of a ``dataset`` parameter, or one-line :class:`InvalidInputError`.

    A file or folder is returned as an absolute path, a table as ``table:NAME``.
    """
    if not isinstance(value, (str, Path)):
        raise InvalidInputError(f"{where}: expected a data file, a folder or table:NAME")
    text = str(value).strip()
    name = table_name(text)
    if name is not None:
        if not _TABLE.match(name):
            raise InvalidInputError(
                f"{where}: {name!r} is not a table name: give table:name, table:schema.name "
                "or table:catalog.schema.name (letters, digits, underscores)"
            )
        return TABLE_PREFIX + name
    if _URI.match(text):
        raise InvalidInputError(
            f"{where}: remote locations ({text.split(':', 1)[0]}:) are not report inputs: "
            "register the data as a table and give table:NAME, or give a local or mounted path"
        )
    path = Path(text).expanduser()
    path = (path if path.is_absolute() else base / path).resolve()
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise InvalidInputError(f"{where}: {path} is not readable by this user")
        folder_format(path)
        return str(path)
    return ""  # a file: the caller checks it like a ``path``


def dataset_entry(parameter: str, value: str) -> dict[str, Any] | None:
    """The manifest ``inputs`` entry of a Spark folder (None for a table: see the module doc)."""
    from cmlops.spark_sources import dataset_identity, shared_digests

    if table_name(value) is not None:
        return None
    try:
        identity = dataset_identity(value, shared_digests())
    except OSError as exc:
        raise InvalidInputError(f"cannot hash {value}: {exc}") from None
    digest = identity["digest"].removeprefix("sha256:")
    entry = {
        "parameter": parameter,
        "path": value,
        "sha256": digest,
        "fingerprint": identity["digest"],
        "size": int(identity.get("bytes") or 0),
        "format": folder_format(Path(value)),
    }
    for key in ("files", "version", "log_digest"):
        if key in identity:
            entry[key] = identity[key]
    return entry


def current_digest(entry: dict[str, Any]) -> str | None:
    """The SHA-256 an input entry's file or Spark folder has now (None: missing or unreadable)."""
    from cmlops.reports.manifest import sha256_file

    path = Path(entry["path"])
    try:
        if "format" in entry:  # a Spark folder
            now = dataset_entry(entry["parameter"], entry["path"]) if path.is_dir() else None
            return now["sha256"] if now else None
        return sha256_file(path) if path.is_file() else None
    except (OSError, InvalidInputError):
        return None


def entry_changed(entry: dict[str, Any]) -> str | None:
    """``missing`` or ``content changed`` when an input is no longer what was hashed."""
    now = current_digest(entry)
    if now is None:
        return "missing"
    return None if now == entry["sha256"] else "content changed"


def read_dataset(value: str) -> Any:
    """The frame a ``dataset`` value names: pandas for a file, Spark for a folder or table.

    Spark frames come from the kernel's session (on Databricks, the notebook's), or a
    local one started for the run; Spark errors are one line (:func:`spark_errors`).
    """
    from cmlops.reports.notebook import read_frame

    name = table_name(value)
    if name is None and not Path(value).exists():
        raise InvalidInputError(f"{value} does not exist (moved or deleted since the run began)")
    if name is None and not Path(value).is_dir():
        return read_frame(value)
    from cmlops.spark_frames import spark_errors, spark_session

    spark = spark_session("cmlops-report")
    if name is not None:
        with spark_errors(f"reading the Spark table {name}"):
            return spark.read.table(name)
    fmt = folder_format(Path(value))
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    with spark_errors(f"reading {value} with Spark ({fmt})"):
        return reader.load(value)
