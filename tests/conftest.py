"""Shared fixtures: an isolated store per test and a real PostgreSQL server.

The PostgreSQL server is Debian's (``apt-get install postgresql``, done by
``.ci/setup --test``), started once per session as the ``postgres`` user on a
throwaway cluster listening on loopback only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg_server import (
    PostgresNotInstalled,
    create_database,
    drop_database,
    running_postgres,
)

#: outcomes per requirement into test-artifacts/requirements-results.json; the wheel, built once
pytest_plugins = ["tests.requirements_plugin", "tests.wheel_env"]


@pytest.fixture(autouse=True)
def _isolated_store_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test writes to a developer's real store: CMLOPS_HOME points into tmp_path.

    Tests act as the JupyterHub user ``tester`` (the actor a SQLite store records
    when a hub authenticates; ``CMLOPS_USER`` is only a claimed name and unset).
    On PostgreSQL the actor is the database role instead.
    """
    monkeypatch.delenv("CMLOPS_STORE_URL", raising=False)
    monkeypatch.setenv("CMLOPS_HOME", str(tmp_path / ".cmlops"))
    monkeypatch.delenv("CMLOPS_USER", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "tester")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1; yields its base SQLAlchemy URL."""
    try:
        with running_postgres() as url:
            yield url
    except PostgresNotInstalled as error:
        pytest.fail(f"{error}, or deselect these tests with -m 'not postgres'")


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield create_database(postgres_server, name)
    drop_database(postgres_server, name)


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
