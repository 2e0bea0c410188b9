"""``cmlops selftest`` refuses bad input in one line, before anything runs or is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cmlops.cli import cli

PASSPHRASE = "correct horse battery"


@pytest.fixture
def keyed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tester's signing key, and the passphrase in the environment."""
    monkeypatch.setenv("CMLOPS_SIGNING_KEY", str(tmp_path / "key.json"))
    monkeypatch.setenv("CMLOPS_SIGNING_PASSPHRASE", PASSPHRASE)
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(cli, ["keys", "generate", "--name", "Tess Tester"])
    assert done.exit_code == 0, done.output
    return tmp_path


def _selftest(*args: str):
    return CliRunner().invoke(cli, ["selftest", "--out", "validation", *args])


def _one_line_error(done, *fragments: str) -> None:
    assert done.exit_code == 2, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in done.output


@pytest.mark.req("REQ-CSV-005")
def test_without_a_signing_key_it_says_how_to_create_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMLOPS_SIGNING_KEY", str(tmp_path / "none.json"))
    monkeypatch.chdir(tmp_path)
    _one_line_error(
        _selftest("--pq-example"),
        "no signing key at",
        'cmlops keys generate --name "Your Full Name"',
    )
    assert not (tmp_path / "validation").exists()


@pytest.mark.req("REQ-CSV-005")
def test_a_wrong_passphrase_is_refused_before_anything_runs(
    keyed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMLOPS_SIGNING_PASSPHRASE", "not the passphrase")
    _one_line_error(_selftest("--pq-example"), "wrong passphrase")
    assert not (keyed / "validation").exists() and not (keyed / "validation-pq").exists()


@pytest.mark.req("REQ-CSV-005")
def test_a_key_or_a_role_that_may_not_sign_is_refused_before_anything_runs(
    keyed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmlops.store import open_store

    monkeypatch.setenv("CMLOPS_SIGNING_KEY", str(keyed / "loose.json"))
    loose = ["keys", "generate", "--no-register", "--name", "Tess Tester"]
    assert CliRunner().invoke(cli, loose).exit_code == 0
    _one_line_error(_selftest("--pq-example"), "is not registered", "cmlops keys generate")
    monkeypatch.setenv("CMLOPS_SIGNING_KEY", str(keyed / "key.json"))
    _one_line_error(_selftest("--pq-example", "--name", "Dr. Tess"), "not your registered name")
    store = open_store()
    actor = store.actor
    store.close()
    done = CliRunner().invoke(cli, ["policy", "init", "--admin", actor])  # admin, not author
    assert done.exit_code == 0, done.output
    _one_line_error(_selftest("--pq-example"), "does not hold the author role", "policy grant")
    assert not (keyed / "validation").exists() and not (keyed / "validation-pq").exists()


def _write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text)
    return folder / name


@pytest.mark.req("REQ-CSV-004")
def test_a_missing_or_invalid_pq_is_a_one_line_error_and_nothing_is_written(keyed: Path) -> None:
    data = _write(keyed, "data.csv", "age,sex\n50,F\n60,M\n")
    plan = _write(
        keyed, "plan.yaml", "criteria:\n  - {id: a, metric: rows, op: '>=', threshold: 1}\n"
    )
    nan_plan = _write(
        keyed,
        "nan.json",
        '{"criteria": [{"id": "a", "metric": "rows", "op": ">=", "threshold": NaN}]}',
    )
    cases = [
        ((), "selftest needs a performance qualification"),
        (("--pq-config", "absent.yaml"), "is not a file"),
        (("--pq-config", str(_write(keyed, "bad.yaml", "template: [\n"))), "not valid YAML"),
        (
            (
                "--pq-config",
                str(_write(keyed, "typo.yaml", "template: data_validation\nplna: p.yaml\n")),
            ),
            "unknown key(s) ['plna']",
        ),
        (
            ("--pq-config", str(_write(keyed, "noplan.yaml", "template: data_validation\n"))),
            "needs your acceptance plan",
        ),
        (
            ("--pq-template", "data_validaton", "--pq-data", str(data), "--pq-plan", str(plan)),
            "did you mean 'data_validation'",
        ),
        (
            (
                "--pq-template",
                "data_validation",
                "--pq-data",
                "missing.csv",
                "--pq-plan",
                str(plan),
            ),
            "missing.csv",
        ),
        (
            (
                "--pq-template",
                "data_validation",
                "--pq-data",
                str(data),
                "--pq-plan",
                str(nan_plan),
            ),
            "PQ (the command line)",
        ),
        (("--pq-template", "gone.ipynb", "--pq-plan", str(plan)), "template file not found"),
        (
            (
                "--pq-template",
                str(_write(keyed, "broken.ipynb", "{not a notebook")),
                "--pq-data",
                str(data),
                "--pq-plan",
                str(plan),
            ),
            "broken.ipynb",
        ),
        (
            ("--pq-template", "data_validation", "--pq-data", str(data), "--pq-plan", "gone.yaml"),
            "gone.yaml",
        ),
        (("--pq-data", str(data)), "need --pq-template"),
        (("--pq-example", "--pq-config", "x.yaml"), "give one PQ"),
        (("--pq-example", "--pq-param", "novalue"), "give one PQ"),
        (("--pq-template", "data_validation", "--pq-param", "novalue"), "is not NAME=VALUE"),
    ]
    for args, fragment in cases:
        _one_line_error(_selftest(*args), fragment)
    assert not (keyed / "validation").exists() and not (keyed / "validation-pq").exists()
    assert not list(keyed.glob(".validation*"))


@pytest.mark.req("REQ-CSV-005")
def test_an_existing_output_folder_is_refused(keyed: Path) -> None:
    (keyed / "validation").mkdir()
    _one_line_error(_selftest("--pq-example"), "exists")
