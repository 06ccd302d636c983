"""Benchmark `envcheck doctor --json` with the issue-10 accelerator probes against the code before them,
in the same run, on this machine (target: a machine with no accelerator stays within 1.1x).

Usage:  python benchmarks/bench_doctor_accelerators.py [--baseline-ref REF] [--runs 9] [--python PATH] [--json] [--check]

Baseline: `git archive REF envcheck configs` unpacked into a temporary directory and run with
`python -m envcheck` (default REF: the merge base with main, i.e. today's doctor); without git, the
baseline is this checkout with ENVCHECK_SKIP_VENDOR_PROBES=all. Both run alternately (new, old, new,
...) so both see the same machine state; the result is the ratio of median wall times.
The inspected interpreter defaults to this one; pass --python for one without torch to time the
"nothing installed" case.

Working directory: both run in an empty temporary directory. `python -m` puts the working directory
first on sys.path, before PYTHONPATH, so run from the repository root the "baseline" imported this
checkout's envcheck too and the ratio compared the new code with itself (about 1.0 whatever changed).

Bytecode: users run envcheck from cached bytecode. Both trees get the same private bytecode cache
(PYTHONPYCACHEPREFIX, PYTHONDONTWRITEBYTECODE dropped) written by a warm-up run, so neither pays for
compiling (a shell with PYTHONDONTWRITEBYTECODE=1 made every start recompile the tree that had no
__pycache__, and the ratio measured the compiler, not doctor).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from _timing import wall, wall_cpu

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.1


def q(samples: list[float], f: float) -> float:
    """The f-quantile (nearest rank below) of samples."""
    ordered = sorted(samples)
    return ordered[int(f * (len(ordered) - 1))]


def baseline_tree(ref: str, dest: Path) -> bool:
    try:
        blob = subprocess.run(["git", "-C", str(REPO), "archive", ref, "envcheck", "configs"], check=True,
                              capture_output=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-ref", default=None, help="git ref of the baseline (default: merge base with main)")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--python", default=sys.executable, help="interpreter doctor inspects")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true", help=f"exit 1 when the ratio exceeds {TARGET_RATIO}")
    args = ap.parse_args()

    ref = args.baseline_ref
    if ref is None:
        try:
            ref = subprocess.run(["git", "-C", str(REPO), "merge-base", "HEAD", "main"], check=True,
                                 capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            ref = None
    base_env = dict(os.environ, COLUMNS="120")
    for k in ("ENVCHECK_SKIP_VENDOR_PROBES", "PYTHONDONTWRITEBYTECODE"):
        base_env.pop(k, None)
    pyc = tempfile.mkdtemp(prefix="envcheck-bench-pyc-")
    base_env["PYTHONPYCACHEPREFIX"] = pyc
    new_env = dict(base_env, PYTHONPATH=str(REPO) + os.pathsep + base_env.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "envcheck", "doctor", "--json", "--python", args.python]
    with tempfile.TemporaryDirectory() as tmp:
        if ref and baseline_tree(ref, Path(tmp)):
            old_env, how = dict(base_env, PYTHONPATH=tmp), f"git archive {ref[:12]}"
        else:
            old_env, how = dict(new_env, ENVCHECK_SKIP_VENDOR_PROBES="all"), "ENVCHECK_SKIP_VENDOR_PROBES=all"
        cwd = os.path.join(tmp, "cwd")  # not the checkout: `-m` would import envcheck from there first
        os.mkdir(cwd)
        for env, want in ((new_env, str(REPO)), (old_env, tmp if how.startswith("git") else str(REPO))):
            where = subprocess.run([sys.executable, "-c", "import envcheck; print(envcheck.__file__)"], env=env, cwd=cwd,
                                   capture_output=True, text=True, timeout=60).stdout.strip()
            if not os.path.realpath(where).startswith(os.path.realpath(want) + os.sep):
                raise SystemExit(f"benchmark set-up error: envcheck imported from {where!r}, expected under {want}")
        for _ in range(2):  # warm the page cache and write both trees' bytecode
            wall(cmd, new_env, check=False, cwd=cwd)
            wall(cmd, old_env, check=False, cwd=cwd)
        new, old, new_cpu, old_cpu = [], [], [], []
        for _ in range(args.runs):
            for env, walls, cpus in ((new_env, new, new_cpu), (old_env, old, old_cpu)):
                w, c = wall_cpu(cmd, env, cwd=cwd)
                walls.append(w)
                cpus.append(c)
    shutil.rmtree(pyc, ignore_errors=True)
    mn, mo = statistics.median(new), statistics.median(old)
    ratio = mn / mo if mo else float("inf")
    # the spread: each side's quartiles, and the ratio of the per-pair times (new_i / old_i), whose
    # quartiles say how much of the median ratio is the machine's noise
    pairs = sorted(n / o for n, o in zip(new, old) if o)
    result = {"new_median_s": round(mn, 3), "baseline_median_s": round(mo, 3), "ratio": round(ratio, 3),
              "target_ratio": TARGET_RATIO, "runs": args.runs, "baseline": how, "python": args.python,
              "new_q1_q3_s": [round(q(new, 0.25), 3), round(q(new, 0.75), 3)],
              "baseline_q1_q3_s": [round(q(old, 0.25), 3), round(q(old, 0.75), 3)],
              "pair_ratio_q1_median_q3": [round(q(pairs, 0.25), 3), round(statistics.median(pairs), 3),
                                          round(q(pairs, 0.75), 3)],
              # CPU time (user + system, children included): the work done, far less moved by other
              # load on a shared machine than wall time; the target stays on wall time
              "new_cpu_median_s": round(statistics.median(new_cpu), 3),
              "baseline_cpu_median_s": round(statistics.median(old_cpu), 3),
              "cpu_ratio": round(statistics.median(new_cpu) / statistics.median(old_cpu), 3) if statistics.median(old_cpu) else None}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"doctor with accelerator probes: {mn:.3f} s median; baseline ({how}): {mo:.3f} s; "
              f"ratio {ratio:.3f} (target <= {TARGET_RATIO}); per-pair ratio quartiles "
              f"{result['pair_ratio_q1_median_q3']}, {args.runs} runs each; CPU {result['new_cpu_median_s']:.3f} s vs "
              f"{result['baseline_cpu_median_s']:.3f} s (ratio {result['cpu_ratio']})")
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
