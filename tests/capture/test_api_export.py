"""Python API (track, log_dataset, log_model, lineage), export to PROV and OpenLineage, CLI."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

import jsonschema
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from prov.model import (
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvUsage,
)
from sklearn.tree import DecisionTreeClassifier

import cmlops
from cmlops.capture.errors import TrackingError
from cmlops.fingerprinting import fingerprint
from cmlops.store import open_store


@dataclass
class FakeMonitorResult:
    """Stands in for stats' MonitorResult: the contract is the class attribute + to_dict."""

    _cmlops_result_kind: ClassVar[str] = "monitor"
    alerts: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "monitor", "alerts": self.alerts, "score": float("nan")}


def build_lineage(tmp_path) -> dict[str, Any]:
    """Two tracked blocks through the Python API; returns the namespace used."""
    src = tmp_path / "visits.csv"
    pd.DataFrame({"age": [50, 60, 70, 80], "y": [0, 1, 0, 1]}).to_csv(src, index=False)
    ns: dict[str, Any] = {}
    with cmlops.track("load", reason="baseline", tags={"study": "S1"}, namespace=ns):
        ns["visits"] = pd.read_csv(src)
    with cmlops.track("fit", namespace=ns):
        cmlops.log_dataset(ns["visits"], "visits", role="input")
        ns["model"] = DecisionTreeClassifier(random_state=0).fit(
            ns["visits"][["age"]], ns["visits"].y
        )
        ns["monitor"] = FakeMonitorResult(alerts=[{"metric": "auc", "value": 0.61}])
    return ns


@pytest.mark.req("REQ-LIN-001")
def test_track_api_records_blocks_and_results(tmp_path) -> None:
    ns = build_lineage(tmp_path)
    store = open_store(create=False)
    graph = store.lineage_graph()
    acts = {a.name: a for a in graph.activities.values()}
    assert set(acts) == {"load", "fit"}
    assert acts["load"].kind == "block" and acts["load"].attributes["tags"] == {"study": "S1"}
    visits_fp = fingerprint(ns["visits"])
    gen_load = {(e.entity_id, e.role) for e in graph.generated if e.activity_id == acts["load"].id}
    assert gen_load == {(visits_fp, "variable:visits")}
    used_load = [
        graph.entities[e.entity_id] for e in graph.used if e.activity_id == acts["load"].id
    ]
    assert [(e.kind, e.name) for e in used_load] == [("file", "visits.csv")]
    used_fit = {e.entity_id for e in graph.used if e.activity_id == acts["fit"].id}
    assert used_fit == {visits_fp}
    gen_fit = {
        graph.entities[e.entity_id].kind for e in graph.generated if e.activity_id == acts["fit"].id
    }
    assert gen_fit == {"model", "result"}
    result = next(e for e in graph.entities.values() if e.kind == "result")
    assert result.attributes["result"]["score"] is None  # NaN cleaned for JSON
    alerts = store.records(action="monitor.alert")
    assert len(alerts) == 1 and alerts[0].object_id == result.id
    assert alerts[0].payload_dict()["alert"] == {"metric": "auc", "value": 0.61}
    # lineage() of an object walks from its fingerprint
    sub = cmlops.lineage(ns["visits"])
    assert visits_fp in sub.entities and set(sub.activities) == {acts["load"].id, acts["fit"].id}


@pytest.mark.req("REQ-LIN-002")
def test_track_api_error_status_and_strict(tmp_path, monkeypatch) -> None:
    ns: dict[str, Any] = {}
    with pytest.raises(ZeroDivisionError):
        with cmlops.track("bad", namespace=ns):
            ns["x"] = np.arange(3)
            _ = 1 / 0
    (act,) = open_store(create=False).lineage_graph().activities.values()
    assert act.status == "error" and act.error == "ZeroDivisionError: division by zero"
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CMLOPS_HOME", str(blocker / ".cmlops"))
    ran = []
    with pytest.raises(TrackingError, match="strict tracking"):
        with cmlops.track("strict", strict=True, namespace=ns):
            ran.append(True)
    assert ran == []
    with pytest.warns(UserWarning, match="cmlops: could not record"):
        with cmlops.track("lenient", namespace=ns):
            ran.append(True)
    assert ran == [True]


def test_log_model_and_log_dataset_outside_track() -> None:
    model = DecisionTreeClassifier(random_state=0).fit([[0], [1]], [0, 1])
    entity = cmlops.log_model(model, "tree")
    assert entity.kind == "model" and entity.id == fingerprint(model)
    assert entity.attributes["params"]["random_state"] == 0
    with pytest.raises(ValueError, match="not a fitted estimator"):
        cmlops.log_model(DecisionTreeClassifier())
    with pytest.raises(ValueError, match="role must be"):
        cmlops.log_dataset(pd.DataFrame({"a": [1]}), role="sideways")
    ds = cmlops.log_dataset(pd.DataFrame({"a": [1]}), "tiny", role="output")
    graph = open_store(create=False).lineage_graph()
    assert {e.id for e in graph.entities.values()} == {entity.id, ds.id}


