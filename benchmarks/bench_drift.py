"""Drift speed: cmlops.drift vs a per-column SciPy loop, the single-pass limit and Evidently.

Same synthetic data for every method (fixed seed): reference and current of N
rows x 25 columns (20 numeric float64, 5 categorical string columns with 10
levels), drift injected in 6 columns (x0-x3 shifted by 0.5 SD, c0-c1 with one
level's share raised from 10 % to 35 %). For each N it prints wall times
(median of ``--repeat`` runs), ratios and which columns each method flagged.

The exact path (``methods=`` KS on every numeric column, chi-square on every
categorical one) is timed against the *one-sort limit*: one ``np.sort`` of both
samples of every numeric column, on the same number of threads as ``drift``
(an exact KS cannot avoid sorting; the categorical columns cost a count, far
less). Goal: exact path <= 1.2x that limit. Its memory is the peak resident
set above the process's size just before the call (input frames already in
memory), sampled every 2 ms in a fresh process per path; goal <= +100 MB.

Evidently 0.7.23 needs pandas < 3, so it runs in its own virtualenv
(``benchmarks/.work/evidently-venv``, created on first use with
``pip install "evidently==0.7.23" "pandas<3"``) as a subprocess reading the
same arrays from an ``.npz`` file; a run longer than ``--evidently-timeout``
seconds is stopped and reported as skipped.

Usage::

    .venv/bin/python benchmarks/bench_drift.py                 # N = 10k, 100k, 1M
    .venv/bin/python benchmarks/bench_drift.py --sizes 10000 --no-evidently
    .venv/bin/python benchmarks/bench_drift.py --sizes 1000000 --exact-only --no-evidently
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
ROOT = HERE.parent
VENV = WORK / "evidently-venv"
N_NUM, N_CAT, LEVELS = 20, 5, 10
DRIFTED = {"x0", "x1", "x2", "x3", "c0", "c1"}

EVIDENTLY_SCRIPT = r"""
import json, sys, time
import numpy as np, pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
z = np.load(sys.argv[1], allow_pickle=False)
levels = np.array([f"level_{i}" for i in range(int(z["levels"]))], dtype=object)
def frame(side):
    d = {f"x{i}": z[f"{side}_x"][:, i] for i in range(z[f"{side}_x"].shape[1])}
    d.update({f"c{j}": levels[z[f"{side}_c"][:, j]] for j in range(z[f"{side}_c"].shape[1])})
    return pd.DataFrame(d)
ref, cur = frame("ref"), frame("cur")
t0 = time.perf_counter()
snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
elapsed = time.perf_counter() - t0
flagged = []
for m in snap.dict()["metrics"]:
    cfg = m.get("config", {})
    if cfg.get("type", "").endswith("ValueDrift"):
        method, thr, v = cfg.get("method", ""), cfg.get("threshold"), m["value"]
        drifted = v < thr if "p_value" in method else v >= thr
        if drifted:
            flagged.append(cfg["column"])
print(json.dumps({"seconds": elapsed, "flagged": sorted(flagged)}))
"""


def make_data(n: int, seed: int = 20261122):
    import numpy as np

    rng = np.random.default_rng(seed)
    out = {}
    for side in ("ref", "cur"):
        x = rng.normal(size=(n, N_NUM))
        c = rng.integers(0, LEVELS, size=(n, N_CAT))
        if side == "cur":
            x[:, :4] += 0.5
            for j in (0, 1):  # raise level 0 from 10 % to 35 % of the column
                move = rng.random(n) < (0.35 - 0.10) / 0.90
                c[move & (c[:, j] != 0), j] = 0
        out[f"{side}_x"], out[f"{side}_c"] = x, c
    return out


def frames(data):
    import numpy as np
    import pandas as pd

    levels = np.array([f"level_{i}" for i in range(LEVELS)], dtype=object)

    def one(side):
        x, c = data[f"{side}_x"], data[f"{side}_c"]
        d = {f"x{i}": x[:, i] for i in range(N_NUM)}
        d.update({f"c{j}": pd.Series(levels[c[:, j]], dtype="str") for j in range(N_CAT)})
        return pd.DataFrame(d)

    return one("ref"), one("cur")


def timed(fn, repeat: int):
    """Median wall time, median CPU time (all threads of this process) and the result."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    TIMES_CPU.append(statistics.median(cpu))
    return statistics.median(times), result


TIMES_CPU: list[float] = []


