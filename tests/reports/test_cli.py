"""The report / package / keys command groups: exit codes and one-line errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cmlops.cli.keys import keys
from cmlops.cli.package import package
from cmlops.cli.policy import policy
from cmlops.cli.report import report
from tests.reports.conftest import ECHO_BODY, make_template

PASS = "correct horse battery"


def _one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_list_and_describe() -> None:
    runner = CliRunner()
    listed = runner.invoke(report, ["list"])
    assert listed.exit_code == 0
    assert "model_validation" in listed.output and "drift_report" in listed.output
    described = runner.invoke(report, ["describe", "model_validation"])
    assert described.exit_code == 0
    assert "data (path, required)" in described.output and "auroc >= 0.7" in described.output
    data = json.loads(runner.invoke(report, ["describe", "drift_report", "--json"]).output)
    assert {p["name"] for p in data["parameters"]} >= {"reference", "current", "alpha"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "model_validaton"], "did you mean 'model_validation'?"),
        (["run", "drift_report", "-p", "refrence=x.csv"], "did you mean 'reference'?"),
        (
            ["run", "drift_report", "-p", "reference=nope.csv", "-p", "current=nope.csv"],
            "input file not found",
        ),
        (["run", "drift_report"], "missing required parameter(s) reference, current"),
        (["run", "drift_report", "-p", "alpha=lots"], "expected a number"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(report, args)
    assert result.exit_code == 2
    assert message in _one_line_error(result)


@pytest.mark.kernel
@pytest.mark.req("REQ-SIG-001")
def test_run_verify_sign_end_to_end(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    plan = tmp_path / "plan.yaml"
    plan.write_text("plan_id: p1\ncriteria:\n  - {id: big-n, metric: n, op: '>=', threshold: 5}\n")
    ran = runner.invoke(
        report,
        ["run", str(template), "-p", "n=3", "--plan", str(plan), "--out", "pkg", "--no-progress"],
    )
    assert ran.exit_code == 0, ran.output
    assert "EXECUTED (acceptance: FAIL)" in ran.output
    again = runner.invoke(report, ["run", str(template), "--out", "pkg", "--no-progress"])
    assert again.exit_code == 2 and "--force" in _one_line_error(again)
    assert runner.invoke(package, ["verify", "pkg"]).exit_code == 0
    assert runner.invoke(package, ["verify", "pkg.zip"]).exit_code == 0

    secret = tmp_path / "pass.txt"
    secret.write_text(PASS + "\n")
    made = runner.invoke(
        keys,
        [
            "generate",
            "--name",
            "Tom Admin",
            "--out",
            "admin.json",
            "--passphrase-file",
            str(secret),
        ],
    )
    assert made.exit_code == 0, made.output
    reviewer = {"CMLOPS_USER": "tess", "JUPYTERHUB_USER": "tess"}
    made = runner.invoke(
        keys,
        ["generate", "--name", "Tess Ter", "--out", "k.json", "--passphrase-file", str(secret)],
        env=reviewer,
    )
    assert made.exit_code == 0, made.output
    sign_args = ["sign", "pkg", "--meaning", "reviewed", "--name", "Tess Ter", "--key", "k.json"]
    no_policy = runner.invoke(package, sign_args, env=reviewer, input=PASS + "\n")
    assert no_policy.exit_code == 2 and "cmlops policy init" in _one_line_error(no_policy)
    monkeypatch.setenv("CMLOPS_SIGNING_PASSPHRASE", PASS)
    key = ["--key", "admin.json"]
    assert runner.invoke(policy, ["init", "--admin", "tester", *key]).exit_code == 0
    granted = runner.invoke(policy, ["grant", "reviewer", "tess", "--reason", "QA", *key])
    assert granted.exit_code == 0, granted.output
    monkeypatch.setenv("CMLOPS_SIGNING_PASSPHRASE", "wrong passphrase!")
    bad = runner.invoke(package, sign_args, env=reviewer)
    assert bad.exit_code == 2 and "wrong passphrase" in _one_line_error(bad)
    monkeypatch.setenv("CMLOPS_SIGNING_PASSPHRASE", PASS)
    signed = runner.invoke(package, sign_args, env=reviewer)
    assert signed.exit_code == 0, signed.output
    status = runner.invoke(package, ["status", "pkg"])
    assert status.output.startswith("reviewed:")
    verified = runner.invoke(package, ["verify", "pkg"])
    assert verified.exit_code == 0 and "reviewed by Tess Ter (tess)" in verified.output
    assert "(run EXECUTED, status reviewed)" in verified.output

    reproduced = runner.invoke(package, ["reproduce", "pkg", "--out", "again"])
    assert reproduced.exit_code == 0, reproduced.output
    assert "REPRODUCIBLE" in reproduced.output
    superseded = runner.invoke(
        package, ["status", "pkg", "--superseded-by", "again", "--reason", "re-run"]
    )
    assert superseded.exit_code == 0 and superseded.output.startswith("superseded:")

    (tmp_path / "pkg" / "report.html").write_text("<p>edited</p>")
    (tmp_path / "pkg" / "notes.txt").write_text("added")
    tampered = runner.invoke(package, ["verify", "pkg"])
    assert tampered.exit_code == 1
    assert "modified: report.html" in tampered.output and "added: notes.txt" in tampered.output


@pytest.mark.req("REQ-PKG-006")
def test_verify_refuses_traversal_zip(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.txt", "x")
    result = CliRunner().invoke(package, ["verify", str(archive)])
    assert result.exit_code == 2
    assert "unsafe zip" in _one_line_error(result)
    assert not (tmp_path.parent.parent / "escaped.txt").exists()
