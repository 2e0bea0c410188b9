"""The README's main job: a complete, verified audit package from real clinical data.

Data: the serum free light chain study (Kyle et al. 2006; Dispenzieri et al.
2012) as shipped by scikit-survival (``sksurv.datasets.load_flchain``): 7,874
residents of Olmsted County aged 50+, with age, sex, kappa and lambda free
light chains, creatinine, MGUS, the year the sample was taken, and death
during follow-up. No download happens: the data is inside the PyPI package.

The job: define 5-year mortality (subjects alive but followed for less than 5
years are excluded rather than counted as survivors), split *by period* —
development on samples from 1995–1996, temporal validation on 1997–2003 — fit
a logistic regression on the development period, write the scored data, write
a pre-specified acceptance plan, and run the ``model_validation`` template:
discrimination, calibration, subgroups (sex, age band) and a feature drift
check of the later period against the development one. The package is then
verified and its path returned.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FEATURES = ["age", "sex", "kappa", "lambda", "creatinine", "mgus", "flc_grp"]
FIVE_YEARS_DAYS = 5 * 365.25

PLAN = {
    "plan_id": "flchain-5y-mortality-temporal-validation-v1",
    "title": "Temporal validation of a 5-year mortality model (serum free light chain study)",
    "criteria": [
        {"id": "discrimination", "metric": "auroc", "op": ">=", "threshold": 0.70},
        {
            "id": "discrimination-lower-bound",
            "metric": "auroc_ci_low",
            "op": ">=",
            "threshold": 0.65,
        },
        {
            "id": "calibration-slope-low",
            "metric": "calibration_slope",
            "op": ">=",
            "threshold": 0.7,
        },
        {
            "id": "calibration-slope-high",
            "metric": "calibration_slope",
            "op": "<=",
            "threshold": 1.3,
        },
        {"id": "oe-ratio-low", "metric": "oe_ratio", "op": ">=", "threshold": 0.7},
        {"id": "oe-ratio-high", "metric": "oe_ratio", "op": "<=", "threshold": 1.3},
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


@dataclass
class DemoResult:
    package: Path
    zip: Path
    status: str
    verdict: str
    verified: bool
    data_dir: Path


def flchain_frames() -> tuple[Any, Any]:
    """Development (1995–1996) and validation (1997–2003) frames with a 5-year outcome."""
    import numpy as np
    import pandas as pd
    from sksurv.datasets import load_flchain

    x, y = load_flchain()
    frame = pd.DataFrame(
        {
            "age": x["age"].astype(float),
            "sex": x["sex"].astype(str),
            "kappa": x["kappa"].astype(float),
            "lambda": x["lambda"].astype(float),
            "creatinine": x["creatinine"].astype(float),
            "mgus": x["mgus"].astype(str),
            "flc_grp": x["flc.grp"].astype(int),
            "sample_yr": x["sample.yr"].astype(int),
        }
    )
    death, futime = y["death"], y["futime"]
    known = death & (futime <= FIVE_YEARS_DAYS) | (futime >= FIVE_YEARS_DAYS)
    frame["outcome"] = (death & (futime <= FIVE_YEARS_DAYS)).astype(int)
    frame = frame[np.asarray(known)].reset_index(drop=True)
    frame["age_band"] = pd.cut(
        frame["age"], [0, 60, 70, 80, 200], labels=["50-59", "60-69", "70-79", "80+"], right=False
    ).astype(str)
    development = frame[frame["sample_yr"] <= 1996].reset_index(drop=True)
    validation = frame[frame["sample_yr"] >= 1997].reset_index(drop=True)
    return development, validation


def fit_model(development: Any) -> Any:
    """Logistic regression with median imputation, scaling and one-hot encoding."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = ["age", "kappa", "lambda", "creatinine", "flc_grp"]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", OneHotEncoder(drop="if_binary", handle_unknown="ignore"), ["sex", "mgus"]),
        ]
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=1000))
    model.fit(development[FEATURES], development["outcome"])
    return model


def _record_training(store: Any, model: Any, files: dict[str, Path]) -> None:
    """Lineage of the training step: flchain -> model -> scored files."""
    from cmlops.fingerprinting import fingerprint
    from cmlops.reports.lineage import file_entity
    from cmlops.reports.manifest import sha256_file
    from cmlops.store.model import Activity, Entity, Generated, LineageBatch, Used

    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    model_fp = fingerprint(model)
    model_entity = Entity(
        id=model_fp,
        kind="model",
        name="flchain 5-year mortality LR",
        fingerprint=model_fp,
        attributes={"class": type(model).__name__},
    )
    source = Entity(
        id="dataset:sksurv.datasets.load_flchain",
        kind="dataset",
        name="flchain (scikit-survival)",
        location="sksurv.datasets.load_flchain",
    )
    outputs = [file_entity("dataset", p.name, sha256_file(p), str(p)) for p in files.values()]
    activity = Activity(
        id=f"demo:train-{uuid.uuid4()}",  # every run is a new event, even on the same data
        kind="script",
        name="cmlops demo: train",
        started=now,
        ended=now,
        status="ok",
    )
    store.record_lineage(
        LineageBatch(
            entities=[source, model_entity, *outputs],
            activities=[activity],
            used=[Used(activity.id, source.id, "source")],
            generated=[
                Generated(model_entity.id, activity.id, "model"),
                *[Generated(e.id, activity.id, "scored-data") for e in outputs],
            ],
            reason="demo: model trained on the development period",
        )
    )


def run_demo(
    out: str | Path | None = None, *, store: Any = None, progress: bool = True
) -> DemoResult:
    """Train, score, validate and package; returns the verified package."""
    from cmlops.reports.runner import run_report
    from cmlops.reports.verify import verify_package

    root = Path(out or "cmlops-demo").expanduser().resolve()
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if store is None:
        from cmlops.store import open_store

        store = open_store()
    development, validation = flchain_frames()
    model = fit_model(development)
    for frame in (development, validation):
        frame["score"] = model.predict_proba(frame[FEATURES])[:, 1]
    files = {
        "development": data_dir / "flchain_development.csv",
        "validation": data_dir / "flchain_validation.csv",
    }
    development.to_csv(files["development"], index=False)
    validation.to_csv(files["validation"], index=False)
    _record_training(store, model, files)
    plan_path = data_dir / "acceptance_plan.json"
    plan_path.write_text(json.dumps(PLAN, indent=2), "utf-8")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run = run_report(
        "model_validation",
        {
            "data": str(files["validation"]),
            "reference": str(files["development"]),
            "outcome": "outcome",
            "score": "score",
            "threshold": 0.2,
            "subgroups": ["sex", "age_band"],
            "features": FEATURES,
            "model_name": "5-year mortality, logistic regression (flchain, development 1995-96)",
            "question": "Does a model developed on 1995-96 samples predict 5-year mortality "
            "in subjects sampled 1997-2003?",
            "context_of_use": "Demonstration: risk stratification for enrichment of a "
            "long-term outcome study; supports, never replaces, clinical review",
            "model_influence": "medium",
            "decision_consequence": "medium",
        },
        plan=plan_path,
        out=root / f"package-{stamp}",
        store=store,
        progress=progress,
    )
    verified = verify_package(run.package).ok
    return DemoResult(
        package=run.package,
        zip=run.zip,
        status=run.status,
        verdict=str(run.manifest.get("results", {}).get("verdict")),
        verified=verified,
        data_dir=data_dir,
    )
