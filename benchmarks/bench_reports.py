"""Report runner and package verification speed, each against its baseline in the same run.

1. Report-run overhead: ``cmlops.run_report`` of a template against a bare
   ``papermill.execute_notebook`` of the very same notebook with the same
   parameters (same kernel, same machine, alternating, median of N).
   Goal: overhead <= 1.5 s or <= 10 %.
2. ``verify_package`` on a package holding 1 GB of outputs against
   ``sha256sum`` of the same files. Goal: within 1.5x.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/bench_reports.py [--gb 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

SRC = Path(__file__).resolve().parents[1] / "src"
os.environ["PYTHONPATH"] = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
sys.path.insert(0, str(SRC))
os.environ.setdefault("CMLOPS_USER", "bench")


def template(path: Path, body: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "n = 1\nsize_mb = 0\ncmlops_output_dir = '.'\ncmlops_run_id = ''"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Benchmark"), params]
    nb.cells += [nbformat.v4.new_code_cell(b) for b in body]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["cmlops"] = {
        "title": "Benchmark",
        "parameters": [
            {"name": "n", "type": "int", "default": 1},
            {"name": "size_mb", "type": "int", "default": 0},
        ],
        "default_plan": {
            "plan_id": "bench",
            "criteria": [{"id": "n", "metric": "n", "op": ">=", "threshold": 1}],
        },
    }
    nbformat.write(nb, str(path))
    return path


BODY = [
    "import numpy as np, pandas as pd\n"
    "from cmlops.reports.notebook import ReportContext\n"
    "report = ReportContext.start(cmlops_output_dir)",
    "df = pd.DataFrame(np.random.default_rng(0).normal(size=(20000, 10)))\n"
    "report.metrics['n'] = n\nreport.metrics['mean'] = float(df.values.mean())",
    "rng = np.random.default_rng(1)\n"
    "for i in range(max(size_mb // 256, 0)):\n"
    "    rng.bytes(256 * 1024 * 1024)\n"
    "    with open(f'output_{i}.bin', 'wb') as f:\n"
    "        f.write(rng.bytes(256 * 1024 * 1024))",
    "report.criteria_table()\nreport.finish()",
]


def bench_overhead(work: Path, repeat: int) -> dict:
    import papermill

    from cmlops.reports.runner import run_report
    from cmlops.store import open_store

    tpl = template(work / "bench.ipynb", BODY)
    store = open_store(home=work / ".cmlops")
    bare, full = [], []
    for i in range(repeat + 1):  # first round warms caches and is discarded
        out = work / f"bare-{i}"
        out.mkdir()
        shutil.copyfile(work / "bench.ipynb", out / "template.ipynb")
        t0 = time.perf_counter()
        papermill.execute_notebook(
            str(out / "template.ipynb"),
            str(out / "notebook.ipynb"),
            parameters={"n": 1, "size_mb": 0, "cmlops_output_dir": ".", "cmlops_run_id": "x"},
            progress_bar=False,
            cwd=str(out),
            kernel_name="python3",
        )
        t1 = time.perf_counter()
        run = run_report(tpl, {"n": 1}, out=work / f"full-{i}", store=store, progress=False)
        t2 = time.perf_counter()
        assert run.status == "EXECUTED", run.error
        if i:
            bare.append(t1 - t0)
            full.append(t2 - t1)
    store.close()
    b, f = statistics.median(bare), statistics.median(full)
    return {"bare_s": b, "run_report_s": f, "overhead_s": f - b, "overhead_pct": (f - b) / b * 100}


def bench_verify(work: Path, gb: float) -> dict:
    from cmlops.reports.runner import run_report
    from cmlops.reports.verify import verify_package
    from cmlops.store import open_store

    tpl = template(work / "big.ipynb", BODY)
    store = open_store(home=work / ".cmlops")
    size_mb = int(gb * 1024)
    run = run_report(
        tpl,
        {"n": 1, "size_mb": size_mb},
        out=work / "big",
        store=store,
        progress=False,
        cell_timeout=None,
    )
    store.close()
    assert run.status == "EXECUTED", run.error
    files = [run.package / f["path"] for f in run.manifest["files"]]
    total = sum(p.stat().st_size for p in files)
    # warm the page cache once so both sides read from memory
    subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
    t0 = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
    t1 = time.perf_counter()
    result = verify_package(run.package)
    t2 = time.perf_counter()
    assert result.ok, result.lines()
    return {
        "bytes": total,
        "sha256sum_s": t1 - t0,
        "verify_s": t2 - t1,
        "sha256sum_gbps": total / (t1 - t0) / 1e9,
        "verify_gbps": total / (t2 - t1) / 1e9,
        "ratio": (t2 - t1) / (t1 - t0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="output size of the verify package")
    parser.add_argument("--repeat", type=int, default=3, help="measured rounds of the overhead")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cmlops-bench-reports-"))
    try:
        over = bench_overhead(work, args.repeat)
        print(
            f"report run: bare papermill {over['bare_s']:.2f} s, run_report "
            f"{over['run_report_s']:.2f} s, overhead {over['overhead_s']:.2f} s "
            f"({over['overhead_pct']:.0f} %)  [goal <= 1.5 s or <= 10 %]"
        )
        ver = bench_verify(work, args.gb)
        print(
            f"verify: {ver['bytes'] / 1e9:.2f} GB; sha256sum {ver['sha256sum_s']:.2f} s "
            f"({ver['sha256sum_gbps']:.2f} GB/s), verify_package {ver['verify_s']:.2f} s "
            f"({ver['verify_gbps']:.2f} GB/s), ratio {ver['ratio']:.2f}x  [goal <= 1.5x]"
        )
        print(json.dumps({"overhead": over, "verify": ver}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
