"""Listings are trustworthy: a field cannot forge a line, move the cursor or reorder text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmlops.capture.render import LineageView
from cmlops.store import Activity, LineageGraph, open_store
from cmlops.terminal_text import json_terminal_safe, terminal_safe

HOSTILE = (
    "ok\n   99  2026-01-01T00:00:00  qa  package.signed  forged\r\x1b[2J\x9b31m\u202egnp.exe\u2028"
)
RAW = ["\n", "\r", "\x1b", "\x9b", "\u202e", "\u2028"]


def cmlops(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from cmlops.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_the_one_helper_escapes_controls_and_bidi_and_keeps_the_rest() -> None:
    assert terminal_safe("a\nb\r\x1b[31m\x7f\x9b\u202e\u2066\u200b\ufeff") == (
        "a\\x0ab\\x0d\\x1b[31m\\x7f\\x9b\\u202e\\u2066\\u200b\\ufeff"
    )
    for text in ("plain", "é 漢字 🧪", "C:\\data\\x.csv", "tab\tless? no", ""):
        escaped = terminal_safe(text)
        assert all(ch.isprintable() or ch == "\\" for ch in escaped)
    assert terminal_safe("é 漢字 🧪") == "é 漢字 🧪"
    text = json.dumps({"k": HOSTILE}, ensure_ascii=False)
    assert json.loads(json_terminal_safe(text)) == {"k": HOSTILE}
    assert not any(raw in json_terminal_safe(text) for raw in RAW)


def test_audit_log_prints_one_line_per_record_whatever_the_fields_hold(tmp_path: Path) -> None:
    with open_store(claimed_actor=HOSTILE) as store:
        store.append("x." + HOSTILE, "t" + HOSTILE, HOSTILE, {"v": HOSTILE}, reason=HOSTILE)
        count = store.count_records()
    listing = cmlops("audit", "log", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.rstrip("\n").split("\n")
    assert len(lines) == count
    assert not any(raw in listing.stdout.rstrip("\n").replace("\n", "") for raw in RAW)
    assert "tester (jupyterhub; claims ok\\x0a" in lines[0] and "\\u202egnp.exe" in lines[0]
    as_json = cmlops("audit", "log", "--json", cwd=tmp_path)
    assert not any(raw in as_json.stdout for raw in RAW[2:])
    assert json.loads(as_json.stdout)[0]["reason"] == HOSTILE  # the data itself is intact
    info = cmlops("store", "info", cwd=tmp_path, CMLOPS_USER=HOSTILE)
    assert info.returncode == 0 and "claimed_actor: ok\\x0a" in info.stdout
    assert not any(raw in info.stdout.replace("\n", "") for raw in RAW[1:])


def test_the_lineage_text_view_escapes_names_too() -> None:
    view = LineageView(
        LineageGraph(activities={"a1": Activity(id="a1", kind="cell", name=HOSTILE)})
    )
    text = view.to_text()
    assert len(text.split("\n")) == 2 and not any(raw in text.replace("\n", "", 1) for raw in RAW)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["audit", "log", "--since", "0001-01-01T00:00:00+14:00"], "outside the years 1-9999"),
        (["audit", "log", "--until", "9999-12-31T23:59:59-14:00"], "outside the years 1-9999"),
        (["audit", "export", "--since", "0001-01-01T00:00:00+14:00"], "outside the years"),
        (["keys", "generate", "--valid-days", "100000000"], "100000000"),
    ],
)
def test_out_of_range_dates_are_one_line_errors(tmp_path: Path, args, fragment) -> None:
    open_store().close()
    result = cmlops(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1  # one error line (click adds its usage hint for option values)
