"""Creating a store's schema on first use, and refusing or migrating another version.

An upgrade must be a deliberate, recorded act: a new store starts with its
``store.init`` record, a store newer than this code is refused ("back up, then
upgrade cmlops"), an older one is refused with the command that migrates it,
and each migration step is itself an audit record. The tables and the steps
are in :mod:`cmlops.store.schema`; this module decides which to run.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, insert, inspect, select

from cmlops._version import __version__
from cmlops.errors import SchemaVersionError, StoreError
from cmlops.store import schema
from cmlops.store.chain import RECORD_FORMAT
from cmlops.store.chain_writer import ChainWriter
from cmlops.store.engine import masked, read_transaction, write_transaction
from cmlops.store.model import AuditEvent


class SchemaSetup(ChainWriter):
    """Schema creation and migration on opening (part of :class:`cmlops.store.sql.Store`)."""

    def _open_schema(self, *, create: bool, migrate: bool) -> None:
        version = self._schema_version()
        if version is None:
            if not create:
                raise StoreError(
                    f"no cmlops store at {masked(self.url)}: run a cmlops command "
                    "with write access there first, or check CMLOPS_HOME"
                )
            self._create_schema()
            return
        if version > schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the store {masked(self.url)} has schema v{version}, newer than this cmlops "
                f"{__version__} reads (v{schema.SCHEMA_VERSION}): back up the store, then "
                "upgrade cmlops"
            )
        if version < schema.SCHEMA_VERSION:
            if not migrate:
                raise SchemaVersionError(
                    f"the store {masked(self.url)} has schema v{version}, older than v"
                    f"{schema.SCHEMA_VERSION}: back it up, then run `cmlops store migrate`"
                )
            self._migrate(version)

    def _create_schema(self) -> None:
        """Create the tables, the store id and the ``store.init`` record in one transaction."""
        with self._guard(), write_transaction(self._engine) as connection:
            if read_version(connection) is not None:  # another process won
                return
            schema.create_version(connection, schema.SCHEMA_VERSION)
            store_id = str(uuid.uuid4())
            connection.execute(
                insert(schema.meta),
                [
                    {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
                    {"key": "store_id", "value": store_id},
                ],
            )
            self._append(
                connection,
                [
                    AuditEvent(
                        "store.init",
                        "store",
                        store_id,
                        {
                            "schema_version": schema.SCHEMA_VERSION,
                            "record_format": RECORD_FORMAT,
                            "cmlops_version": __version__,
                        },
                        reason="store created",
                    )
                ],
            )

    def _schema_version(self) -> int | None:
        with self._guard(), read_transaction(self._engine) as connection:
            return read_version(connection)

    def _migrate(self, version: int) -> None:
        """Bring the schema up, then record each step (in record format 2, as it now is)."""
        with self._guard(), write_transaction(self._engine) as connection:
            current = read_version(connection) or version
            steps = list(range(current, schema.SCHEMA_VERSION))
            for step in steps:
                schema.MIGRATIONS[step](connection)
            if steps:
                connection.execute(
                    schema.meta.update()
                    .where(schema.meta.c.key == "schema_version")
                    .values(value=str(schema.SCHEMA_VERSION))
                )
            store_id = self.store_id_in(connection)
            self._append(
                connection,
                [
                    AuditEvent(
                        "store.migrated",
                        "store",
                        store_id,
                        {
                            "from_version": step,
                            "to_version": step + 1,
                            "record_format": RECORD_FORMAT,
                            "cmlops_version": __version__,
                        },
                        reason="schema migration",
                    )
                    for step in steps
                ],
            )


def read_version(connection: Connection) -> int | None:
    """The store's schema version, or None when the database holds no cmlops store."""
    if not inspect(connection).has_table("cmlops_meta"):
        return None
    row = connection.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).first()
    return int(row.value) if row else None
