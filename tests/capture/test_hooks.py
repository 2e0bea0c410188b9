"""I/O hooks: every reader and writer noted with path and role; results untouched."""

from __future__ import annotations

import builtins
import hashlib
import pickle
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from cmlops.capture.hooks import Hooks, IOLog


def sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3], "s": ["x", "y", None]})


def run_hooked(fn):
    log = IOLog()
    hooks = Hooks(log)
    hooks.install()
    try:
        value = fn()
    finally:
        hooks.restore()
    log.finish()
    return value, [(Path(e.path).name, e.role, e.via) for e in log.events], log


WRITERS = [
    ("to_csv", "out.csv", lambda df, p: df.to_csv(p, index=False), lambda p: pd.read_csv(p)),
    ("to_parquet", "out.parquet", lambda df, p: df.to_parquet(p), lambda p: pd.read_parquet(p)),
    ("to_json", "out.json", lambda df, p: df.to_json(p), lambda p: pd.read_json(p)),
    ("to_excel", "out.xlsx", lambda df, p: df.to_excel(p, index=False), lambda p: pd.read_excel(p)),
]


@pytest.mark.parametrize(("method", "filename", "write", "read"), WRITERS)
@pytest.mark.req("REQ-LIN-001")
def test_pandas_writers_and_readers(tmp_path, frame, method, filename, write, read) -> None:
    path = tmp_path / filename
    _, events, log = run_hooked(lambda: write(frame, path))
    assert events == [(filename, "output", f"DataFrame.{method}")]
    assert log.events[0].digest == sha(path)
    expected = read(path)
    reader = "read_" + method.removeprefix("to_")
    value, events, log = run_hooked(lambda: read(path))
    pd.testing.assert_frame_equal(value, expected)
    assert events == [(filename, "input", f"pandas.{reader}")]
    assert log.events[0].digest == sha(path)


@pytest.mark.req("REQ-LIN-001")
def test_numpy_pickle_joblib_and_open(tmp_path) -> None:
    arr = np.arange(6.0).reshape(2, 3)
    npy, pkl, jbl, txt = (tmp_path / n for n in ("a.npy", "b.pkl", "c.joblib", "d.txt"))

    def write_all() -> None:
        np.save(npy, arr)
        with open(pkl, "wb") as handle:
            pickle.dump({"k": arr}, handle)
        joblib.dump(arr, jbl)
        with open(txt, "w") as handle:
            handle.write("hello")

    _, events, log = run_hooked(write_all)
    assert events == [
        ("a.npy", "output", "numpy.save"),
        ("b.pkl", "output", "open"),
        ("b.pkl", "output", "pickle.dump"),
        ("c.joblib", "output", "joblib.dump"),
        ("d.txt", "output", "open"),
    ]
    assert {e.digest for e in log.events if e.path.endswith("a.npy")} == {sha(npy)}

    def read_all():
        with open(pkl, "rb") as handle:
            loaded = pickle.load(handle)
        with open(txt) as handle:
            text = handle.read()
        return np.load(npy), loaded, joblib.load(jbl), text

    (a, loaded, j, text), events, _ = run_hooked(read_all)
    np.testing.assert_array_equal(a, arr)
    np.testing.assert_array_equal(loaded["k"], arr)
    np.testing.assert_array_equal(j, arr)
    assert text == "hello"
    assert events == [
        ("b.pkl", "input", "open"),
        ("b.pkl", "input", "pickle.load"),
        ("d.txt", "input", "open"),
        ("a.npy", "input", "numpy.load"),
        ("c.joblib", "input", "joblib.load"),
    ]


@pytest.mark.req("REQ-LIN-002")
def test_hooks_return_the_very_same_object_and_are_restored(tmp_path, monkeypatch) -> None:
    sentinel = object()
    calls = []

    def fake_reader(path, **kwargs):
        calls.append((path, kwargs))
        return sentinel

    monkeypatch.setattr(pd, "read_csv", fake_reader)
    originals = (builtins.open, np.load, np.save, pickle.load, pickle.dump, joblib.load)
    log = IOLog()
    hooks = Hooks(log)
    hooks.install()
    try:
        assert pd.read_csv is not fake_reader
        assert pd.read_csv(tmp_path / "nothing.csv", sep=";") is sentinel
    finally:
        hooks.restore()
    assert calls == [(tmp_path / "nothing.csv", {"sep": ";"})]
    assert pd.read_csv is fake_reader
    assert (builtins.open, np.load, np.save, pickle.load, pickle.dump, joblib.load) == originals
    assert "to_csv" not in vars(pd.DataFrame)  # the inherited method is not shadowed after
    log.finish()
    assert log.notes == [f"input {tmp_path / 'nothing.csv'} not hashed: No such file or directory"]


@pytest.mark.req("REQ-LIN-002")
def test_exceptions_pass_through_unchanged(tmp_path) -> None:
    missing = tmp_path / "missing.csv"

    def read():
        return pd.read_csv(missing)

    with pytest.raises(FileNotFoundError) as plain:
        read()
    with pytest.raises(FileNotFoundError) as hooked:
        run_hooked(read)
    assert str(plain.value) == str(hooked.value)


def test_streams_and_buffers_are_not_files(tmp_path) -> None:
    import io

    _, events, _ = run_hooked(lambda: pd.DataFrame({"a": [1]}).to_csv(io.StringIO()))
    assert events == []
    _, events, _ = run_hooked(lambda: pickle.loads(pickle.dumps([1, 2])))
    assert events == []


def test_digest_cache_reuses_unchanged_files_only(tmp_path, monkeypatch) -> None:
    import os

    import cmlops.capture.hooks as hooks_module
    from cmlops.capture.hooks import DigestCache

    path = tmp_path / "d.csv"
    path.write_text("a\n1\n")
    calls = []
    real = hooks_module.fingerprint_file
    monkeypatch.setattr(hooks_module, "fingerprint_file", lambda p: calls.append(p) or real(p))
    cache = DigestCache()

    def read_once() -> str:
        log = IOLog(cache=cache)
        hooks = Hooks(log)
        hooks.install()
        try:
            pd.read_csv(path)
        finally:
            hooks.restore()
        log.finish()
        return log.events[0].digest

    first = read_once()
    assert read_once() == first and len(calls) == 1  # unchanged: not read again
    path.write_text("a\n2\n")  # same size, new content
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    second = read_once()
    assert second == sha(path) != first and len(calls) == 2
