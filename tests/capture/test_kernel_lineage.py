"""%%cmlops_track in a real kernel: the exact lineage graph of a small pipeline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmlops.fingerprinting import fingerprint
from cmlops.store import Derived, Generated, Used, open_store
from tests.capture.conftest import outputs_text

pytestmark = pytest.mark.kernel

CSV = "age,bmi,y\n61,22.5,0\n72,,1\n55,30.1,0\n80,27.0,1\n49,24.2,0\n66,28.8,1\n"


def _by_name(graph):
    return {a.name: a for a in graph.activities.values()}


@pytest.mark.req("REQ-LIN-001")
def test_tracked_pipeline_records_exact_graph(run_notebook, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(CSV)
    nb = run_notebook(
        [
            "%load_ext cmlops\n%load_ext cmlops",
            '%%cmlops_track load --reason "read raw data" --tag study=S1 --tag phase=2\n'
            "import pandas as pd\nraw = pd.read_csv('in.csv')\nraw.head(2)",
            "%%cmlops_track derive\nclean = raw.dropna().assign(bmi2=raw.bmi * 2)",
            "%%cmlops_track fit\nfrom sklearn.linear_model import LogisticRegression\n"
            "model = LogisticRegression().fit(clean[['age', 'bmi2']], clean['y'])",
            "%%cmlops_track write\nclean.to_csv('out.csv', index=False)\nprint('written')",
            "#raises\n%%cmlops_track boom\n%time t = 1\nraise ValueError('bad value')",
            "#raises\n%%cmlops_track --bogus\nprint('must not run')",
            "%%cmlops_track odd\nimport numpy as np\ngen = (i for i in range(3))\n"
            "big = np.zeros(200_000)",
            "%%cmlops_track inplace\nclean['age'] = clean['age'] + 1",
        ],
        CMLOPS_NOTEBOOK="analysis.ipynb",
        CMLOPS_MAX_FINGERPRINT_BYTES="1000000",
    )
    cells = nb.cells
    # the user's view is unchanged: last expression displayed, prints, their own error
    assert "61" in outputs_text(cells[1]) and "bmi" in outputs_text(cells[1])
    assert "written" in outputs_text(cells[4])
    errors = [o for o in cells[5].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "ValueError"
    assert errors[0].evalue == "bad value"
    assert "cmlops" not in "".join(errors[0].traceback)
    assert "Wall time" in outputs_text(cells[5])  # %time inside a tracked cell works
    usage = outputs_text(cells[6])
    assert "UsageError: unrecognized arguments: --bogus" in usage
    assert "usage: %cmlops_track [--reason REASON]" in usage
    assert "must not run" not in outputs_text(cells[6])

    store = open_store(create=False)
    graph = store.lineage_graph()
    acts = _by_name(graph)
    assert sorted(acts) == ["boom", "derive", "fit", "inplace", "load", "odd", "write"]
    assert {a.status for n, a in acts.items() if n != "boom"} == {"ok"}
    assert acts["boom"].status == "error" and acts["boom"].error == "ValueError: bad value"
    load = acts["load"]
    assert load.notebook == "analysis.ipynb"
    assert load.attributes["tags"] == {"study": "S1", "phase": "2"}
    assert load.attributes["reason"] == "read raw data"
    counts = [acts[n].attributes["execution_count"] for n in ("load", "derive", "fit", "write")]
    assert counts == [cells[i].execution_count for i in (1, 2, 3, 4)]  # In[] of each cell
    assert load.code_hash == "sha256:" + hashlib.sha256(load.code.encode()).hexdigest()
    assert load.started <= load.ended and load.started.endswith("+00:00")
    assert len({a.environment_id for a in acts.values()}) == 1
    assert load.session and len({a.session for a in acts.values()}) == 1
    env = store.get_environment(load.environment_id)
    assert env["packages"]["pandas"] == pd.__version__

    in_file = "sha256:" + hashlib.sha256(CSV.encode()).hexdigest()
    raw = pd.read_csv(tmp_path / "in.csv")
    clean = raw.dropna().assign(bmi2=raw.bmi * 2)
    out_file = "sha256:" + hashlib.sha256((tmp_path / "out.csv").read_bytes()).hexdigest()
    raw_fp, clean_fp = fingerprint(raw), fingerprint(clean)
    model_ids = [e.id for e in graph.entities.values() if e.kind == "model"]
    assert len(model_ids) == 1
    model_fp = model_ids[0]
    changed_fp = fingerprint(clean.assign(age=clean["age"] + 1))
    assert set(graph.entities) == {in_file, raw_fp, clean_fp, model_fp, out_file, changed_fp}
    model = graph.entities[model_fp]
    assert model.attributes["class"].endswith("LogisticRegression")
    assert model.attributes["params"]["C"] == 1.0
    assert graph.entities[in_file].location == str(tmp_path / "in.csv")
    assert graph.entities[raw_fp].schema["columns"][1] == {
        "name": "bmi",
        "dtype": "float64",
        "missing": 1,
    }

    ids = {name: a.id for name, a in acts.items()}
    assert set(graph.used) == {
        Used(ids["load"], in_file, "input"),
        Used(ids["derive"], raw_fp, "variable:raw"),
        Used(ids["fit"], clean_fp, "variable:clean"),
        Used(ids["write"], clean_fp, "variable:clean"),
        Used(ids["inplace"], clean_fp, "variable:clean"),  # changed in place: old content used
    }
    assert set(graph.generated) == {
        Generated(raw_fp, ids["load"], "variable:raw"),
        Generated(clean_fp, ids["derive"], "variable:clean"),
        Generated(model_fp, ids["fit"], "variable:model"),
        Generated(out_file, ids["write"], "output"),
        Generated(changed_fp, ids["inplace"], "variable:clean"),  # ... and new content generated
    }
    assert set(graph.derived) == {
        Derived(raw_fp, in_file, ids["load"]),
        Derived(clean_fp, raw_fp, ids["derive"]),
        Derived(model_fp, clean_fp, ids["fit"]),
        Derived(out_file, clean_fp, ids["write"]),
        Derived(changed_fp, clean_fp, ids["inplace"]),
    }
    assert {(e.activity_id, e.role) for e in graph.associated} >= {
        (ids["load"], "operator"),
        (ids["load"], "tool"),
    }
    assert graph.agents["person:tester"].kind == "person"
    notes = acts["odd"].attributes["notes"]
    assert any(n.startswith("skipped gen:") for n in notes)
    assert any(n.startswith("skipped big:") and "limit" in n for n in notes)
    # the chain stays valid after all of it
    assert store.verify().ok


@pytest.mark.req("REQ-LIN-002")
def test_unwritable_store_warns_once_and_strict_refuses(run_notebook, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store folder should be")
    nb = run_notebook(
        [
            "%load_ext cmlops",
            "%%cmlops_track\ny = 41 + 1\ny",
            "%%cmlops_track\nz = 2\nz",
            "#raises\n%%cmlops_track --strict\nran = True",
            "'ran' in globals()",
        ],
        CMLOPS_HOME=str(blocker / ".cmlops"),
    )
    first, second = outputs_text(nb.cells[1]), outputs_text(nb.cells[2])
    assert "42" in first and first.count("cmlops:") == 1
    assert "2" in second and "cmlops:" not in second
    strict = outputs_text(nb.cells[3])
    assert "UsageError: strict tracking: the cmlops store cannot be written" in strict
    assert "False" in outputs_text(nb.cells[4])


@pytest.mark.req("REQ-LIN-001")
def test_autotrack_and_clinical_dataset(run_notebook) -> None:
    nb = run_notebook(
        [
            "%load_ext cmlops\n%cmlops_autotrack on",
            "from sksurv.datasets import load_whas500\nX, y = load_whas500()\n"
            "Xn = X[['age', 'bmi', 'hr', 'sysbp']].astype(float)",
            "from sksurv.linear_model import CoxPHSurvivalAnalysis\n"
            "cox = CoxPHSurvivalAnalysis().fit(Xn, y)\ncox.coef_.round(3)",
            "%cmlops_autotrack off",
            "untracked = Xn * 2",
            "st = %cmlops_status\nst['autotrack'], st['activities_recorded']",
            "%cmlops_log_dataset Xn --name whas-features --role output",
            "view = %cmlops_lineage Xn\nprint(type(view).__name__, len(view.graph.activities))\n"
            "print('<svg' in view._repr_html_())",
            "%cmlops_lineage --notebook --text",
            "print(get_ipython().find_cell_magic('cmlops_track').__doc__)",
            "#raises\n%cmlops_log_dataset nothing_here",
        ]
    )
    assert "(False, 2)" in outputs_text(nb.cells[5])
    from sksurv.datasets import load_whas500

    x, y = load_whas500()
    xn = x[["age", "bmi", "hr", "sysbp"]].astype(float)
    assert outputs_text(nb.cells[6]).strip().strip("'") == fingerprint(xn)
    assert "LineageView 3" in outputs_text(nb.cells[7]) and "True" in outputs_text(nb.cells[7])
    text = outputs_text(nb.cells[8])
    assert text.startswith("lineage: 3 activities") and "generated cox [model" in text
    assert "%cmlops_track [--reason REASON] [--tag KEY=VALUE] [--strict]" in outputs_text(
        nb.cells[9]
    )
    assert "UsageError: no variable 'nothing_here'" in outputs_text(nb.cells[10])
    graph = open_store(create=False).lineage_graph()
    assert sorted(a.kind for a in graph.activities.values()) == ["cell", "cell", "log_dataset"]
    cells = [a for a in graph.activities.values() if a.kind == "cell"]
    first, second = sorted(cells, key=lambda a: a.started)
    assert [first.attributes["execution_count"], second.attributes["execution_count"]] == [
        nb.cells[1].execution_count,
        nb.cells[2].execution_count,
    ]
    gen1 = {e.entity_id for e in graph.generated if e.activity_id == first.id}
    assert gen1 == {fingerprint(x), fingerprint(y), fingerprint(xn)}
    used2 = {e.entity_id for e in graph.used if e.activity_id == second.id}
    assert used2 == {fingerprint(xn), fingerprint(y)}
    gen2 = [graph.entities[e.entity_id] for e in graph.generated if e.activity_id == second.id]
    assert [e.kind for e in gen2] == ["model"]
    assert gen2[0].attributes["class"].endswith("CoxPHSurvivalAnalysis")
    assert graph.entities[fingerprint(x)].schema["rows"] == 500
    assert np.isfinite(len(graph.derived))
