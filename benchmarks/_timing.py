"""Shared by the benchmark scripts (run as `python benchmarks/bench_*.py`, so this is importable)."""
from __future__ import annotations

import subprocess
import time
from typing import Mapping, Sequence


def wall(argv: Sequence[str], env: Mapping[str, str] | None = None, *, check: bool = False) -> float:
    """Seconds one run of `argv` takes, output discarded. With check, a failing run aborts the benchmark
    (a failure is not a timing)."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=dict(env) if env is not None else None, check=False, timeout=600)
    elapsed = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise SystemExit(f"benchmark command failed with status {proc.returncode}: {' '.join(argv)}")
    return elapsed
