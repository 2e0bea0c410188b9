"""The store: an append-only, hash-chained audit log with a PROV lineage projection.

:class:`Store` is assembled from one part per job, each in its own module:
the opened store's transactions and identity checks (:mod:`.session`),
reading records (:mod:`.record_queries`), verification and Merkle proofs
(:mod:`.chain_verification`), writing (:mod:`.chain_writer`), schema creation
and migration (:mod:`.schema_setup`), PostgreSQL team roles
(:mod:`.team_roles`) and lineage graph queries (:mod:`.lineage_queries`; the
rows they read are written by :mod:`.lineage_rows`).

Every write goes through ``_append``: it takes the chain's write lock, reads
the head, seals the new records and inserts them in the same transaction as
any lineage rows they justify. Lineage tables are therefore a projection of
the audit log: each row keeps the ``seq`` of the record that put it there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmlops._version import __version__
from cmlops.config import resolve_store
from cmlops.errors import StoreError
from cmlops.store.artifacts import ArtifactStore
from cmlops.store.chain import RECORD_FORMAT
from cmlops.store.chain_verification import ChainVerification
from cmlops.store.engine import create_store_engine, masked
from cmlops.store.lineage_queries import LineageQueries
from cmlops.store.schema_setup import SchemaSetup
from cmlops.store.session import Clock, utc_now
from cmlops.store.team_roles import TeamRoles


class Store(SchemaSetup, TeamRoles, ChainVerification, LineageQueries):
    """An opened audit store. Use :func:`open_store` to get one.

    ``actor`` is who this store records as acting, from the strongest source
    available (``actor_source``): the PostgreSQL session role, else the
    JupyterHub user, else the OS user. ``claimed_actor`` (``CMLOPS_USER``, or
    the ``claimed_actor`` argument) is recorded beside it, never in its place.
    """

    def _initialise(self, *, create: bool, migrate: bool) -> None:
        self._resolve_actor()
        self._open_schema(create=create, migrate=migrate)
        self._remember_identity()

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            self._artifacts = ArtifactStore(self.home / "artifacts")
        return self._artifacts

    def info(self) -> dict[str, Any]:
        head = self.head()
        database = self._engine.url.database if self._engine.dialect.name == "sqlite" else None
        return {
            "url": masked(self.url),
            "backend": self._engine.dialect.name,
            "home": str(self.home),
            "store_id": self.store_id,
            "schema_version": self._schema_version(),
            "records": self.count_records(),
            "head": {"seq": head.seq, "hash": head.hash} if head else None,
            "database_bytes": Path(database).stat().st_size if database else None,
            "actor": self.actor,
            "actor_source": self.actor_source,
            "claimed_actor": self.claimed_actor,
            "record_format": RECORD_FORMAT,
            "cmlops_version": __version__,
        }

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_store(
    url: str | None = None,
    *,
    home: Path | str | None = None,
    create: bool = True,
    migrate: bool = False,
    claimed_actor: str | None = None,
    clock: Clock | None = None,
) -> Store:
    """Open (and on first use create) the store resolved as described in :mod:`cmlops.config`."""
    location = resolve_store(url, home)
    if not create and location.url.startswith("sqlite:///"):
        database = Path(location.url.removeprefix("sqlite:///"))
        if not database.is_file():
            raise StoreError(
                f"no cmlops store at {location.home}: run cmlops in the project folder, set "
                "CMLOPS_HOME, or record something first"
            )
    engine = create_store_engine(location.url)
    store = Store(
        engine, location.url, location.home, claimed_actor=claimed_actor, clock=clock or utc_now
    )
    try:
        store._initialise(create=create, migrate=migrate)
    except BaseException:
        engine.dispose()
        raise
    return store
