"""The store-facing REST handlers against a real Jupyter server and a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from cmlops.store import open_store
from tests.server.conftest import NOTEBOOK


def body(response) -> dict:
    return json.loads(response.body)


async def test_status_reports_store(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "status"))
    assert data["error"] is None
    assert data["store"]["records"] >= 6
    assert data["version"]


async def test_head_gives_last_seq(jp_fetch, store_home):
    data = body(await jp_fetch("cmlops", "api", "head"))
    with open_store(home=store_home) as store:
        head = store.head()
    assert data == {"seq": head.seq, "hash": head.hash}


async def test_notebook_lineage_nodes_and_edges(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "lineage", params={"notebook": NOTEBOOK}))
    nodes = {n["id"]: n for n in data["nodes"]}
    assert set(nodes) == {"ds-1", "act-1", "model-1"}
    edges = {(e["source"], e["target"], e["relation"]) for e in data["edges"]}
    assert edges == {("ds-1", "act-1", "used"), ("act-1", "model-1", "generated")}
    dataset = nodes["ds-1"]
    assert dataset["fingerprint"] == "blake3:" + "a" * 64
    assert dataset["rows"] == 120
    assert dataset["columns"][1] == {"name": "<b>bold</b>", "dtype": "float64"}
    cell = nodes["act-1"]
    assert cell["who"] == "ana"
    assert cell["code"].startswith("df = pd.read_csv")
    assert nodes["model-1"]["who"] == "ana"
    assert nodes["model-1"]["when"] == "2026-11-22T10:00:01+00:00"
    assert data["head_seq"] > 0


async def test_notebook_lineage_found_by_absolute_path(jp_fetch, jp_root_dir, store_home):
    from tests.server.conftest import sample_batch

    absolute = str(Path(jp_root_dir).resolve() / "other.ipynb")
    batch = sample_batch(absolute)
    batch.activities[0] = type(batch.activities[0])(
        **{**batch.activities[0].__dict__, "id": "act-2"}
    )
    batch.used[0] = type(batch.used[0])("act-2", "ds-1", "input")
    batch.generated.clear()
    batch.associated.clear()
    with open_store(home=store_home) as store:
        store.record_lineage(batch)
    data = body(await jp_fetch("cmlops", "api", "lineage", params={"notebook": "other.ipynb"}))
    assert {n["id"] for n in data["nodes"]} == {"act-2", "ds-1"}


async def test_unknown_notebook_is_empty_graph(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "lineage", params={"notebook": "nope.ipynb"}))
    assert data["nodes"] == [] and data["edges"] == []


async def test_entity_lineage_walks_both_ways(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "lineage", params={"entity": "ds-1"}))
    assert {"ds-1", "act-1", "model-1"} <= {n["id"] for n in data["nodes"]}


async def test_unknown_entity_is_404(jp_fetch):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("cmlops", "api", "lineage", params={"entity": "missing"})
    assert info.value.code == 404


async def test_whole_graph_without_filter(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "lineage"))
    assert len(data["nodes"]) == 3


async def test_audit_newest_first_paged_and_filtered(jp_fetch, store_home):
    with open_store(home=store_home) as store:
        total = store.count_records()
    page = body(await jp_fetch("cmlops", "api", "audit", params={"limit": "2"}))
    assert page["total"] == total and len(page["records"]) == 2
    seqs = [r["seq"] for r in page["records"]]
    assert seqs == [total, total - 1]
    page2 = body(await jp_fetch("cmlops", "api", "audit", params={"limit": "2", "offset": "2"}))
    assert [r["seq"] for r in page2["records"]] == [total - 2, total - 3]
    only = body(await jp_fetch("cmlops", "api", "audit", params={"action": "note.added"}))
    assert only["total"] == 1 and only["records"][0]["payload"] == {"text": "hello"}
    assert only["records"][0]["reason"] == "test"


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "abc"}, {"offset": "-1"}, {"since": "yesterday"}],
)
async def test_audit_bad_parameters_are_400(jp_fetch, params):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("cmlops", "api", "audit", params=params)
    assert info.value.code == 400
    assert body(info.value.response)["error"]["message"]


async def test_verify_ok(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "verify", method="POST", body="{}"))
    assert data["ok"] is True and data["broken"] is None
    assert data["records"] == data["head"]["seq"]


@pytest.mark.req("REQ-AUD-003")
async def test_verify_reports_first_broken_record(jp_fetch, store_home):
    database = store_home / "store.sqlite"
    connection = sqlite3.connect(database)
    triggers = [
        row[0] for row in connection.execute("select name from sqlite_master where type='trigger'")
    ]
    for name in triggers:
        connection.execute(f'drop trigger "{name}"')
    connection.execute("update audit_log set reason='tampered' where seq=2")
    connection.commit()
    connection.close()
    data = body(await jp_fetch("cmlops", "api", "verify", method="POST", body="{}"))
    assert data["ok"] is False
    assert data["broken"]["seq"] == 2
    assert data["broken"]["record"]["reason"] == "tampered"


async def test_corrupt_store_gives_503_with_fix(jp_fetch, store_home):
    (store_home / "store.sqlite").write_bytes(b"this is not a database" * 100)
    status = body(await jp_fetch("cmlops", "api", "status"))
    assert status["store"] is None
    assert status["error"]["message"] and status["error"]["fix"]
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("cmlops", "api", "audit")
    assert info.value.code == 503
    assert "fix" in body(info.value.response)["error"]
    # Jupyter itself keeps working.
    assert (await jp_fetch("api", "contents")).code == 200


async def test_lineage_reply_follows_new_records(jp_fetch, store_home):
    first = body(await jp_fetch("cmlops", "api", "lineage", params={"notebook": NOTEBOOK}))
    again = body(await jp_fetch("cmlops", "api", "lineage", params={"notebook": NOTEBOOK}))
    assert again == first
    from tests.server.conftest import sample_batch

    batch = sample_batch()
    batch.activities[0] = type(batch.activities[0])(
        **{**batch.activities[0].__dict__, "id": "act-9"}
    )
    batch.used[0] = type(batch.used[0])("act-9", "ds-1", "input")
    batch.generated.clear()
    batch.associated.clear()
    with open_store(home=store_home) as store:
        store.record_lineage(batch)
    later = body(await jp_fetch("cmlops", "api", "lineage", params={"notebook": NOTEBOOK}))
    assert "act-9" in {n["id"] for n in later["nodes"]}
    assert later["head_seq"] > first["head_seq"]


async def test_lineage_of_renamed_notebook_includes_earlier_names(jp_fetch, store_home):
    from dataclasses import replace

    from tests.server.conftest import sample_batch

    batch = sample_batch("new-name.ipynb")
    batch.activities[0] = replace(batch.activities[0], id="act-renamed")
    batch.used[0] = replace(batch.used[0], activity_id="act-renamed")
    batch.generated.clear()
    batch.associated.clear()
    with open_store(home=store_home) as store:
        store.record_lineage(batch)
    only_new = body(
        await jp_fetch("cmlops", "api", "lineage", params={"notebook": "new-name.ipynb"})
    )
    assert {n["id"] for n in only_new["nodes"]} == {"act-renamed", "ds-1"}
    both = body(
        await jp_fetch(
            "cmlops",
            "api",
            "lineage",
            params=[("notebook", "new-name.ipynb"), ("notebook", NOTEBOOK)],
        )
    )
    assert {"act-renamed", "act-1", "model-1", "ds-1"} == {n["id"] for n in both["nodes"]}


async def test_model_nodes_carry_class_and_hyper_parameters(jp_fetch, store_home):
    from cmlops.store import Activity, Entity, Generated, LineageBatch

    model = Entity(
        id="model-2",
        kind="model",
        name="gbm",
        fingerprint="blake3:" + "d" * 64,
        schema={
            "kind": "model",
            "class": "sklearn.ensemble._gb.GradientBoostingClassifier",
            "params": {"n_estimators": 200, "learning_rate": 0.05, "loss": "<b>log_loss</b>"},
        },
    )
    fit = Activity(id="act-gbm", kind="cell", notebook=NOTEBOOK, status="ok")
    with open_store(home=store_home) as store:
        store.record_lineage(
            LineageBatch(
                entities=[model], activities=[fit], generated=[Generated("model-2", "act-gbm")]
            )
        )
    data = body(await jp_fetch("cmlops", "api", "lineage", params={"notebook": NOTEBOOK}))
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["model-2"]["model"] == {
        "class": "sklearn.ensemble._gb.GradientBoostingClassifier",
        "params": [
            ["learning_rate", "0.05"],
            ["loss", '"<b>log_loss</b>"'],  # text for the browser to show as text
            ["n_estimators", "200"],
        ],
    }
    assert nodes["model-1"]["model"] == {"class": "", "params": []}
    assert nodes["ds-1"]["model"] is None
