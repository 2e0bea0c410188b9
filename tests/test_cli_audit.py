"""The `cmlops` command as a user runs it: real processes, real exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785

from cmlops.store import open_store
from tests.store.tampering import tamper


def cmlops(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from cmlops.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


@pytest.fixture
def populated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two records by two hub users (the actor is who the hub says, not a name in code)."""
    open_store().close()  # created by "tester"
    monkeypatch.setenv("JUPYTERHUB_USER", "ann")
    with open_store() as store:
        store.append("dataset.used", "entity", "e1", {"rows": 10}, reason="analysis")
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    with open_store() as store:
        store.append("model.fitted", "entity", "m1", {})
    return tmp_path


def test_help_everywhere(tmp_path: Path) -> None:
    for args in (
        [],
        ["audit"],
        ["audit", "log"],
        ["audit", "verify"],
        ["audit", "anchor"],
        ["audit", "checkpoint"],
        ["audit", "export"],
        ["audit", "correct"],
        ["store"],
        ["store", "info"],
        ["store", "migrate"],
    ):
        result = cmlops(*args, "--help", cwd=tmp_path)
        assert result.returncode == 0 and "Usage:" in result.stdout, args


def test_log_filters_and_json(populated: Path) -> None:
    result = cmlops("audit", "log", "--actor", "ann", "--json", cwd=populated)
    assert result.returncode == 0, result.stderr
    (record,) = json.loads(result.stdout)
    assert record["payload"] == {"rows": 10} and record["reason"] == "analysis"
    text = cmlops("audit", "log", "--action", "model.*", cwd=populated).stdout
    assert "model.fitted" in text and "dataset.used" not in text
    assert (
        cmlops("audit", "log", "--object", "entity:e1", "--json", cwd=populated).stdout.count(
            '"seq"'
        )
        == 1
    )


