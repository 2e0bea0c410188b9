"""FDA credibility assessment record: the seven steps of the 2025 draft guidance
("Considerations for the Use of Artificial Intelligence to Support Regulatory
Decision-Making for Drug and Biological Products"), assembled from the plans,
packages, signatures and the registry."""

from __future__ import annotations

from typing import Any

from cmlops.lifecycle.documents import evidence_text as ev
from cmlops.lifecycle.documents.base import Document, Section

STEPS = (
    ("1", "Define the question of interest"),
    ("2", "Define the context of use"),
    ("3", "Assess the AI model risk"),
    ("4", "Develop a plan to establish credibility of the model output"),
    ("5", "Execute the plan"),
    ("6", "Document the results and discuss deviations from the plan"),
    ("7", "Determine the adequacy of the model for the context of use"),
)


def _outcome_texts(e: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Steps 6 and 7: results and deviations; signatures and the approval for use."""
    pkg, refs = ev.validation(e), ev.package_ref(e)
    plan, results = pkg.get("plan") or {}, pkg.get("results") or {}
    approval = ev.version(e).get("approval") or {}
    version = ev.version(e)
    deviations = plan.get("deviations") or []
    signatures = "; ".join(
        f"{s.get('meaning')} by {s.get('name')} ({s.get('user_id')}) at {s.get('signed_at')}"
        for s in pkg.get("signatures") or []
    )
    return {
        "6": (
            f"Verdict {results.get('verdict')}; {ev.criteria_text(e)}; plan deviations: "
            + (
                "; ".join(
                    f"{d.get('previous_sha256', '')[:12]}… → {d.get('sha256', '')[:12]}… "
                    f"({d.get('reason')})"
                    for d in deviations
                )
                or "none"
            )
            if results
            else "",
            refs,
        ),
        "7": (
            "; ".join(
                x
                for x in (
                    f"Package signatures: {signatures}" if signatures else "",
                    f"Model version approved for use by {approval.get('actor')} "
                    f"at {approval.get('ts')}"
                    if approval
                    else f"Model version status: {version.get('status')}",
                )
                if x
            ),
            refs,
        ),
    }


def _texts(e: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    pkg, params = ev.validation(e), ev.parameters(e)
    refs = ev.package_ref(e)
    plan = pkg.get("plan") or {}
    influence, consequence = params.get("model_influence"), params.get("decision_consequence")
    return {
        "1": (params.get("question", ""), refs),
        "2": (
            " ".join(
                x
                for x in (params.get("context_of_use", ""), ev.protocol(e).get("intended_use", ""))
                if x
            ),
            refs,
        ),
        "3": (
            f"Model influence {influence}, decision consequence {consequence}: model risk per the "
            "guidance's matrix, as computed in the validation report"
            if influence
            else "",
            refs,
        ),
        "4": (
            f"Acceptance plan {plan.get('plan_id')} (SHA-256 {plan.get('sha256')}), recorded in "
            f"the audit log at {plan.get('recorded_at')} (seq {plan.get('audit_seq')}) before the "
            f"run; criteria: {ev.criteria_text(e)}"
            if plan.get("sha256")
            else "",
            refs,
        ),
        "5": (
            f"Package {pkg.get('package_id')}: template {pkg.get('template')}, run by "
            f"{pkg.get('user')} from {(pkg.get('run') or {}).get('started')} to "
            f"{(pkg.get('run') or {}).get('ended')}, status {pkg.get('status')}"
            if pkg.get("package_id")
            else "",
            refs,
        ),
        **_outcome_texts(e),
    }


def build_credibility(evidence: dict[str, Any]) -> Document:
    texts = _texts(evidence)
    sections = []
    for step, title in STEPS:
        auto, refs = texts[step]
        manual = ev.answer(evidence, "credibility", step)
        status = "automatic" if auto else ("manual" if manual else "missing")
        if auto and manual:
            status = "partial"
        sections.append(
            Section(
                id=f"step {step}",
                title=title,
                status=status,
                text="\n\n".join(x for x in (auto, manual) if x),
                evidence=refs if auto else [],
                mode="automatic",
            )
        )
    model = evidence.get("model") or {}
    return Document(
        kind="credibility",
        title="Credibility assessment record (FDA draft guidance, 7 steps)",
        subject=f"{model.get('name')} v{ev.version(evidence).get('version')}",
        preface="Assembled from the pre-specified plan, the validation package, its signatures "
        "and the model registry. Step 7's judgement of adequacy is the signatories'.",
        sections=sections,
    )
