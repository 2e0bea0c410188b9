"""What the lineage says about a model entity: class, hyper-parameters, training data, code.

Nothing here is typed in by the user: a version's facts are read from the
lineage graph (the activity that generated the model, what it used, its code
hash, notebook and environment), and what the graph cannot tell is listed as a
gap rather than guessed.
"""

from __future__ import annotations

from typing import Any

from cmlops.store.model import Entity, LineageGraph
from cmlops.store.values import decode_value

DATA_KINDS = ("dataset", "file", "array")


def entity_values(entity: Entity) -> tuple[dict[str, Any], dict[str, Any]]:
    """An entity's schema and attributes with their values as recorded.

    A lineage row holds them in their sealed form (:mod:`cmlops.store.values`): a
    hyper-parameter C=1e16 is ``"cmlops:num:1e+16"`` there.
    """
    schema = decode_value(entity.schema) if isinstance(entity.schema, dict) else {}
    attributes = decode_value(entity.attributes) if isinstance(entity.attributes, dict) else {}
    return schema, attributes


def _columns(schema: dict[str, Any]) -> list[list[str]]:
    columns = schema.get("columns")
    if not isinstance(columns, list):
        return []
    return [[str(c.get("name")), str(c.get("dtype"))] for c in columns if isinstance(c, dict)]


def _data_summary(entity: Entity, role: str) -> dict[str, Any]:
    schema = entity_values(entity)[0]
    return {
        "entity_id": entity.id,
        "name": entity.name,
        "kind": entity.kind,
        "role": role,
        "location": entity.location,
        "rows": schema.get("rows"),
        "columns": _columns(schema),
        "missing": {
            str(c.get("name")): c.get("missing")
            for c in schema.get("columns") or []
            if isinstance(c, dict) and c.get("missing")
        },
    }


def model_facts(entity: Entity, graph: LineageGraph) -> dict[str, Any]:
    """Class, parameters, training data, code and environments of a model entity."""
    schema, attributes = entity_values(entity)
    producers = sorted({g.activity_id for g in graph.generated if g.entity_id == entity.id})
    training: dict[str, dict[str, Any]] = {}
    code, environments = [], []
    for activity_id in producers:
        activity = graph.activities.get(activity_id)
        if activity is None:
            continue
        code.append(
            {
                "activity_id": activity.id,
                "name": activity.name,
                "kind": activity.kind,
                "code_hash": activity.code_hash,
                "notebook": activity.notebook,
                "started": activity.started,
                "ended": activity.ended,
                "status": activity.status,
            }
        )
        if activity.environment_id:
            environments.append(activity.environment_id)
        for used in graph.used:
            source = graph.entities.get(used.entity_id)
            if used.activity_id == activity_id and source is not None:
                if source.kind in DATA_KINDS:
                    training.setdefault(source.id, _data_summary(source, used.role))
    gaps = []
    if not code:
        gaps.append("no recorded activity generated this model (the code is unknown)")
    if not training:
        gaps.append("no training data in the lineage of this model")
    features = sorted({tuple(c) for t in training.values() for c in t["columns"]})
    return {
        "entity_id": entity.id,
        "name": entity.name,
        "class": schema.get("class") or attributes.get("class", ""),
        "params": schema.get("params") or attributes.get("params", {}),
        "training_data": list(training.values()),
        "training_ids": sorted(training),
        "features": [list(f) for f in features],
        "code": code,
        "environments": sorted(set(environments)),
        "gaps": gaps,
    }
