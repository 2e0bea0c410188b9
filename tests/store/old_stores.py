"""Stores as older cmlops versions left them, and team members with their own database roles."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from cmlops.store import schema
from cmlops.store.chain import GENESIS_HASH, seal

FIXTURE = Path(__file__).parent / "fixtures" / "store-v2-records.jsonl"
TS = "2026-11-22T10:00:00.000001+00:00"


def fixture_rows() -> tuple[dict, list[dict]]:
    """Meta and raw audit rows written by cmlops 0.1.0 (schema v2, record format 1)."""
    lines = [line for line in FIXTURE.read_text("utf-8").split("\n") if line]
    return json.loads(lines[0])["meta"], [json.loads(line) for line in lines[1:]]


def format1_rows(store_id: str, version: int, count: int = 2) -> list[dict]:
    """A store.init record and ``count - 1`` others, sealed as format 1 (no context)."""
    rows, prev = [], GENESIS_HASH
    events = [("store.init", "store", store_id, {"schema_version": version}, "store created")]
    events += [("kept.record", "t", str(i), {"x": i}, "") for i in range(1, count)]
    for seq, (action, otype, oid, payload, reason) in enumerate(events, start=1):
        record = seal(seq, TS, "alice", action, otype, oid, payload, reason, prev)
        rows.append({k: v for k, v in vars(record).items() if k != "context"})
        prev = record.hash
    return rows


def build_old_store(url: str, version: int, rows: list[dict] | None = None) -> str:
    """Create schema ``version`` at ``url`` holding format-1 ``rows``; return the store id."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    store_id = str(uuid.uuid4())
    if rows is None:
        rows = format1_rows(store_id, version)
    else:
        store_id = rows[0]["object_id"]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            schema.create_version(connection, version)
            old_log = schema.V1_TABLES[1]
            connection.execute(
                insert(schema.meta),
                [
                    {"key": "schema_version", "value": str(version)},
                    {"key": "store_id", "value": store_id},
                ],
            )
            connection.execute(insert(old_log), rows)
    finally:
        engine.dispose()
    return store_id


def add_team_role(admin_store, role: str) -> str:
    """Create login role ``role`` (if new), grant it the team rights; return its store URL."""
    with admin_store._engine.connect() as connection, connection.begin():
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    admin_store.grant_team_role(role)
    return str(make_url(admin_store.url).set(username=role).render_as_string(hide_password=False))


def add_reader_role(admin_store, role: str) -> str:
    """A login role that may read the store but was never granted INSERT."""
    with admin_store._engine.connect() as connection, connection.begin():
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        tables = ", ".join((*schema.EVIDENCE_TABLES, "cmlops_meta"))
        connection.execute(text(f'GRANT SELECT ON {tables} TO "{role}"'))
    return str(make_url(admin_store.url).set(username=role).render_as_string(hide_password=False))


__all__ = [
    "FIXTURE",
    "add_reader_role",
    "add_team_role",
    "build_old_store",
    "fixture_rows",
    "format1_rows",
]
