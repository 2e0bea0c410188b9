"""Raw SQL edits that bypass cmlops, the way an attacker with database access would."""

from __future__ import annotations

from sqlalchemy import text


def tamper(store, *statements: str, **params: object) -> None:
    """Drop the append-only guards, then run ``statements`` directly on the database."""
    with store._engine.connect() as connection, connection.begin():
        if connection.dialect.name == "sqlite":
            for name in ("audit_log_no_update", "audit_log_no_delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        for statement in statements:
            connection.execute(text(statement), params)
