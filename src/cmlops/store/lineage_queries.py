"""Lineage: turning a batch of PROV facts into audit events + rows, and graph queries.

Each fact's audit payload holds the whole fact, so the lineage tables could be
rebuilt from the audit log alone; the tables exist to answer graph questions
(ancestors, descendants, one notebook's lineage) without replaying the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Table, select, tuple_

from cmlops.errors import InvalidInputError
from cmlops.store import schema
from cmlops.store.model import (
    Activity,
    Agent,
    Associated,
    AuditEvent,
    Derived,
    Entity,
    Generated,
    LineageBatch,
    LineageGraph,
    Used,
)
from cmlops.store.values import canonical_payload

_CHUNK = 500


def _dumps(value: dict[str, Any]) -> str:
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
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        if len(columns) == 1:
            query = select(columns[0]).where(columns[0].in_([key[0] for key in chunk]))
        else:
            query = select(*columns).where(tuple_(*columns).in_(chunk))
        found.update(tuple(row) for row in connection.execute(query))
    return found


def _entity_row(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "kind": entity.kind,
        "name": entity.name,
        "fingerprint": entity.fingerprint,
        "location": entity.location,
        "schema_json": _dumps(entity.schema),
        "attributes": _dumps(entity.attributes),
    }


def _activity_row(activity: Activity) -> dict[str, Any]:
    row = asdict(activity)
    row["attributes"] = _dumps(activity.attributes)
    return row


def _agent_row(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "kind": agent.kind,
        "name": agent.name,
        "attributes": _dumps(agent.attributes),
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
    _plan_relations(connection, batch, add)
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
                {"id": env_id, "payload": _dumps(payload)},
            )
    known = _existing(connection, schema.agents, [(a.id,) for a in batch.agents])
    for agent in batch.agents:
        if (agent.id,) not in known:
            known.add((agent.id,))
            add("lineage.agent", "agent", agent.id, asdict(agent), schema.agents, _agent_row(agent))
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
                _entity_row(entity),
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
            _activity_row(activity),
        )


def _plan_relations(connection: Connection, batch: LineageBatch, add: Any) -> None:
    """used, generated, derived and associated facts not yet recorded."""
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
        known = _existing(connection, table, [key(f) for f in facts])
        for fact in facts:
            if key(fact) not in known:
                known.add(key(fact))
                add(f"lineage.{name}", name, "|".join(key(fact)), asdict(fact), table, asdict(fact))


def _entity(row: Any) -> Entity:
    return Entity(
        id=row.id,
        kind=row.kind,
        name=row.name,
        fingerprint=row.fingerprint,
        location=row.location,
        schema=json.loads(row.schema_json),
        attributes=json.loads(row.attributes),
    )


def _activity(row: Any) -> Activity:
    values = dict(row._mapping)
    values.pop("audit_seq", None)
    values["attributes"] = json.loads(values["attributes"])
    return Activity(**values)


def _agent(row: Any) -> Agent:
    return Agent(id=row.id, kind=row.kind, name=row.name, attributes=json.loads(row.attributes))


class LineageQueries:
    """Graph queries over the lineage projection (mixed into :class:`Store`)."""

    def _graph(
        self, connection: Connection, activity_ids: set[str], entity_ids: set[str]
    ) -> LineageGraph:
        graph = LineageGraph()
        ids = sorted(activity_ids)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            for row in connection.execute(
                select(schema.activities).where(schema.activities.c.id.in_(chunk))
            ):
                graph.activities[row.id] = _activity(row)
            for row in connection.execute(
                select(schema.used).where(schema.used.c.activity_id.in_(chunk))
            ):
                graph.used.append(Used(row.activity_id, row.entity_id, row.role))
                entity_ids.add(row.entity_id)
            for row in connection.execute(
                select(schema.generated).where(schema.generated.c.activity_id.in_(chunk))
            ):
                graph.generated.append(Generated(row.entity_id, row.activity_id, row.role))
                entity_ids.add(row.entity_id)
            for row in connection.execute(
                select(schema.associated).where(schema.associated.c.activity_id.in_(chunk))
            ):
                graph.associated.append(Associated(row.activity_id, row.agent_id, row.role))
        agent_ids = sorted({edge.agent_id for edge in graph.associated})
        for start in range(0, len(agent_ids), _CHUNK):
            for row in connection.execute(
                select(schema.agents).where(
                    schema.agents.c.id.in_(agent_ids[start : start + _CHUNK])
                )
            ):
                graph.agents[row.id] = _agent(row)
        ent = sorted(entity_ids)
        for start in range(0, len(ent), _CHUNK):
            chunk = ent[start : start + _CHUNK]
            for row in connection.execute(
                select(schema.entities).where(schema.entities.c.id.in_(chunk))
            ):
                graph.entities[row.id] = _entity(row)
            for row in connection.execute(
                select(schema.derived).where(schema.derived.c.entity_id.in_(chunk))
            ):
                if row.source_id in entity_ids:
                    graph.derived.append(Derived(row.entity_id, row.source_id, row.activity_id))
        return graph

    def _walk(self, entity_id: str, upstream: bool) -> LineageGraph:
        with self._guard(), self._reader() as connection:
            if (
                connection.execute(
                    select(schema.entities.c.id).where(schema.entities.c.id == entity_id)
                ).first()
                is None
            ):
                raise InvalidInputError(
                    f"no entity with id {entity_id!r} in this store: list "
                    "entities with `cmlops lineage export`"
                )
            entities, activities = {entity_id}, set()
            frontier = {entity_id}
            while frontier:
                chunk = sorted(frontier)
                # upstream: entity <-generated- activity -used-> inputs, entity -derived-> source
                # downstream: the same edges followed the other way
                if upstream:
                    to_act, via, to_ent = schema.generated.c, schema.derived.c, schema.used.c
                    act_key, src_key, dst_key = "entity_id", "entity_id", "source_id"
                else:
                    to_act, via, to_ent = schema.used.c, schema.derived.c, schema.generated.c
                    act_key, src_key, dst_key = "entity_id", "source_id", "entity_id"
                found_activities = {
                    row[0]
                    for row in connection.execute(
                        select(to_act.activity_id).where(to_act[act_key].in_(chunk))
                    )
                }
                found_entities = {
                    row[0]
                    for row in connection.execute(
                        select(via[dst_key]).where(via[src_key].in_(chunk))
                    )
                }
                new_acts = found_activities - activities
                found_entities |= {
                    row[0]
                    for row in connection.execute(
                        select(to_ent.entity_id).where(to_ent.activity_id.in_(sorted(new_acts)))
                    )
                }
                activities |= new_acts
                frontier = found_entities - entities
                entities |= frontier
            graph = self._graph(connection, activities, set(entities))
        # keep only the walk: an activity's other inputs or outputs are not on the path
        graph.entities = {k: v for k, v in graph.entities.items() if k in entities}
        graph.used = [e for e in graph.used if e.entity_id in entities]
        graph.generated = [e for e in graph.generated if e.entity_id in entities]
        graph.derived = [
            e for e in graph.derived if e.entity_id in entities and e.source_id in entities
        ]
        return graph

    def ancestors(self, entity_id: str) -> LineageGraph:
        """Everything ``entity_id`` was derived from, transitively, with the activities between."""
        return self._walk(entity_id, upstream=True)

    def descendants(self, entity_id: str) -> LineageGraph:
        """Everything derived from ``entity_id``, transitively."""
        return self._walk(entity_id, upstream=False)

    def activity_lineage(self, activity_id: str) -> LineageGraph:
        """What one activity used and generated, and who was associated with it."""
        with self._guard(), self._reader() as connection:
            return self._graph(connection, {activity_id}, set())

    def notebook_lineage(self, notebook: str) -> LineageGraph:
        """The lineage of every activity recorded for one notebook path."""
        with self._guard(), self._reader() as connection:
            ids = {
                row.id
                for row in connection.execute(
                    select(schema.activities.c.id).where(schema.activities.c.notebook == notebook)
                )
            }
            return self._graph(connection, ids, set())

    def lineage_graph(self) -> LineageGraph:
        """The whole lineage graph of the store (for export)."""
        with self._guard(), self._reader() as connection:
            ids = {row.id for row in connection.execute(select(schema.activities.c.id))}
            entity_ids = {row.id for row in connection.execute(select(schema.entities.c.id))}
            return self._graph(connection, ids, entity_ids)

    def entities_named(self, name: str, kind: str | None = None) -> list[Entity]:
        """Entities whose name (or ``variable:NAME`` location) is ``name``, oldest first."""
        table = schema.entities
        query = select(table).where(
            (table.c.name == name) | (table.c.location == f"variable:{name}")
        )
        if kind is not None:
            query = query.where(table.c.kind == kind)
        with self._guard(), self._reader() as connection:
            return [_entity(row) for row in connection.execute(query.order_by(table.c.audit_seq))]

    def lineage_after(self, after_seq: int, upto_seq: int | None = None) -> LineageGraph:
        """The lineage facts recorded after audit record ``after_seq`` (up to ``upto_seq``).

        A graph of the new rows only: a relation recorded now may point at an
        entity or activity recorded earlier (not included; ask ``get_entity``).
        For readers that follow the log (the server's sidebar) in O(new facts).
        """
        graph = LineageGraph()

        def rows(table: Table, connection: Connection) -> Iterable[Any]:
            query = select(table).where(table.c.audit_seq > after_seq)
            if upto_seq is not None:
                query = query.where(table.c.audit_seq <= upto_seq)
            return connection.execute(query.order_by(table.c.audit_seq))

        with self._guard(), self._reader() as connection:
            for row in rows(schema.entities, connection):
                graph.entities[row.id] = _entity(row)
            for row in rows(schema.activities, connection):
                graph.activities[row.id] = _activity(row)
            for row in rows(schema.agents, connection):
                graph.agents[row.id] = _agent(row)
            for row in rows(schema.used, connection):
                graph.used.append(Used(row.activity_id, row.entity_id, row.role))
            for row in rows(schema.generated, connection):
                graph.generated.append(Generated(row.entity_id, row.activity_id, row.role))
            for row in rows(schema.derived, connection):
                graph.derived.append(Derived(row.entity_id, row.source_id, row.activity_id))
            for row in rows(schema.associated, connection):
                graph.associated.append(Associated(row.activity_id, row.agent_id, row.role))
        return graph

    def _get_row(self, table: Table, key: str) -> Any:
        with self._guard(), self._reader() as connection:
            return connection.execute(select(table).where(table.c.id == key)).first()

    def get_entity(self, entity_id: str) -> Entity | None:
        row = self._get_row(schema.entities, entity_id)
        return _entity(row) if row else None

    def get_activity(self, activity_id: str) -> Activity | None:
        row = self._get_row(schema.activities, activity_id)
        return _activity(row) if row else None

    def get_agent(self, agent_id: str) -> Agent | None:
        row = self._get_row(schema.agents, agent_id)
        return _agent(row) if row else None

    def get_environment(self, environment_id: str) -> dict[str, Any] | None:
        row = self._get_row(schema.environments, environment_id)
        return json.loads(row.payload) if row else None