def test_verify_anchor_export_roundtrip_and_exit_codes(populated: Path) -> None:
    verified = cmlops("audit", "verify", cwd=populated)
    assert verified.returncode == 0 and verified.stdout.startswith("OK: 3 records")
    anchor = cmlops("audit", "anchor", cwd=populated).stdout.strip()
    assert anchor.startswith("3:") and len(anchor) == 66
    assert cmlops("audit", "verify", "--anchor", anchor, cwd=populated).returncode == 0
    export = cmlops("audit", "export", "--out", "trail.jsonl", cwd=populated)
    assert export.returncode == 0 and len((populated / "trail.jsonl").read_text().splitlines()) == 3
    again = cmlops("audit", "export", "--out", "trail.jsonl", cwd=populated)
    assert again.returncode == 2 and "--force" in again.stderr
    assert cmlops("audit", "verify", "--file", "trail.jsonl", cwd=populated).returncode == 0

    with open_store() as store:
        tamper(store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    broken = cmlops("audit", "verify", cwd=populated)
    assert broken.returncode == 1 and "BROKEN at seq 2" in broken.stdout
    as_json = json.loads(cmlops("audit", "verify", "--json", cwd=populated).stdout)
    assert as_json["ok"] is False and as_json["broken"]["seq"] == 2


def test_user_mistakes_are_one_line_without_traceback(populated: Path, tmp_path: Path) -> None:
    cases = [
        (["audit", "verify", "--anchor", "not-a-hash"], 2, "not a 64-character hex"),
        (["audit", "log", "--since", "yesterday"], 2, "not an ISO 8601 time"),
        (["audit", "nonsense"], 2, "No such command"),
        (
            ["--store-url", "postgresql+psycopg://u:pw@127.0.0.1:1/x", "audit", "log"],
            3,
            "did not answer",
        ),
    ]
    for args, code, fragment in cases:
        result = cmlops(*args, cwd=populated)
        assert result.returncode == code, (args, result.stderr)
        assert fragment in result.stderr and "Traceback" not in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = cmlops("--home", str(empty / ".cmlops"), "audit", "verify", cwd=empty)
    assert missing.returncode == 3 and "no cmlops store" in missing.stderr
    assert not (empty / ".cmlops" / "store.sqlite").exists()


def test_store_info_json(populated: Path) -> None:
    info = json.loads(cmlops("store", "info", "--json", cwd=populated).stdout)
    assert info["backend"] == "sqlite" and info["records"] == 3 and info["schema_version"] == 3


def test_a_damaged_export_is_a_one_line_error_naming_the_line(tmp_path: Path) -> None:
    cases = {
        "missing.jsonl": ('{"seq": 1}\n', "line 1 of the export is not an audit record"),
        "garbage.jsonl": ("\nnot json\n", "line 2 of the export is not JSON"),
        "list.jsonl": ("[1, 2]\n", "a list, not an object"),
        "binary.jsonl": (b"\xff\xfe\n", "is not UTF-8 text"),
    }
    for name, (content, fragment) in cases.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        result = cmlops("audit", "verify", "--file", name, cwd=tmp_path)
        assert result.returncode == 2, (name, result.stderr)
        assert fragment in result.stderr and "Traceback" not in result.stderr


@pytest.mark.req("REQ-AUD-008")
def test_a_correction_needs_a_reason_and_carries_the_old_and_new_value_hashes(
    populated: Path,
) -> None:
    with open_store() as store:
        (wrong,) = store.records(action="dataset.used")
        head = store.head()

    def digest(value: object) -> str:  # docs/audit-chain.md, with rfc8785 alone
        return hashlib.sha256(rfc8785.dumps({"value": value})).hexdigest()

    for reason in ([], ["--reason", " \t"]):
        refused = cmlops(
            "audit",
            "correct",
            str(wrong.seq),
            "--field",
            "rows",
            "--value",
            "12",
            *reason,
            cwd=populated,
        )
        assert refused.returncode == 2, refused.stderr
        assert "needs a reason" in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    for args, fragment in (
        ([str(wrong.seq), "--value", "twelve"], "--value is not JSON"),
        (["999", "--value", "12"], "no audit record with seq 999"),
        ([str(wrong.seq), "--field", "cols", "--value", "12"], "no payload member 'cols'"),
    ):
        refused = cmlops("audit", "correct", *args, "--reason", "typo", cwd=populated)
        assert refused.returncode == 2 and fragment in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    with open_store() as store:
        assert store.head() == head  # nothing was written
    done = cmlops(
        "audit",
        "correct",
        str(wrong.seq),
        "--field",
        "rows",
        "--value",
        "12",
        "--reason",
        "row count misread\nfrom the log",
        "--json",
        cwd=populated,
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["action"] == "audit.correction" and record["actor"] == "bob"
    assert record["payload"]["corrects"] == {
        "seq": wrong.seq,
        "hash": wrong.hash,
        "action": "dataset.used",
    }
    assert record["payload"]["old_value_sha256"] == digest(10)
    assert record["payload"]["new_value_sha256"] == digest(12)
    whole = cmlops(
        "audit",
        "correct",
        str(wrong.seq),
        "--value",
        '{"rows": 12}',
        "--reason",
        "all of it",
        cwd=populated,
    )
    assert whole.returncode == 0 and digest({"rows": 10}) in whole.stdout, whole.stderr
    listed = cmlops("audit", "log", "--action", "audit.correction", cwd=populated)
    assert "reason: row count misread\\x0afrom the log" in listed.stdout
    assert len(listed.stdout.strip().splitlines()) == 2  # the newline cannot forge a line
    assert cmlops("audit", "verify", cwd=populated).returncode == 0


@pytest.mark.req("REQ-AUD-008")
def test_a_policy_change_needs_a_reason_and_a_refusal_is_recorded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("correct horse battery staple\n")
    key = ["--key", str(tmp_path / "key.json"), "--passphrase-file", str(secret)]
    made = cmlops(
        "keys", "generate", "--name", "Tess Tester", "--out", str(tmp_path / "key.json"),
        "--passphrase-file", str(secret), cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert cmlops("policy", "init", "--admin", "tester", *key, cwd=tmp_path).returncode == 0
    with open_store() as store:
        head = store.head()
    blank = cmlops("policy", "grant", "reviewer", "tester", "--reason", " ", *key, cwd=tmp_path)
    assert blank.returncode == 2 and "a policy change needs a reason" in blank.stderr
    assert len(blank.stderr.strip().splitlines()) == 1 and "Traceback" not in blank.stderr
    missing = cmlops("policy", "grant", "reviewer", "tester", *key, cwd=tmp_path)
    assert missing.returncode == 2 and "Missing option '--reason'" in missing.stderr
    with open_store() as store:
        (refused,) = store.records(action="policy.change_refused", after_seq=head.seq)
        assert "needs a reason" in refused.reason
        assert store.count_records(action="policy.changed") == 1  # only the initial policy
    done = cmlops("policy", "grant", "reviewer", "tester", "--reason", "QA", *key, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open_store() as store:
        assert store.records(action="policy.changed")[-1].reason == "QA"
