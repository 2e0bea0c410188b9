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
    inspect,
    text,
)

SCHEMA_VERSION = 3

metadata = MetaData()

meta = Table(
    "cmlops_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def _audit_log(target: MetaData, *, with_context: bool) -> Table:
    """The audit log table; ``context`` (record format 2) arrived with schema version 3."""
    context = [Column("context", Text, nullable=True)] if with_context else []
    return Table(
        "audit_log",
        target,
        Column(
            "seq",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=False,
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
        *context,
        Index("ix_audit_actor", "actor"),
        Index("ix_audit_action", "action"),
        Index("ix_audit_object", "object_type", "object_id"),
        Index("ix_audit_ts", "ts"),
    )


audit_log = _audit_log(metadata, with_context=True)


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

_V1_METADATA = MetaData()
#: the tables of schema version 1 (the audit log before it had ``context``)
V1_TABLES = (meta.to_metadata(_V1_METADATA), _audit_log(_V1_METADATA, with_context=False))
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


_PG_INSERT_CHECK = """
CREATE OR REPLACE FUNCTION cmlops_check_audit_insert() RETURNS trigger AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    IF NEW.context IS NULL THEN
        RAISE EXCEPTION 'cmlops: record % has no context (record format 2): upgrade cmlops',
            NEW.seq;
    END IF;
    IF NEW.actor IS DISTINCT FROM session_user::text
       OR (NEW.context::jsonb ->> 'actor_source') IS DISTINCT FROM 'postgresql' THEN
        RAISE EXCEPTION 'cmlops: record % names actor %, but this session is %: records '
            'are written in your own name only', NEW.seq, NEW.actor, session_user;
    END IF;
    SELECT seq, hash INTO head_seq, head_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NEW.seq IS DISTINCT FROM coalesce(head_seq, 0) + 1
       OR NEW.prev_hash IS DISTINCT FROM coalesce(head_hash, repeat('0', 64)) THEN
        RAISE EXCEPTION 'cmlops: record % does not extend the chain head (seq %)',
            NEW.seq, coalesce(head_seq, 0);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""

_SQLITE_INSERT_CHECKS = {
    "audit_log_needs_context": (
        "NEW.context IS NULL",
        "cmlops: audit records need a context (record format 2): upgrade cmlops",
    ),
    "audit_log_extends_head": (
        "NEW.seq IS NOT coalesce((SELECT max(seq) FROM audit_log), 0) + 1 OR NEW.prev_hash IS "
        "NOT coalesce((SELECT hash FROM audit_log WHERE seq = NEW.seq - 1), '" + "0" * 64 + "')",
        "cmlops: the record does not extend the chain head",
    ),
}


def install_insert_guards(connection: Connection) -> None:
    """Triggers that refuse an audit record the chain cannot take (schema version 3).

    Every database: a record without context (an old cmlops writing format 1)
    and a record that does not extend the head (wrong seq or prev_hash). On
    PostgreSQL also a record whose actor is not the session's authenticated
    role, so a person with their own role cannot write in another's name, and
    TRUNCATE of any evidence table.
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for name, (condition, message) in _SQLITE_INSERT_CHECKS.items():
            connection.execute(
                text(
                    f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE INSERT ON audit_log "
                    f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
            )
    elif dialect == "postgresql":
        connection.execute(text(_PG_INSERT_CHECK))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_log_insert_check ON audit_log"))
        connection.execute(
            text(
                "CREATE TRIGGER audit_log_insert_check BEFORE INSERT ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION cmlops_check_audit_insert()"
            )
        )
        for name in APPEND_ONLY_TABLES:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}"))
            connection.execute(
                text(
                    f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION cmlops_append_only()"
                )
            )


def _migrate_1_to_2(connection: Connection) -> None:
    """Version 2 adds the PROV lineage tables (version 1 held the audit log only)."""
    for table in LINEAGE_TABLES:
        table.create(connection, checkfirst=True)
    install_append_only_guards(connection, tuple(table.name for table in LINEAGE_TABLES))


def _migrate_2_to_3(connection: Connection) -> None:
    """Version 3: records carry a ``context`` (record format 2); inserts are checked."""
    columns = {column["name"] for column in inspect(connection).get_columns("audit_log")}
    if "context" not in columns:
        connection.execute(text("ALTER TABLE audit_log ADD COLUMN context TEXT"))
    install_insert_guards(connection)
    for table in LINEAGE_TABLES:  # readers that follow the log ask for rows after a seq
        name = table.name
        connection.execute(
            text(f"CREATE INDEX IF NOT EXISTS ix_{name}_audit_seq ON {name} (audit_seq)")
        )


#: from-version -> function that brings the schema to from-version + 1
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


def create_version(connection: Connection, version: int) -> None:
    """Create the schema as it was at ``version`` (tests use this for old stores)."""
    for table in V1_TABLES:
        table.create(connection, checkfirst=True)
    install_append_only_guards(connection, ("audit_log",))
    for start in range(1, version):
        MIGRATIONS[start](connection)


#: tables a team member writes (and reads); ``cmlops_meta`` is read only
EVIDENCE_TABLES = APPEND_ONLY_TABLES


def team_grants(role: str, quote: Callable[[str], str]) -> list[str]:
    """SQL that lets ``role`` read the store and append evidence, and nothing more.

    INSERT and SELECT on the audit log and lineage tables, SELECT on the meta
    table; UPDATE, DELETE, TRUNCATE, REFERENCES and TRIGGER revoked. ``quote``
    is the dialect's identifier quoting.
    """
    who = quote(role)
    tables = ", ".join(EVIDENCE_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {who}",
        f"GRANT SELECT, INSERT ON {tables} TO {who}",
        f"GRANT SELECT ON cmlops_meta TO {who}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {tables} FROM {who}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON cmlops_meta FROM {who}",
    ]
