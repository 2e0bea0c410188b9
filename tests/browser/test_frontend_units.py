"""Runs the TypeScript unit tests (node's test runner on the compiled layout, form, filter
and track logic) as part of the pytest suite, so CI runs them with everything else."""

from __future__ import annotations

import shutil
import subprocess

from tests.browser.conftest import REPO


def test_typescript_unit_tests_pass():
    npm = shutil.which("npm")
    assert npm, "npm is needed to run the TypeScript unit tests (node 20)"
    assert (REPO / "node_modules" / "typescript").is_dir(), "run `npm ci` first"
    done = subprocess.run(
        [npm, "test", "--silent"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-4000:]
    assert "# fail 0" in report
    passed = int(report.split("# pass ", 1)[1].split()[0])
    assert passed >= 16, report[-2000:]
