"""Lineage writes: the audit events and projection rows of a batch's new PROV facts.

Each fact's audit payload holds the whole fact, and its row is built from the
same fact by the same functions (:func:`entity_row`, :func:`activity_row`,
:func:`agent_row`, :func:`json_column`), so the lineage tables could be
rebuilt from the audit log alone — which is what
:mod:`cmlops.store.projection` checks. Facts already recorded are skipped
(identical content has one identity); an activity is never recorded twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Table, select, tuple_

from cmlops.errors import InvalidInputError
from cmlops.store import schema
from cmlops.store.engine import IN_LIST_CHUNK
from cmlops.store.model import Activity, Agent, AuditEvent, Entity, LineageBatch
from cmlops.store.values import canonical_payload


def json_column(value: dict[str, Any]) -> str:
    """A JSON column: the canonical text of the value as its audit record holds it.

    Numbers outside I-JSON and unsafe text are tagged exactly as in the record
    (:mod:`cmlops.store.values`), so each row equals its record's fact.
    """
    return canonical_payload(value)


def _existing(connection: Connection, table: Table, keys: Sequence[tuple]) -> set[tuple]:
    """Which of ``keys`` (primary-key tuples) are already in ``table``."""
    columns = list(table.primary_key.columns)
    found: set[tuple] = set()
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), IN_LIST_CHUNK):
        chunk = unique[start : start + IN_LIST_CHUNK]
        if len(columns) == 1:
            query = select(columns[0]).where(columns[0].in_([key[0] for key in chunk]))
        else:
            query = select(*columns).where(tuple_(*columns).in_(chunk))
        found.update(tuple(row) for row in connection.execute(query))
    return found


def entity_row(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "kind": entity.kind,
        "name": entity.name,
        "fingerprint": entity.fingerprint,
        "location": entity.location,
        "schema_json": json_column(entity.schema),
        "attributes": json_column(entity.attributes),
    }


def activity_row(activity: Activity) -> dict[str, Any]:
    row = asdict(activity)
    row["attributes"] = json_column(activity.attributes)
    return row


def agent_row(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "kind": agent.kind,
        "name": agent.name,
        "attributes": json_column(agent.attributes),
    }


def lineage_rows(
    connection: Connection, batch: LineageBatch
) -> list[tuple[AuditEvent, Table, dict]]:
    """The audit events and projection rows for the new facts of ``batch``, in write order."""
    reason = batch.reason
    planned: list[tuple[AuditEvent, Table, dict]] = []

    def add(
        action: str, object_type: str, object_id: str, payload: dict, table: Table, row: dict
    ) -> None:
        planned.append((AuditEvent(action, object_type, object_id, payload, reason), table, row))

    _plan_nodes(connection, batch, add)
    _plan_relations(connection, batch, add, {a.id for a in batch.activities})
    return planned


def _plan_nodes(connection: Connection, batch: LineageBatch, add: Any) -> None:
    """Environments, agents and entities not yet recorded; activities (always new)."""
    known = _existing(connection, schema.environments, [(k,) for k in batch.environments])
    for env_id, payload in batch.environments.items():
        if (env_id,) not in known:
            known.add((env_id,))
            add(
                "lineage.environment",
                "environment",
                env_id,
                {"environment": payload},
                schema.environments,
                {"id": env_id, "payload": json_column(payload)},
            )
    known = _existing(connection, schema.agents, [(a.id,) for a in batch.agents])
    for agent in batch.agents:
        if (agent.id,) not in known:
            known.add((agent.id,))
            add("lineage.agent", "agent", agent.id, asdict(agent), schema.agents, agent_row(agent))
    known = _existing(connection, schema.entities, [(e.id,) for e in batch.entities])
    for entity in batch.entities:
        if (entity.id,) not in known:
            known.add((entity.id,))
            add(
                "lineage.entity",
                "entity",
                entity.id,
                asdict(entity),
                schema.entities,
                entity_row(entity),
            )
    known = _existing(connection, schema.activities, [(a.id,) for a in batch.activities])
    for activity in batch.activities:
        if (activity.id,) in known:
            raise InvalidInputError(
                f"activity {activity.id!r} is already recorded: activities "
                "are immutable, give the new run a new id"
            )
        known.add((activity.id,))
        add(
            "lineage.activity",
            "activity",
            activity.id,
            asdict(activity),
            schema.activities,
            activity_row(activity),
        )


def _plan_relations(
    connection: Connection, batch: LineageBatch, add: Any, new_activities: set[str]
) -> None:
    """used, generated, derived and associated facts not yet recorded.

    A relation of an activity this batch records for the first time cannot be in
    the store yet (``_plan_nodes`` refused an activity already recorded), so only
    the relations of earlier activities are looked up: a cell's write asks the
    database one question less per relation kind.
    """
    relations: list[tuple[str, Table, Iterable[Any], Any]] = [
        ("used", schema.used, batch.used, lambda r: (r.activity_id, r.entity_id, r.role)),
        (
            "generated",
            schema.generated,
            batch.generated,
            lambda r: (r.entity_id, r.activity_id, r.role),
        ),
        (
            "derived",
            schema.derived,
            batch.derived,
            lambda r: (r.entity_id, r.source_id, r.activity_id),
        ),
        (
            "associated",
            schema.associated,
            batch.associated,
            lambda r: (r.activity_id, r.agent_id, r.role),
        ),
    ]
    for name, table, facts, key in relations:
        facts = list(facts)
        earlier = [f for f in facts if getattr(f, "activity_id", None) not in new_activities]
        known = _existing(connection, table, [key(f) for f in earlier])
        for fact in facts:
            if key(fact) not in known:
                known.add(key(fact))
                add(f"lineage.{name}", name, "|".join(key(fact)), asdict(fact), table, asdict(fact))
