"""Several real processes append at once; a writer killed mid-append loses nothing committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmlops.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def spawn(url: str, home: Path, name: str, mode: str, count: int = 0) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.store.writer_process",
            url,
            str(home),
            name,
            mode,
            str(count),
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.req("REQ-AUD-007")
def test_four_kernels_and_a_report_run_make_one_valid_chain(store_url, tmp_path) -> None:
    home = tmp_path / ".cmlops"
    open_store(store_url, home=home).close()  # created once, as a first kernel would
    writers = [spawn(store_url, home, f"kernel{k}", "single", 150) for k in range(4)]
    writers.append(spawn(store_url, home, "report", "lineage", 40))
    for writer in writers:
        _, errors = writer.communicate(timeout=240)
        assert writer.returncode == 0, errors
    with open_store(store_url, home=home) as store:
        result = store.verify()
        assert result.ok, result.summary()
        appended = store.records(action="test.append")
        assert len(appended) == 600
        assert {r.object_id for r in appended} == {
            f"kernel{k}:{i}" for k in range(4) for i in range(150)
        }
        # each lineage batch: entity + activity + generated = 3 records
        assert store.count_records(action="lineage.*") == 120
        assert result.records == 1 + 600 + 120
        assert len(store.notebook_lineage("report.ipynb").activities) == 40


@pytest.mark.slow
@pytest.mark.req("REQ-AUD-007")
def test_a_writer_killed_mid_append_leaves_a_store_that_opens_and_verifies(
    store_url, tmp_path
) -> None:
    home = tmp_path / ".cmlops"
    open_store(store_url, home=home).close()
    victim = spawn(store_url, home, "victim", "forever")
    with open_store(store_url, home=home) as store:
        deadline = time.monotonic() + 60
        while store.count_records(action="test.batch") < 500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert victim.poll() is None, victim.stderr.read()
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    with open_store(store_url, home=home) as store:
        result = store.verify()
        assert result.ok, result.summary()
        batched = store.count_records(action="test.batch")
        assert batched >= 500 and batched % 50 == 0  # whole transactions only
        store.append("test.after_crash", "writer", "survivor")
        assert store.verify().ok
