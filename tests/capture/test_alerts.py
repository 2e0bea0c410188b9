"""One ``monitor.alert`` record per alert, in one shape, whoever records it (and however often)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import cmlops
from cmlops.errors import InvalidInputError
from cmlops.fingerprinting import fingerprint
from cmlops.json_safe import json_safe
from cmlops.stats.monitoring import monitor
from cmlops.store import open_store
from tests.capture.conftest import outputs_text
from tests.stats.test_monitoring import _cohort

REPO = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def result():
    res = monitor(_cohort(seed=5), time="when", window="MS", target="y", prediction="p")
    assert res.alerts
    return res


def _alerts(store) -> list:
    return store.records(action="monitor.alert")


@pytest.mark.req("REQ-STA-008")
def test_record_alerts_appends_one_audit_record_per_alert(tmp_path: Path, result) -> None:
    store = open_store(home=tmp_path / ".cmlops")
    try:
        n = cmlops.record_alerts(result, store)
        assert n == len(result.alerts)
        records = _alerts(store)
        assert len(records) == n
        entity_id = fingerprint(json_safe(result.to_dict()))
        for record, alert in zip(records, result.alerts, strict=True):
            assert record.object_type == "entity" and record.object_id == entity_id
            assert record.payload_dict() == {
                "monitor_id": result.monitor_id,
                "alert": json_safe(alert.to_dict()),
            }
            assert record.reason == alert.message
        assert store.verify().ok
        # idempotent: asking again records nothing new
        assert cmlops.record_alerts(result, store) == 0
        assert len(_alerts(store)) == n
    finally:
        store.close()


def test_a_tracked_block_that_also_records_makes_one_record_per_alert(result) -> None:
    ns: dict[str, Any] = {}
    with cmlops.track("monitoring", namespace=ns):
        ns["mon"] = result
        cmlops.record_alerts(ns["mon"])
    store = open_store(create=False)
    records = _alerts(store)
    assert [r.payload_dict()["alert"] for r in records] == result.to_dict()["alerts"]
    entity = next(e for e in store.lineage_graph().entities.values() if e.kind == "result")
    assert {r.object_id for r in records} == {entity.id}
    # tracking the same result again adds no alert record
    with cmlops.track("again", namespace=ns):
        ns["mon2"] = result
    assert len(_alerts(store)) == len(result.alerts)


@pytest.mark.req("REQ-STA-008")
def test_concurrent_writers_record_each_alert_once(tmp_path: Path, result) -> None:
    home = tmp_path / ".cmlops"
    open_store(home=home).close()
    counts: list[int] = []

    def write() -> None:
        store = open_store(home=home)
        try:
            counts.append(cmlops.record_alerts(result, store))
        finally:
            store.close()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 0, len(result.alerts)]
    store = open_store(home=home)
    assert len(_alerts(store)) == len(result.alerts) and store.verify().ok
    store.close()


def test_record_alerts_refuses_what_is_not_a_monitor_result() -> None:
    with pytest.raises(InvalidInputError, match=r"result of cmlops\.monitor"):
        cmlops.record_alerts({"alerts": []})


@pytest.mark.kernel
def test_a_tracked_cell_records_one_record_per_alert(run_notebook, tmp_path: Path) -> None:
    nb = run_notebook(
        [
            "%load_ext cmlops",
            f"import sys; sys.path.insert(0, {REPO!r})\n"
            "import cmlops\n"
            "from tests.stats.test_monitoring import _cohort\n"
            "df = _cohort(seed=5)",
            "%%cmlops_track monitoring\n"
            "mon = cmlops.monitor(df, time='when', window='MS', target='y', prediction='p')\n"
            "cmlops.record_alerts(mon)",
            "%cmlops_autotrack on",
            "mon2 = mon",
            "%cmlops_autotrack off",
            "print(len(mon.alerts), mon.monitor_id)",
        ]
    )
    n_alerts, monitor_id = outputs_text(nb.cells[-1]).split()
    store = open_store(create=False)
    records = _alerts(store)
    assert int(n_alerts) > 0 and len(records) == int(n_alerts)
    assert {r.object_type for r in records} == {"entity"}
    assert {r.payload_dict()["monitor_id"] for r in records} == {monitor_id}
    assert len({r.payload for r in records}) == len(records)
    assert store.verify().ok
