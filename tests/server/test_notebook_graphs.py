"""The tail-extended notebook graph equals a full rebuild from the lineage tables."""

from __future__ import annotations

from dataclasses import replace

from cmlops.server.notebook_graphs import NotebookGraphs
from cmlops.store import (
    Activity,
    Agent,
    Associated,
    Derived,
    Entity,
    Generated,
    LineageBatch,
    Used,
    open_store,
)
from tests.server.conftest import NOTEBOOK, sample_batch


def shape(graph) -> tuple:
    return (
        sorted(graph.entities),
        sorted(graph.activities),
        sorted(graph.agents),
        sorted(map(repr, graph.used)),
        sorted(map(repr, graph.generated)),
        sorted(map(repr, graph.derived)),
        sorted(map(repr, graph.associated)),
    )


def cell(n: int, notebook: str = NOTEBOOK) -> Activity:
    return Activity(
        id=f"act-n{n}",
        kind="cell",
        name=f"cell {n}",
        notebook=notebook,
        started=f"2026-11-22T11:00:0{n}+00:00",
        status="ok",
    )


def test_extension_matches_full_rebuild(tmp_path):
    graphs = NotebookGraphs()
    with open_store(home=tmp_path / ".cmlops") as store:
        store.record_lineage(sample_batch())
        first, _ = graphs.graph(store, (NOTEBOOK,))
        assert shape(first) == shape(store.notebook_lineage(NOTEBOOK))
        # New cell reusing the known dataset (no new entity record), a new model, a new
        # agent, a derived link, an unrelated notebook and plain audit records in between.
        store.append("note", "note", "1", {})
        model2 = Entity(id="model-2", kind="model", name="clf2", fingerprint="d" * 64)
        store.record_lineage(
            LineageBatch(
                entities=[model2],
                activities=[cell(1), cell(2, "other.ipynb")],
                agents=[Agent(id="agent-bo", kind="person", name="bo")],
                used=[Used("act-n1", "ds-1", "input"), Used("act-n2", "ds-1", "input")],
                generated=[Generated("model-2", "act-n1", "model")],
                derived=[Derived("model-2", "model-1", "")],
                associated=[
                    Associated("act-n1", "agent-bo", "operator"),
                    Associated("act-n2", "agent-bo", "operator"),
                ],
            )
        )
        second, head = graphs.graph(store, (NOTEBOOK,))
        assert head.seq == store.head().seq
        assert shape(second) == shape(store.notebook_lineage(NOTEBOOK))
        assert "act-n2" not in second.activities
        assert second.agents["agent-bo"].name == "bo"


def test_replaced_store_is_rebuilt(tmp_path):
    graphs = NotebookGraphs()
    with open_store(home=tmp_path / "a") as store:
        store.record_lineage(sample_batch())
        graphs.graph(store, (NOTEBOOK,))
    with open_store(home=tmp_path / "b") as other:
        batch = sample_batch()
        batch.activities[0] = replace(batch.activities[0], id="act-other")
        batch.used[0] = replace(batch.used[0], activity_id="act-other")
        batch.generated[0] = replace(batch.generated[0], activity_id="act-other")
        batch.associated[0] = replace(batch.associated[0], activity_id="act-other")
        other.record_lineage(batch)
        graph, _ = graphs.graph(other, (NOTEBOOK,))
        assert set(graph.activities) == {"act-other"}
