"""Lineage export: W3C PROV-JSON and OpenLineage run events.

The store's model *is* PROV, so the PROV export is a mapping: every entity,
activity, agent and relation keeps its id (each id prefix such as ``blake3``
or ``activity`` becomes a PROV namespace). OpenLineage has no entities of its
own: each activity becomes a START and a COMPLETE/FAIL run event whose inputs
and outputs are the entities it used and generated, with schema, version and
data-quality facets from the recorded schema summaries.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from cmlops._version import __version__
from cmlops.errors import InvalidInputError
from cmlops.store import Activity, Entity, LineageGraph

PRODUCER = f"https://github.com/cmlops/cmlops/tree/v{__version__}"
CMLOPS_NS = "https://cmlops.dev/ns/prov#"
FORMATS = ("prov", "openlineage")


def _graph_of(source: Any, notebook: str | None) -> LineageGraph:
    if isinstance(source, LineageGraph):
        return source
    store = source
    if store is None:
        from cmlops.capture.api import _session_for

        session = _session_for(None)  # the kernel's session: wait for queued recordings
        session.flush()
        store = session.store
    return store.notebook_lineage(notebook) if notebook else store.lineage_graph()


def export_lineage(
    graph_or_store: Any = None, format: str = "prov", *, notebook: str | None = None
) -> str:
    """Serialise lineage: ``format="prov"`` (PROV-JSON) or ``"openlineage"`` (JSON Lines).

    ``graph_or_store`` is a :class:`cmlops.LineageGraph`, a store, or None for the
    default store; ``notebook`` limits a store export to one notebook's activities.
    """
    if format not in FORMATS:
        raise InvalidInputError(f"unknown lineage format {format!r}: use 'prov' or 'openlineage'")
    graph = _graph_of(graph_or_store, notebook)
    if format == "prov":
        return to_prov(graph).serialize(format="json", indent=2)
    return "".join(json_line + "\n" for json_line in openlineage_events(graph))


# ----------------------------------------------------------------------------- PROV


class _Names:
    """Turns cmlops ids (``prefix:rest``) into PROV qualified names, one namespace a prefix."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.known: set[str] = set()

    def __call__(self, ident: str) -> str:
        prefix, sep, _rest = ident.partition(":")
        if not sep or not prefix.isidentifier():
            raise InvalidInputError(f"lineage id {ident!r} has no 'prefix:' to map to PROV")
        if prefix not in self.known:
            self.doc.add_namespace(prefix, f"urn:cmlops:{prefix}:")
            self.known.add(prefix)
        return ident


def _attrs(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if value in ("", None, {}, []):
            continue
        out[f"cmlops:{name}"] = (
            value if isinstance(value, str | int | float) else json.dumps(value, sort_keys=True)
        )
    return out


_ACTIVITY_FIELDS = (
    "kind",
    "name",
    "code",
    "code_hash",
    "notebook",
    "session",
    "status",
    "error",
    "environment_id",
    "attributes",
)


def to_prov(graph: LineageGraph) -> Any:
    """Build a ``prov.model.ProvDocument`` holding the whole graph."""
    from prov.model import ProvDocument

    doc = ProvDocument()
    doc.add_namespace("cmlops", CMLOPS_NS)
    name = _Names(doc)
    _prov_nodes(doc, name, graph)
    _prov_relations(doc, name, graph)
    return doc


def _prov_nodes(doc: Any, name: Any, graph: LineageGraph) -> None:
    """Entities, activities (with start and end) and agents (person or software)."""
    from prov.model import PROV_LABEL, PROV_TYPE

    for entity in graph.entities.values():
        attributes = _attrs(entity, ("kind", "fingerprint", "location", "schema", "attributes"))
        attributes[PROV_LABEL] = entity.name or entity.id
        doc.entity(name(entity.id), attributes)
    for activity in graph.activities.values():
        attributes = _attrs(activity, _ACTIVITY_FIELDS)
        doc.activity(
            name(activity.id), activity.started or None, activity.ended or None, attributes
        )
    for agent in graph.agents.values():
        attributes = _attrs(agent, ("name", "attributes"))
        attributes[PROV_TYPE] = "prov:Person" if agent.kind == "person" else "prov:SoftwareAgent"
        doc.agent(name(agent.id), attributes)


def _prov_relations(doc: Any, name: Any, graph: LineageGraph) -> None:
    """used, wasGeneratedBy, wasDerivedFrom and wasAssociatedWith, with their roles."""
    from prov.model import PROV_ROLE

    def role(edge: Any) -> dict | None:
        return {PROV_ROLE: edge.role} if edge.role else None

    for edge in graph.used:
        doc.used(name(edge.activity_id), name(edge.entity_id), None, None, role(edge))
    for edge in graph.generated:
        doc.wasGeneratedBy(name(edge.entity_id), name(edge.activity_id), None, None, role(edge))
    for edge in graph.derived:
        doc.wasDerivedFrom(
            name(edge.entity_id),
            name(edge.source_id),
            name(edge.activity_id) if edge.activity_id else None,
        )
    for edge in graph.associated:
        doc.wasAssociatedWith(name(edge.activity_id), name(edge.agent_id), None, role(edge))


# ----------------------------------------------------------------------- OpenLineage


def _run_id(activity_id: str) -> str:
    tail = activity_id.split(":", 1)[-1]
    try:
        return str(uuid.UUID(tail))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, activity_id))


