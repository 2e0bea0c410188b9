"""The life-cycle story on real clinical data (flchain, shipped by scikit-survival).

Built once per test module (report runs are the expensive part) and read by the
tests: v1 trained on part of the 1995–96 development period, v2 re-trained on
all of it (a pre-specified modification), v3 a different estimator (outside the
protocol); validation on the 1997–2003 samples, scored by each version inside
tracked blocks so the lineage links every scored file to its model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FULL_PLAN = {
    "plan_id": "flchain-full-validation",
    "criteria": [
        {"id": "discrimination", "metric": "auroc", "op": ">=", "threshold": 0.70},
        {"id": "auroc-lower", "metric": "auroc_ci_low", "op": ">=", "threshold": 0.65},
        {"id": "slope-low", "metric": "calibration_slope", "op": ">=", "threshold": 0.7},
        {"id": "slope-high", "metric": "calibration_slope", "op": "<=", "threshold": 1.3},
        {
            "id": "auroc-women",
            "metric": "auroc",
            "subgroup": "sex=F",
            "op": ">=",
            "threshold": 0.65,
        },
        {"id": "auroc-men", "metric": "auroc", "subgroup": "sex=M", "op": ">=", "threshold": 0.65},
    ],
}
REVALIDATION_PLAN = {
    "plan_id": "flchain-retrain-revalidation",
    "criteria": [
        {"id": "discrimination", "metric": "auroc", "op": ">=", "threshold": 0.70},
        {
            "id": "auroc-women",
            "metric": "auroc",
            "subgroup": "sex=F",
            "op": ">=",
            "threshold": 0.65,
        },
        {"id": "auroc-men", "metric": "auroc", "subgroup": "sex=M", "op": ">=", "threshold": 0.65},
    ],
}
PROTOCOL = {
    "protocol_id": "flchain-mortality-pccp",
    "model": "flchain-mortality",
    "intended_use": "Risk stratification of 5-year mortality for enrichment of a long-term "
    "outcome study; supports, never replaces, clinical review",
    "sensitive_attributes": ["sex", "age_band"],
    "fairness_approach": "AUROC reported per sex and age band; each sex at least 0.65",
    "monitoring": "Yearly drift and AUROC review on new samples",
    "full_validation": {
        "template": "model_validation",
        "plan": "plans/full.yaml",
        "subgroups": ["sex", "age_band"],
    },
    "modifications": [
        {
            "id": "retrain-same-population",
            "description": "Re-training on new development data of the same population, same "
            "features, same estimator and hyper-parameters",
            "model_class": "same",
            "hyperparameters": "same",
            "features": "same",
            "revalidation": {
                "template": "model_validation",
                "plan": "plans/revalidation.yaml",
                "subgroups": ["sex", "age_band"],
            },
        }
    ],
}
NAME = "flchain-mortality"


@dataclass
class Story:
    root: Path
    home: Path
    protocol: Path
    models: dict[str, Any] = field(default_factory=dict)
    entities: dict[str, str] = field(default_factory=dict)
    scored: dict[str, Path] = field(default_factory=dict)
    packages: dict[str, Path] = field(default_factory=dict)


def write_protocol(root: Path) -> Path:
    (root / "plans").mkdir(parents=True, exist_ok=True)
    (root / "plans" / "full.yaml").write_text(yaml.safe_dump(FULL_PLAN))
    (root / "plans" / "revalidation.yaml").write_text(yaml.safe_dump(REVALIDATION_PLAN))
    path = root / "protocol.yaml"
    path.write_text(yaml.safe_dump(PROTOCOL, sort_keys=False))
    return path


def fit_other(development: Any) -> Any:
    """An estimator outside the protocol: gradient boosting instead of logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from cmlops.reports.demo import FEATURES

    prep = ColumnTransformer(
        [("cat", OneHotEncoder(drop="if_binary"), ["sex", "mgus"])], remainder="passthrough"
    )
    model = make_pipeline(prep, HistGradientBoostingClassifier(max_iter=60, random_state=0))
    return model.fit(development[FEATURES], development["outcome"])


