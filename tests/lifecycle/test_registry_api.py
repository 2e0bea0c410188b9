"""The registry's Python API, its lineage gaps and its write lock (no kernel needed)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import cmlops
from cmlops.lifecycle.errors import RegistryError
from cmlops.store import open_store


def _fit(seed: int) -> LogisticRegression:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(60, 2)), rng.integers(0, 2, 60)
    return LogisticRegression().fit(x, y)


def test_api_registers_a_logged_model_and_lists_its_gaps(tmp_path: Path) -> None:
    with open_store(home=tmp_path / ".cmlops") as store:
        model = _fit(0)
        with pytest.raises(RegistryError, match="not in the lineage"):
            cmlops.register_model("risk", model, store=store)
        with pytest.raises(RegistryError, match="not a fitted model"):
            cmlops.register_model("risk", LogisticRegression(), store=store)
        assert store.count_records(action="model.*") == 0
        cmlops.log_model(model, "risk model", store=store)
        version = cmlops.register_model("risk", model, description="demo", store=store)
        assert version.version == 1 and version.status == "candidate"
        assert version.facts["gaps"] == ["no training data in the lineage of this model"]
        assert version.facts["class"].endswith("LogisticRegression")
        with pytest.raises(RegistryError, match="already risk v1"):
            cmlops.register_model("risk", model, store=store)
        state = cmlops.model_state("risk", store=store)
        assert [m.name for m in cmlops.list_models(store=store)] == ["risk"]
        assert state.description == "demo" and state.protocol is None


def test_concurrent_registrations_get_distinct_versions(tmp_path: Path) -> None:
    home = tmp_path / ".cmlops"
    models = [_fit(seed) for seed in range(6)]
    with open_store(home=home) as store:
        for i, model in enumerate(models):
            cmlops.log_model(model, f"m{i}", store=store)
    errors: list[BaseException] = []

    def register(model: LogisticRegression) -> None:
        try:
            with open_store(home=home) as store:
                cmlops.register_model("shared", model, store=store)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(m,)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with open_store(home=home) as store:
        state = cmlops.model_state("shared", store=store)
        assert sorted(state.versions) == [1, 2, 3, 4, 5, 6]
        assert len({v.entity_id for v in state.versions.values()}) == 6
        assert store.verify().ok
