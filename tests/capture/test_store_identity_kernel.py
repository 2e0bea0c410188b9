"""In a real kernel: a store folder deleted mid-session, and a team role without INSERT."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmlops.store import open_store
from tests.capture.conftest import outputs_text
from tests.store.old_stores import add_reader_role


@pytest.mark.req("REQ-AUD-009")
def test_a_deleted_store_folder_is_said_strict_refuses_and_new_records_are_kept(
    run_notebook, tmp_path: Path
) -> None:
    home = tmp_path / ".cmlops"
    marker = tmp_path / "strict-ran.txt"
    nb = run_notebook(
        [
            "%load_ext cmlops",
            "%%cmlops_track before\na = 1",
            "import os, shutil\nshutil.rmtree(os.environ['CMLOPS_HOME'])  # git clean -fdx",
            f"#raises\n%%cmlops_track --strict\nopen({str(marker)!r}, 'w').write('ran')",
            "%%cmlops_track after\nb = 2",
            "%%cmlops_track again\nc = 3",
        ],
        CMLOPS_HOME=str(home),
    )
    strict = outputs_text(nb.cells[3])
    assert "UsageError: strict tracking" in strict and "vanished" in strict
    assert not marker.exists()  # the strict cell's code never ran
    after = outputs_text(nb.cells[4])
    assert "vanished" in after and "new store" in after
    assert "cmlops:" not in outputs_text(nb.cells[5])  # said once, then tracking goes on
    with open_store(home=home, create=False) as store:
        names = {a.name for a in store.lineage_graph().activities.values()}
        assert names == {"after", "again"}  # the new store holds what came after, nothing lost
        assert store.verify().ok


@pytest.mark.postgres
def test_strict_tracking_refuses_before_the_cell_runs_for_a_role_without_insert(
    run_notebook, postgres_url: str, tmp_path: Path
) -> None:
    owner = open_store(postgres_url, home=tmp_path / ".cmlops")
    auditor_url = add_reader_role(owner, "auditor")
    marker = tmp_path / "strict-ran.txt"
    nb = run_notebook(
        [
            "%load_ext cmlops",
            f"#raises\n%%cmlops_track --strict\nopen({str(marker)!r}, 'w').write('ran')",
            "%%cmlops_track\nx = 1\nx",
        ],
        CMLOPS_STORE_URL=auditor_url,
    )
    refused = outputs_text(nb.cells[1])
    assert "UsageError: strict tracking" in refused
    assert "'auditor' may not append" in refused and "no INSERT on audit_log" in refused
    assert len(refused.strip().splitlines()) == 1
    assert not marker.exists()
    lenient = outputs_text(nb.cells[2])
    assert "1" in lenient and lenient.count("cmlops:") == 1  # runs, warns once
    assert owner.count_records(action="lineage.activity") == 0
    assert owner.verify().ok
    owner.close()
