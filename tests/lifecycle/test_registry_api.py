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


def test_a_hyper_parameter_beyond_i_json_reads_back_as_its_number(tmp_path: Path) -> None:
    """C=1e16 (>= 2^53) is sealed as the tagged string ``cmlops:num:1e+16``; the registry,
    its CLI listings and the dossier show the number, and a refit with the same C is not a
    hyper-parameter change."""
    import json

    from click.testing import CliRunner

    from cmlops.cli import cli
    from cmlops.lifecycle.documents import build
    from cmlops.lifecycle.evidence import model_evidence

    home = tmp_path / ".cmlops"
    rng = np.random.default_rng(7)
    with open_store(home=home) as store:
        for _ in range(2):
            x, y = rng.normal(size=(60, 2)), rng.integers(0, 2, 60)
            model = LogisticRegression(C=1e16).fit(x, y)
            cmlops.log_model(model, "risk model", store=store)
            cmlops.register_model("risk", model, store=store)
        sealed = store.records(action="model.version.registered")[0].payload
        assert '"C":"cmlops:num:1e+16"' in sealed
        state = cmlops.model_state("risk", store=store)
        listed = cmlops.list_models(store=store)[0]
        evidence = model_evidence(store, state, state.version(2), {})
        assert store.verify().ok
    for facts in (state.version(1).facts, listed.version(2).facts):
        assert facts["params"]["C"] == 1e16 and type(facts["params"]["C"]) is float
    assert state.version(2).change["differences"]["hyperparameters"] == []
    section = next(s for s in build("tripod-ai", evidence).sections if s.id == "12c")
    assert "C=1e+16" in section.text and "cmlops:" not in section.text
    for args in (["show", "risk", "--json"], ["list", "--json"]):
        out = CliRunner().invoke(cli, ["--home", str(home), "model", *args])
        assert out.exit_code == 0, out.output
        shown = json.loads(out.output)
        versions = (shown if isinstance(shown, dict) else shown[0])["versions"]
        assert [v["facts"]["params"]["C"] for v in versions] == [1e16, 1e16]
        assert "cmlops:" not in out.output
