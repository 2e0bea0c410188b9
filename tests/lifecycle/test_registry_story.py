"""End to end on flchain: register v1, validate, approve; v2 re-trained in scope and
re-validated; v3 out of scope refused without full validation; every step an audit record."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cmlops.cli import cli
from cmlops.store import open_store
from tests.lifecycle.story import (
    FULL_PLAN,
    NAME,
    REVALIDATION_PLAN,
    Story,
    sign,
    train_and_score,
    validate,
    write_protocol,
)

pytestmark = pytest.mark.kernel
SRC = Path(__file__).resolve().parents[2] / "src"


def run(story: Story, *args: str, user: str = "tester", code: int = 0) -> str:
    out = CliRunner().invoke(cli, ["--home", str(story.home), *args], env={"JUPYTERHUB_USER": user})
    assert out.exit_code == code, out.output
    return out.output


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    root = tmp_path_factory.mktemp("lifecycle")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
        mp.setenv("CMLOPS_DISPLAY", "static")
        mp.setenv("CMLOPS_HOME", str(root / ".cmlops"))
        mp.setenv("JUPYTERHUB_USER", "tester")  # the actor: CMLOPS_USER is only a claim
        s = Story(root=root, home=root / ".cmlops", protocol=write_protocol(root))
        with open_store(home=s.home) as store:
            train_and_score(s, store)
            validate(s, store, "v1", FULL_PLAN, "v1-full")
            validate(s, store, "v2", REVALIDATION_PLAN, "v2-revalidation")
            validate(s, store, "v3", REVALIDATION_PLAN, "v3-revalidation")
        yield s


@pytest.mark.req("REQ-LCM-001")
def test_v1_registered_validated_approved(story: Story) -> None:
    run(story, "model", "protocol", NAME, str(story.protocol))
    out = run(
        story,
        "model",
        "register",
        NAME,
        "--from",
        story.entities["v1"],
        "--description",
        "5-year mortality risk (flchain)",
    )
    assert "v1  candidate" in out and "change: initial" in out
    state = json.loads(run(story, "model", "show", NAME, "--json"))
    v1 = state["versions"][0]
    assert v1["entity_id"] == story.entities["v1"]
    assert "Pipeline" in v1["facts"]["class"]
    assert [d["name"] for d in v1["facts"]["training_data"]] == ["development data (v1)"]
    assert v1["facts"]["code"][0]["name"] == "train v1"
    assert v1["facts"]["gaps"] == []

    package = story.packages["v1-full"]
    # approval needs a validated version and a signed package: refused, and recorded
    refused = run(story, "model", "approve", NAME, "1", str(package), user="alan", code=2)
    assert "refused" in refused and "not validated" in refused
    run(story, "model", "validate", NAME, "1", str(package))
    refused = run(story, "model", "approve", NAME, "1", str(package), user="alan", code=2)
    assert "executed, not approved" in refused
    sign(story.home, package, "rita", "reviewed", story.root / "keys")
    sign(story.home, package, "alan", "approved", story.root / "keys")
    # authority comes from the signing policy in the chain (roles granted by an admin's
    # signed policy records in sign()), and the duties stay separate
    refused = run(story, "model", "approve", NAME, "1", str(package), user="tester", code=2)
    assert "tester does not hold the approver role" in refused
    assert "tester registered this version" in refused and "tester ran its validation" in refused
    refused = run(story, "model", "approve", NAME, "1", str(package), user="rita", code=2)
    assert "rita does not hold the approver role" in refused
    assert "rita reviewed its validation package" in refused
    out = run(story, "model", "approve", NAME, "1", str(package), user="alan")
    assert "v1  approved" in out
    with open_store(home=story.home) as store:
        refusals = store.records(action="model.approval.refused", object_id=NAME)
        assert len(refusals) == 4 and {r.actor for r in refusals} == {"alan", "tester", "rita"}
        assert any("approver role" in x for x in refusals[-1].payload_dict()["reasons"])
        assert store.verify().ok


@pytest.mark.req("REQ-LCM-001")
def test_v2_retrained_in_scope_needs_the_revalidation_package(story: Story) -> None:
    out = run(story, "model", "register", NAME, "--from", story.entities["v2"])
    assert "v2  candidate" in out and "change: in (retrain-same-population)" in out
    wrong = run(story, "model", "validate", NAME, "2", str(story.packages["v1-full"]), code=2)
    assert "plan 'flchain-full-validation'" in wrong and "do not descend" in wrong
    out = run(story, "model", "validate", NAME, "2", str(story.packages["v2-revalidation"]))
    assert "v2  validated" in out
    shown = json.loads(run(story, "model", "show", NAME, "--version", "2", "--json"))
    v2 = shown["versions"][0]
    assert v2["validation"]["validation"] == "revalidation"
    assert v2["change"]["differences"]["training_data"] is True
    assert v2["change"]["differences"]["hyperparameters"] == []


@pytest.mark.req("REQ-LCM-001")
def test_v3_out_of_scope_refused_without_full_validation(story: Story) -> None:
    out = run(story, "model", "register", NAME, "--from", story.entities["v3"])
    assert "v3  candidate" in out and "change: out" in out
    assert "hyper-parameters changed: steps" in out
    refused = run(
        story, "model", "validate", NAME, "3", str(story.packages["v3-revalidation"]), code=2
    )
    assert "out of the protocol's scope" in refused and "updated protocol" in refused
    refused = run(
        story,
        "model",
        "approve",
        NAME,
        "3",
        str(story.packages["v3-revalidation"]),
        user="alan",
        code=2,
    )
    assert "candidate, not validated" in refused
    history = run(story, "model", "history", NAME)
    assert "model.version.registered v3" in history and "model.approval.refused v3" in history


def test_list_and_history_tell_the_story(story: Story) -> None:
    listed = run(story, "model", "list")
    assert f"{NAME}: 3 version(s), latest v3 candidate; approved for use: v1" in listed
    records = json.loads(run(story, "model", "history", NAME, "--json"))
    actions = [r["action"] for r in records]
    assert actions.index("model.protocol.recorded") < actions.index("model.version.registered")
    assert actions.count("model.version.registered") == 3
    assert "model.version.approved" in actions
    out = run(story, "model", "retire", NAME, "1", "--reason", "superseded by v2")
    assert "v1  retired" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["register", NAME, "--from", "no-such-thing"], "no model entity or model variable"),
        (["register", "bad name!", "--from", "x"], "is not allowed"),
        (["show", "unknown-model"], "no model named 'unknown-model'"),
        (["approve", NAME, "1", "/nonexistent/pkg"], "no audit package"),
        (["validate", NAME, "9", "/nonexistent/pkg"], "has no version 9"),
        (["retire", NAME, "2", "--reason", " "], "needs a reason"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    story: Story, args: list[str], message: str
) -> None:
    with open_store(home=story.home) as store:
        before = store.count_records(action="model.version*")
    out = run(story, "model", *args, code=2)
    assert message in out and len(out.strip().splitlines()) == 1
    with open_store(home=story.home) as store:
        assert store.count_records(action="model.version*") == before


def test_registering_a_dataset_or_a_broken_protocol_is_refused(story: Story) -> None:
    with open_store(home=story.home) as store:
        dataset = next(e for e in store.lineage_graph().entities.values() if e.kind == "dataset")
        before = store.count_records()
    out = run(story, "model", "register", "other", "--from", dataset.id, code=2)
    assert "is a dataset, not a model" in out
    broken = story.root / "broken.yaml"
    broken.write_text("protocol_id: [unclosed\n")
    out = run(story, "model", "protocol", NAME, str(broken), code=2)
    assert "does not parse" in out and len(out.strip().splitlines()) == 1
    incomplete = story.root / "incomplete.yaml"
    incomplete.write_text(f"protocol_id: p\nmodel: {NAME}\nfairness_approach: none\n")
    out = run(story, "model", "protocol", NAME, str(incomplete), code=2)
    assert "sensitive_attributes" in out
    with open_store(home=story.home) as store:
        assert store.count_records() == before


ANSWERS = {
    "tripod": {
        "1": "Temporal validation of a 5-year mortality model in the flchain cohort",
        "17": "Secondary analysis of public, de-identified data",
        "3b": "Adults aged 50+ in Olmsted County; users are study statisticians",
    },
    "model_card": {"developer": "cmlops tests", "contact": "qa@example.org"},
}


@pytest.mark.req("REQ-LCM-002")
def test_dossiers_compiled_signed_verifiable_and_living(story: Story) -> None:
    from lxml import etree

    from cmlops.lifecycle.documents.model_card import schema_errors
    from cmlops.reports.verify import verify_package

    answers = story.root / "answers.yaml"
    answers.write_text(json.dumps(ANSWERS))
    out = run(
        story,
        "model",
        "dossier",
        NAME,
        "--version",
        "1",
        "--answers",
        str(answers),
        "--out",
        str(story.root / "dossiers"),
    )
    lines = out.strip().splitlines()
    assert [line.split(":")[0].split()[0] for line in lines] == [
        "model-card",
        "tripod-ai",
        "credibility",
        "annex-iv",
        "datasheet",
        "datasheet",
    ]
    assert all(" r1 generated " in line for line in lines)
    folder = story.root / "dossiers" / NAME / "v1"
    for package in sorted(folder.glob("*/r1")):
        assert verify_package(package).ok, package
    card = folder / "model-card" / "r1"
    xml = (card / "model_card.xml").read_bytes()
    assert schema_errors(xml) == []
    root = etree.fromstring(xml)
    ns = {"c": "https://mc.chai.org/v0.2/schema.xsd"}
    assert root.findtext("c:BasicInfo/c:ModelName", namespaces=ns) == NAME
    labels = root.xpath("//c:FairnessEquity//c:Label/text()", namespaces=ns)
    assert "auroc[sex=F]" in labels and "auroc[age_band=80+]" in labels
    bias = root.findtext("c:Warnings/c:KnownBiasesOrEthicalConsiderations", namespaces=ns)
    assert "sex, age_band" in bias and "AUROC" in bias
    tripod = json.loads((folder / "tripod-ai" / "r1" / "tripod-ai.json").read_text())
    items = {s["id"]: s for s in tripod["sections"]}
    assert len(items) == 52 and len({i.rstrip("abcdefg") for i in items}) == 27
    assert items["14"]["status"] == "automatic"
    assert "sex, age_band" in items["14"]["text"] and "sex=F" in items["14"]["text"]
    assert items["1"]["status"] == "manual" and items["17"]["status"] == "manual"
    assert items["3b"]["status"] == "partial"
    assert "3a" in tripod["missing"] and "14" not in tripod["missing"]
    shown = json.loads(run(story, "model", "show", NAME, "--version", "1", "--json"))
    package_id = shown["versions"][0]["validation"]["package_id"]
    assert items["23a"]["evidence"] == [f"package {package_id}"]
    credibility = json.loads((folder / "credibility" / "r1" / "credibility.json").read_text())
    assert [s["id"] for s in credibility["sections"]] == [f"step {i}" for i in range(1, 8)]
    assert "approved by alan" in credibility["sections"][6]["text"].lower()
    # living: nothing new -> up to date; new evidence (a signature) -> a new revision
    again = run(
        story,
        "model",
        "dossier",
        NAME,
        "--version",
        "1",
        "--kind",
        "model-card",
        "--answers",
        str(answers),
        "--out",
        str(story.root / "dossiers"),
    )
    assert "r1 up to date" in again
    sign(story.home, card, "rita", "reviewed", story.root / "keys")
    assert verify_package(card).ok
    bad = story.root / "bad-answers.yaml"
    bad.write_text("tripod:\n  '99z': nonsense\n")
    with open_store(home=story.home) as store:
        before = store.count_records()
    refused = run(story, "model", "dossier", NAME, "--answers", str(bad), code=2)
    assert "unknown TRIPOD+AI item '99z'" in refused and len(refused.strip().splitlines()) == 1
    with open_store(home=story.home) as store:
        assert store.count_records() == before


@pytest.mark.req("REQ-LCM-002")
def test_dossier_revisions_carry_their_archival_pdf(story: Story) -> None:
    """A new revision made with --pdf holds its PDF/A-3b like a report; an existing
    unsigned revision gets it from package pdf; both verify."""
    from cmlops.reports.archival import PDF
    from cmlops.reports.verify import verify_package
    from tests.reports.test_archival_pdf import assert_pdf_a3b

    answers = story.root / "answers-pdf.yaml"  # a changed answer: new evidence, new revision
    changed = {**ANSWERS, "model_card": {**ANSWERS["model_card"], "contact": "qa2@example.org"}}
    answers.write_text(json.dumps(changed))
    root = story.root / "dossiers"
    common = ["model", "dossier", NAME, "--version", "1", "--answers", str(answers)]
    out = run(story, *common, "--kind", "credibility", "--out", str(root), "--pdf")
    assert "credibility: r2 generated" in out, out
    fresh = root / NAME / "v1" / "credibility" / "r2"
    manifest = json.loads((fresh / "manifest.json").read_text())
    assert manifest["archival"]["format"] == "PDF/A-3b"
    assert_pdf_a3b(fresh / PDF, manifest, figures=0)
    assert verify_package(fresh).ok
    older = root / NAME / "v1" / "annex-iv" / "r1"
    assert not (older / PDF).exists()
    run(story, "package", "pdf", str(older))
    assert_pdf_a3b(older / PDF, json.loads((older / "manifest.json").read_text()), figures=0)
    assert verify_package(older).ok


def test_impact_assessment_v2_against_v1_on_the_same_data(story: Story) -> None:
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from cmlops.reports.verify import verify_package

    out = run(
        story,
        "model",
        "impact",
        NAME,
        "2",
        "--data",
        str(story.scored["impact"]),
        "--score-new",
        "score_v2",
        "--score-previous",
        "score_v1",
        "--out",
        str(story.root / "impact-v2"),
    )
    assert f"{NAME} v2 vs v1: AUROC difference" in out
    assert verify_package(story.root / "impact-v2").ok
    shown = json.loads(run(story, "model", "show", NAME, "--version", "2", "--json"))
    impact = shown["versions"][0]["impact"][0]
    data = pd.read_csv(story.scored["impact"])
    expected = roc_auc_score(data.outcome, data.score_v2) - roc_auc_score(
        data.outcome, data.score_v1
    )
    assert abs(impact["auroc_difference"] - expected) < 1e-12
    low, high = impact["auroc_difference_ci"]
    assert low < impact["auroc_difference"] < high
    assert 0 <= impact["auroc_difference_p_value"] <= 1
    metrics = json.loads((story.root / "impact-v2" / "results.json").read_text())["metrics"]
    assert "auroc_difference[sex=F]" in metrics and "calibration_slope_difference" in metrics
    wrong = run(
        story,
        "model",
        "impact",
        NAME,
        "2",
        "--data",
        str(story.scored["v2"]),
        "--score-new",
        "score",
        "--score-previous",
        "score",
        code=2,
    )
    assert "does not descend from the previous version's model" in wrong
