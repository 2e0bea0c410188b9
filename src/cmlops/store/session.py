"""One opened store: who acts, its transactions, and that it is still the store opened.

A store can vanish, be replaced by another file or database, or be rolled back
to an older backup while a kernel holds it open; records written before would
then be silently gone. Every read and write of :class:`StoreSession` checks
first that it still talks to the store it opened (one ``stat`` on SQLite, the
store id inside a write transaction), and a write also checks that the last
record this object wrote is still in the chain. The query and writing parts of
the store (:mod:`cmlops.store.record_queries`, :mod:`cmlops.store.chain_writer`
and the modules built on them) all go through these transactions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, select, text

from cmlops.config import SOURCE_DATABASE, Actor, local_actor
from cmlops.errors import StoreNotWritableError, StoreReplacedError
from cmlops.store import schema
from cmlops.store.artifacts import ArtifactStore
from cmlops.store.chain import GENESIS_HASH
from cmlops.store.engine import ErrorTranslator, masked, read_transaction, write_transaction

Clock = Callable[[], datetime]

#: key in a connection's ``info`` of the (seq, hash) an append wrote, until it commits
WRITTEN = "cmlops_written"


def utc_now() -> datetime:
    """The store's default clock: the current time in UTC."""
    return datetime.now(timezone.utc)


class StoreSession:
    """An opened store's connection, actor and identity checks.

    ``actor`` is who this store records as acting, from the strongest source
    available (``actor_source``): the PostgreSQL session role, else the
    JupyterHub user, else the OS user. ``claimed_actor`` (``CMLOPS_USER``, or
    the ``claimed_actor`` argument) is recorded beside it, never in its place.
    """

    def __init__(
        self,
        engine: Engine,
        url: str,
        home: Path,
        *,
        claimed_actor: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self.url = url
        self.home = home
        self.identity: Actor = local_actor(claimed_actor)
        self.clock = clock
        self._artifacts: ArtifactStore | None = None
        self._opened_id = ""
        #: (seq, hash) of the last record this object wrote and saw committed
        self._written: tuple[int, str] | None = None
        self._database_file: tuple[Path, int, int] | None = None

    @property
    def actor(self) -> str:
        """Who acts (authenticated as strongly as the environment allows)."""
        return self.identity.name

    @property
    def actor_source(self) -> str:
        """Where ``actor`` comes from: ``postgresql``, ``jupyterhub`` or ``os``."""
        return self.identity.source

    @property
    def claimed_actor(self) -> str:
        """The name the user claimed (``CMLOPS_USER``); "" when none."""
        return self.identity.claimed

    def _resolve_actor(self) -> None:
        """On PostgreSQL the actor is the session role the server authenticated."""
        if self._engine.dialect.name != "postgresql":
            return
        with self._guard(), read_transaction(self._engine) as connection:
            role = connection.execute(text("SELECT session_user")).scalar_one()
        self.identity = Actor(str(role), SOURCE_DATABASE, self.identity.claimed)

    def _remember_identity(self) -> None:
        """Note which store this is, to notice later that it vanished or was replaced."""
        self._opened_id = self.store_id
        database = self._engine.url.database if self._engine.dialect.name == "sqlite" else None
        if database and database != ":memory:":
            path = Path(database)
            status = path.stat()
            self._database_file = (path, status.st_dev, status.st_ino)

    def _guard(self) -> ErrorTranslator:
        return ErrorTranslator(self.url)

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        self._check_file()
        with read_transaction(self._engine) as connection:
            yield connection

    @contextmanager
    def _writer(self) -> Iterator[Connection]:
        """The chain's write lock, after checking this is still the store that was opened."""
        self._check_file()
        written = None
        with write_transaction(self._engine) as connection:
            if self._opened_id and self.store_id_in(connection) != self._opened_id:
                raise self._replaced("was replaced by another store")
            try:
                yield connection
            finally:  # the connection goes back to the pool: leave nothing on it
                written = connection.info.pop(WRITTEN, None)
        if written is not None:  # committed
            self._written = written

    def check_identity(self) -> None:
        """Raise StoreReplacedError if the SQLite file vanished or was replaced (one stat)."""
        self._check_file()

    def _check_file(self) -> None:
        if self._database_file is None:
            return
        path, device, inode = self._database_file
        try:
            status = path.stat()
        except FileNotFoundError:
            raise self._replaced("vanished (its folder was deleted or moved)") from None
        if (status.st_dev, status.st_ino) != (device, inode):
            raise self._replaced("was replaced by another file")

    def _replaced(self, what: str) -> StoreReplacedError:
        return StoreReplacedError(
            f"the store {masked(self.url)} (store id {self._opened_id}) {what} since it was "
            "opened: records written to it earlier are not there any more; restore it from a "
            "backup or, to start a new store, open it again"
        )

    def check_writable(self) -> None:
        """Raise a StoreError unless this actor can append to this same store now.

        Checks that the store did not vanish or get replaced, that the SQLite
        file and folder are writable, and on PostgreSQL that the session role
        holds INSERT on every evidence table — without writing anything.
        """
        with self._guard():
            self._check_file()
            with read_transaction(self._engine) as connection:
                if self._opened_id and self.store_id_in(connection) != self._opened_id:
                    raise self._replaced("was replaced by another store")
                self._check_not_rolled_back(connection)
                if connection.dialect.name == "postgresql":
                    _check_pg_insert(connection, self.actor, masked(self.url))
        if self._database_file is not None:
            path = self._database_file[0]
            if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
                raise StoreNotWritableError(
                    f"the store {path} is not writable by this user: fix its permissions or "
                    "set CMLOPS_HOME to a writable folder"
                )

    def _check_not_rolled_back(
        self, connection: Connection, head: tuple[int, str] | None = None
    ) -> None:
        """The last record this object wrote must still be in the chain.

        A store restored from an older backup, or truncated or rewritten behind
        cmlops, keeps its store id; what it lost is what this session wrote.
        One primary-key lookup at most.
        """
        if self._written is None:
            return
        if head is None:
            found = connection.execute(
                select(schema.audit_log.c.seq, schema.audit_log.c.hash)
                .order_by(schema.audit_log.c.seq.desc())
                .limit(1)
            ).first()
            head = (found.seq, found.hash) if found else (0, GENESIS_HASH)
        seq, digest = self._written
        if head[0] < seq:
            raise self._replaced(
                f"was rolled back to an earlier state (its last record is seq {head[0]}; this "
                f"session wrote seq {seq})"
            )
        found_hash = (
            head[1]
            if head[0] == seq
            else connection.execute(
                select(schema.audit_log.c.hash).where(schema.audit_log.c.seq == seq)
            ).scalar()
        )
        if found_hash != digest:
            raise self._replaced(f"was rewritten (record {seq} this session wrote has changed)")

    def store_id_in(self, connection: Connection) -> str:
        row = connection.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == "store_id")
        ).first()
        return row.value if row else ""

    @property
    def store_id(self) -> str:
        with self._guard(), read_transaction(self._engine) as connection:
            return self.store_id_in(connection)


def _check_pg_insert(connection: Connection, role: str, where: str) -> None:
    missing = [
        table
        for table in schema.EVIDENCE_TABLES
        if not connection.execute(
            text("SELECT has_table_privilege(:table, 'INSERT')"), {"table": table}
        ).scalar_one()
    ]
    if missing:
        raise StoreNotWritableError(
            f"the database role {role!r} may not append to the store {where} (no INSERT on "
            f"{', '.join(missing)}): ask the store's administrator to run `cmlops store grant "
            f"{role}` (docs/team-store.md)"
        )
