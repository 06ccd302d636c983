"""Benchmark `envcheck fleet report` over 1,000 generated per-node reports, against a baseline that only
json-loads the same files (same run, same page cache).

Usage:  python benchmarks/bench_fleet.py [--nodes 1000] [--runs 5] [--json] [--check]

The reports are generated from ONE real `envcheck doctor --json` of this machine (run once here): each
copy gets its own host name, and every 50th node an older driver, every 97th another torch, every 211th
an extra error finding (synthetic variations of a real report, so the drift table has work to do).
Both commands are whole processes (interpreter start included), run alternately; the result is the
median wall time of `fleet report --json DIR` (target, issue 11: under 2 s for 1,000 reports) and its
ratio to the json-load baseline. `--check` exits 1 when the median exceeds 2 s.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import wall

TARGET_S = 2.0
BASELINE = ("import json, os, sys\n"
            "d = sys.argv[1]\n"
            "docs = [json.load(open(os.path.join(d, f))) for f in sorted(os.listdir(d)) if f.endswith('.json')]\n"
            "print(len(docs))\n")


def generate(envelope: dict, directory: str, nodes: int) -> None:
    for i in range(nodes):
        doc = copy.deepcopy(envelope)
        data = doc["data"]
        data["system"]["hostname"] = {"value": f"node{i:04d}", "source": "socket.gethostname", "reason": None}
        if i % 50 == 7:
            data["driver"]["version"] = "535.104.05"
        if i % 97 == 3 and data["torch"].get("installed"):
            data["torch"]["version"] = "2.12.0+cpu"
        if i % 211 == 5:
            data["findings"] = list(data["findings"]) + [{"code": "driver-too-old-for-torch-cuda", "severity": "error",
                                                          "message": "synthetic", "fix": None}]
        with open(os.path.join(directory, f"node{i:04d}.json"), "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--check", action="store_true", help=f"exit 1 when the median exceeds {TARGET_S} s")
    ap.add_argument("--envcheck", help="how to start envcheck (default: the console script next to this interpreter)")
    args = ap.parse_args()

    env = dict(os.environ, COLUMNS="120")
    script = Path(sys.executable).parent / "envcheck"
    if args.envcheck:
        envcheck = shlex.split(args.envcheck)
    elif script.exists():
        envcheck = [str(script)]
    else:
        envcheck = [sys.executable, "-m", "envcheck"]
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    doctor = subprocess.run([*envcheck, "doctor", "--json"], capture_output=True, text=True, env=env, timeout=300)
    envelope = json.loads(doctor.stdout)
    with tempfile.TemporaryDirectory(prefix="envcheck-bench-fleet-") as d:
        generate(envelope, d, args.nodes)
        fleet = [*envcheck, "fleet", "report", "--json", d]
        base = [sys.executable, "-c", BASELINE, d]
        check = subprocess.run(fleet, capture_output=True, text=True, env=env, timeout=300)
        out = json.loads(check.stdout)
        assert out["data"]["summary"]["nodes"] == args.nodes, out["data"]["summary"]
        wall(base, env)
        f, b = [], []
        for _ in range(args.runs):
            f.append(wall(fleet, env))
            b.append(wall(base, env))
    mf, mb = statistics.median(f), statistics.median(b)
    result = {
        "fleet_median_s": round(mf, 3),
        "json_load_median_s": round(mb, 3),
        "ratio": round(mf / mb, 3) if mb else None,
        "target_s": TARGET_S,
        "nodes": args.nodes,
        "drifting_fields": out["data"]["summary"]["drifting_fields"],
        "runs": args.runs,
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"envcheck fleet report ({args.nodes} reports)  median {mf * 1000:7.0f} ms  (target < {TARGET_S:g} s)")
        print(f"json.load of the same files     median {mb * 1000:7.0f} ms")
        print(f"ratio of medians                {result['ratio']}")
    return 1 if args.check and mf > TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
