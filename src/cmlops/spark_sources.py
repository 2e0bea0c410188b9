"""Content digests of the data a Spark job reads or writes: file sets and Delta tables.

A Spark "dataset" is a folder of data files (Parquet, CSV, JSON, ORC ...) or a Delta
table. Its digest must name its content, like a file's SHA-256 does:

- **files**: the SHA-256 of every data file (hidden ``_``/``.`` files such as
  ``_SUCCESS`` and ``.crc`` left out), computed in parallel threads (hashlib releases
  the GIL) and cached by path, size, modification time and inode like the pandas
  path's file digests; the dataset digest is the SHA-256 of the sorted lines
  ``<relative path>\\t<sha256>``, so a changed, added, removed or renamed file
  changes it;
- **Delta tables** (a ``_delta_log`` folder): the table version read (the newest,
  or the one asked for with ``versionAsOf``) and the SHA-256 over the log files up
  to that version (commit JSON and checkpoint Parquet files): the log names every
  data file of the version with its size, so version + log digest identify it.

Remote locations (``s3://``, ``abfss://`` ...) are recorded by location only, with
a note: cmlops reads local and FUSE-mounted paths (``/dbfs``, ``/Volumes``) only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cmlops.fingerprinting import fingerprint_file
from cmlops.spark_fingerprint import spark_schema_summary

__all__ = [
    "FileDigests",
    "dataset_identity",
    "delta_identity",
    "local_path",
    "plan_identity",
    "shared_digests",
]

_SESSION_NONCE = uuid.uuid4().hex
_IN_MEMORY = ("LocalRelation", "LogicalRDD", "ExistingRDD", "InMemoryRelation")

_LOG_FILE = re.compile(r"^(\d{20})\.(json|checkpoint(?:\.\d+\.\d+)?\.parquet)$")


class FileDigests:
    """SHA-256 of files, cached by path and (size, mtime_ns, inode); safe across threads."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[tuple[int, int, int], str]] = {}
        self._lock = threading.Lock()

    def digest(self, path: str) -> str:
        st = os.stat(path)
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        with self._lock:
            known = self._known.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        digest = fingerprint_file(path)
        with self._lock:
            self._known[path] = (stamp, digest)
        return digest

    def many(self, paths: list[str], workers: int = 4) -> list[str]:
        if len(paths) <= 1:
            return [self.digest(p) for p in paths]
        with ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="cmlops-spark-hash"
        ) as pool:
            return list(pool.map(self.digest, paths))


_SHARED = FileDigests()


def shared_digests() -> FileDigests:
    """The process's digest cache (keyed by path and stat, so never stale): capture's reads,
    writes and plan inputs share it, and a file is read once while it does not change."""
    return _SHARED


def local_path(location: str) -> str | None:
    """The local filesystem path of a Spark location, or None for a remote one."""
    text = str(location)
    if text.startswith("file:"):
        text = re.sub(r"^file:(//)?", "", text)
        if not text.startswith("/"):
            text = "/" + text
    elif "://" in text or re.match(r"^[a-z][a-z0-9+.-]*:/", text):
        return None
    return os.path.abspath(os.path.expanduser(text))


def _data_files(root: str) -> list[str]:
    if os.path.isfile(root):
        return [root]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        found += [os.path.join(folder, f) for f in files if not f.startswith(("_", "."))]
    return sorted(found)


def _listing_digest(root: str, files: list[str], digests: list[str]) -> str:
    lines = "".join(
        f"{os.path.relpath(f, root) if f != root else os.path.basename(f)}\t{d}\n"
        for f, d in sorted(zip(files, digests, strict=True))
    )
    return "sha256:" + hashlib.sha256(lines.encode("utf-8", "surrogatepass")).hexdigest()


def delta_identity(root: str, cache: FileDigests, version: int | None = None) -> dict[str, Any]:
    """Version and log digest of the Delta table at ``root`` (the newest version by default)."""
    log = os.path.join(root, "_delta_log")
    entries = []
    for name in os.listdir(log):
        m = _LOG_FILE.match(name)
        if m:
            entries.append((int(m.group(1)), name))
    commits = sorted(v for v, name in entries if name.endswith(".json"))
    if not commits:
        raise FileNotFoundError(f"{log} holds no Delta commit")
    v = commits[-1] if version is None else int(version)
    names = sorted(name for ver, name in entries if ver <= v)
    digests = cache.many([os.path.join(log, n) for n in names])
    log_digest = _listing_digest(log, [os.path.join(log, n) for n in names], digests)
    digest = hashlib.sha256(f"delta\n{v}\n{log_digest}\n".encode()).hexdigest()
    return {
        "format": "delta",
        "version": v,
        "log_digest": log_digest,
        "log_files": len(names),
        "digest": f"sha256:{digest}",
    }


def dataset_identity(location: str, cache: FileDigests, version: Any = None) -> dict[str, Any]:
    """The digest and description of the dataset at ``location`` (see the module docstring)."""
    path = local_path(location)
    if path is None:
        return {
            "location": str(location),
            "format": "remote",
            "digest": "",
            "note": "remote location: content not hashed (local and mounted paths only)",
        }
    if os.path.isdir(os.path.join(path, "_delta_log")):
        return {"location": path, **delta_identity(path, cache, version)}
    files = _data_files(path)
    if not files:
        raise FileNotFoundError(f"no data files under {path}")
    digests = cache.many(files)
    size = sum(os.path.getsize(f) for f in files)
    return {
        "location": path,
        "format": "files",
        "files": len(files),
        "bytes": size,
        "digest": _listing_digest(path, files, digests),
    }


def _plan_text(df: Any) -> str:
    try:
        text = str(df._jdf.queryExecution().analyzed().toString())
    except Exception:  # noqa: BLE001 - Spark Connect has no JVM handle: the schema identifies
        return ""
    return re.sub(r"#\d+L?", "#", text)


def _roots(files: list[str]) -> list[str]:
    """Dataset roots of input files: the Delta table, else the folder above partition folders."""
    roots = set()
    for f in files:
        path = local_path(f)
        if path is None:
            roots.add(re.sub(r"/[^/]*$", "", f))
            continue
        folder = os.path.dirname(path)
        probe = folder
        while probe != "/" and not os.path.isdir(os.path.join(probe, "_delta_log")):
            probe = os.path.dirname(probe)
        if probe != "/":
            roots.add(probe)
            continue
        while "=" in os.path.basename(folder):
            folder = os.path.dirname(folder)
        roots.add(folder)
    return sorted(roots)


def plan_identity(df: Any, cache: FileDigests) -> tuple[str, dict[str, Any]]:
    """(``sha256:<hex>``, attributes) naming a Spark frame by its derivation, without a job."""
    try:
        files = list(df.inputFiles())
    except Exception:  # noqa: BLE001 - a source without files (in-memory, JDBC)
        files = []
    inputs = []
    for root in _roots(files):
        try:
            ident = dataset_identity(root, cache)
        except OSError as exc:
            ident = {"location": root, "digest": "", "note": f"not hashed: {exc}"}
        inputs.append(ident)
    plan = _plan_text(df)
    attributes: dict[str, Any] = {"plan_inputs": inputs, "engine": "spark"}
    basis: dict[str, Any] = {
        "schema": spark_schema_summary(df)["columns"],
        "plan": plan,
        "inputs": [(i["location"], i["digest"]) for i in inputs],
    }
    if not inputs or any(word in plan for word in _IN_MEMORY):
        basis["session"] = f"{_SESSION_NONCE}:{id(df)}"
        attributes["note"] = "in-memory data: identified within this session only"
    text = json.dumps(basis, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest(), attributes
