"""Numbers outside I-JSON, sealed through the magics and the API, re-verify independently."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from cmlops.capture.render import model_summary
from cmlops.store import open_store
from tests.capture.conftest import outputs_text
from tests.store.independent import verify_export


def test_a_model_with_c_1e16_and_nan_values_is_sealed_so_its_export_reverifies(
    run_notebook, tmp_path: Path
) -> None:
    nb = run_notebook(
        [
            "%load_ext cmlops",
            "%%cmlops_track fit\n"
            "import numpy as np\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "from sklearn.impute import SimpleImputer\n"
            "X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, np.nan], [2.0, 3.0]])\n"
            "y = np.array([0, 1, 0, 1])\n"
            "imputer = SimpleImputer(missing_values=np.nan).fit(X)\n"
            "model = LogisticRegression(C=1e16, max_iter=1000).fit(imputer.transform(X), y)\n"
            "model.C",
            "import cmlops\n"
            "with cmlops.track('api block', reason='n = 2**60'):\n"
            "    big = {'n': 2**60, 'neg_zero': -0.0, 'inf': float('inf')}\n"
            "values = {'C': 1e16, 'nan': float('nan')}\n"
            "cmlops.open_store().append('values.seen', 'test', '1', values)\n"
            "'done'",
        ]
    )
    assert "1e+16" in outputs_text(nb.cells[1]) and "done" in outputs_text(nb.cells[2])
    with open_store(home=tmp_path / ".cmlops", create=False) as store:
        params = [
            e.attributes.get("params", {}).get("C")
            for e in store.lineage_graph().entities.values()
            if e.kind == "model"
        ]
        assert "cmlops:num:1e+16" in params  # the tagged form, as sealed
        shown = [  # the lineage views show the value as typed, not its tagged form
            dict(model_summary(e)[1]).get("C")
            for e in store.lineage_graph().entities.values()
            if e.kind == "model"
        ]
        assert "1e+16" in shown
        (seen,) = store.records(action="values.seen")
        values = seen.payload_values()
        assert values["C"] == 1e16 and values["nan"] != values["nan"]
        buffer = io.StringIO()
        count = store.export_jsonl(buffer)
    assert verify_export(buffer.getvalue()) == count  # rfc8785 + hashlib alone
    export = tmp_path / "trail.jsonl"
    export.write_text(buffer.getvalue(), encoding="utf-8")
    env = {**os.environ, "CMLOPS_HOME": str(tmp_path / ".cmlops")}
    for args in (["audit", "verify", "--file", str(export)], ["audit", "verify"]):
        result = subprocess.run(
            [sys.executable, "-c", "from cmlops.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
