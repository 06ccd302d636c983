"""Benchmark `envcheck --help` against the --help of a minimal two-command typer app.

Usage:  python benchmarks/bench_help.py [--runs 20] [--json] [--check]

The baseline app is written to a temporary file and run by the same interpreter, so both pay the same
Python and typer start-up; the difference is what envcheck adds. Runs alternate; the result is the
ratio of medians. Target (issue 2): <= 1.3 x. `--check` exits 1 above it.
envcheck has typer's shell completion options (--install-completion / --show-completion, issue 13);
the baseline keeps add_completion=False, so the comparison is the stricter one.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

from _timing import wall

TARGET_RATIO = 1.3

BASELINE = '''
import typer

app = typer.Typer(add_completion=False)


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def bye(name: str = "world") -> None:
    """Say bye."""
    print(f"bye {name}")


if __name__ == "__main__":
    app()
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true", help=f"exit 1 when the ratio exceeds {TARGET_RATIO}")
    args = ap.parse_args()
    env = dict(os.environ, COLUMNS="120")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "two_commands.py")
        with open(path, "w") as fh:
            fh.write(BASELINE)
        ours = [sys.executable, "-m", "envcheck", "--help"]
        base = [sys.executable, path, "--help"]
        wall(ours, env)
        wall(base, env)
        a, b = [], []
        for _ in range(args.runs):
            a.append(wall(ours, env))
            b.append(wall(base, env))
    ma, mb = statistics.median(a), statistics.median(b)
    ratio = ma / mb
    result = {"envcheck_help_median_s": round(ma, 4), "typer_two_command_median_s": round(mb, 4),
              "ratio": round(ratio, 3), "target_ratio": TARGET_RATIO, "runs": args.runs}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"envcheck --help          median {ma * 1000:6.0f} ms")
        print(f"typer two-command --help median {mb * 1000:6.0f} ms")
        print(f"ratio of medians         {ratio:.3f}  (target <= {TARGET_RATIO})")
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
