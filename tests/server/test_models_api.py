"""The registry's read-only REST API: /models and /models/<name> on a real Jupyter server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from cmlops.lifecycle.registry import register_version
from cmlops.store import open_store


@pytest.fixture
def registered(store_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")  # the actor (CMLOPS_USER is only a claim)
    with open_store(home=store_home) as store:
        register_version(store, "risk", "model-1", description="<b>risk</b> model")
    return store_home


async def test_models_list_and_detail(jp_fetch, registered):
    listed = json.loads((await jp_fetch("cmlops", "api", "models")).body)
    assert listed["models"] == [
        {
            "name": "risk",
            "description": "<b>risk</b> model",
            "protocol": None,
            "versions": [{"version": 1, "status": "candidate"}],
        }
    ]
    detail = json.loads((await jp_fetch("cmlops", "api", "models", "risk")).body)
    version = detail["versions"][0]
    assert version["entity_id"] == "model-1" and version["status"] == "candidate"
    assert version["training_data"] == [{"name": "patients.csv", "entity_id": "ds-1", "rows": 120}]
    assert version["change"]["scope"] == "initial"
    assert [h["action"] for h in detail["history"]] == ["model.version.registered"]
    assert detail["history"][0]["actor"] == "ana"


@pytest.mark.parametrize(("name", "status"), [("nobody", 404), ("bad name!", 400)])
async def test_unknown_or_bad_model_name(jp_fetch, registered, name, status):
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("cmlops", "api", "models", name)
    assert caught.value.code == status
    assert "error" in json.loads(caught.value.response.body)
