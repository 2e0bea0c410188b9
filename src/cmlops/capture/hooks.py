"""I/O hooks: which files a tracked cell read and wrote.

While a tracked cell runs, the readers and writers of pandas, NumPy, pickle,
joblib and the builtin ``open`` are wrapped; afterwards the originals are put
back. A wrapper only *notes* the path and role and returns exactly what the
original returned (same object). Nested calls (``read_csv`` opening the file
with ``open``) are noted once, by the outermost hook.

Input files are hashed when they are opened (the content the cell read);
output files are hashed when the cell ends (the content it left behind).
Files under the Python installation (``sys.prefix``, site-packages) and the
system folders (``/usr``, ``/etc``, pseudo file systems) are ignored: they are
libraries loading themselves (time zones, certificates), not data.
"""

from __future__ import annotations

import builtins
import contextvars
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.fingerprinting import fingerprint_file

_depth: contextvars.ContextVar[int] = contextvars.ContextVar("cmlops_io_depth", default=0)
_PREFIXES = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
_SITE = {str(Path(p).resolve()) for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
#: system and library locations: files read there are software configuration, not data
_IGNORED_ROOTS = tuple(
    root.rstrip("/") + "/"
    for root in (*sorted(_PREFIXES | _SITE), "/proc", "/sys", "/dev", "/etc", "/usr", "/lib")
)


@dataclass
class FileEvent:
    """One file a cell touched: absolute path, role, the call that touched it."""

    path: str
    role: str  # "input" or "output"
    via: str
    digest: str = ""
    pending: Any = field(default=None, repr=False, compare=False)
    kind: str = "file"  # "dataset" for a Spark read or write (a folder or a Delta table)
    attributes: dict = field(default_factory=dict)
    #: computes an output's identity once the cell has written it (Spark writes)
    resolve: Any = field(default=None, repr=False, compare=False)


class DigestCache:
    """File digests keyed by path and ``(size, mtime_ns, inode)``, like git's index.

    A notebook re-reads the same input every time a cell is re-run; when the
    file's size, modification time (nanoseconds) and inode are unchanged the
    digest is reused instead of reading the file again. One cache per
    capture session.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[tuple[int, int, int], str]] = {}

    @staticmethod
    def stamp(path: str) -> tuple[int, int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ino)

    def get(self, path: str, stamp: tuple[int, int, int] | None) -> str:
        known = self._known.get(path)
        return known[1] if known is not None and stamp is not None and known[0] == stamp else ""

    def put(self, path: str, stamp: tuple[int, int, int] | None, digest: str) -> None:
        if stamp is not None and digest:
            self._known[path] = (stamp, digest)


@dataclass
class IOLog:
    """Everything the hooks noted during one cell, in call order."""

    events: list[FileEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cache: DigestCache = field(default_factory=DigestCache)
    _pool: Any = field(default=None, repr=False)

    def prepare(self, target: Any, role: str, via: str) -> FileEvent | None:
        """Start hashing an input *before* the call reads it, on a helper thread.

        The hash (hashlib and BLAKE3 release the GIL) then runs beside the
        parser on a second core instead of after it: reading a large CSV costs
        little more than the read itself. It runs at the kernel's own priority:
        a lowest-priority (nice 19) thread was tried and measured worse on a
        busy machine — the read slowed and the digest came seconds later, as a
        thread preempted while holding the GIL stalls the parser
        (``benchmarks/bench_tracking.py`` measures both).
        """
        path = _path_of(target)
        if path is None:
            return None
        event = FileEvent(path, role, via)
        if role == "input":
            stamp = self.cache.stamp(path)  # taken before hashing: a later change misses
            event.digest = self.cache.get(path, stamp)
            if event.digest:
                return event
            event.pending = self.background(lambda: self._hash(path, stamp))
        return event

    def background(self, job: Callable[[], Any]) -> Any:
        """Run ``job`` on the hashing thread; its future is collected by :meth:`finish`."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmlops-hash")
        return self._pool.submit(job)

    def _hash(self, path: str, stamp: tuple[int, int, int] | None) -> str:
        digest = fingerprint_file(path)
        self.cache.put(path, stamp, digest)
        return digest

    def note(self, target: Any, role: str, via: str) -> None:
        event = self.prepare(target, role, via)
        if event is not None:
            self.events.append(event)

    def finish(self) -> None:
        """Collect input hashes; hash outputs now that the cell has finished writing them."""
        for event in self.events:
            try:
                if event.pending is not None:
                    found, event.pending = event.pending.result(), None
                elif event.role == "output" and not event.digest and event.resolve is not None:
                    found = event.resolve()
                elif event.role == "output" and not event.digest:
                    stamp = self.cache.stamp(event.path)
                    found = fingerprint_file(event.path)
                    self.cache.put(event.path, stamp, found)
                else:
                    continue
                if isinstance(found, dict):  # a Spark dataset's identity
                    event.attributes.update({k: v for k, v in found.items() if k != "digest"})
                    event.path = found.get("location", event.path)
                    found = found.get("digest", "")
                event.digest = found
            except OSError as exc:
                self.notes.append(f"{event.role} {event.path} not hashed: {exc.strerror or exc}")
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _path_of(target: Any) -> str | None:
    if hasattr(target, "read") or hasattr(target, "write"):
        target = getattr(target, "name", None)
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    if not isinstance(target, str | os.PathLike):
        return None
    text = os.fspath(target)
    if not isinstance(text, str) or "://" in text:
        return None
    path = os.path.abspath(os.path.expanduser(text))
    if path.startswith(_IGNORED_ROOTS) or not os.path.basename(path) or os.path.isdir(path):
        return None
    return path


