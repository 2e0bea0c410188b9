"""The store is found the way git finds .git, and the environment overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmlops.config import local_actor, os_user, resolve_store


def test_nearest_store_in_the_working_directory_or_its_parents(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CMLOPS_HOME")
    (tmp_path / ".cmlops").mkdir()
    nested = tmp_path / "study" / "notebooks"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    location = resolve_store()
    assert location.home == tmp_path / ".cmlops" and location.source == "found"
    assert location.url == f"sqlite:///{tmp_path / '.cmlops' / 'store.sqlite'}"


def test_created_in_the_working_directory_when_there_is_none(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CMLOPS_HOME")
    monkeypatch.chdir(tmp_path)
    location = resolve_store(start=tmp_path)
    assert location.home == tmp_path / ".cmlops" and location.source == "created"


def test_environment_overrides(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CMLOPS_HOME", str(tmp_path / "elsewhere"))
    assert resolve_store().home == Path(tmp_path / "elsewhere")
    monkeypatch.setenv("CMLOPS_STORE_URL", "postgresql+psycopg://db.example/cmlops")
    location = resolve_store()
    assert location.url.startswith("postgresql") and location.source == "CMLOPS_STORE_URL"
    assert location.home == tmp_path / "elsewhere"


@pytest.mark.req("REQ-TEAM-001")
def test_actor_is_the_hub_user_then_the_os_user_and_cmlops_user_only_a_claim(
    monkeypatch,
) -> None:
    """CMLOPS_USER used to *be* the actor; now it is recorded as a claim beside it."""
    import getpass

    monkeypatch.setenv("CMLOPS_USER", "mallory")
    actor = local_actor()
    assert (actor.name, actor.source, actor.claimed) == ("tester", "jupyterhub", "mallory")
    monkeypatch.delenv("JUPYTERHUB_USER")
    actor = local_actor()
    assert (actor.name, actor.source, actor.claimed) == (getpass.getuser(), "os", "mallory")
    assert actor.name == os_user()
    assert local_actor("given in code").claimed == "given in code"
