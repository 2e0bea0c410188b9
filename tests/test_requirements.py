"""The requirements catalogue and the tests' markers agree, and outcomes reach the matrix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmlops.errors import InvalidInputError
from cmlops.selftest.requirements import Requirement, load_requirements
from tests.requirement_markers import REPO, cross_check, scan, scan_file

CATALOGUE = REPO / "docs" / "requirements.yaml"
pytestmark = pytest.mark.req("REQ-CSV-001")


def test_every_requirement_has_a_test_and_every_marker_a_requirement() -> None:
    requirements = load_requirements(CATALOGUE)
    markers, problems = scan()
    assert not problems, problems
    assert not cross_check(requirements, markers), "\n".join(cross_check(requirements, markers))
    assert len(requirements) >= 40 and sum(len(r.tests) for r in requirements) >= 150


def test_the_cross_check_fails_on_a_gap_an_unknown_id_or_a_stray_marker() -> None:
    lonely = Requirement("REQ-XYZ-001", "t", ("21 CFR 11.10(a)",), "f", ())
    listed = Requirement("REQ-XYZ-002", "t", ("21 CFR 11.10(a)",), "f", ("tests/a.py::test_a",))
    markers = {"tests/b.py::test_b": {"REQ-XYZ-002", "REQ-NOPE-001"}}
    problems = cross_check([lonely, listed], markers)
    assert problems == [
        "tests/b.py::test_b names REQ-NOPE-001, which docs/requirements.yaml does not list",
        "REQ-XYZ-001 has no test: mark the tests that prove it",
        "REQ-XYZ-002 lists tests/a.py::test_a, which does not carry its marker",
        "tests/b.py::test_b carries REQ-XYZ-002 but is not in its tests list",
    ]


def test_the_scanner_reads_every_form_and_reports_what_it_cannot(tmp_path: Path) -> None:
    folder = REPO / "tests" / f"_scan_{os.getpid()}"
    folder.mkdir()
    try:
        path = folder / "test_forms.py"
        path.write_text(
            "import pytest\n"
            "pytestmark = [pytest.mark.slow, pytest.mark.req('REQ-A-001')]\n"
            "@pytest.mark.req('REQ-B-001', 'REQ-C-001')\n"
            "def test_one(): pass\n"
            "class TestGroup:\n"
            "    pytestmark = pytest.mark.req('REQ-D-001')\n"
            "    def test_two(self): pass\n"
            "ID = 'REQ-E-001'\n"
            "@pytest.mark.req(ID)\n"
            "def test_three(): pass\n"
            "@pytest.mark.parametrize('x', [pytest.param(1, marks=pytest.mark.req('REQ-F-001'))])\n"
            "def test_four(x): pass\n"
        )
        problems: list[str] = []
        found = scan_file(path, problems)
    finally:
        path.unlink()
        folder.rmdir()
    rel = f"tests/_scan_{os.getpid()}/test_forms.py"
    assert found[f"{rel}::test_one"] == {"REQ-A-001", "REQ-B-001", "REQ-C-001"}
    assert found[f"{rel}::TestGroup::test_two"] == {"REQ-A-001", "REQ-D-001"}
    assert "REQ-F-001" in found[f"{rel}::test_four"]  # seen, and reported below
    assert any("not a string literal" in p for p in problems)
    assert len(problems) == 1 or any("test_forms" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema: cmlops.requirements/1\nrequirements: [\n", "not valid YAML (line"),
        (
            "schema: other/1\nrequirements:\n"
            "  - {id: REQ-AA-001, title: t, clauses: [c], feature: f, tests: []}\n",
            "'cmlops.requirements/1' was expected",
        ),
        (
            "schema: cmlops.requirements/1\nrequirements:\n"
            "  - {id: REQ-AA-001, title: t, clauses: [c], feature: f, tests: []}\n"
            "  - {id: REQ-AA-001, title: t, clauses: [c], feature: f, tests: []}\n",
            "appears twice",
        ),
        (
            "schema: cmlops.requirements/1\nrequirements:\n"
            "  - {id: REQ-AA-001, title: t, clauses: [], feature: f, tests: []}\n",
            "clauses",
        ),
        (
            "schema: cmlops.requirements/1\nrequirements:\n"
            "  - {id: REQ-AA-001, title: t, clauses: [c], feature: f, tests: [x.py]}\n",
            "does not match",
        ),
    ],
)
def test_a_broken_catalogue_is_a_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "requirements.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=r"requirements\.yaml") as caught:
        load_requirements(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_outcomes_are_recorded_per_requirement(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "@pytest.mark.req('REQ-AUD-001')\n"
        "@pytest.mark.parametrize('x', [1, 2])\n"
        "def test_param(x): assert x == 1\n"
        "@pytest.mark.req('REQ-AUD-002', 'REQ-AUD-003')\n"
        "def test_ok(): pass\n"
        "@pytest.mark.req('REQ-AUD-005')\n"
        "def test_skip(): pytest.skip('because')\n"
        "def test_unmarked(): pass\n"
    )
    results = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.requirements_plugin",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "CMLOPS_TEST_RESULTS": str(results), "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1, done.stdout + done.stderr  # test_param[2] fails
    document = json.loads(results.read_text())
    tests = {k.split("::")[-1]: v for k, v in document["tests"].items()}
    assert tests == {
        "test_param": {"requirements": ["REQ-AUD-001"], "outcome": "failed"},
        "test_ok": {"requirements": ["REQ-AUD-002", "REQ-AUD-003"], "outcome": "passed"},
        "test_skip": {"requirements": ["REQ-AUD-005"], "outcome": "skipped"},
    }
    assert document["totals"] == {"passed": 3, "failed": 1, "skipped": 1}
    assert document["complete"] is False  # not the whole suite
    assert document["environment"]["dependencies"]["scipy"]


def _results(tmp_path: Path, tests: dict[str, dict]) -> Path:
    from cmlops.build_info import build_info

    path = tmp_path / "results.json"
    path.write_text(
        json.dumps(
            {
                "schema": "cmlops.test-results/1",
                "started": "2026-01-01T00:00:00+00:00",
                "finished": "2026-01-01T00:20:00+00:00",
                "commit": "abc",
                "complete": True,
                "totals": {"passed": 2, "failed": 1, "skipped": 0},
                "environment": build_info(),
                "tests": tests,
            }
        )
    )
    return path


def test_the_matrix_shows_each_requirements_tests_and_never_passes_missing_evidence(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from cmlops.cli import cli

    catalogue = tmp_path / "requirements.yaml"
    catalogue.write_text(
        "schema: cmlops.requirements/1\nrequirements:\n"
        "  - {id: REQ-AA-001, title: 'ok <b>|</b>', clauses: [c1], feature: f, "
        "tests: ['tests/a.py::test_a', 'tests/a.py::test_b']}\n"
        "  - {id: REQ-AA-002, title: broken, clauses: [c2], feature: f, "
        "tests: ['tests/a.py::test_a', 'tests/a.py::test_c']}\n"
        "  - {id: REQ-AA-003, title: unrun, clauses: [c3], feature: f, "
        "tests: ['tests/a.py::test_d']}\n"
    )
    results = _results(
        tmp_path,
        {
            "tests/a.py::test_a": {"requirements": ["REQ-AA-001"], "outcome": "passed"},
            "tests/a.py::test_b": {"requirements": ["REQ-AA-001"], "outcome": "passed"},
            "tests/a.py::test_c": {"requirements": ["REQ-AA-002"], "outcome": "failed"},
        },
    )
    md, page = tmp_path / "m.md", tmp_path / "m.html"
    done = CliRunner().invoke(
        cli,
        [
            "traceability",
            "--results",
            str(results),
            "--catalogue",
            str(catalogue),
            "--markdown",
            str(md),
            "--html",
            str(page),
        ],
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[:3] == [
        "PASS     REQ-AA-001 ok <b>|</b>",
        "FAIL     REQ-AA-002 broken",
        "NOT RUN  REQ-AA-003 unrun",
    ]
    text = md.read_text()
    assert "| **REQ-AA-001** ok &lt;b&gt;\\|&lt;/b&gt; | c1 |" in text
    assert "`tests/a.py::test_c` failed | **FAIL** |" in text
    assert "`tests/a.py::test_d` no result | **NOT RUN** |" in text
    assert "<b>|</b>" not in page.read_text() and "&lt;b&gt;|&lt;/b&gt;" in page.read_text()
    bad = CliRunner().invoke(cli, ["traceability", "--results", str(catalogue)])
    assert bad.exit_code == 2 and "not a readable test-results file" in bad.output


def test_the_compliance_page_points_at_every_requirement_and_only_at_real_ones() -> None:
    import re

    text = (REPO / "docs" / "compliance.md").read_text()
    named = set(re.findall(r"REQ-[A-Z]{2,5}-[0-9]{3}", text))
    assert named == {r.id for r in load_requirements(CATALOGUE)}
