"""Per-cell overhead of %%cmlops_track and autotrack, measured in a real Jupyter kernel.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/bench_tracking.py [--csv-mb 500]

A kernel of this interpreter is started with jupyter_client; cells are sent as
a notebook front end sends them and timed from request to idle (the user's
wait). Baseline: the same cell untracked, measured in the same run,
interleaved so drift of the machine hits both. The CSV lives in
benchmarks/.work (git-ignored); the store in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = str(HERE.parent / "src")


def make_csv(path: Path, megabytes: int) -> None:
    if path.exists() and path.stat().st_size >= megabytes * 1e6 * 0.95:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as handle:
        handle.write(",".join(f"c{i}" for i in range(10)) + "\n")
        written = 0
        while written < megabytes * 1e6:
            block = rng.standard_normal((200_000, 10)).round(6)
            text = "\n".join(",".join(map(repr, row)) for row in block.tolist()) + "\n"
            handle.write(text)
            written += len(text)
    os.replace(tmp, path)


def timed(client, code: str) -> float:
    start = time.perf_counter()
    reply = client.execute_interactive(code, timeout=600, output_hook=lambda msg: None)
    elapsed = time.perf_counter() - start
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {code!r}: {reply['content']}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="repetitions of the empty cell")
    parser.add_argument("--csv-mb", type=int, default=500)
    parser.add_argument("--csv-repeat", type=int, default=3)
    args = parser.parse_args()

    from jupyter_client.manager import start_new_kernel

    home = tempfile.mkdtemp(prefix="cmlops-bench-")
    env = {**os.environ, "PYTHONPATH": SRC, "CMLOPS_HOME": home}
    manager, client = start_new_kernel(
        kernel_name="python3", extra_arguments=[], env=env, cwd=str(HERE)
    )
    manager.kernel_cmd = None
    try:
        timed(client, "%load_ext cmlops\nimport pandas as pd, numpy as np")
        timed(client, "%%cmlops_track warmup\nx = 1")  # opens the store, environment snapshot
        plain, tracked = [], []
        for _ in range(args.n):
            plain.append(timed(client, "x = 1"))
            tracked.append(timed(client, "%%cmlops_track\nx = 1"))
        timed(client, "%cmlops_autotrack on")
        auto = [timed(client, "x = 1") for _ in range(args.n)]
        timed(client, "%cmlops_autotrack off")
        med = statistics.median
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f}")
        print(f"{args.n} cells each, median request-to-idle")
        print(f"  untracked cell `x = 1`        {med(plain) * 1e3:7.2f} ms")
        for label, values in (("%%cmlops_track", tracked), ("autotrack", auto)):
            over = (med(values) - med(plain)) * 1e3
            verdict = "MET" if over < 5 else "NOT MET"
            print(
                f"  {label:<28} {med(values) * 1e3:7.2f} ms  overhead {over:5.2f} ms "
                f"(goal < 5 ms: {verdict})"
            )

        csv = HERE / ".work" / f"bench_{args.csv_mb}mb.csv"
        make_csv(csv, args.csv_mb)
        size = csv.stat().st_size
        read = f"df = pd.read_csv({str(csv)!r})"
        base, cold, warm = [], [], []
        tracked = "%%cmlops_track read\n" + read
        for _ in range(args.csv_repeat):
            base.append(timed(client, read))
            timed(client, "del df")
            os.utime(csv)  # a new mtime: the session's digest cache misses, the file is hashed
            cold.append(timed(client, tracked))
            timed(client, "del df")
            warm.append(timed(client, tracked))  # unchanged file: digest reused
            timed(client, "del df")
        print(f"CSV of {size / 1e6:.0f} MB, {args.csv_repeat} runs each, median")
        print(f"  untracked read_csv                      {med(base):7.2f} s")
        for label, values in (
            ("first read (file hashed)", cold),
            ("re-read (digest cached)", warm),
        ):
            ratio = med(values) / med(base) - 1
            print(
                f"  %%cmlops_track, {label:<24} {med(values):7.2f} s  overhead {ratio:+.1%} "
                f"(goal < 10 %: {'MET' if ratio < 0.10 else 'NOT MET'})"
            )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
