"""Shared fixtures: an isolated store per test and a real PostgreSQL server.

The PostgreSQL server is Debian's (``apt-get install postgresql``, done by
``.ci/setup --test``), started once per session as the ``postgres`` user on a
throwaway cluster listening on loopback only.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_store_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test writes to a developer's real store: CMLOPS_HOME points into tmp_path."""
    monkeypatch.delenv("CMLOPS_STORE_URL", raising=False)
    monkeypatch.setenv("CMLOPS_HOME", str(tmp_path / ".cmlops"))
    monkeypatch.setenv("CMLOPS_USER", "tester")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = candidates[0] if candidates else shutil.which("initdb")
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found: run `bash .ci/setup --test` (it installs "
            "Debian's postgresql), or deselect these tests with -m 'not postgres'"
        )
    return Path(found).parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1; yields its base SQLAlchemy URL."""
    binaries = _postgres_bin()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="cmlops-pg-"))
    data, log = base / "data", base / "server.log"
    if as_postgres:
        shutil.chown(base, user="postgres")
    port = free_port()
    subprocess.run(
        [
            *as_postgres,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c max_connections=60"
    subprocess.run(
        [
            *as_postgres,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server}/{name}"
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / '.cmlops' / 'store.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_store(store_url: str, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """Open stores on ``store_url`` (closed at teardown)."""
    from cmlops.store import open_store

    opened = []

    def factory(**kwargs: object):
        store = open_store(store_url, home=tmp_path / ".cmlops", **kwargs)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()