@pytest.mark.req("REQ-LIN-003")
def test_prov_export_round_trips_every_node_and_relation(tmp_path) -> None:
    build_lineage(tmp_path)
    graph = open_store(create=False).lineage_graph()
    text = cmlops.export_lineage(None, "prov")
    doc = ProvDocument.deserialize(content=text, format="json")

    def ids(cls) -> set[str]:
        return {str(r.identifier) for r in doc.get_records(cls)}

    assert ids(ProvEntity) == set(graph.entities)
    assert ids(ProvActivity) == set(graph.activities)
    assert ids(ProvAgent) == set(graph.agents)
    for cls, edges in (
        (ProvUsage, graph.used),
        (ProvGeneration, graph.generated),
        (ProvDerivation, graph.derived),
        (ProvAssociation, graph.associated),
    ):
        assert len(list(doc.get_records(cls))) == len(edges) > 0
    usage = {
        (str(r.formal_attributes[0][1]), str(r.formal_attributes[1][1]))
        for r in doc.get_records(ProvUsage)
    }
    assert usage == {(u.activity_id, u.entity_id) for u in graph.used}


#: the OpenLineage RunEvent rules that matter here (from the 2-0-2 spec's required fields)
RUN_EVENT_SCHEMA = {
    "type": "object",
    "required": ["eventTime", "producer", "schemaURL", "run", "job", "eventType"],
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"type": "string", "format": "uri"},
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {
                "runId": {"type": "string", "format": "uuid"},
                "facets": {"$ref": "#/$defs/facets"},
            },
        },
        "job": {
            "type": "object",
            "required": ["namespace", "name"],
            "properties": {"facets": {"$ref": "#/$defs/facets"}},
        },
        "inputs": {"type": "array", "items": {"$ref": "#/$defs/dataset"}},
        "outputs": {"type": "array", "items": {"$ref": "#/$defs/dataset"}},
    },
    "$defs": {
        "facets": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["_producer", "_schemaURL"],
            },
        },
        "dataset": {
            "type": "object",
            "required": ["namespace", "name"],
            "properties": {"facets": {"$ref": "#/$defs/facets"}},
        },
    },
}


def _facet_class(schema_url: str) -> type:
    """The openlineage-python model class named by a facet's ``_schemaURL``."""
    import importlib
    import pkgutil

    import openlineage.client.generated as generated

    name = schema_url.rsplit("/", 1)[-1]
    for info in pkgutil.iter_modules(generated.__path__):
        module = importlib.import_module(f"{generated.__name__}.{info.name}")
        if isinstance(getattr(module, name, None), type):
            return getattr(module, name)
    raise AssertionError(f"no openlineage model for {schema_url}")


def _rebuild(event: dict[str, Any]) -> None:
    """Re-create the event through openlineage-python's attrs models.

    Their validators check the event time, the run UUID and the URIs; a key
    that the model does not define raises TypeError, a missing one too.
    """
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )

    def facets(raw: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in raw.items():
            cls = _facet_class(value["_schemaURL"])
            fields = {k: v for k, v in value.items() if not k.startswith("_")}
            facet = cls(**fields)
            assert facet._schemaURL == value["_schemaURL"]
            out[key] = facet
        return out

    RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        run=Run(runId=event["run"]["runId"], facets=facets(event["run"]["facets"])),
        job=Job(
            namespace=event["job"]["namespace"],
            name=event["job"]["name"],
            facets=facets(event["job"]["facets"]),
        ),
        producer=event["producer"],
        inputs=[
            InputDataset(namespace=d["namespace"], name=d["name"], facets=facets(d["facets"]))
            for d in event["inputs"]
        ],
        outputs=[
            OutputDataset(namespace=d["namespace"], name=d["name"], facets=facets(d["facets"]))
            for d in event["outputs"]
        ],
    )


@pytest.mark.req("REQ-LIN-003")
def test_openlineage_events_validate_and_carry_facets(tmp_path) -> None:
    build_lineage(tmp_path)
    lines = cmlops.export_lineage(None, "openlineage").splitlines()
    assert len(lines) == 4  # START + COMPLETE for two activities
    checker = jsonschema.Draft202012Validator(
        RUN_EVENT_SCHEMA, format_checker=jsonschema.FormatChecker()
    )
    events = [json.loads(line) for line in lines]
    for event in events:
        checker.validate(event)
        uuid.UUID(event["run"]["runId"])
        _rebuild(event)
    broken = json.loads(lines[0])
    broken["run"]["runId"] = "not-a-uuid"
    with pytest.raises(ValueError):
        _rebuild(broken)  # the models do check
    extra = json.loads(lines[0])
    extra["job"]["facets"]["sourceCode"]["dialect"] = "py"
    with pytest.raises(TypeError):
        _rebuild(extra)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "COMPLETE"]
    fit_inputs = events[3]["inputs"]
    (visits,) = [d for d in fit_inputs if d["name"] == "visits"]
    assert [f["name"] for f in visits["facets"]["schema"]["fields"]] == ["age", "y"]
    assert visits["facets"]["dataQualityMetrics"]["rowCount"] == 4
    assert visits["facets"]["dataQualityMetrics"]["columnMetrics"]["age"]["nullCount"] == 0
    assert visits["facets"]["version"]["datasetVersion"].startswith("blake3:")


