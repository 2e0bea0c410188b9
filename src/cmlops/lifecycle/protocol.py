"""Change protocols (PCCP-style): what may change in a model without a full validation.

A protocol is a YAML or JSON file per model, written before the changes it
allows::

    protocol_id: flchain-mortality-pccp
    model: flchain-mortality
    intended_use: Risk stratification ...
    sensitive_attributes: [sex, age_band]          # [] is allowed, with an approach
    fairness_approach: AUROC per sex and age band, each >= 0.65
    monitoring: quarterly drift and AUROC review   # optional
    full_validation:
      template: model_validation
      plan: plans/full.yaml                        # path (relative to this file) or mapping
      subgroups: [sex, age_band]
    modifications:
      - id: retrain-same-population
        description: re-training on new data of the same population
        model_class: same                          # default: same
        hyperparameters: same                      # or {may_change: [C, max_iter]}
        features: same                             # training data columns and types
        revalidation:
          template: model_validation
          plan: plans/revalidation.yaml
          subgroups: [sex, age_band]

Plans are loaded and embedded, so the recorded protocol is self-contained; its
identity is the SHA-256 of its RFC 8785 form. Like a plan it is recorded in the
audit log (``model.protocol.recorded``) and never changed silently: a different
protocol for the same model is recorded as a revision, with its reason.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cmlops.lifecycle.errors import ProtocolError

TOP_KEYS = {
    "protocol_id",
    "model",
    "intended_use",
    "sensitive_attributes",
    "fairness_approach",
    "monitoring",
    "full_validation",
    "modifications",
    "description",
}
MOD_KEYS = {"id", "description", "model_class", "hyperparameters", "features", "revalidation"}
VALIDATION_KEYS = {"template", "plan", "subgroups"}


def _read(path: Path) -> tuple[Any, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProtocolError(f"cannot read change protocol {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(raw), raw
        import yaml

        return yaml.safe_load(raw), raw
    except Exception as exc:  # noqa: BLE001 - YAML and JSON errors alike become one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProtocolError(f"change protocol {path} does not parse: {first}") from None


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ProtocolError(f"{where} must be a list of column names")
    return list(value)


def _validation(spec: Any, where: str, base: Path | None) -> dict[str, Any]:
    from cmlops.reports.plan import check_plan, load_plan

    if not isinstance(spec, dict):
        raise ProtocolError(f"{where} must be a mapping with template, plan and subgroups")
    unknown = set(spec) - VALIDATION_KEYS
    if unknown:
        raise ProtocolError(
            f"{where} has unknown keys {sorted(unknown)}: use {sorted(VALIDATION_KEYS)}"
        )
    template = spec.get("template")
    if not isinstance(template, str) or not template:
        raise ProtocolError(f"{where} needs a template name (e.g. model_validation)")
    plan = spec.get("plan")
    if isinstance(plan, str):
        plan_path = Path(plan) if base is None or Path(plan).is_absolute() else base / plan
        plan, _raw = load_plan(plan_path)
    elif isinstance(plan, dict):
        plan = check_plan(json.loads(json.dumps(plan)), f"{where}.plan")
    else:
        raise ProtocolError(f"{where} needs a plan (a file path or the criteria themselves)")
    return {
        "template": template,
        "plan": plan,
        "plan_sha256": plan_sha256(plan),
        "subgroups": _strings(spec.get("subgroups", []), f"{where}.subgroups"),
    }


def plan_sha256(plan: dict[str, Any]) -> str:
    """The identity of a plan exactly as the report runner computes it."""
    from cmlops.store.chain import canonical_json

    return hashlib.sha256(canonical_json(plan)).hexdigest()


def _modification(spec: Any, index: int, base: Path | None) -> dict[str, Any]:
    where = f"modifications[{index}]"
    if not isinstance(spec, dict):
        raise ProtocolError(f"{where} must be a mapping")
    unknown = set(spec) - MOD_KEYS
    if unknown:
        raise ProtocolError(f"{where} has unknown keys {sorted(unknown)}: use {sorted(MOD_KEYS)}")
    if not isinstance(spec.get("id"), str) or not spec["id"]:
        raise ProtocolError(f"{where} needs an id")
    params = spec.get("hyperparameters", "same")
    if params != "same" and not (isinstance(params, dict) and set(params) == {"may_change"}):
        raise ProtocolError(f"{where}.hyperparameters is 'same' or {{may_change: [names]}}")
    if isinstance(params, dict):
        _strings(params["may_change"], f"{where}.hyperparameters.may_change")
    for key in ("model_class", "features"):
        if spec.get(key, "same") != "same":
            raise ProtocolError(
                f"{where}.{key} must be 'same' (other changes need full validation)"
            )
    return {
        "id": spec["id"],
        "description": str(spec.get("description", "")),
        "model_class": "same",
        "hyperparameters": params,
        "features": "same",
        "revalidation": _validation(spec.get("revalidation"), f"{where}.revalidation", base),
    }


def check_protocol(doc: Any, model: str, base: Path | None = None) -> dict[str, Any]:
    """The protocol in its recorded (self-contained, checked) form; one-line errors."""
    if not isinstance(doc, dict):
        raise ProtocolError("a change protocol is a mapping (protocol_id, model, ...)")
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise ProtocolError(f"change protocol has unknown keys {sorted(unknown)}")
    for key in ("protocol_id", "model", "fairness_approach"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise ProtocolError(f"change protocol needs {key!r} (text)")
    if doc["model"] != model:
        raise ProtocolError(f"change protocol is for model {doc['model']!r}, not {model!r}")
    if "sensitive_attributes" not in doc:
        raise ProtocolError(
            "change protocol needs 'sensitive_attributes' (a list, [] when none, with the "
            "fairness_approach saying why)"
        )
    modifications = doc.get("modifications", [])
    if not isinstance(modifications, list):
        raise ProtocolError("'modifications' must be a list")
    mods = [_modification(m, i, base) for i, m in enumerate(modifications)]
    if len({m["id"] for m in mods}) != len(mods):
        raise ProtocolError("two modifications share an id")
    return {
        "protocol_id": doc["protocol_id"],
        "model": model,
        "description": str(doc.get("description", "")),
        "intended_use": str(doc.get("intended_use", "")),
        "sensitive_attributes": _strings(doc["sensitive_attributes"], "sensitive_attributes"),
        "fairness_approach": doc["fairness_approach"].strip(),
        "monitoring": str(doc.get("monitoring", "")),
        "full_validation": _validation(doc.get("full_validation"), "full_validation", base),
        "modifications": mods,
    }


def load_protocol(path: str | Path, model: str) -> tuple[dict[str, Any], str, str]:
    """(checked protocol, its canonical SHA-256, the raw file's SHA-256)."""
    path = Path(path)
    doc, raw = _read(path)
    protocol = check_protocol(doc, model, path.parent)
    return protocol, plan_sha256(protocol), hashlib.sha256(raw).hexdigest()


def _differences(previous: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    params_a, params_b = previous.get("params") or {}, new.get("params") or {}
    changed = sorted(k for k in set(params_a) | set(params_b) if params_a.get(k) != params_b.get(k))
    return {
        "model_class": None
        if previous.get("class") == new.get("class")
        else {"previous": previous.get("class"), "new": new.get("class")},
        "hyperparameters": changed,
        "features": None
        if previous.get("features") == new.get("features")
        else {"previous": previous.get("features"), "new": new.get("features")},
        "training_data": sorted(previous.get("training_ids") or [])
        != sorted(new.get("training_ids") or []),
    }


def _violations(mod: dict[str, Any], diff: dict[str, Any]) -> list[str]:
    out = []
    if diff["model_class"]:
        was, now = diff["model_class"]["previous"], diff["model_class"]["new"]
        out.append(f"model class changed ({was} -> {now})")
    allowed = (
        mod["hyperparameters"]["may_change"] if isinstance(mod["hyperparameters"], dict) else []
    )
    extra = [p for p in diff["hyperparameters"] if p not in allowed]
    if extra:
        out.append(f"hyper-parameters changed: {', '.join(extra)}")
    if diff["features"]:
        out.append("training data columns or types changed")
    return out


def classify_change(
    previous: dict[str, Any] | None, new: dict[str, Any], protocol: dict[str, Any] | None
) -> dict[str, Any]:
    """Classify a new version against the protocol: initial, in scope (which modification) or out.

    ``previous``/``new`` are version facts (class, params, features, training ids).
    """
    if previous is None:
        return {"scope": "initial", "modification": None, "reasons": [], "differences": {}}
    diff = _differences(previous, new)
    if protocol is None:
        return {
            "scope": "out",
            "modification": None,
            "reasons": ["no change protocol is recorded for this model"],
            "differences": diff,
        }
    reasons = []
    for mod in protocol["modifications"]:
        found = _violations(mod, diff)
        if not found:
            return {"scope": "in", "modification": mod["id"], "reasons": [], "differences": diff}
        reasons.append(f"not {mod['id']}: {'; '.join(found)}")
    if not protocol["modifications"]:
        reasons.append("the protocol pre-specifies no modification")
    return {"scope": "out", "modification": None, "reasons": reasons, "differences": diff}
