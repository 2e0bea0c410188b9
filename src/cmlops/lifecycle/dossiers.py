"""Living dossiers: compiled from the evidence graph into signed, verifiable packages.

Each dossier is an audit package of the ``dossier`` template (so ``package
verify``, ``sign``, ``status`` and ``reproduce`` work on it as on a report),
written to ``<root>/<model>/v<version>/<kind>[-<dataset>]/r<revision>``. A
dossier is regenerated only when its evidence changed (a new signature, a new
version, an impact assessment ...): the evidence's SHA-256 is compared with the
last revision's, and a new revision is a new folder — revisions are never
overwritten. Each generation is an audit record (``model.dossier.generated``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmlops.lifecycle.answers import load_answers
from cmlops.lifecycle.errors import DossierError
from cmlops.lifecycle.evidence import dataset_evidence, evidence_sha256, model_evidence
from cmlops.lifecycle.registry import ModelState, VersionState, model_state

MODEL_KINDS = ("model-card", "tripod-ai", "credibility", "annex-iv")
KINDS = (*MODEL_KINDS, "datasheet")


@dataclass
class DossierRun:
    kind: str
    subject: str
    revision: int
    path: Path | None
    status: str  # generated | up to date
    verdict: str = ""
    missing: list[str] | None = None
    pdf_error: str = ""  # why a requested archival PDF was not made (the package is complete)


def _plan(kind: str) -> dict[str, Any]:
    criteria = [{"id": "complete", "metric": "dossier_missing_items", "op": "==", "threshold": 0}]
    if kind == "model-card":
        criteria.append({"id": "xml-valid", "metric": "xsd_valid", "op": "==", "threshold": 1})
    return {"plan_id": f"dossier-{kind}-completeness", "criteria": criteria}


def _previous(state: ModelState, version: int, kind: str, subject: str) -> dict[str, Any] | None:
    runs = [
        d
        for d in state.dossiers
        if d.get("version") == version and d.get("kind") == kind and d.get("subject") == subject
    ]
    return runs[-1] if runs else None


def _run(
    store: Any,
    name: str,
    version: int,
    kind: str,
    subject: str,
    evidence: dict[str, Any],
    digest: str,
    revision: int,
    root: Path,
    pdf: bool = False,
) -> Any:
    """Run the dossier template on the evidence into its revision folder (``pdf``: with
    the archival PDF/A-3b copy, as ``report run --pdf``)."""
    from cmlops.reports.runner import run_report

    label = kind if not subject else f"{kind}-{subject.split(':')[-1][:12]}"
    folder = root / name / f"v{version}" / label
    work = root / ".evidence"
    work.mkdir(parents=True, exist_ok=True)
    evidence_file = work / f"{digest}.json"
    evidence_file.write_text(json.dumps(evidence, indent=2, sort_keys=True), "utf-8")
    plan_file = work / f"plan-{kind}.json"
    plan_file.write_text(json.dumps(_plan(kind), sort_keys=True), "utf-8")
    run = run_report(
        "dossier",
        {"evidence": str(evidence_file), "kind": kind},
        plan=plan_file,
        out=folder / f"r{revision}",
        store=store,
        progress=False,
        pdf=pdf,
    )
    if not run.ok:
        raise DossierError(f"the {kind} dossier failed to build: {run.error}")
    return run


def _generate(
    store: Any,
    state: ModelState,
    version: VersionState,
    kind: str,
    subject: str,
    evidence: dict[str, Any],
    root: Path,
    pdf: bool = False,
) -> DossierRun:
    digest = evidence_sha256(evidence)
    previous = _previous(state, version.version, kind, subject)
    if previous and previous.get("evidence_sha256") == digest:
        return DossierRun(
            kind,
            subject,
            previous["revision"],
            Path(previous["path"]),
            "up to date",
            previous.get("verdict", ""),
            previous.get("missing"),
        )
    revision = (previous["revision"] + 1) if previous else 1
    run = _run(
        store, state.name, version.version, kind, subject, evidence, digest, revision, root, pdf
    )
    details = json.loads((run.package / "results.json").read_text("utf-8")).get("details", {})
    missing = details.get("dossier", {}).get("missing", [])
    verdict = run.manifest["results"]["verdict"]
    store.append(
        "model.dossier.generated",
        "model",
        state.name,
        {
            "version": version.version,
            "kind": kind,
            "subject": subject,
            "revision": revision,
            "package_id": run.manifest["package_id"],
            "path": str(run.package),
            "evidence_sha256": digest,
            "verdict": verdict,
            "missing": missing,
        },
        reason=f"{kind} dossier r{revision}",
    )
    return DossierRun(
        kind, subject, revision, run.package, "generated", verdict, missing, run.pdf_error
    )


def generate_dossiers(
    store: Any,
    name: str,
    *,
    version: int | None = None,
    kinds: tuple[str, ...] = KINDS,
    answers: str | Path | None = None,
    root: str | Path = "dossiers",
    pdf: bool = False,
) -> list[DossierRun]:
    """Compile (or confirm up to date) each dossier of ``kinds`` for a model version;
    ``pdf`` adds the archival PDF/A-3b copy to each new revision."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise DossierError(f"unknown dossier kind {unknown[0]!r}: one of {', '.join(KINDS)}")
    given = load_answers(answers)
    state = model_state(store, name)
    current = state.version(version)
    root = Path(root).expanduser().resolve()
    runs = []
    for kind in kinds:
        if kind == "datasheet":
            subjects = list(current.facts.get("training_ids") or [])
            if current.validation and current.validation.get("data_sha256"):
                subjects.append(f"sha256:{current.validation['data_sha256']}")
            for subject in subjects:
                evidence = {**dataset_evidence(store, state, subject, given), "kind": kind}
                runs.append(_generate(store, state, current, kind, subject, evidence, root, pdf))
                state = model_state(store, name)
            continue
        evidence = {**model_evidence(store, state, current, given), "kind": kind}
        runs.append(_generate(store, state, current, kind, "", evidence, root, pdf))
        state = model_state(store, name)
    return runs