def scipy_loop(ref, cur):
    """The plain approach: ks_2samp per numeric column, chi2_contingency per categorical."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    pvals = {}
    for col in ref.columns:
        if col.startswith("x"):
            pvals[col] = stats.ks_2samp(ref[col].to_numpy(), cur[col].to_numpy()).pvalue
        else:
            table = pd.concat([ref[col].value_counts(), cur[col].value_counts()], axis=1).fillna(0)
            pvals[col] = stats.chi2_contingency(np.asarray(table).T).pvalue
    return pvals


def single_pass_limit(data):
    """One np.histogram per numeric column and one np.bincount per category-code column."""
    import numpy as np

    for side in ("ref", "cur"):
        x, c = data[f"{side}_x"], data[f"{side}_c"]
        for i in range(N_NUM):
            np.histogram(x[:, i], bins=10)
        for j in range(N_CAT):
            np.bincount(c[:, j], minlength=LEVELS)


def exact_methods(ref) -> dict:
    """The exact path: KS on every numeric column, chi-square on every categorical one."""
    return {c: ("ks" if c.startswith("x") else "chi2") for c in ref.columns}


def one_sort_limit(columns, jobs: int) -> None:
    """One np.sort of both samples of every numeric column, on ``jobs`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    def sort_pair(pair):
        np.sort(pair[0])
        np.sort(pair[1])

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(sort_pair, columns))


MEMORY_SCRIPT = r"""
import os, sys, threading, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
import bench_drift as b
from cmlops.stats.drift import drift
n, path = int(sys.argv[3]), sys.argv[4]
ref, cur = b.frames(b.make_data(n))
methods = b.exact_methods(ref) if path == "exact" else None
drift(ref.head(100), cur.head(100), methods=b.exact_methods(ref) if methods else None)
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
base, peak, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
t = threading.Thread(target=sample); t.start()
drift(ref, cur, methods=methods)
done.set(); t.join()
print((max(peak[0], rss()) - base) / 1e6)
"""


def extra_memory_mb(n: int, path: str) -> float:
    """Peak RSS above the input of one drift call, in a fresh process (median of 3)."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(ROOT / "src"), str(HERE), str(n), path],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def exact_path(ref, cur, data, n: int, repeat: int) -> None:
    """The exact path against the one-sort limit and the default path, same run."""
    import numpy as np

    from cmlops.stats.drift import drift

    jobs = os.cpu_count() or 1
    columns = [
        (np.ascontiguousarray(data["ref_x"][:, i]), np.ascontiguousarray(data["cur_x"][:, i]))
        for i in range(N_NUM)
    ]
    methods = exact_methods(ref)
    t_ex, res = timed(lambda: drift(ref, cur, methods=methods), repeat)
    t_def, _ = timed(lambda: drift(ref, cur), repeat)
    t_lim, _ = timed(lambda: one_sort_limit(columns, jobs), repeat)
    t_lim1, _ = timed(lambda: one_sort_limit(columns, 1), repeat)
    c_ex, c_def, c_lim, c_lim1 = TIMES_CPU[-4:]
    found = set(res.drifted_columns)
    print(f"  exact path (KS + chi2)  {t_ex:8.3f} s   (CPU {c_ex:.3f} s)   exact / one-sort "
          f"limit {t_ex / t_lim:.2f}x wall, {c_ex / c_lim:.2f}x CPU (goal <= 1.2x); "
          f"flagged all injected and no other: {found == DRIFTED}")  # fmt: skip
    print(f"  default path            {t_def:8.3f} s   (CPU {c_def:.3f} s)   default / "
          f"one-sort limit {t_def / t_lim:.2f}x wall, {c_def / c_lim:.2f}x CPU")  # fmt: skip
    print(f"  one-sort limit          {t_lim:8.3f} s   (CPU {c_lim:.3f} s; {jobs} threads, "
          f"as drift; {t_lim1:.3f} s, CPU {c_lim1:.3f} s on 1 thread)")  # fmt: skip
    mem_ex, mem_def = extra_memory_mb(n, "exact"), extra_memory_mb(n, "default")
    print(f"  memory over the input   exact +{mem_ex:.0f} MB (goal <= +100 MB), "
          f"default +{mem_def:.0f} MB (peak RSS, fresh process, median of 3)")  # fmt: skip


def fresh_seconds(code: str, repeat: int = 5) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def ensure_evidently() -> Path | None:
    py = VENV / "bin" / "python"
    if py.exists():
        return py
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "evidently==0.7.23", "pandas<3"], check=True
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"  Evidently venv could not be created: {exc}")
        return None
    return py


def run_evidently(py: Path, data, n: int, timeout: float):
    import numpy as np

    path = WORK / f"drift_{n}.npz"
    np.savez(path, levels=LEVELS, **data)
    try:
        out = subprocess.run(
            [str(py), "-c", EVIDENTLY_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None, f"skipped: still running after {timeout:.0f} s"
    except subprocess.CalledProcessError as exc:
        return None, f"failed: {exc.stderr.strip().splitlines()[-1:]}"
    finally:
        path.unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1]), ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-evidently", action="store_true")
    ap.add_argument("--evidently-timeout", type=float, default=180.0)
    ap.add_argument(
        "--exact-from", type=int, default=1_000_000, help="time the exact path from this N"
    )
    ap.add_argument(
        "--exact-only",
        action="store_true",
        help="only the exact path against the one-sort limit (and the memory figures)",
    )
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))

    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} CPUs; load average {load:.1f}; python {sys.version.split()[0]}"
    )
    imp = fresh_seconds(
        "import time; t=time.perf_counter(); import cmlops; print(time.perf_counter()-t)"
    )
    imp_drift = fresh_seconds(
        "import time; t=time.perf_counter(); import cmlops; cmlops.drift; "
        "print(time.perf_counter()-t)"
    )
    first_call = fresh_seconds(
        "import time; t=time.perf_counter(); import cmlops, pandas as pd; "
        "cmlops.drift(pd.DataFrame({'a':[1.0,2,3]}), pd.DataFrame({'a':[1.0,2,4]})); "
        "print(time.perf_counter()-t)"
    )
    print(f"import cmlops (fresh process, median of 5): {imp:.3f} s")
    print(f"import cmlops; cmlops.drift: {imp_drift:.3f} s")
    print(f"import cmlops + first drift() call on a tiny frame: {first_call:.3f} s")

    from cmlops.stats.drift import drift

    py = None if args.no_evidently else ensure_evidently()
    for n in args.sizes:
        data = make_data(n)
        ref, cur = frames(data)
        drift(ref.head(100), cur.head(100))  # warm imports outside the timing
        if args.exact_only:
            print(f"\nN = {n:,} rows per frame, 25 columns; load average {os.getloadavg()[0]:.1f}")
            exact_path(ref, cur, data, n, args.repeat)
            continue
        t_cm, res = timed(lambda r=ref, c=cur: drift(r, c), args.repeat)
        t_sp, pv = timed(lambda r=ref, c=cur: scipy_loop(r, c), args.repeat)
        t_lim, _ = timed(lambda d=data: single_pass_limit(d), args.repeat)
        c_cm, c_sp, c_lim = TIMES_CPU[-3:]
        raw = {c for c, p in pv.items() if p < 0.05}
        bonf = {c for c, p in pv.items() if p < 0.05 / len(pv)}
        found = set(res.drifted_columns)
        print(f"\nN = {n:,} rows per frame (reference and current), 25 columns; "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(
            f"  cmlops.drift (holm)     {t_cm:8.3f} s   (CPU {c_cm:.3f} s)   "
            f"flagged {sorted(found)}"
        )
        tests = sorted({c.test for c in res.columns})
        print(f"    tests used: {tests}; all injected found and no other: {found == DRIFTED}")
        print(f"  SciPy loop              {t_sp:8.3f} s   (CPU {c_sp:.3f} s)   "
              f"ratio {t_sp / t_cm:.1f}x wall, {c_sp / c_cm:.1f}x CPU")  # fmt: skip
        print(f"    flagged raw p<0.05: {len(raw)} ({len(raw - DRIFTED)} false), "
              f"Bonferroni: {len(bonf)} ({len(bonf - DRIFTED)} false)")  # fmt: skip
        print(f"  single-pass limit       {t_lim:8.3f} s   (CPU {c_lim:.3f} s)   "
              f"cmlops / limit {t_cm / t_lim:.1f}x")  # fmt: skip
        if n >= args.exact_from:
            exact_path(ref, cur, data, n, args.repeat)
        if py is not None:
            ev, why = run_evidently(py, data, n, args.evidently_timeout)
            if ev is None:
                print(f"  Evidently 0.7.23        {why}")
            else:
                t_ev = ev["seconds"]
                ok = set(ev["flagged"]) == DRIFTED
                print(f"  Evidently 0.7.23        {t_ev:8.3f} s   ratio {t_ev / t_cm:6.1f}x   "
                      f"flagged {ev['flagged']} (exact: {ok})")  # fmt: skip


if __name__ == "__main__":
    main()