def train_and_score(story: Story, store: Any) -> None:
    """Fit v1, v2, v3 and score the validation period, each step tracked."""
    import cmlops
    from cmlops.reports.demo import FEATURES, fit_model, flchain_frames

    development, validation = flchain_frames()
    early = development.sample(frac=0.6, random_state=1).reset_index(drop=True)
    fits = {
        "v1": (early, fit_model),
        "v2": (development, fit_model),
        "v3": (development, fit_other),
    }
    ns: dict[str, Any] = {}
    for label, (data, fit) in fits.items():
        with cmlops.track(f"train {label}", store=store, namespace=ns):
            cmlops.log_dataset(data, f"development data ({label})", role="input", store=store)
            ns[f"model_{label}"] = fit(data)
        model = ns[f"model_{label}"]
        story.models[label] = model
        story.entities[label] = cmlops.fingerprint(model)
        path = story.root / f"validation_scored_{label}.csv"
        with cmlops.track(f"score {label}", store=store, namespace={}):
            cmlops.log_model(model, f"model {label}", role="input", store=store)
            scored = validation.assign(score=model.predict_proba(validation[FEATURES])[:, 1])
            scored.to_csv(path, index=False)
        story.scored[label] = path
    both = validation.assign(
        score_v1=story.models["v1"].predict_proba(validation[FEATURES])[:, 1],
        score_v2=story.models["v2"].predict_proba(validation[FEATURES])[:, 1],
    )
    with cmlops.track("score v1 and v2 for the impact assessment", store=store, namespace={}):
        cmlops.log_model(story.models["v1"], "model v1", role="input", store=store)
        cmlops.log_model(story.models["v2"], "model v2", role="input", store=store)
        both.to_csv(story.root / "validation_scored_v1_v2.csv", index=False)
    story.scored["impact"] = story.root / "validation_scored_v1_v2.csv"


def validate(story: Story, store: Any, label: str, plan: dict[str, Any], key: str) -> Path:
    from cmlops.reports.runner import run_report

    plan_path = story.root / f"plan-{key}.json"
    plan_path.write_text(json.dumps(plan))
    run = run_report(
        "model_validation",
        {
            "data": str(story.scored[label]),
            "outcome": "outcome",
            "score": "score",
            "threshold": 0.2,
            "subgroups": ["sex", "age_band"],
            "model_name": f"{NAME} {label}",
        },
        plan=plan_path,
        out=story.root / f"package-{key}",
        store=store,
        progress=False,
    )
    assert run.status == "EXECUTED", run.error
    story.packages[key] = run.package
    return run.package


@contextmanager
def as_hub_user(user: str) -> Iterator[None]:
    """Act as JupyterHub user ``user`` (the store's actor without a database role)."""
    before = os.environ.get("JUPYTERHUB_USER")
    os.environ["JUPYTERHUB_USER"] = user
    try:
        yield
    finally:
        if before is None:
            del os.environ["JUPYTERHUB_USER"]
        else:
            os.environ["JUPYTERHUB_USER"] = before


def sign(store_home: Path, package: Path, user: str, meaning: str, keys: Path) -> None:
    """Sign as ``user`` (a key per user, generated on first use)."""
    import cmlops
    from cmlops.store import open_store
    from tests.trust.roles import ensure_role, role_for

    key = keys / f"{user}.json"
    with as_hub_user(user), open_store(home=store_home) as store:
        if not key.exists():
            cmlops.generate_keys(
                user, "correct horse battery", name=user.title(), path=key, store=store
            )
    ensure_role(store_home, keys, user, role_for(meaning))
    with as_hub_user(user), open_store(home=store_home) as store:
        cmlops.sign_package(
            package,
            meaning=meaning,
            name=user.title(),
            passphrase="correct horse battery",
            key_path=key,
            store=store,
        )
