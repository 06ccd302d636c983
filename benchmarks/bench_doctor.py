"""Benchmark `envcheck doctor` against PyTorch's own `python -m torch.utils.collect_env`, same env.

Usage:  python benchmarks/bench_doctor.py [--python PATH] [--runs 7] [--json] [--check]

Both commands inspect the same interpreter (default: this one, which must have torch). They run
alternately (doctor, collect_env, doctor, ...) so both see the same machine state; the result is the
ratio of median wall times. Target (issue 2): doctor <= 0.2 x collect_env. `--check` exits 1 above it.
`--human` times the rich report instead of `--json`.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
from pathlib import Path

from _timing import wall

TARGET_RATIO = 0.2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch to inspect")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--human", action="store_true", help="time the human report instead of --json")
    ap.add_argument("--check", action="store_true", help=f"exit 1 when the ratio exceeds {TARGET_RATIO}")
    ap.add_argument("--envcheck", help="how to start envcheck (default: the console script next to this "
                    "interpreter, else `python -m envcheck` from this checkout)")
    args = ap.parse_args()

    env = dict(os.environ, COLUMNS="120")
    script = Path(sys.executable).parent / "envcheck"
    if args.envcheck:
        envcheck = shlex.split(args.envcheck)
    elif script.exists():
        envcheck = [str(script)]
    else:  # an uninstalled checkout (the GPU smoke machine)
        envcheck = [sys.executable, "-m", "envcheck"]
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    doctor = [*envcheck, "doctor", "--python", args.python] + ([] if args.human else ["--json"])
    collect = [args.python, "-m", "torch.utils.collect_env"]
    wall(doctor, env)  # warm the page cache for both
    wall(collect, env)
    d, c = [], []
    for _ in range(args.runs):
        d.append(wall(doctor, env))
        c.append(wall(collect, env))
    md, mc = statistics.median(d), statistics.median(c)
    ratio = md / mc if mc else float("inf")
    result = {
        "doctor_median_s": round(md, 3),
        "collect_env_median_s": round(mc, 3),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "runs": args.runs,
        "doctor_argv": doctor,
        "python": args.python,
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"envcheck doctor      median {md * 1000:7.0f} ms  (min {min(d) * 1000:.0f})")
        print(f"torch collect_env    median {mc * 1000:7.0f} ms  (min {min(c) * 1000:.0f})")
        print(f"ratio of medians     {ratio:.3f}  (target <= {TARGET_RATIO})")
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
