"""Database schema of the store (SQLAlchemy Core) and its migrations.

Schema versions are integers kept in ``meta``; each migration moves a store
one version up and is itself recorded in the audit log. A store newer than
this code is refused ("back up, then upgrade cmlops"); an older one is refused
with the command that migrates it, so an upgrade is always a deliberate,
recorded act.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

SCHEMA_VERSION = 2

metadata = MetaData()

meta = Table(
    "cmlops_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("ts", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("object_type", Text, nullable=False),
    Column("object_id", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
    Index("ix_audit_actor", "actor"),
    Index("ix_audit_action", "action"),
    Index("ix_audit_object", "object_type", "object_id"),
    Index("ix_audit_ts", "ts"),
)


def _seq_column() -> Column:
    return Column("audit_seq", BigInteger, nullable=False)


entities = Table(
    "entities",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("schema_json", Text, nullable=False),
    Column("attributes", Text, nullable=False),
    _seq_column(),
)

activities = Table(
    "activities",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("code_hash", String(80), nullable=False),
    Column("notebook", Text, nullable=False),
    Column("session", Text, nullable=False),
    Column("started", String(32), nullable=False),
    Column("ended", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("error", Text, nullable=False),
    Column("environment_id", String(200), nullable=False),
    Column("attributes", Text, nullable=False),
    _seq_column(),
    Index("ix_activities_notebook", "notebook"),
)

agents = Table(
    "agents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("attributes", Text, nullable=False),
    _seq_column(),
)

environments = Table(
    "environments",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("payload", Text, nullable=False),
    _seq_column(),
)

used = Table(
    "used",
    metadata,
    Column("activity_id", String(200), primary_key=True),
    Column("entity_id", String(200), primary_key=True),
    Column("role", String(200), primary_key=True),
    _seq_column(),
    Index("ix_used_entity", "entity_id"),
)

generated = Table(
    "generated",
    metadata,
    Column("entity_id", String(200), primary_key=True),
    Column("activity_id", String(200), primary_key=True),
    Column("role", String(200), primary_key=True),
    _seq_column(),
    Index("ix_generated_activity", "activity_id"),
)

derived = Table(
    "derived",
    metadata,
    Column("entity_id", String(200), primary_key=True),
    Column("source_id", String(200), primary_key=True),
    Column("activity_id", String(200), primary_key=True),
    _seq_column(),
    Index("ix_derived_source", "source_id"),
)

associated = Table(
    "associated",
    metadata,
    Column("activity_id", String(200), primary_key=True),
    Column("agent_id", String(200), primary_key=True),
    Column("role", String(200), primary_key=True),
    _seq_column(),
)

V1_TABLES = (meta, audit_log)
LINEAGE_TABLES = (entities, activities, agents, environments, used, generated, derived, associated)
APPEND_ONLY_TABLES = ("audit_log", *(table.name for table in LINEAGE_TABLES))


def install_append_only_guards(connection: Connection, table_names: tuple[str, ...]) -> None:
    """Database triggers that refuse UPDATE and DELETE on evidence tables.

    They stop mistakes and casual edits; they do not stop someone with DDL
    rights, which is what the hash chain and ``verify`` are for.
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for name in table_names:
            for event in ("UPDATE", "DELETE"):
                connection.execute(
                    text(
                        f"CREATE TRIGGER IF NOT EXISTS {name}_no_{event.lower()} "
                        f"BEFORE {event} ON {name} BEGIN "
                        f"SELECT RAISE(ABORT, 'cmlops: {name} is append-only'); END"
                    )
                )
    elif dialect == "postgresql":
        connection.execute(
            text(
                "CREATE OR REPLACE FUNCTION cmlops_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'cmlops: % is append-only', TG_TABLE_NAME; END; "
                "$$ LANGUAGE plpgsql"
            )
        )
        for name in table_names:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}"))
            connection.execute(
                text(
                    f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
                    "FOR EACH ROW EXECUTE FUNCTION cmlops_append_only()"
                )
            )


def _migrate_1_to_2(connection: Connection) -> None:
    """Version 2 adds the PROV lineage tables (version 1 held the audit log only)."""
    for table in LINEAGE_TABLES:
        table.create(connection, checkfirst=True)
    install_append_only_guards(connection, tuple(table.name for table in LINEAGE_TABLES))


#: from-version -> function that brings the schema to from-version + 1
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1_to_2}


def create_version(connection: Connection, version: int) -> None:
    """Create the schema as it was at ``version`` (tests use this for old stores)."""
    for table in V1_TABLES:
        table.create(connection, checkfirst=True)
    install_append_only_guards(connection, ("audit_log",))
    for start in range(1, version):
        MIGRATIONS[start](connection)
