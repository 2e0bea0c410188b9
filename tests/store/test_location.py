"""The store is found the way git finds .git, and the environment overrides it."""

from __future__ import annotations

from pathlib import Path

from cmlops.config import default_actor, resolve_store


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


def test_actor_comes_from_cmlops_user_then_hub_then_os(monkeypatch) -> None:
    assert default_actor() == "tester"
    monkeypatch.delenv("CMLOPS_USER")
    monkeypatch.setenv("JUPYTERHUB_USER", "hubuser")
    assert default_actor() == "hubuser"
    monkeypatch.delenv("JUPYTERHUB_USER")
    assert default_actor()
