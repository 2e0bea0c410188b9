"""In a real kernel: magic lines recorded as typed, and the session's own facts as records."""

from __future__ import annotations

from pathlib import Path

from cmlops.store import open_store
from tests.capture.conftest import outputs_text


def test_magic_lines_are_recorded_as_typed_never_expanded(run_notebook, tmp_path: Path) -> None:
    nb = run_notebook(
        [
            "%load_ext cmlops",
            "import numpy as np\nx = 1\nsecret = 'hunter2'\narr = np.arange(3)",
            "%%cmlops_track step {x+1}\ny = x + 1",
            '%%cmlops_track "keep  $secret as typed" --reason "why {secret} $x"\nz = y',
            "%cmlops_log_dataset arr --name {secret}",
            "st = %cmlops_status\nst['actor'], st['actor_source'], st['claimed_actor']",
        ],
        CMLOPS_USER="claimed-name",
    )
    assert "('tester', 'jupyterhub', 'claimed-name')" in outputs_text(nb.cells[5])
    with open_store(home=tmp_path / ".cmlops", create=False) as store:
        activities = store.lineage_graph().activities.values()
        names = {a.name for a in activities}
        assert {"step {x+1}", "keep  $secret as typed", "{secret}"} <= names
        reasons = {a.attributes.get("reason") for a in activities}
        assert "why {secret} $x" in reasons
        assert not any("hunter2" in r.payload for r in store.records())
        assert not any("step 2" in r.payload for r in store.records())


def test_loading_autotrack_and_unloading_are_audit_records(run_notebook, tmp_path: Path) -> None:
    run_notebook(
        [
            "%load_ext cmlops",
            "%%cmlops_track\na = 1",
            "%cmlops_autotrack on",
            "b = a + 1",
            "%cmlops_autotrack off",
            "c = 3",
            "%unload_ext cmlops",
        ]
    )
    with open_store(home=tmp_path / ".cmlops", create=False) as store:
        actions = [r.action for r in store.records() if r.action.startswith("capture.")]
        assert actions == [
            "capture.extension_loaded",
            "capture.autotrack_on",
            "capture.autotrack_off",
            "capture.extension_unloaded",
        ]
        facts = store.records(action="capture.*")
        assert len({r.object_id for r in facts}) == 1  # the kernel session
        assert all(r.object_type == "session" and r.payload_dict()["at"] for r in facts)
        assert facts[0].object_id == facts[0].context_dict()["session"]
        cells = {a.code for a in store.lineage_graph().activities.values()}
        assert "b = a + 1" in cells and "c = 3" not in cells  # autotrack really went off
        # the load was written with the session's first record, ahead of it
        first_lineage = store.records(action="lineage.*", limit=1)[0]
        assert facts[0].seq < first_lineage.seq
        assert store.verify().ok


def test_a_kernel_that_records_nothing_leaves_no_store(run_notebook, tmp_path: Path) -> None:
    run_notebook(["%load_ext cmlops", "x = 1", "%unload_ext cmlops"])
    assert not (tmp_path / ".cmlops").exists()
