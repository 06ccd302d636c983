"""Benchmark `envcheck install --execute`: how much of the time is envcheck, how much pip/venv/verify.

Usage:  python benchmarks/bench_install_execute.py [--runs 1] [--plan-runs 10] [--compare] [--json]

All in one run so the numbers share one machine state:
1. planning: `install --execute ... --dry-run` as a whole process (start-up, resolve, interpreter
   discovery and its probes): the fixed cost envcheck adds before any tool runs (median of --plan-runs);
2. the real loop, --runs times: a venv made by /usr/bin/python3.11 (or python3.11 on PATH), torch
   2.13.0 pip-installed from the local CPU wheel (the find-links directory pip is configured with),
   ipykernel + a kernel in a temporary JUPYTER_DATA_DIR, the verification suite. The process's wall
   time is split with the command's own JSON `timing`: tools per step, envcheck inside the command,
   and the process start-up (wall minus the command's time);
3. with --compare, the same work done by hand (`python3.11 -m venv`, `pip install`, `pip install
   ipykernel`, `ipykernel install`, the verify suite) for the difference envcheck makes end to end.
`--check` exits 1 when envcheck's share (in-command + start-up) exceeds 10 % of the wall time.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ENVCHECK = str(Path(sys.executable).parent / "envcheck")
SHARE_BUDGET = 0.10


def _python311() -> str:
    for candidate in ("/usr/bin/python3.11", shutil.which("python3.11")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("needs a python3.11 interpreter")


def _wheel_dir() -> str:
    from envcheck.commands.install_execute import find_links_from_pip_config

    for candidate in find_links_from_pip_config():
        if "://" not in candidate and any(Path(candidate).glob("torch-2.13.0+cpu-*.whl")):
            return candidate
    raise SystemExit("no find-links directory with torch-2.13.0+cpu in pip's configuration")


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONDA", "MAMBA", "JUPYTER_", "ENVCHECK_", "VIRTUAL_ENV"))}
    env.update(ENVCHECK_LOG_DIR=str(tmp / "logs"), JUPYTER_DATA_DIR=str(tmp / "jupyter"), ENVCHECK_DISABLE_NVML="1")
    return env


def _args(py: str, prefix: Path, wheels: str) -> list[str]:
    return [ENVCHECK, "install", "--execute", "--backend", "venv", "--torch", "2.13.0", "--cpu", "--python", py,
            "--prefix", str(prefix), "--kernel", "bench", "--only", "torch", "--find-links", wheels, "--yes",
            "--json"]


def plan_cost(py: str, wheels: str, runs: int) -> dict:
    samples = []
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        args = _args(py, Path(tmp) / "t", wheels)
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([*args, "--dry-run"], env=_env(Path(tmp)), capture_output=True, check=True)
            samples.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(samples), 3), "min_s": round(min(samples), 3), "runs": runs}


def one_loop(py: str, wheels: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-exec-") as tmp:
        t0 = time.perf_counter()
        done = subprocess.run(_args(py, Path(tmp) / "t", wheels), env=_env(Path(tmp)), capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"install --execute failed ({done.returncode}):\n{done.stderr[-2000:]}")
        timing = json.loads(done.stdout)["data"]["timing"]
    startup = max(wall - timing["wall_s"], 0.0)
    own = timing["envcheck_s"] + startup
    return {
        "process_wall_s": round(wall, 3),
        "command_wall_s": timing["wall_s"],
        "tools_s": timing["tools_s"],
        "by_step": timing["by_step"],
        "envcheck_in_command_s": timing["envcheck_s"],
        "startup_s": round(startup, 3),
        "envcheck_total_s": round(own, 3),
        "envcheck_share": round(own / wall, 4),
    }


def by_hand(py: str, wheels: str) -> dict:
    """The same work as plain commands, no envcheck: the baseline a careful user would type."""
    from envcheck.inenv import script_path

    with tempfile.TemporaryDirectory(prefix="bench-hand-") as tmp:
        env = _env(Path(tmp))
        prefix = Path(tmp) / "t"
        vpy = str(prefix / "bin" / "python")
        steps = {
            "create": [py, "-m", "venv", str(prefix)],
            "install": [vpy, "-m", "pip", "install", "torch==2.13.0", "--find-links", wheels],
            "ipykernel": [vpy, "-m", "pip", "install", "--find-links", wheels, "ipykernel"],
            "kernel": [vpy, "-m", "ipykernel", "install", "--name", "bench", "--display-name", "bench", "--user"],
            "verify": [vpy, script_path("verify_suite"), "--device", "cpu", "--timeout", "120"],
        }
        out = {}
        t_all = time.perf_counter()
        for name, argv in steps.items():
            t0 = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True, check=True, cwd=tmp)
            out[name] = round(time.perf_counter() - t0, 3)
        out["total_s"] = round(time.perf_counter() - t_all, 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="real loops (each ~40 s on a 2-core machine)")
    ap.add_argument("--plan-runs", type=int, default=10)
    ap.add_argument("--compare", action="store_true", help="also do the same work by hand")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true", help=f"exit 1 if envcheck's share > {SHARE_BUDGET:.0%}")
    opts = ap.parse_args()

    py, wheels = _python311(), _wheel_dir()
    result = {"python": py, "find_links": wheels, "plan": plan_cost(py, wheels, opts.plan_runs),
              "loops": [one_loop(py, wheels) for _ in range(opts.runs)]}
    if opts.compare:
        result["by_hand"] = by_hand(py, wheels)
    share = max(loop["envcheck_share"] for loop in result["loops"])
    if opts.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"planning (--dry-run, whole process): median {result['plan']['median_s']:.2f} s "
              f"over {result['plan']['runs']} runs")
        for i, loop in enumerate(result["loops"], 1):
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in loop["by_step"].items())
            print(f"loop {i}: {loop['process_wall_s']:.1f} s = tools {loop['tools_s']:.1f} s ({steps})"
                  f" + envcheck {loop['envcheck_total_s']:.2f} s (in-command {loop['envcheck_in_command_s']:.2f} s,"
                  f" start-up {loop['startup_s']:.2f} s) = {loop['envcheck_share']:.1%} envcheck")
        if opts.compare:
            h = result["by_hand"]
            best = min(loop["process_wall_s"] for loop in result["loops"])
            print("by hand: " + ", ".join(f"{k} {v:.1f} s" for k, v in h.items() if k != "total_s")
                  + f" = {h['total_s']:.1f} s; envcheck --execute {best:.1f} s ({best - h['total_s']:+.1f} s)")
    if opts.check and share > SHARE_BUDGET:
        print(f"FAIL: envcheck's share {share:.1%} > {SHARE_BUDGET:.0%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