def _open_role(mode: str) -> str | None:
    if any(flag in mode for flag in "wax"):
        return "output"
    if "+" in mode:
        return "output"
    return "input"


class Hooks:
    """Installs the wrappers for one cell and restores the originals."""

    def __init__(self, log: IOLog) -> None:
        self.log = log
        self._saved: list[tuple[Any, str, Any, bool]] = []

    def _wrap(
        self,
        owner: Any,
        name: str,
        role: str | Callable[..., Any],
        via: str,
        prepare: Callable[..., Any] | None = None,
    ) -> None:
        original = getattr(owner, name, None)
        if original is None or getattr(original, "__cmlops_hook__", False):
            return
        log = self.log

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            outermost = _depth.get() == 0
            token = _depth.set(_depth.get() + 1)  # nested hooked calls are not noted again
            try:
                event = None
                if outermost:
                    try:
                        target, actual_role = (
                            role(args, kwargs) if callable(role) else (_first(args, kwargs), role)
                        )
                        if actual_role:
                            event = (prepare or log.prepare)(target, actual_role, via)
                    except Exception as exc:  # noqa: BLE001 - a hook must never break the call
                        log.notes.append(f"{via}: not recorded ({type(exc).__name__}: {exc})")
                result = original(*args, **kwargs)
                if event is not None:  # only calls that succeeded touched the file
                    log.events.extend(event if isinstance(event, list) else [event])
                return result
            finally:
                _depth.reset(token)

        wrapper.__cmlops_hook__ = True  # type: ignore[attr-defined]
        own = (isinstance(owner, type) and name in vars(owner)) or not isinstance(owner, type)
        self._saved.append((owner, name, original, own))
        setattr(owner, name, wrapper)

    def install(self) -> None:
        self._wrap(builtins, "open", _open_args, "open")
        if "pyspark.sql" in sys.modules:  # only when the user's code has loaded Spark
            from cmlops.capture.spark_io import spark_hooks

            for spec in spark_hooks(self.log, FileEvent):
                self._wrap(*spec)
        pd = sys.modules.get("pandas")
        if pd is not None:
            for reader in ("read_csv", "read_parquet", "read_excel", "read_json", "read_table"):
                self._wrap(pd, reader, "input", f"pandas.{reader}")
            for writer in ("to_csv", "to_parquet", "to_excel", "to_json"):
                self._wrap(pd.DataFrame, writer, _writer_args, f"DataFrame.{writer}")
        np = sys.modules.get("numpy")
        if np is not None:
            self._wrap(np, "load", "input", "numpy.load")
            self._wrap(np, "save", "output", "numpy.save")
        pickle = sys.modules.get("pickle")
        if pickle is not None:
            self._wrap(pickle, "load", "input", "pickle.load")
            self._wrap(pickle, "dump", _dump_args, "pickle.dump")
        joblib = sys.modules.get("joblib")
        if joblib is not None:
            self._wrap(joblib, "load", "input", "joblib.load")
            self._wrap(joblib, "dump", _dump_args, "joblib.dump")

    def restore(self) -> None:
        while self._saved:
            owner, name, original, own = self._saved.pop()
            if own:
                setattr(owner, name, original)
            else:  # inherited (DataFrame.to_csv lives on NDFrame): remove the override
                delattr(owner, name)


def _first(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if args:
        return args[0]
    for key in ("filepath_or_buffer", "path", "file", "io", "filename", "path_or_buf"):
        if key in kwargs:
            return kwargs[key]
    return None


def _open_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, str | None]:
    target = _first(args, kwargs)
    if isinstance(target, int):
        return None, None
    mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
    return target, _open_role(str(mode))


def _writer_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, str]:
    # args[0] is the DataFrame itself
    target = args[1] if len(args) > 1 else None
    for key in ("path_or_buf", "path", "excel_writer"):
        target = kwargs.get(key, target)
    return target, "output"


def _dump_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, str]:
    target = args[1] if len(args) > 1 else kwargs.get("file", kwargs.get("filename"))
    return target, "output"
