"""Lineage graph queries: ancestors, descendants, one activity's or notebook's lineage.

The lineage tables are a projection of the audit log (written with their
records by :mod:`cmlops.store.lineage_rows`); they exist to answer graph
questions without replaying the log. Every query reads through the store's
checked transactions (:class:`cmlops.store.session.StoreSession`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, select

from cmlops.errors import InvalidInputError
from cmlops.store import schema
from cmlops.store.engine import IN_LIST_CHUNK
from cmlops.store.model import (
    Activity,
    Agent,
    Associated,
    Derived,
    Entity,
    Generated,
    LineageGraph,
    Used,
)
from cmlops.store.session import StoreSession


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


class LineageQueries(StoreSession):
    """Graph queries over the lineage projection (part of :class:`cmlops.store.sql.Store`)."""

    def _graph(
        self, connection: Connection, activity_ids: set[str], entity_ids: set[str]
    ) -> LineageGraph:
        graph = LineageGraph()
        ids = sorted(activity_ids)
        for start in range(0, len(ids), IN_LIST_CHUNK):
            chunk = ids[start : start + IN_LIST_CHUNK]
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
        for start in range(0, len(agent_ids), IN_LIST_CHUNK):
            for row in connection.execute(
                select(schema.agents).where(
                    schema.agents.c.id.in_(agent_ids[start : start + IN_LIST_CHUNK])
                )
            ):
                graph.agents[row.id] = _agent(row)
        ent = sorted(entity_ids)
        for start in range(0, len(ent), IN_LIST_CHUNK):
            chunk = ent[start : start + IN_LIST_CHUNK]
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