@pytest.mark.req("REQ-LIN-003")
def test_openlineage_marks_failed_runs() -> None:
    with pytest.raises(KeyError):
        with cmlops.track("broken", namespace={}):
            raise KeyError("x")
    events = [json.loads(x) for x in cmlops.export_lineage(None, "openlineage").splitlines()]
    assert events[-1]["eventType"] == "FAIL"
    assert events[-1]["run"]["facets"]["errorMessage"]["message"] == "KeyError: 'x'"


def test_cli_lineage_export(tmp_path) -> None:
    from cmlops.cli.lineage import lineage

    build_lineage(tmp_path)
    out = tmp_path / "lineage.json"
    result = CliRunner().invoke(lineage, ["export", "--format", "prov", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = ProvDocument.deserialize(content=out.read_text(), format="json")
    assert len(list(doc.get_records(ProvActivity))) == 2
    result = CliRunner().invoke(lineage, ["export", "--format", "openlineage"])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 4
    result = CliRunner().invoke(lineage, ["export", "--format", "xml"])
    assert result.exit_code == 2 and "xml" in result.output
    with pytest.raises(ValueError, match="unknown lineage format"):
        cmlops.export_lineage(None, "xml")


def test_lineage_view_text_and_escaped_html() -> None:
    from cmlops.capture.render import LineageView

    ns: dict[str, Any] = {}
    with cmlops.track("<script>alert(1)</script>", namespace=ns):
        ns["frame"] = pd.DataFrame({"a": [1, 2]})
    view = LineageView(cmlops.lineage())
    text = view.to_text()
    assert "generated frame [dataset" in text
    html = view._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<svg" in html


def test_lineage_view_scales_to_its_cell_and_shows_model_class_and_parameters() -> None:
    import re

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from cmlops.capture.render import LineageView

    lr_class = "sklearn.linear_model._logistic.LogisticRegression"
    ns: dict[str, Any] = {}
    with cmlops.track("fit", namespace=ns):
        ns["df"] = pd.DataFrame({"a": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
        ns["clf"] = LogisticRegression(C=0.25).fit(ns["df"][["a"]], ns["df"]["y"])
        ns["pipe"] = Pipeline([("<b>scale", StandardScaler()), ("lr", LogisticRegression())])
        ns["pipe"].fit(ns["df"][["a"]], ns["df"]["y"])
    view = LineageView(cmlops.lineage())
    html = view._repr_html_()
    svg = re.search(r"<svg [^>]*>", html).group(0)
    width, height = (int(v) for v in re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    assert 'width="100%"' in svg and f"max-width:{width}px" in svg and "height:auto" in svg
    # every box lies inside the viewBox: nothing is drawn where the cell would cut it
    for x, y, w, h in re.findall(
        r'<rect x="(\d+)" y="(\d+)" rx="\d+" width="(\d+)" '
        r'height="(\d+)"',
        html,
    ):
        assert int(x) + int(w) <= width and int(y) + int(h) <= height
    texts = re.findall(r"<text [^>]*>([^<]*)</text>", html)
    assert "LogisticRegression" in texts
    assert any(t.startswith("C=0.25, class_weight=") for t in texts)
    # the tooltip lists every hyper-parameter, escaped; the text view names them too
    titles = re.findall(r"<title>([^<]*)</title>", html)
    title = next(t for t in titles if t.split("\n")[1:2] == [lr_class])
    assert "max_iter = 100" in title and "C = 0.25" in title
    pipe = next(t for t in titles if "pipeline.Pipeline" in t)
    assert "&lt;b&gt;scale" in pipe and "<b>" not in html
    assert "LogisticRegression(C=0.25" in view.to_text()


def test_real_stats_results_become_result_entities_and_alerts() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    x[300:] += 2.0  # a shift half-way: the later windows drift
    frame = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=600, freq="D"), "x": x})
    ns: dict[str, Any] = {}
    with cmlops.track("monitoring", namespace=ns):
        ns["mon"] = cmlops.monitor(frame, time="t", window=100)
        ns["dr"] = cmlops.drift(frame.iloc[:300][["x"]], frame.iloc[300:][["x"]])
    store = open_store(create=False)
    results = {e.name: e for e in store.lineage_graph().entities.values() if e.kind == "result"}
    assert {n: e.attributes["result_kind"] for n, e in results.items()} == {
        "mon": "monitor",
        "dr": "drift",
    }
    assert results["dr"].attributes["result"] == json.loads(json.dumps(ns["dr"].to_dict()))
    alerts = ns["mon"].to_dict()["alerts"]
    assert len(alerts) > 0
    records = store.records(action="monitor.alert")
    assert [r.payload_dict()["alert"] for r in records] == alerts
    assert {r.object_id for r in records} == {results["mon"].id}
