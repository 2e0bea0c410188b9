"""PostgreSQL team roles: granting a database role the right to append evidence.

A team member's role may insert and read evidence and nothing more (the SQL
is :func:`cmlops.store.schema.team_grants`). A GRANT run by a role that does
not own the tables only warns, so the grants are checked after they run and
the ``store.role_granted`` record is written only when they took effect.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from cmlops.errors import InvalidInputError, StoreNotWritableError
from cmlops.store import schema
from cmlops.store.chain_writer import ChainWriter
from cmlops.store.engine import masked
from cmlops.store.model import AuditEvent


class TeamRoles(ChainWriter):
    """Team grants on a PostgreSQL store (part of :class:`cmlops.store.sql.Store`)."""

    def team_grants(self, role: str) -> list[str]:
        """The SQL that lets database role ``role`` append evidence and nothing more."""
        if self._engine.dialect.name != "postgresql":
            raise InvalidInputError(
                f"the store {masked(self.url)} is not a PostgreSQL store: team roles need the "
                "PostgreSQL team store (CMLOPS_STORE_URL=postgresql+psycopg://...)"
            )
        if not isinstance(role, str) or not role.strip() or "\x00" in role:
            raise InvalidInputError(f"{role!r} is not a database role name")
        return schema.team_grants(role, self._engine.dialect.identifier_preparer.quote)

    def grant_team_role(self, role: str) -> list[str]:
        """Run :meth:`team_grants` (as the store's owner) and record it; returns the SQL."""
        statements = self.team_grants(role)
        with self._guard(), self._writer() as connection:
            _check_role_exists(connection, role)
            for statement in statements:
                connection.execute(text(statement))
            missing = _missing_privileges(connection, role)
            if missing:  # GRANT by a non-owner only warns; nothing may be recorded then
                raise StoreNotWritableError(
                    f"the grants to {role!r} did not take effect ({', '.join(missing)}): only "
                    f"the store's owner can grant; run this as the owner (now {self.actor!r})"
                )
            self._append(
                connection,
                [
                    AuditEvent(
                        "store.role_granted",
                        "database_role",
                        role,
                        {"statements": statements},
                        reason="team member may append evidence",
                    )
                ],
            )
        return statements


def _check_role_exists(connection: Connection, role: str) -> None:
    found = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise InvalidInputError(
            f"there is no database role {role!r}: create it first (CREATE ROLE ... LOGIN), "
            "then grant"
        )


def _missing_privileges(connection: Connection, role: str) -> list[str]:
    wanted = [(table, "INSERT") for table in schema.EVIDENCE_TABLES]
    wanted += [(table, "SELECT") for table in (*schema.EVIDENCE_TABLES, "cmlops_meta")]
    query = text("SELECT has_table_privilege(:role, :table, :privilege)")
    return [
        f"{privilege} on {table}"
        for table, privilege in wanted
        if not connection.execute(
            query, {"role": role, "table": table, "privilege": privilege}
        ).scalar_one()
    ]
