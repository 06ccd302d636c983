"""Shared by the benchmark scripts (run as `python benchmarks/bench_*.py`, so this is importable)."""
from __future__ import annotations

import resource
import subprocess
import time
from typing import Mapping, Sequence


def wall(argv: Sequence[str], env: Mapping[str, str] | None = None, *, check: bool = False,
         cwd: str | None = None) -> float:
    """Seconds one run of `argv` takes, output discarded. With check, a failing run aborts the benchmark
    (a failure is not a timing)."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=dict(env) if env is not None else None, check=False, timeout=600, cwd=cwd)
    elapsed = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise SystemExit(f"benchmark command failed with status {proc.returncode}: {' '.join(argv)}")
    return elapsed


def wall_cpu(argv: Sequence[str], env: Mapping[str, str] | None = None, *, cwd: str | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `argv`, output discarded. CPU is user + system time of
    the command and every child it waited for (the target interpreter, nvidia-smi...): on a shared,
    loaded machine it moves far less than wall time, so it says whether a change did less work."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=dict(env) if env is not None else None, check=False, timeout=600, cwd=cwd)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):  # doctor exits 1 when it finds problems: still a timing
        raise SystemExit(f"benchmark command failed with status {proc.returncode}: {' '.join(argv)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu
