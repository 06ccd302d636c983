"""Benchmark `envcheck install`: loading + resolving the matrix, and the whole command.

Usage:  python benchmarks/bench_install.py [--runs 30] [--configs DIR] [--json] [--check]

Measures, all in one run so the numbers share one machine state:
1. warm: load_matrix (uncached: read + parse + validate three JSON files) + resolve, in this process;
2. cold: a fresh interpreter importing envcheck.matrix/resolve, loading and resolving (what one
   `envcheck install` pays for the decision), timed inside that interpreter;
3. the whole command `envcheck install --python 3.7 --cpu --json` against a bare `python -c pass`,
   as the ratio of medians and the difference in milliseconds.
4. issue 8: warm load+resolve with the generated configs/wheels.json against the same configs without
   it (a copy in a temporary directory), interleaved in one loop; the ratio of medians must stay
   within 1.2x.
5. with `--baseline-ref REF` (e.g. the commit before a change): the cold measurement of 2. for that
   commit's envcheck/ and configs/ (`git archive`), interleaved with this checkout's, as the ratio of
   medians of wall and of CPU time (issue 8: within 1.2x of the resolver before the generated file).
`--check` exits 1 when the cold load+resolve median exceeds the 50 ms budget of issue 3, or the
wheels.json ratio exceeds 1.2.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import wall

REPO = Path(__file__).resolve().parent.parent
BUDGET_MS = 50.0
WHEELS_RATIO_BUDGET = 1.2

COLD = r"""
import sys, time
t0 = time.perf_counter()
c0 = time.process_time()
from envcheck.matrix import load_matrix
from envcheck.resolve import ResolveRequest, resolve
m = load_matrix(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None)
resolve(ResolveRequest(python="3.7", os="linux", cpu_only=True), m)
print((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
"""


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "min_ms": round(ordered[0], 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "runs": len(ordered),
    }


def _baseline_tree(ref: str) -> str | None:
    """`git archive REF envcheck configs` unpacked into a temporary directory (None: not a usable ref)."""
    import io
    import tarfile

    try:
        blob = subprocess.run(["git", "-C", str(REPO), "archive", ref, "envcheck", "configs"], check=True,
                              capture_output=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        print(f"baseline {ref!r}: git archive failed; no baseline comparison", file=sys.stderr)
        return None
    dest = tempfile.mkdtemp(prefix="envcheck-bench-base-")
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest)
    return dest


def _time_cmd(argv: list[str], runs: int, env: dict) -> list[float]:
    return [wall(argv, env) * 1000 for _ in range(runs)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--configs", default=None, help="configs directory (default: the shipped one)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--baseline-ref", default=None, help="git ref whose cold import+load+resolve to compare with")
    ap.add_argument("--check", action="store_true", help=f"exit 1 if cold load+resolve median > {BUDGET_MS:.0f} ms")
    args = ap.parse_args()

    from envcheck import matrix as matrix_mod
    from envcheck.resolve import ResolveRequest, resolve

    configs = Path(args.configs) if args.configs else matrix_mod.default_config_dir()
    if not (configs / "torch_releases.json").is_file():
        print(f"no matrix at {configs}", file=sys.stderr)
        return 2
    request = ResolveRequest(python="3.7", os="linux", cpu_only=True)
    gpu_request = ResolveRequest(python="3.7", os="linux", driver=matrix_mod.Version("535.104.05"), gpu_ccs=("8.6",))

    warm = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        m = matrix_mod._load.__wrapped__(str(configs))  # bypass the cache: read + parse + validate
        resolve(request, m)
        resolve(gpu_request, m)
        warm.append((time.perf_counter() - t0) * 1000)
    m = matrix_mod.load_matrix(configs)

    # with vs without the generated wheel facts, interleaved so both see the same machine state
    bare_dir = Path(tempfile.mkdtemp(prefix="envcheck-bench-configs-"))
    for name in matrix_mod.FILES:
        if (configs / name).is_file():
            shutil.copy(configs / name, bare_dir / name)
    requests = [request, gpu_request,
                ResolveRequest(python="3.12", os="macos", arch="x86_64"),
                ResolveRequest(python="3.12", os="linux", arch="aarch64", driver=matrix_mod.Version("580.65.06"), gpu_ccs=("9.0",))]
    with_wheels, without_wheels = [], []
    for _ in range(args.runs):
        for target, samples in ((configs, with_wheels), (bare_dir, without_wheels)):
            t0 = time.perf_counter()
            mm = matrix_mod._load.__wrapped__(str(target))
            for req in requests:
                resolve(req, mm)
            samples.append((time.perf_counter() - t0) * 1000)
    shutil.rmtree(bare_dir, ignore_errors=True)
    wheels_ratio = round(statistics.median(with_wheels) / statistics.median(without_wheels), 3)

    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    # An installed envcheck runs from cached bytecode; with PYTHONDONTWRITEBYTECODE set (as on some
    # CI/dev shells) every start recompiles every module. Cache bytecode in a private directory so
    # the numbers are what a user gets, and warm that cache once before timing.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="envcheck-bench-pyc-")
    envcheck = str(Path(sys.executable).parent / "envcheck")
    command = [envcheck, "install", "--python", "3.7", "--cpu", "--json"]
    subprocess.run([sys.executable, "-c", COLD, ""], capture_output=True, env=env, check=False)
    subprocess.run(command, capture_output=True, env=env, check=False)
    cold = []
    cold_cpu = []
    base = _baseline_tree(args.baseline_ref) if args.baseline_ref else None
    base_cold, base_cpu = [], []
    if base is not None:  # both trees' bytecode written before timing
        subprocess.run([sys.executable, "-c", COLD, ""], capture_output=True, env=dict(env, PYTHONPATH=base), check=False)
    for _ in range(args.runs):
        done = subprocess.run([sys.executable, "-c", COLD, str(configs) if args.configs else ""],
                              capture_output=True, text=True, env=env, check=True)
        wall_ms, cpu_ms = (float(x) for x in done.stdout.split())
        cold.append(wall_ms)
        cold_cpu.append(cpu_ms)
        if base is not None:
            done = subprocess.run([sys.executable, "-c", COLD, ""], capture_output=True, text=True,
                                  env=dict(env, PYTHONPATH=base), check=True, cwd=base)
            wall_ms, cpu_ms = (float(x) for x in done.stdout.split())
            base_cold.append(wall_ms)
            base_cpu.append(cpu_ms)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)

    bare = _time_cmd([sys.executable, "-c", "pass"], args.runs, env)
    whole = _time_cmd(command, args.runs, env)
    helps = _time_cmd([envcheck, "--help"], args.runs, env)

    report = {
        "configs": str(configs),
        "releases": len(m.releases),
        "variants": len(m.variants),
        "warm_load_resolve": _stats(warm),
        "cold_import_load_resolve": _stats(cold),
        "bare_python": _stats(bare),
        "envcheck_install_cpu_json": _stats(whole),
        "envcheck_help": _stats(helps),
        "install_vs_bare_python_ratio": round(statistics.median(whole) / statistics.median(bare), 2),
        "install_minus_bare_python_ms": round(statistics.median(whole) - statistics.median(bare), 1),
        "load_resolve_with_wheels_json": _stats(with_wheels),
        "load_resolve_without_wheels_json": _stats(without_wheels),
        "wheels_json_ratio": wheels_ratio,
        "wheels_json_ratio_budget": WHEELS_RATIO_BUDGET,
        "wheels_json_within_budget": wheels_ratio <= WHEELS_RATIO_BUDGET,
        "budget_ms": BUDGET_MS,
        "within_budget": statistics.median(cold) <= BUDGET_MS,
        "cold_cpu_ms_median": round(statistics.median(cold_cpu), 2),
        "python": sys.version.split()[0],
        "bytecode_cache": env["PYTHONPYCACHEPREFIX"],
    }
    if base_cold:
        report["baseline"] = {
            "ref": args.baseline_ref,
            "cold_import_load_resolve": _stats(base_cold),
            "cold_cpu_ms_median": round(statistics.median(base_cpu), 2),
            "cold_wall_ratio": round(statistics.median(cold) / statistics.median(base_cold), 3),
            "cold_cpu_ratio": round(statistics.median(cold_cpu) / statistics.median(base_cpu), 3),
        }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"matrix: {report['releases']} releases, {report['variants']} variants ({configs})")
        for key in ("warm_load_resolve", "cold_import_load_resolve", "load_resolve_with_wheels_json",
                    "load_resolve_without_wheels_json", "bare_python", "envcheck_install_cpu_json", "envcheck_help"):
            s = report[key]
            print(f"{key:28s} median {s['median_ms']:8.2f} ms   min {s['min_ms']:8.2f}   p90 {s['p90_ms']:8.2f}   (n={s['runs']})")
        print(f"install / bare python: {report['install_vs_bare_python_ratio']}x "
              f"(+{report['install_minus_bare_python_ms']} ms); load+resolve budget {BUDGET_MS:.0f} ms: "
              f"{'ok' if report['within_budget'] else 'EXCEEDED'}")
        print(f"load+resolve with wheels.json / without: {wheels_ratio}x (budget {WHEELS_RATIO_BUDGET}x: "
              f"{'ok' if report['wheels_json_within_budget'] else 'EXCEEDED'})")
        if base_cold:
            b = report["baseline"]
            print(f"cold import+load+resolve vs {args.baseline_ref}: median {report['cold_import_load_resolve']['median_ms']} ms "
                  f"vs {b['cold_import_load_resolve']['median_ms']} ms (wall ratio {b['cold_wall_ratio']}); CPU "
                  f"{report['cold_cpu_ms_median']} ms vs {b['cold_cpu_ms_median']} ms (ratio {b['cold_cpu_ratio']})")
    ok = report["within_budget"] and report["wheels_json_within_budget"]
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
