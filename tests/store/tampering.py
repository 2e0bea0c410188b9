"""Raw SQL edits that bypass cmlops, the way an attacker with database access would."""

from __future__ import annotations

from sqlalchemy import text

from cmlops.store.chain import canonical_record, record_hash


def tamper(
    store, *statements: str, tables: tuple[str, ...] = ("audit_log",), **params: object
) -> None:
    """Drop the append-only guards of ``tables``, then run ``statements`` on the database."""
    with store._engine.connect() as connection, connection.begin():
        for name in tables:
            if connection.dialect.name == "sqlite":
                for trigger in (f"{name}_no_update", f"{name}_no_delete"):
                    connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
            else:
                connection.execute(text(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}"))
        # the insert guards of schema v3 (context required, the head extended, actor = role)
        if connection.dialect.name == "sqlite":
            for trigger in ("audit_log_needs_context", "audit_log_extends_head"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_log_insert_check ON audit_log"))
        for statement in statements:
            connection.execute(text(statement), params)


def rechain(store, from_seq: int) -> None:
    """Recompute prev_hash and hash of every record from ``from_seq`` on (after an edit):
    the chain verifies again, as a forger with database access would leave it."""
    records = store.records()
    prev = records[from_seq - 2].hash if from_seq > 1 else "0" * 64
    for record in records[from_seq - 1 :]:
        digest = record_hash(
            prev,
            canonical_record(
                record.seq,
                record.ts,
                record.actor,
                record.action,
                record.object_type,
                record.object_id,
                record.payload,
                record.reason,
                prev,
                record.context,
            ),
        )
        tamper(
            store,
            "UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s",
            p=prev,
            h=digest,
            s=record.seq,
        )
        prev = digest