def _dataset(entity: Entity, activity: Activity, is_input: bool) -> Any:
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.generated import (
        data_quality_metrics_dataset as dq,
    )
    from openlineage.client.generated import (
        dataset_version_dataset,
        documentation_dataset,
        schema_dataset,
    )

    if entity.kind == "file":
        namespace, ds_name = "file", entity.location
    else:
        namespace = f"cmlops:{activity.notebook or activity.session or 'session'}"
        ds_name = entity.name or entity.id
    facets: dict[str, Any] = {
        "version": dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=entity.fingerprint or entity.id
        ),
        "documentation": documentation_dataset.DocumentationDatasetFacet(
            description=f"cmlops {entity.kind} {entity.id}"
        ),
    }
    columns = entity.schema.get("columns") if isinstance(entity.schema, dict) else None
    if columns:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(
                    name=str(c["name"]), type=str(c["dtype"]), ordinal_position=i + 1
                )
                for i, c in enumerate(columns)
            ]
        )
        facets["dataQualityMetrics"] = dq.DataQualityMetricsDatasetFacet(
            columnMetrics={
                str(c["name"]): dq.ColumnMetrics(nullCount=int(c.get("missing", 0)))
                for c in columns
            },
            rowCount=int(entity.schema.get("rows", 0)),
        )
    elif isinstance(entity.attributes.get("size"), int):
        facets["dataQualityMetrics"] = dq.DataQualityMetricsDatasetFacet(
            columnMetrics={}, bytes=entity.attributes["size"]
        )
    cls = InputDataset if is_input else OutputDataset
    return cls(namespace=namespace, name=ds_name, facets=facets)


def openlineage_events(graph: LineageGraph) -> list[str]:
    """One START and one COMPLETE (or FAIL) event per activity, as JSON texts."""
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.generated import (
        error_message_run,
        processing_engine_run,
        source_code_job,
    )
    from openlineage.client.serde import Serde

    events: list[str] = []
    for activity in sorted(graph.activities.values(), key=lambda a: (a.started, a.id)):
        inputs = [
            _dataset(graph.entities[e.entity_id], activity, True)
            for e in graph.used
            if e.activity_id == activity.id and e.entity_id in graph.entities
        ]
        outputs = [
            _dataset(graph.entities[e.entity_id], activity, False)
            for e in graph.generated
            if e.activity_id == activity.id and e.entity_id in graph.entities
        ]
        job = Job(
            namespace="cmlops",
            name=f"{activity.notebook or 'session'}:{activity.name or activity.kind}",
            facets={
                "sourceCode": source_code_job.SourceCodeJobFacet(
                    language="python", sourceCode=activity.code
                )
            },
        )
        run_facets: dict[str, Any] = {
            "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
                version=__version__, name="cmlops"
            )
        }
        final = RunState.COMPLETE
        if activity.status == "error":
            final = RunState.FAIL
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=activity.error or "error", programmingLanguage="python"
            )
        run = Run(runId=_run_id(activity.id), facets=run_facets)
        for state, when in ((RunState.START, activity.started), (final, activity.ended)):
            event = RunEvent(
                eventType=state,
                eventTime=when or activity.started,
                run=run,
                job=job,
                producer=PRODUCER,
                inputs=inputs,
                outputs=outputs,
            )
            events.append(Serde.to_json(event))
    return events
