"""A tracked cell that checks train/test independence records a result entity derived
from both sets — and the store never sees a subject identifier."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmlops.store import open_store
from tests.capture.conftest import outputs_text

pytestmark = pytest.mark.kernel


def test_tracked_independence_is_a_result_entity_without_ids(run_notebook, tmp_path: Path) -> None:
    nb = run_notebook(
        [
            "%load_ext cmlops",
            # untracked: the ids exist only in this kernel
            "import pandas as pd\n"
            "ids = [f'PT-{i:05d}' for i in range(500)]\n"
            "train = pd.DataFrame({'pid': ids[:300], 'age': range(300)})\n"
            "test = pd.DataFrame({'pid': ids[297:500], 'age': range(1000, 1203)})",
            "%%cmlops_track independence\n"
            "import cmlops\n"
            "check = cmlops.independence(train, test, id='pid')\n"
            "print(check.shared_subjects, len(check.shared_rows(test)))",
            "%cmlops_status",
        ],
        CMLOPS_NOTEBOOK="split.ipynb",
    )
    assert outputs_text(nb.cells[2]).split()[:2] == ["3", "3"]
    store = open_store(create=False)
    results = [
        e
        for e in store.lineage_graph().entities.values()
        if e.kind == "result" and e.attributes.get("result_kind") == "independence"
    ]
    assert len(results) == 1
    result = results[0]
    assert result.attributes["result"]["shared_subjects"] == 3
    sources = {store.get_entity(d.source_id).name for d in store.ancestors(result.id).derived}
    assert sources == {"train", "test"}
    blob = b"".join(p.read_bytes() for p in (tmp_path / ".cmlops").rglob("*") if p.is_file())
    assert b"PT-00" not in blob
