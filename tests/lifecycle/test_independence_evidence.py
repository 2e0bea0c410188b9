"""Independence as evidence: the CLI and model_validation record it, and no identifier
ever reaches the store, an export, an HTML page or a package."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cmlops.cli import cli
from tests.lifecycle.conftest import folder_bytes, store_bytes


def _split(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """flchain with subject ids; 3 development subjects planted in the validation file."""
    from cmlops.reports.demo import FEATURES, fit_model, flchain_frames

    development, validation = flchain_frames()
    frame = pd.concat([development, validation], ignore_index=True)
    frame.insert(0, "subject_id", [f"FLC-{i:06d}" for i in range(len(frame))])
    dev = frame[frame.sample_yr <= 1996].copy()
    val = frame[frame.sample_yr >= 1997].copy()
    planted = dev.subject_id.iloc[[17, 1042, 2001]].tolist()
    extra = dev[dev.subject_id.isin(planted)].copy()
    extra["creatinine"] += 0.1
    val = pd.concat([val, extra], ignore_index=True)
    model = fit_model(dev)
    for part in (dev, val):
        part["score"] = model.predict_proba(part[FEATURES])[:, 1]
    dev.to_csv(tmp_path / "dev.csv", index=False)
    val.to_csv(tmp_path / "val.csv", index=False)
    return tmp_path / "dev.csv", tmp_path / "val.csv", planted


def _no_ids(blob: bytes, ids: list[str]) -> None:
    leaked = [sid for sid in ids if sid.encode() in blob]
    assert not leaked, f"identifiers in clear: {leaked}"


def test_cli_finds_planted_subjects_and_stores_only_hashes(tmp_path: Path) -> None:
    dev, val, planted = _split(tmp_path)
    assert len(planted) == 3
    runner = CliRunner()
    html = tmp_path / "independence.html"
    out = runner.invoke(
        cli,
        [
            "independence",
            str(dev),
            str(val),
            "--id",
            "subject_id",
            "--keys",
            "age,sex",
            "--tolerance",
            "age=0.5",
            "--html",
            str(html),
        ],
    )
    assert out.exit_code == 1, out.output
    assert "shared subjects: 3" in out.output
    assert out.output.count("shared subject ") == 3
    assert "FAIL: recorded as blake3:" in out.output
    entity_id = out.output.strip().split()[-1]

    as_json = runner.invoke(
        cli, ["independence", str(dev), str(val), "--id", "subject_id", "--json"]
    )
    assert as_json.exit_code == 1
    doc = json.loads(as_json.output)
    assert doc["shared_subjects"] == 3 and len(doc["shared_subject_hashes"]) == 3

    from cmlops.store import open_store

    with open_store(home=tmp_path / ".cmlops") as store:
        entity = store.get_entity(entity_id)
        assert entity is not None and entity.kind == "result"
        assert entity.attributes["result_kind"] == "independence"
        graph = store.ancestors(entity_id)
        roles = {u.role for u in graph.used}
        assert roles == {"train", "test"}
    exports = [
        runner.invoke(cli, ["audit", "export"]).output,
        runner.invoke(cli, ["lineage", "export", "--format", "prov"]).output,
        runner.invoke(cli, ["lineage", "export", "--format", "openlineage"]).output,
    ]
    every_id = pd.read_csv(val, dtype={"subject_id": str}).subject_id.tolist()
    blob = store_bytes(tmp_path / ".cmlops") + "".join(exports).encode() + html.read_bytes()
    _no_ids(blob, every_id[:2000] + planted)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "nope"], "'nope' is not in train"),
        (["--id", "subject_id", "--tolerance", "age"], "is not COLUMN=NUMBER"),
        (["--id", "subject_id", "--keys", "zzz"], "key column 'zzz'"),
    ],
)
def test_cli_bad_input_is_one_line_and_records_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    frame = pd.DataFrame({"subject_id": ["a", "b"], "age": [1.0, 2.0]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_csv(tmp_path / "b.csv", index=False)
    from cmlops.store import open_store

    with open_store(home=tmp_path / ".cmlops") as store:
        before = store.count_records()
    out = CliRunner().invoke(
        cli, ["independence", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), *args]
    )
    assert out.exit_code == 2, out.output
    assert message in out.output and len(out.output.strip().splitlines()) == 1
    with open_store(home=tmp_path / ".cmlops") as store:
        assert store.count_records() == before


def test_cli_mixed_id_types_refused(tmp_path: Path) -> None:
    pd.DataFrame({"sid": [1, 2], "x": [1, 2]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"sid": ["1", "x"], "x": [1, 2]}).to_parquet(tmp_path / "b.parquet")
    out = CliRunner().invoke(
        cli,
        ["independence", str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"), "--id", "sid"],
    )
    assert out.exit_code == 2
    assert "integer values in train but string values in test" in out.output


@pytest.mark.kernel
@pytest.mark.req("REQ-STA-007")
def test_model_validation_runs_it_and_the_plan_can_require_it(tmp_path: Path) -> None:
    from cmlops.reports.runner import run_report
    from cmlops.reports.verify import verify_package
    from cmlops.store import open_store

    dev, val, planted = _split(tmp_path)
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "plan_id": "independence-required",
                "criteria": [
                    {"id": "discrimination", "metric": "auroc", "op": ">=", "threshold": 0.7},
                    {
                        "id": "independent",
                        "metric": "independence_shared_subjects",
                        "op": "==",
                        "threshold": 0,
                    },
                ],
            }
        )
    )
    with open_store(home=tmp_path / ".cmlops") as store:
        run = run_report(
            "model_validation",
            {
                "data": str(val),
                "reference": str(dev),
                "outcome": "outcome",
                "score": "score",
                "features": ["age", "kappa"],
                "id_column": "subject_id",
                "independence_keys": ["age", "sex", "kappa", "lambda"],
            },
            plan=plan,
            out=tmp_path / "pkg",
            store=store,
            progress=False,
        )
    assert run.status == "EXECUTED", run.error
    results = run.manifest["results"]
    assert results["metrics"]["independence_shared_subjects"] == 3
    assert results["metrics"]["independence_near_duplicates"] >= 0
    outcome = {c["id"]: c["outcome"] for c in results["criteria"]}
    assert outcome == {"discrimination": "PASS", "independent": "FAIL"}
    assert results["verdict"] == "FAIL"
    assert verify_package(run.package).ok
    page = (run.package / "report.html").read_text()
    assert "Train/test independence" in page and "3 shared subjects" in page
    every_id = pd.read_csv(val, dtype={"subject_id": str}).subject_id.tolist()
    blob = store_bytes(tmp_path / ".cmlops") + folder_bytes(run.package)
    _no_ids(blob, planted + every_id[::7])
    assert np.isfinite(results["metrics"]["auroc"])
