"""Checking the lineage tables against the audit records that justify them.

The lineage tables are a projection of the chain: every row was inserted with
the ``lineage.<kind>`` record whose payload is the whole fact, and keeps that
record's ``seq`` (``audit_seq``). The chain's hashes protect the records, not
the rows, so someone with database access could edit a row (a dataset's
location, a cell's code) and every graph query would show the edit. This
module rebuilds each row from its record and reports every row that differs,
has no record, points at the wrong record, or is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from cmlops.store import schema
from cmlops.store.lineage_rows import activity_row, agent_row, entity_row, json_column
from cmlops.store.model import Activity, Agent, Entity
from cmlops.store.values import decode_value

#: lineage tables whose columns hold JSON text (compared as JSON values, not as text)
_JSON_COLUMNS = {"attributes", "schema_json", "payload"}
MAX_REPORTED = 20


def _expected_row(action: str, object_id: str, payload: dict[str, Any]) -> tuple[str, dict]:
    """The table and row a ``lineage.*`` record put into the projection."""
    kind = action.removeprefix("lineage.")
    if kind == "entity":
        return "entities", entity_row(Entity(**payload))
    if kind == "activity":
        return "activities", activity_row(Activity(**payload))
    if kind == "agent":
        return "agents", agent_row(Agent(**payload))
    if kind == "environment":
        return "environments", {"id": object_id, "payload": json_column(payload["environment"])}
    if kind in ("used", "generated", "derived", "associated"):
        return kind, dict(payload)
    raise ValueError(f"unknown lineage record kind {kind!r}")


def _key(table_name: str, row: dict[str, Any]) -> tuple:
    table = schema.metadata.tables[table_name]
    return (table_name, *(str(row[column.name]) for column in table.primary_key.columns))


def _same(column: str, stored: Any, expected: Any) -> bool:
    if column in _JSON_COLUMNS:
        try:
            return json.loads(stored) == json.loads(expected)
        except (TypeError, ValueError):
            return False
    return stored == expected


def projection_problems(store: Any) -> list[str]:
    """Every lineage row that is not exactly what its audit record says (first 20 named)."""
    expected: dict[tuple, tuple[int, dict[str, Any]]] = {}
    problems: list[str] = []
    for seq, action, object_id, payload in _lineage_records(store):
        try:
            # the payload holds tagged values (store/values.py); the row builders tag them again
            fact = decode_value(json.loads(payload))
            table_name, row = _expected_row(action, object_id, fact)
        except (TypeError, ValueError, KeyError) as error:
            problems.append(f"record seq {seq} ({action}) is not a lineage fact: {error}")
            continue
        expected[_key(table_name, row)] = (seq, row)
    for table in schema.LINEAGE_TABLES:
        with store._guard(), store._reader() as connection:
            rows = [dict(r._mapping) for r in connection.execute(select(table))]
        for stored in rows:
            key = _key(table.name, stored)
            name = f"{table.name} row {'|'.join(key[1:])}"
            if key not in expected:
                problems.append(
                    f"{name} has no lineage record in the chain (audit_seq {stored['audit_seq']}): "
                    "it was inserted behind the audit log"
                )
                continue
            seq, row = expected.pop(key)
            changed = [c for c in row if not _same(c, stored.get(c), row[c])]
            if changed:
                problems.append(
                    f"{name} differs from its audit record seq {seq} in {', '.join(changed)}: "
                    "the lineage table was edited"
                )
            elif stored["audit_seq"] != seq:
                problems.append(f"{name} points at audit seq {stored['audit_seq']}, not {seq}")
    for (table_name, *key), (seq, _row) in sorted(expected.items(), key=lambda i: i[1][0]):
        problems.append(
            f"{table_name} row {'|'.join(key)} of audit record seq {seq} is missing: "
            "it was deleted from the lineage table"
        )
    if len(problems) > MAX_REPORTED:
        rest = len(problems) - MAX_REPORTED
        problems = [*problems[:MAX_REPORTED], f"... and {rest} more lineage projection problems"]
    return problems


def _lineage_records(store: Any) -> Iterator[tuple[int, str, str, str]]:
    log = schema.audit_log.c
    query = (
        select(log.seq, log.action, log.object_id, log.payload)
        .where(log.action.startswith("lineage."))
        .order_by(log.seq)
    )
    with store._guard(), store._reader() as connection:
        yield from connection.execute(query)
