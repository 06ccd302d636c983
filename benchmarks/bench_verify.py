"""Benchmark: the whole CPU verify suite vs a bare `python -c "import torch"` in the same env.

Target (issue 4): `envcheck verify` costs at most 1.5 x a bare torch import. Both are run in one go,
interleaved (bare, verify, suite-only, bare, verify, ...) so machine load affects them alike, and the
ratio of medians is reported. "verify" is the full CLI as a user runs it (envcheck's own start-up,
the host process, the suite child); "suite" is the child script alone.

    .venv/bin/python benchmarks/bench_verify.py [--python PATH] [--runs 7] [--limit 1.5] [--level 1]

The limit applies to level 1 (the default suite, issue 9 keeps it at 1.5 x with the companion,
multi-GPU and pairing checks added); --level 2 is measured for information.

Exit status 1 when the ratio exceeds --limit. Never imports torch itself.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from _timing import wall

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from envcheck.inenv import script_path  # noqa: E402


def _time(argv: list[str]) -> float:
    return wall(argv, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter with torch (default: this one)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--limit", type=float, default=1.5)
    parser.add_argument("--level", type=int, default=1, choices=(1, 2))
    args = parser.parse_args()

    envcheck = os.path.join(os.path.dirname(sys.executable), "envcheck")
    cli = [envcheck] if os.path.exists(envcheck) else [sys.executable, "-m", "envcheck"]
    commands = {
        "bare_import": [args.python, "-c", "import torch"],
        "verify_cli": cli + ["verify", "--json", "--python", args.python, "--level", str(args.level)],
        "suite_only": [args.python, script_path("verify_suite")],
    }
    for argv in commands.values():  # warm the page cache once; not counted
        _time(argv)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            times[name].append(_time(argv))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["verify_cli"] / med["bare_import"]
    ratio_suite = med["suite_only"] / med["bare_import"]
    for name in commands:
        print(f"{name:12} median {med[name]:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in times[name])})")
    print(f"ratio verify_cli / bare_import = {ratio:.2f}  (limit {args.limit})")
    print(f"ratio suite_only / bare_import = {ratio_suite:.2f}")
    print(json.dumps({"medians_s": med, "ratio": round(ratio, 3), "ratio_suite_only": round(ratio_suite, 3),
                      "runs": args.runs, "limit": args.limit, "python": args.python, "level": args.level}))
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
