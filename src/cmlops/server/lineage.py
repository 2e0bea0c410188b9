"""Lineage graph as JSON for the sidebar: nodes with their details, PROV relations as edges.

The browser draws what it gets; everything it shows (fingerprint, columns and
dtypes, rows, path, who and when, the cell's code) is resolved here so the
graph needs one request. Agents are folded into the activities they worked
on ("who") instead of being drawn: the graph reads datasets → cells → models.
"""

from __future__ import annotations

from typing import Any

#: Largest graph sent to the browser; beyond it the newest activities are kept.
MAX_NODES = 5000


def _entity_node(entity: Any) -> dict[str, Any]:
    schema = entity.schema if isinstance(entity.schema, dict) else {}
    return {
        "id": entity.id,
        "type": "entity",
        "kind": entity.kind or "entity",
        "label": entity.name or entity.location or entity.id[:12],
        "fingerprint": entity.fingerprint,
        "location": entity.location,
        "schema": schema,
        "rows": schema.get("rows"),
        "columns": _columns(schema),
        "attributes": entity.attributes,
        "model": _model(entity),
        "who": "",
        "when": "",
    }


def _model(entity: Any) -> dict[str, Any] | None:
    """A model's class and hyper-parameters as recorded (None for other kinds)."""
    from cmlops.capture.render import model_summary

    found = model_summary(entity)
    if found is None:
        return None
    cls, params = found
    return {"class": cls, "params": [[name, value] for name, value in params]}


def _columns(schema: dict[str, Any]) -> list[dict[str, str]]:
    columns = schema.get("columns")
    if isinstance(columns, list):
        return [
            {"name": str(c.get("name", "")), "dtype": str(c.get("dtype", ""))}
            for c in columns
            if isinstance(c, dict)
        ]
    if isinstance(columns, dict):
        return [{"name": str(k), "dtype": str(v)} for k, v in columns.items()]
    return []


def _activity_node(activity: Any) -> dict[str, Any]:
    return {
        "id": activity.id,
        "type": "activity",
        "kind": activity.kind or "activity",
        "label": activity.name or activity.kind or activity.id[:12],
        "code": activity.code,
        "code_hash": activity.code_hash,
        "notebook": activity.notebook,
        "session": activity.session,
        "started": activity.started,
        "ended": activity.ended,
        "status": activity.status,
        "error": activity.error,
        "attributes": activity.attributes,
        "who": "",
        "when": activity.ended or activity.started,
    }


def graph_to_json(graph: Any, *, max_nodes: int = MAX_NODES) -> dict[str, Any]:
    """Nodes and edges of a :class:`cmlops.store.LineageGraph`, ready for ``JSON.parse``."""
    nodes, truncated = _activity_nodes(graph, max_nodes)
    keep_activities = set(nodes)

    def entity(entity_id: str) -> dict[str, Any] | None:
        if entity_id not in nodes:
            found = graph.entities.get(entity_id)
            if found is None:
                return None
            nodes[entity_id] = _entity_node(found)
        return nodes[entity_id]

    edges = _io_edges(graph, nodes, keep_activities, entity)
    edges += _derived_edges(graph, nodes, edges)
    if not truncated:
        for found in graph.entities.values():
            entity(found.id)
    return {"nodes": list(nodes.values()), "edges": edges, "truncated": truncated}


def _activity_nodes(graph: Any, max_nodes: int) -> tuple[dict[str, dict[str, Any]], bool]:
    """The newest activities (a third of ``max_nodes`` when the graph is cut), with who ran them."""
    activities = sorted(
        graph.activities.values(), key=lambda a: (a.started or "", a.id), reverse=True
    )
    truncated = len(graph.activities) + len(graph.entities) > max_nodes
    if truncated:
        activities = activities[: max_nodes // 3]
    nodes: dict[str, dict[str, Any]] = {a.id: _activity_node(a) for a in activities}
    agent_names = {agent.id: agent.name or agent.id for agent in graph.agents.values()}
    for link in graph.associated:
        node = nodes.get(link.activity_id)
        if node is not None:
            name = agent_names.get(link.agent_id, link.agent_id)
            node["who"] = ", ".join(filter(None, [node["who"], name]))
    return nodes, truncated


def _io_edges(
    graph: Any, nodes: dict[str, dict[str, Any]], keep: set[str], entity: Any
) -> list[dict[str, str]]:
    """used and generated edges of the kept activities; a product inherits who and when."""
    edges: list[dict[str, str]] = []
    for link in graph.used:
        if link.activity_id in keep and entity(link.entity_id) is not None:
            edges.append(
                {
                    "source": link.entity_id,
                    "target": link.activity_id,
                    "relation": "used",
                    "role": link.role,
                }
            )
    for link in graph.generated:
        made = entity(link.entity_id) if link.activity_id in keep else None
        if made is not None:
            edges.append(
                {
                    "source": link.activity_id,
                    "target": link.entity_id,
                    "relation": "generated",
                    "role": link.role,
                }
            )
            activity = nodes[link.activity_id]
            made["who"] = made["who"] or activity["who"]
            made["when"] = made["when"] or activity["when"]
    return edges


def _derived_edges(
    graph: Any, nodes: dict[str, dict[str, Any]], edges: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Derivations between shown entities that no shown activity already connects."""
    covered = {(e["source"], e["target"]) for e in edges}
    derived = []
    for link in graph.derived:
        if link.entity_id in nodes and link.source_id in nodes:
            if not link.activity_id or link.activity_id not in nodes:
                if (link.source_id, link.entity_id) not in covered:
                    derived.append(
                        {
                            "source": link.source_id,
                            "target": link.entity_id,
                            "relation": "derived",
                            "role": "",
                        }
                    )
    return derived
