"""The audit page names each record and groups it under the activity it belongs to."""

from __future__ import annotations

import json

from cmlops.store import Activity, Entity, Generated, LineageBatch, Used, open_store


def body(response) -> dict:
    return json.loads(response.body)


def second_cell() -> LineageBatch:
    """A later cell that used the model of the first and wrote a hostile-named data set."""
    out = Entity(id="ds-2", kind="dataset", name="<img src=x onerror=alert(1)>", fingerprint="f2")
    cell = Activity(
        id="act-2",
        kind="cell",
        code="%%cmlops_track\npred = clf.predict(X)\n",
        notebook="analysis/model.ipynb",
        started="2026-11-22T10:05:00+00:00",
        status="ok",
        attributes={"execution_count": 7},
    )
    return LineageBatch(
        entities=[out],
        activities=[cell],
        used=[Used("act-2", "model-1", "input")],
        generated=[Generated("ds-2", "act-2", "output")],
    )


async def test_records_are_named_and_grouped_by_activity(jp_fetch, store_home):
    with open_store(home=store_home) as store:
        store.record_lineage(second_cell())
    page = body(await jp_fetch("cmlops", "api", "audit", params={"limit": "500"}))
    records = page["records"]
    by_action: dict[str, list[dict]] = {}
    for record in records:
        by_action.setdefault(record["action"], []).append(record)
    # every record of a cell's batch is in that cell's group; notes are in none
    for record in records:
        if record["action"].startswith("lineage.") and record["action"] != "lineage.environment":
            assert record["group"] in ("act-1", "act-2"), record
    assert by_action["note.added"][0]["group"] == ""
    groups = page["groups"]
    assert groups["act-1"]["label"] == 'cell "cell 3"'
    assert groups["act-2"]["label"] == "cell [7] pred = clf.predict(X)"
    assert groups["act-2"]["notebook"] == "analysis/model.ipynb"
    labels = {r["seq"]: r["label"] for r in records}
    used = [labels[r["seq"]] for r in by_action["lineage.used"]]
    assert 'cell [7] pred = clf.predict(X) used model "clf" (input)' in used
    assert 'cell "cell 3" used dataset "patients.csv" (input)' in used
    generated = {labels[r["seq"]] for r in by_action["lineage.generated"]}
    assert 'cell [7] pred = clf.predict(X) generated dataset "<img src=x onerror=alert(1)>"' in (
        generated
    )
    entity_records = {r["object_id"]: r for r in by_action["lineage.entity"]}
    assert entity_records["ds-2"]["group"] == "act-2"  # first mentioned by act-2's relation
    assert entity_records["model-1"]["group"] == "act-1"
    assert entity_records["ds-1"]["label"] == 'dataset "patients.csv" recorded'
    assert by_action["lineage.agent"][0]["label"] == 'person "ana" recorded'
    assert by_action["lineage.associated"][0]["label"] == 'person "ana" ran cell "cell 3"'
    # raw ids and payloads are still there for the reviewer
    assert all("object_id" in r and "payload" in r and "hash" in r for r in records)


async def test_the_newest_records_of_a_page_find_their_activity_after_it(jp_fetch, store_home):
    """Paged newest first, a cell's entity records can sit on a page without its activity."""
    with open_store(home=store_home) as store:
        store.record_lineage(second_cell())
        seqs = [r.seq for r in store.records(action="lineage.entity", object_id="ds-2")]
        total = store.count_records()
    (seq,) = seqs
    page = body(
        await jp_fetch("cmlops", "api", "audit", params={"limit": "1", "offset": str(total - seq)})
    )
    (record,) = page["records"]
    assert record["seq"] == seq and record["group"] == "act-2"
    assert page["groups"]["act-2"]["label"] == "cell [7] pred = clf.predict(X)"
