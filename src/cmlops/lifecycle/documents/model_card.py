"""CHAI Applied Model Card (schema v0.2): XML valid against the v0.2 structure, plus HTML.

Every element is filled from the evidence where the evidence can say it
(intended use and sensitive attributes from the change protocol, model type
and development data from the lineage, key metrics from the validation
package) and from the user's ``model_card`` answers otherwise; a field that
neither fills says "Not stated" and is listed as missing.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from cmlops.lifecycle.documents import evidence_text as ev
from cmlops.lifecycle.documents.base import Document, Section

NAMESPACE = "https://mc.chai.org/v0.2/schema.xsd"
XSD = "chai_model_card_v0_2.xsd"
#: model-card answers a user may give (the fields evidence cannot fill)
ANSWERS = (
    "developer",
    "contact",
    "release_stage",
    "global_availability",
    "regulatory_approval",
    "primary_users",
    "target_population",
    "out_of_scope",
    "risks_and_limitations",
    "funding",
    "stakeholders",
    "publications",
    "patient_consent",
    "security",
)


def _risk(evidence: dict[str, Any]) -> str:
    params = ev.parameters(evidence)
    influence, consequence = params.get("model_influence"), params.get("decision_consequence")
    if not influence:
        return ""
    matrix = {"low": 0, "medium": 1, "high": 2}
    level = ["low", "low", "medium", "high", "high"][
        matrix.get(influence, 1) + matrix.get(consequence, 1)
    ]
    return (
        f"Model risk {level} (FDA credibility framework: model influence {influence}, decision "
        f"consequence {consequence})"
    )


def _joined(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def _warnings_text(evidence: dict[str, Any]) -> tuple[str, str]:
    """(known risks and limitations, known biases) from gaps, failed criteria, fairness."""
    protocol, facts = ev.protocol(evidence), ev.facts(evidence)
    failed = [
        c["id"]
        for c in (ev.validation(evidence).get("results") or {}).get("criteria", [])
        if c.get("outcome") != "PASS"
    ]
    risks = _joined(
        "; ".join(facts.get("gaps") or []),
        f"criteria not met: {', '.join(failed)}" if failed else "",
        sep="; ",
    )
    sensitive = protocol.get("sensitive_attributes")
    if sensitive is None:
        return risks, ""
    subgroup = "; ".join(f"{a}={lvl}: AUROC {v}" for a, lvl, v in ev.subgroup_rows(evidence))
    biases = _joined(
        f"Declared sensitive attributes: {', '.join(sensitive) or 'none'}.",
        protocol.get("fairness_approach", ""),
        f"Per-group results: {subgroup}." if subgroup else "",
    )
    return risks, biases


def _system_text(evidence: dict[str, Any]) -> dict[str, str]:
    """The AI system facts the lineage and the protocol give."""
    protocol, facts, params = ev.protocol(evidence), ev.facts(evidence), ev.parameters(evidence)
    modifications = "; ".join(
        f"{m['id']} ({m['description']})" for m in protocol.get("modifications", [])
    )
    features = ", ".join(f"{n} ({t})" for n, t in facts.get("features") or [])
    return {
        "OutcomesAndOutputs": f"Predicted probability of {params['outcome']} (column "
        f"{params.get('score')}); decision threshold {params.get('threshold')}"
        if params.get("outcome")
        else "",
        "ModelType": str(facts.get("class") or ""),
        "InputDataSource": ", ".join(
            f"{d.get('name')} ({d.get('entity_id')})" for d in facts.get("training_data") or []
        ),
        "OutputAndInputDataTypes": f"Inputs: {features}" if features else "",
        "DevelopmentDataCharacterization": ev.training_text(evidence),
        "BiasMitigationApproaches": protocol.get("fairness_approach", ""),
        "OngoingMaintenance": _joined(
            protocol.get("monitoring", ""),
            f"Pre-specified modifications: {modifications}" if modifications else "",
        ),
    }


def _pick(
    evidence: dict[str, Any], auto: str, key: str | None = None, partial: bool = False
) -> tuple[str, str]:
    """(text, status): the evidence's text, the user's answer, both, or Not stated."""
    given = ev.answer(evidence, "model_card", key) if key else ""
    if auto and given:
        return f"{auto}\n\n{given}", "partial" if partial else "automatic"
    if auto:
        return auto, "automatic"
    if given:
        return given, "manual"
    return ev.NOT_STATED, "missing"


#: card element -> the model_card answer that fills it when the evidence cannot
MANUAL = {
    "ModelDeveloper": "developer",
    "DeveloperContact": "contact",
    "GlobalAvailability": "global_availability",
    "PrimaryIntendedUsers": "primary_users",
    "TargetedPatientPopulation": "target_population",
    "CautionedOutOfScopeSettings": "out_of_scope",
    "Security": "security",
    "FundingSource": "funding",
    "StakeholdersConsulted": "stakeholders",
    "PeerReviewedPublications": "publications",
    "PatientConsentOrDisclosure": "patient_consent",
}


def _fields(evidence: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """element name -> (text, status) for the text fields of the card."""
    model, version = evidence.get("model") or {}, ev.version(evidence)
    protocol, params = ev.protocol(evidence), ev.parameters(evidence)
    registered = (version.get("registered") or {}).get("ts", "")
    risks, biases = _warnings_text(evidence)
    auto = {
        "ModelName": model.get("name", ""),
        "ReleaseDate": (version.get("approval") or {}).get("ts") or registered,
        "ReleaseVersion": f"v{version.get('version')} ({version.get('entity_id', '')})",
        "Summary": _joined(model.get("description", ""), protocol.get("intended_use", "")),
        "HowToUse": params.get("context_of_use", ""),
        "KnownBiasesOrEthicalConsiderations": biases,
        "ClinicalRiskLevel": _risk(evidence),
        "EvaluationReferences": ", ".join(ev.package_ref(evidence)),
        **_system_text(evidence),
    }
    fields = {name: _pick(evidence, text) for name, text in auto.items()}
    fields.update({name: _pick(evidence, "", key) for name, key in MANUAL.items()})
    fields["ReleaseStage"] = _pick(
        evidence, f"cmlops registry status: {version.get('status', '')}", "release_stage"
    )
    fields["IntendedUseAndWorkflow"] = _pick(
        evidence, protocol.get("intended_use", ""), "primary_users", True
    )
    fields["KnownRisksAndLimitations"] = _pick(evidence, risks, "risks_and_limitations", True)
    return fields


def _metric_block(
    evidence: dict[str, Any], keys: list[tuple[str, str]], goal: str, interpretation: str
) -> dict[str, Any]:
    values = ev.metrics(evidence)
    results = [(label, ev.value_json(values, key)) for label, key in keys if key in values]
    return {
        "MetricGoal": goal or ev.NOT_STATED,
        "Results": results or [("not evaluated", '{"kind": "single", "value": null}')],
        "Interpretation": interpretation or ev.NOT_STATED,
        "TestType": "Retrospective validation on held-out data (cmlops model_validation)"
        if values
        else ev.NOT_STATED,
        "TestingDataDescription": ", ".join(
            f"{f.get('name')}: {f.get('schema', {}).get('rows')} rows ({f.get('fingerprint')})"
            for f in ev.validation(evidence).get("frames") or []
        )
        or ev.NOT_STATED,
        "ValidationProcessAndJustification": ev.criteria_text(evidence) or ev.NOT_STATED,
    }


def _key_metrics(evidence: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values = ev.metrics(evidence)
    protocol = ev.protocol(evidence)
    sensitive = protocol.get("sensitive_attributes") or []
    fair_keys = [
        (k, k)
        for k in sorted(values)
        if k.startswith("auroc[")
        and k.split("[", 1)[1].split("=", 1)[0] in sensitive
        and "_ci_" not in k
    ]
    return {
        "UsefulnessUsabilityEfficacy": _metric_block(
            evidence,
            [("AUROC", "auroc"), ("AUPRC", "auprc"), ("Net benefit", "net_benefit")],
            ev.criteria_text(evidence),
            f"Acceptance verdict: "
            f"{(ev.validation(evidence).get('results') or {}).get('verdict', '—')}",
        ),
        "FairnessEquity": _metric_block(
            evidence,
            fair_keys,
            protocol.get("fairness_approach", ""),
            "AUROC per declared sensitive attribute group",
        ),
        "SafetyReliability": _metric_block(
            evidence,
            [
                ("Calibration slope", "calibration_slope"),
                ("Calibration intercept", "calibration_intercept"),
                ("Observed/expected", "oe_ratio"),
                ("Brier score", "brier"),
                ("Shared subjects (train/test)", "independence_shared_subjects"),
            ],
            "Calibrated risks; training and test subjects independent",
            "Calibration and independence of the validation data",
        ),
    }


#: the card's element tree in v0.2 order: (element, children) or a text field's name
LAYOUT: list[Any] = [
    ("BasicInfo", ["ModelName", "ModelDeveloper", "DeveloperContact"]),
    ("ReleaseInfo", ["ReleaseStage", "ReleaseDate", "ReleaseVersion", "GlobalAvailability"]),
    ("ModelSummary", ["Summary", ("Keywords", "*keywords")]),
    (
        "UsesAndDirections",
        [
            "IntendedUseAndWorkflow",
            "PrimaryIntendedUsers",
            "HowToUse",
            "TargetedPatientPopulation",
            "CautionedOutOfScopeSettings",
        ],
    ),
    (
        "Warnings",
        ["KnownRisksAndLimitations", "KnownBiasesOrEthicalConsiderations", "ClinicalRiskLevel"],
    ),
    (
        "TrustIngredients",
        [
            (
                "AISystemFacts",
                [
                    "OutcomesAndOutputs",
                    "ModelType",
                    "InputDataSource",
                    "OutputAndInputDataTypes",
                    "DevelopmentDataCharacterization",
                    "BiasMitigationApproaches",
                    "OngoingMaintenance",
                    "Security",
                ],
            ),
            ("TransparencyInformation", ["FundingSource", "StakeholdersConsulted"]),
        ],
    ),
    ("KeyMetrics", "*metrics"),
    (
        "Resources",
        ["EvaluationReferences", "PeerReviewedPublications", "PatientConsentOrDisclosure"],
    ),
    ("Bibliography", "*empty"),
]
METRIC_TEXTS = (
    "Interpretation",
    "TestType",
    "TestingDataDescription",
    "ValidationProcessAndJustification",
)


def _add(parent: Any, name: str, text: str | None = None) -> Any:
    from lxml import etree

    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if text is not None:
        element.text = text
    return element


def _metrics_xml(parent: Any, evidence: dict[str, Any]) -> None:
    for name, block in _key_metrics(evidence).items():
        element = _add(parent, name)
        _add(element, "MetricGoal", block["MetricGoal"])
        results = _add(element, "Results")
        for label, value in block["Results"]:
            result = _add(results, "MetricResult")
            _add(result, "Label", label)
            _add(result, "ValueJson", value)
        for child in METRIC_TEXTS:
            _add(element, child, block[child])


def _build(parent: Any, spec: Any, fields: dict[str, str], evidence: dict[str, Any]) -> None:
    if isinstance(spec, str):
        _add(parent, spec, fields[spec])
        return
    name, children = spec
    element = _add(parent, name)
    if children == "*keywords":
        for word in ("clinical prediction model", "cmlops"):
            _add(element, "Keyword", word)
    elif children == "*metrics":
        _metrics_xml(element, evidence)
    elif children == "*empty":
        element.text = ""
    else:
        for child in children:
            _build(element, child, fields, evidence)


def card_xml(evidence: dict[str, Any]) -> bytes:
    """The card as XML in the v0.2 namespace (element order of the v0.2 structure)."""
    from lxml import etree

    fields = {k: v for k, (v, _s) in _fields(evidence).items()}
    root = etree.Element(f"{{{NAMESPACE}}}AppliedModelCard", nsmap={None: NAMESPACE})
    for spec in LAYOUT:
        _build(root, spec, fields, evidence)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def schema_errors(xml: bytes) -> list[str]:
    """Problems of ``xml`` against the v0.2 structure (empty when valid)."""
    from lxml import etree

    source = resources.files("cmlops.lifecycle.documents").joinpath(XSD).read_bytes()
    schema = etree.XMLSchema(etree.fromstring(source))
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    document = etree.fromstring(xml, parser)
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def build_model_card(evidence: dict[str, Any]) -> Document:
    fields = _fields(evidence)
    sections = [
        Section(
            id=name,
            title=name,
            status=status,
            text=text,
            evidence=ev.package_ref(evidence) if status != "missing" else [],
        )
        for name, (text, status) in fields.items()
    ]
    for name, block in _key_metrics(evidence).items():
        text = "\n\n".join(
            [
                block["MetricGoal"],
                "; ".join(f"{label}: {value}" for label, value in block["Results"]),
            ]
        )
        status = "automatic" if ev.metrics(evidence) else "missing"
        sections.append(
            Section(
                id=f"KeyMetrics/{name}",
                title=name,
                status=status,
                text=text,
                evidence=ev.package_ref(evidence),
            )
        )
    xml = card_xml(evidence)
    errors = schema_errors(xml)
    model = evidence.get("model") or {}
    return Document(
        kind="model-card",
        title="Applied Model Card (CHAI schema v0.2)",
        subject=f"{model.get('name')} v{ev.version(evidence).get('version')}",
        preface="Compiled by cmlops from the lineage, the change protocol and the validation "
        "package; fields no evidence fills come from the user's answers or are listed as "
        "missing. The XML (model_card.xml) is checked against the v0.2 element structure.",
        sections=sections,
        files={"model_card.xml": xml},
        extra={"metrics": {"xsd_valid": 0 if errors else 1}, "xsd_errors": errors},
    )
