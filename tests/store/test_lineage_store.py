"""Lineage facts are written through the audit log and answer graph queries."""

from __future__ import annotations

import pytest

from cmlops.errors import InvalidInputError
from cmlops.store import (
    Activity,
    Agent,
    Associated,
    Derived,
    Entity,
    Generated,
    LineageBatch,
    Used,
)


def step(activity: str, inputs: list[str], outputs: list[str], notebook: str = "nb.ipynb"):
    """One tracked cell: read ``inputs``, write ``outputs``."""
    return LineageBatch(
        entities=[
            Entity(
                e, "dataset", name=e, fingerprint=f"fp-{e}", schema={"columns": ["a"], "rows": 3}
            )
            for e in inputs + outputs
        ],
        activities=[
            Activity(
                activity,
                "cell",
                code=f"# {activity}",
                notebook=notebook,
                started="2026-11-22T10:00:00.000000+00:00",
                status="ok",
            )
        ],
        agents=[Agent("alice", "person", "Alice")],
        used=[Used(activity, e, "input") for e in inputs],
        generated=[Generated(e, activity, "output") for e in outputs],
        derived=[Derived(o, i, activity) for o in outputs for i in inputs],
        associated=[Associated(activity, "alice", "author")],
    )


@pytest.mark.req("REQ-LIN-001")
def test_each_lineage_fact_has_its_audit_record(make_store) -> None:
    store = make_store()
    records = store.record_lineage(step("a1", ["raw"], ["clean"]))
    actions = [r.action for r in records]
    assert actions.count("lineage.entity") == 2
    assert actions.count("lineage.activity") == 1
    assert {
        "lineage.agent",
        "lineage.used",
        "lineage.generated",
        "lineage.derived",
        "lineage.associated",
    } <= set(actions)
    entity_record = next(r for r in records if r.object_id == "clean")
    assert entity_record.payload_dict()["schema"] == {"columns": ["a"], "rows": 3}
    assert store.verify().ok


def test_known_entities_and_agents_are_not_written_twice(make_store) -> None:
    store = make_store()
    store.record_lineage(step("a1", ["raw"], ["clean"]))
    second = store.record_lineage(step("a2", ["clean"], ["model"]))
    assert [r.object_id for r in second if r.action == "lineage.entity"] == ["model"]
    assert not [r for r in second if r.action == "lineage.agent"]
    with pytest.raises(InvalidInputError, match="already recorded"):
        store.record_lineage(step("a1", [], []))


def test_relations_of_earlier_activities_are_not_written_twice(make_store) -> None:
    """A later batch may repeat relations of an activity already recorded (skipped) and
    add relations of its own new activity (written, without a lookup)."""
    store = make_store()
    store.record_lineage(step("a1", ["raw"], ["clean"]))
    again = step("a2", ["clean"], ["model"])
    again.used.append(Used("a1", "raw", "input"))  # recorded with a1 already
    again.derived.append(Derived("clean", "raw", "a1"))  # likewise
    again.associated.append(Associated("a1", "alice", "reviewer"))  # new for a1
    records = store.record_lineage(again)
    keys = {(r.action, r.object_id) for r in records if r.action != "lineage.entity"}
    assert keys == {
        ("lineage.activity", "a2"),
        ("lineage.used", "a2|clean|input"),
        ("lineage.generated", "model|a2|output"),
        ("lineage.derived", "model|clean|a2"),
        ("lineage.associated", "a2|alice|author"),
        ("lineage.associated", "a1|alice|reviewer"),
    }
    assert store.verify().ok


def test_ancestors_descendants_and_activity_queries(make_store) -> None:
    store = make_store()
    store.record_lineage(step("load", ["raw.csv"], ["frame"]))
    store.record_lineage(step("clean", ["frame"], ["clean"]))
    store.record_lineage(step("fit", ["clean", "params"], ["model"]))
    store.record_lineage(step("report", ["model"], ["report"], notebook="other.ipynb"))
    store.record_lineage(step("side", ["raw.csv"], ["side"], notebook="other.ipynb"))

    up = store.ancestors("model")
    assert set(up.entities) == {"model", "clean", "params", "frame", "raw.csv"}
    assert set(up.activities) == {"fit", "clean", "load"}
    assert "alice" in up.agents

    down = store.descendants("frame")
    assert set(down.entities) == {"frame", "clean", "model", "report"}
    assert set(down.activities) == {"clean", "fit", "report"}

    fit = store.activity_lineage("fit")
    assert {u.entity_id for u in fit.used} == {"clean", "params"}
    assert [g.entity_id for g in fit.generated] == ["model"]
    assert fit.activities["fit"].code == "# fit"

    notebook = store.notebook_lineage("nb.ipynb")
    assert set(notebook.activities) == {"load", "clean", "fit"}
    assert "report" not in notebook.entities
    assert len(store.lineage_graph().activities) == 5
    with pytest.raises(InvalidInputError, match="no entity"):
        store.ancestors("nope")


def test_lookups_return_the_stored_objects(make_store) -> None:
    store = make_store()
    batch = step("a1", ["raw"], ["clean"])
    batch.environments["env1"] = {"python": "3.11.7", "packages": {"pandas": "3.1.1"}}
    batch.activities[0] = Activity(
        "a1",
        "cell",
        environment_id="env1",
        notebook="nb.ipynb",
        attributes={"tags": {"study": "X-101"}},
    )
    store.record_lineage(batch)
    assert store.get_entity("raw").schema == {"columns": ["a"], "rows": 3}
    assert store.get_activity("a1").attributes == {"tags": {"study": "X-101"}}
    assert store.get_agent("alice").name == "Alice"
    assert store.get_environment("env1")["packages"] == {"pandas": "3.1.1"}
    assert store.get_entity("nope") is None
