"""TRIPOD+AI checklist (Collins et al., BMJ 2024;385:e078378): 27 items, 52 sub-items.

Each sub-item is marked by how it can be filled — ``automatic`` (the evidence
graph answers it), ``partial`` (evidence plus a human sentence) or ``manual`` —
and after compilation by its status, with the evidence it cites. Manual answers
come from the ``tripod`` section of the answers YAML, keyed by item id ("3a");
an unknown id is refused before anything runs. The requirement texts are short
paraphrases, not the checklist's wording: read the checklist itself when writing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cmlops.lifecycle.documents import evidence_text as ev
from cmlops.lifecycle.documents.base import Document, Section

Filler = Callable[[dict[str, Any]], tuple[str, list[str]]]

#: (group, topic) -> its sub-items (id, requirement paraphrase, mode), in checklist order
CHECKLIST: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    ("Title", "Title"): (
        (
            "1",
            "Study of developing or evaluating a prediction model; population; outcome",
            "manual",
        ),
    ),
    ("Abstract", "Abstract"): (("2", "Structured summary (TRIPOD+AI for Abstracts)", "manual"),),
    ("Introduction", "Background"): (
        ("3a", "Healthcare context, rationale, existing models", "manual"),
        (
            "3b",
            "Target population, intended purpose in the care pathway, intended users",
            "partial",
        ),
        ("3c", "Known health inequalities between groups", "manual"),
    ),
    ("Introduction", "Objectives"): (
        ("4", "Objectives: development and/or evaluation", "partial"),
    ),
    ("Methods", "Data"): (
        ("5a", "Sources of data for development and evaluation; representativeness", "automatic"),
        ("5b", "Dates of data collection and follow-up", "manual"),
    ),
    ("Methods", "Participants"): (
        ("6a", "Study setting, number and location of centres", "manual"),
        ("6b", "Eligibility criteria", "manual"),
        ("6c", "Treatments received", "manual"),
    ),
    ("Methods", "Data preparation"): (("7", "Pre-processing and data quality checks", "partial"),),
    ("Methods", "Outcome"): (
        ("8a", "Outcome definition, time horizon, how assessed", "partial"),
        ("8b", "Qualifications of outcome assessors", "manual"),
        ("8c", "Blinding of outcome assessment", "manual"),
    ),
    ("Methods", "Predictors"): (
        ("9a", "Choice of candidate predictors", "partial"),
        ("9b", "Definition of predictors, how and when measured", "manual"),
        ("9c", "Qualifications of predictor assessors, blinding", "manual"),
    ),
    ("Methods", "Sample size"): (("10", "Study size and its justification", "partial"),),
    ("Methods", "Missing data"): (("11", "Handling of missing data", "partial"),),
    ("Methods", "Analytical methods"): (
        ("12a", "How the data were used (development, tuning, evaluation)", "automatic"),
        ("12b", "Handling of predictors (functional form, scaling)", "partial"),
        ("12c", "Model type, building steps, hyper-parameters, internal validation", "automatic"),
        ("12d", "Heterogeneity across clusters (centres, countries)", "manual"),
        ("12e", "Performance measures and their rationale", "automatic"),
        ("12f", "Model updating arising from evaluation", "automatic"),
        ("12g", "How predictions were calculated for evaluation", "automatic"),
    ),
    ("Methods", "Class imbalance"): (
        ("13", "Methods for class imbalance and rationale", "manual"),
    ),
    ("Methods", "Fairness"): (
        ("14", "Approaches to address fairness and their rationale", "automatic"),
    ),
    ("Methods", "Model output"): (
        ("15", "Model output, thresholds and their rationale", "automatic"),
    ),
    ("Methods", "Training versus evaluation"): (
        ("16", "Differences between development and evaluation data", "partial"),
    ),
    ("Methods", "Ethical approval"): (("17", "Ethics approval and consent", "manual"),),
    ("Open science", "Funding"): (("18a", "Sources of funding and role of funders", "manual"),),
    ("Open science", "Conflicts of interest"): (
        ("18b", "Declarations of conflicts of interest", "manual"),
    ),
    ("Open science", "Protocol"): (
        ("18c", "Where the study protocol can be accessed", "automatic"),
    ),
    ("Open science", "Registration"): (("18d", "Study registration", "manual"),),
    ("Open science", "Data sharing"): (("18e", "Availability of data", "manual"),),
    ("Open science", "Code sharing"): (("18f", "Availability of analytical code", "partial"),),
    ("Patient and public involvement", "Patient and public involvement"): (
        ("19", "Involvement of patients and the public", "manual"),
    ),
    ("Results", "Participants"): (
        ("20a", "Flow of participants, numbers with and without the outcome", "partial"),
        ("20b", "Characteristics overall and by group, missing data", "partial"),
        ("20c", "Evaluation data compared with development data", "automatic"),
    ),
    ("Results", "Model development"): (
        ("21", "Number of participants and outcome events in each analysis", "automatic"),
    ),
    ("Results", "Model specification"): (
        ("22", "Full model to allow predictions for new individuals", "partial"),
    ),
    ("Results", "Model performance"): (
        ("23a", "Performance with confidence intervals, including key subgroups", "automatic"),
        ("23b", "Heterogeneity of performance across clusters", "manual"),
    ),
    ("Results", "Model updating"): (
        ("24", "Results of model updating, updated model's performance", "automatic"),
    ),
    ("Discussion", "Interpretation"): (
        ("25", "Overall interpretation, including fairness", "manual"),
    ),
    ("Discussion", "Limitations"): (
        ("26", "Limitations and their effect on bias and generalisability", "partial"),
    ),
    ("Discussion", "Usability"): (
        ("27a", "Handling poor quality or unavailable input data in use", "manual"),
        ("27b", "User interaction and expertise needed", "manual"),
        ("27c", "Next steps and generalisability", "manual"),
    ),
}
#: (id, group, topic, requirement paraphrase, mode) of every sub-item, in checklist order
ITEMS: list[tuple[str, str, str, str, str]] = [
    (item_id, group, topic, requirement, mode)
    for (group, topic), sub_items in CHECKLIST.items()
    for item_id, requirement, mode in sub_items
]
ITEM_IDS = tuple(item[0] for item in ITEMS)


def _data_sources(e: dict[str, Any]) -> tuple[str, list[str]]:
    facts, pkg = ev.facts(e), ev.validation(e)
    dev = "; ".join(f"{d['name']} ({d['entity_id']})" for d in facts.get("training_data") or [])
    val = "; ".join(
        f"{i['path'].rsplit('/', 1)[-1]} (sha256:{i['sha256']})" for i in pkg.get("inputs") or []
    )
    text = "\n\n".join(
        x for x in (f"Development: {dev}" if dev else "", f"Evaluation: {val}" if val else "") if x
    )
    refs = [f"entity {d['entity_id']}" for d in facts.get("training_data") or []]
    return text, refs + ev.package_ref(e)


def _data_use(e: dict[str, Any]) -> tuple[str, list[str]]:
    text, refs = _data_sources(e)
    independence = [r for r in e.get("independence") or []]
    shared = ev.metrics(e).get("independence_shared_subjects")
    extra = []
    if shared is not None:
        extra.append(f"Subjects shared between development and evaluation data: {shared}")
    for result in independence:
        extra.append(
            f"Independence check {result.get('entity_id')}: {result.get('shared_subjects')} "
            f"shared subjects, {result.get('duplicate_rows')} duplicate rows"
        )
    return "\n\n".join([text, *extra]).strip(), refs


def _model(e: dict[str, Any]) -> tuple[str, list[str]]:
    facts = ev.facts(e)
    if not facts.get("class"):
        return "", []
    params = ", ".join(f"{k}={v}" for k, v in sorted((facts.get("params") or {}).items()))
    code = "; ".join(
        f"{c['name'] or c['activity_id']} ({c['code_hash']})" for c in facts.get("code") or []
    )
    return (
        f"{facts['class']} with {params}. Built by: {code or 'unknown code'}",
        [f"entity {facts.get('entity_id')}"]
        + [f"activity {c['activity_id']}" for c in facts.get("code") or []],
    )


def _measures(e: dict[str, Any]) -> tuple[str, list[str]]:
    text, plan = ev.criteria_text(e), ev.validation(e).get("plan", {}).get("plan_id", "")
    return (f"Pre-specified criteria (plan {plan}): {text}" if text else "", ev.package_ref(e))


def _updating(e: dict[str, Any]) -> tuple[str, list[str]]:
    versions = (e.get("model") or {}).get("versions") or []
    lines = [
        f"v{v['version']}: {v['status']}, change {v.get('change', {}).get('scope')}"
        + (
            f" ({v['change'].get('modification')})"
            if v.get("change", {}).get("modification")
            else ""
        )
        for v in versions
    ]
    impact = [
        f"impact of v{i.get('version')} vs v{i.get('previous_version')}: "
        f"package {i.get('package_id')}"
        for v in versions
        for i in v.get("impact") or []
    ]
    return "\n\n".join(["; ".join(lines), *impact]).strip(), [
        f"model {(e.get('model') or {}).get('name')}"
    ]


def _predictions(e: dict[str, Any]) -> tuple[str, list[str]]:
    facts, pkg = ev.facts(e), ev.validation(e)
    if not pkg:
        return "", []
    data = next((i for i in pkg.get("inputs") or [] if i.get("parameter") == "data"), None)
    return (
        f"Predictions of model entity {facts.get('entity_id')} written to "
        f"{data['path'].rsplit('/', 1)[-1] if data else 'the validation data'}, which descend "
        "from that model in the recorded lineage",
        ev.package_ref(e),
    )


def _fairness(e: dict[str, Any]) -> tuple[str, list[str]]:
    protocol = ev.protocol(e)
    if "sensitive_attributes" not in protocol:
        return "", []
    rows = "; ".join(
        f"{a}={lvl}: AUROC {v}"
        for a, lvl, v in ev.subgroup_rows(e)
        if a in protocol["sensitive_attributes"]
    )
    text = (
        f"Declared sensitive attributes: {', '.join(protocol['sensitive_attributes']) or 'none'}. "
        f"Approach: {protocol.get('fairness_approach')}."
        + (f" Per-group results: {rows}." if rows else "")
    )
    return text, [f"protocol {e.get('protocol', {}).get('sha256', '')}", *ev.package_ref(e)]


def _output(e: dict[str, Any]) -> tuple[str, list[str]]:
    params = ev.parameters(e)
    if not params:
        return "", []
    return (
        f"Predicted probability ({params.get('score')}) of {params.get('outcome')}; "
        f"pre-specified decision threshold {params.get('threshold')}",
        ev.package_ref(e),
    )


def _evaluation_vs_development(e: dict[str, Any]) -> tuple[str, list[str]]:
    values = ev.metrics(e)
    drifted = [
        k.split("[", 1)[1].rstrip("]")
        for k, v in values.items()
        if k.startswith("drift_drifted[") and v
    ]
    if "drift_n_tested" not in values:
        return "", []
    return (
        f"{values.get('drift_n_drifted')} of {values.get('drift_n_tested')} features drifted "
        f"between development and evaluation data" + (f": {', '.join(drifted)}" if drifted else ""),
        ev.package_ref(e),
    )


def _counts(e: dict[str, Any]) -> tuple[str, list[str]]:
    frames = ev.validation(e).get("frames") or []
    dev = "; ".join(
        f"{d['name']}: {d.get('rows')} rows" for d in ev.facts(e).get("training_data") or []
    )
    val = "; ".join(f"{f['name']}: {f.get('schema', {}).get('rows')} rows" for f in frames)
    values = ev.metrics(e)
    events = values.get("events") or values.get("n_events")
    text = "; ".join(
        x
        for x in (
            f"development {dev}" if dev else "",
            f"evaluation {val}" if val else "",
            f"events {events}" if events is not None else "",
        )
        if x
    )
    return text, ev.package_ref(e)


def _performance(e: dict[str, Any]) -> tuple[str, list[str]]:
    values = ev.metrics(e)
    if "auroc" not in values:
        return "", []
    subgroups = "; ".join(f"{a}={lvl}: {v}" for a, lvl, v in ev.subgroup_rows(e))
    return (
        f"AUROC {ev.with_ci(values, 'auroc')}; calibration slope "
        f"{ev.with_ci(values, 'calibration_slope')}; O/E {ev.with_ci(values, 'oe_ratio')}"
        + (f". Subgroups: {subgroups}" if subgroups else ""),
        ev.package_ref(e),
    )


def _protocol_ref(e: dict[str, Any]) -> tuple[str, list[str]]:
    pkg, protocol = ev.validation(e), e.get("protocol") or {}
    plan = pkg.get("plan") or {}
    parts = []
    if plan.get("sha256"):
        parts.append(
            f"acceptance plan {plan.get('plan_id')} (SHA-256 {plan['sha256']}) recorded "
            f"in the audit log at {plan.get('recorded_at')} before the run"
        )
    if protocol.get("sha256"):
        parts.append(
            f"change protocol {protocol.get('protocol_id')} (SHA-256 {protocol['sha256']})"
        )
    return "; ".join(parts), ev.package_ref(e)


def _simple(text_of: Callable[[dict[str, Any]], str]) -> Filler:
    return lambda e: (text_of(e), ev.package_ref(e))


FILLERS: dict[str, Filler] = {
    "3b": _simple(lambda e: ev.protocol(e).get("intended_use", "")),
    "4": _simple(lambda e: ev.parameters(e).get("question", "")),
    "5a": _data_sources,
    "7": _simple(lambda e: ev.training_text(e)),
    "8a": _simple(
        lambda e: f"Outcome column {ev.parameters(e)['outcome']}" if ev.parameters(e) else ""
    ),
    "9a": _simple(lambda e: ", ".join(n for n, _t in ev.facts(e).get("features") or [])),
    "10": _counts,
    "11": _simple(lambda e: ev.training_text(e)),
    "12a": _data_use,
    "12b": _model,
    "12c": _model,
    "12e": _measures,
    "12f": _updating,
    "12g": _predictions,
    "14": _fairness,
    "15": _output,
    "16": _evaluation_vs_development,
    "18c": _protocol_ref,
    "18f": _simple(
        lambda e: "; ".join(f"code {c['code_hash']}" for c in ev.facts(e).get("code") or [])
    ),
    "20a": _counts,
    "20b": _simple(lambda e: ev.training_text(e)),
    "20c": _evaluation_vs_development,
    "21": _counts,
    "22": _model,
    "23a": _performance,
    "24": _updating,
    "26": _simple(lambda e: "; ".join(ev.facts(e).get("gaps") or [])),
}


def _section(item: tuple[str, str, str, str, str], e: dict[str, Any]) -> Section:
    item_id, group, topic, requirement, mode = item
    auto, refs = FILLERS[item_id](e) if item_id in FILLERS else ("", [])
    manual = ev.answer(e, "tripod", item_id)
    if mode == "automatic":
        status = "automatic" if auto else ("manual" if manual else "missing")
    elif mode == "partial":
        status = "partial" if auto and manual else ("manual" if manual else "missing")
    else:
        status = "manual" if manual else "missing"
    text = "\n\n".join(x for x in (auto, manual) if x)
    return Section(
        id=item_id,
        title=topic,
        status=status,
        text=text,
        requirement=requirement,
        evidence=refs if auto else [],
        mode=mode,
        group=group,
    )


def build_tripod(evidence: dict[str, Any]) -> Document:
    sections = [_section(item, evidence) for item in ITEMS]
    model = evidence.get("model") or {}
    return Document(
        kind="tripod-ai",
        title="TRIPOD+AI checklist",
        subject=f"{model.get('name')} v{ev.version(evidence).get('version')}",
        preface="Each of the 27 TRIPOD+AI items (52 sub-items; Collins et al., BMJ "
        "2024;385:e078378) with how it can be filled (automatic, partial, manual), what the "
        "evidence graph says and the user's answers. A partial item needs both; anything "
        "still missing is listed first.",
        sections=sections,
    )
