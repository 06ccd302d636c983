"""`envcheck fleet report PATH...`: N per-node `doctor --json` reports -> one drift table.

Typical input: `srun --nodes=64 --ntasks-per-node=1 sh -c 'envcheck doctor --json > reports/$(hostname).json'`
then `envcheck fleet report reports/`. For every field that should match across a fleet (OS, kernel,
driver, driver CUDA, GPU model and count, Python, torch version and build, torchvision, NCCL, and each
finding code), the majority value and each node that differs. Nodes with error findings come first.

Exit codes: 0 every node agrees and none has an error finding; 1 drift or error findings; 2 a report
could not be read (each one named in `errors`; the readable ones are still compared).
The pure parts (`node_from_report`, `compare`) take plain dicts so tests and the benchmark call them directly.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any, Iterable, Sequence

from envcheck.errors import EnvcheckError, ExitCode, Msg
from envcheck.results import Result

COMMAND = "fleet report"

# (field, human label) in table order; values come from `node_fields`
FIELDS = (
    ("os", "OS"),
    ("kernel", "kernel"),
    ("driver", "NVIDIA driver"),
    ("driver_cuda", "driver CUDA"),
    ("gpu_model", "GPU model"),
    ("gpu_count", "GPU count"),
    ("python", "Python"),
    ("torch", "torch"),
    ("torch_build", "torch build"),
    ("torchvision", "torchvision"),
    ("nccl", "NCCL (nvidia-nccl wheel)"),
)
FINDING_PREFIX = "finding:"


def _value(obj: Any) -> Any:
    """doctor's sourced values are {value, source, reason}; plain values pass through."""
    return obj.get("value") if isinstance(obj, dict) else obj


def node_fields(data: dict) -> dict[str, Any]:
    """The comparable fields of one doctor `data` object (pure). None where doctor had no value."""
    system = data.get("system") or {}
    driver = data.get("driver") or {}
    gpus = [g for g in data.get("gpus") or [] if isinstance(g, dict)]
    torch = data.get("torch") or {}
    python = data.get("python") or {}
    wheels = torch.get("nvidia_wheels") or {}
    nccl = next((v for k, v in sorted(wheels.items()) if k.startswith("nvidia-nccl")), None)
    if torch.get("installed"):
        build = torch.get("build") or ("cuda" if torch.get("cuda") else "rocm" if torch.get("hip") else "cpu")
        build = f"{build} {torch.get('cuda') or torch.get('hip') or ''}".strip()
    else:
        build = None
    models = sorted({str(g.get("name")) for g in gpus if g.get("name")})
    return {
        "os": _value(system.get("os")),
        "kernel": _value(system.get("kernel")),
        "driver": driver.get("version"),
        "driver_cuda": driver.get("cuda"),
        "gpu_model": ", ".join(models) if models else None,
        "gpu_count": len(gpus),
        "python": _value(python.get("version")),
        "torch": torch.get("version") if torch.get("installed") else None,
        "torch_build": build,
        "torchvision": (torch.get("packages") or {}).get("torchvision"),
        "nccl": nccl,
    }


def node_from_report(obj: Any, source: str) -> dict:
    """One parsed JSON file -> a node record (pure). Raises ValueError when it is not a doctor report."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    if "envcheck_result_version" in obj:
        if obj.get("command") != "doctor":
            raise ValueError(f"a `{obj.get('command')}` result, not `doctor --json`")
        data = obj.get("data")
    else:
        data = obj  # the bare data object
    if not isinstance(data, dict) or not isinstance(data.get("system"), dict):
        raise ValueError("not an `envcheck doctor --json` report (no data.system)")
    name = _value(data["system"].get("hostname"))
    findings = [f for f in data.get("findings") or [] if isinstance(f, dict) and f.get("code")]
    codes: dict[str, str] = {}
    for f in findings:  # a code's worst severity on this node
        sev = str(f.get("severity") or "info")
        if f["code"] not in codes or _rank(sev) < _rank(codes[f["code"]]):
            codes[f["code"]] = sev
    return {
        "node": str(name) if name else os.path.splitext(os.path.basename(source))[0],
        "file": source,
        "fields": node_fields(data),
        "findings": codes,
        "errors": sorted(c for c, s in codes.items() if s == "error"),
        "warnings": sorted(c for c, s in codes.items() if s == "warning"),
        "anonymized": bool(data.get("anonymized")),
    }


def _rank(severity: str) -> int:
    return {"error": 0, "warning": 1, "info": 2}.get(severity, 3)


def _majority(values: Sequence[Any]) -> Any:
    """The most common value; a tie goes to the value seen first (nodes are in name order)."""
    counts = Counter(json.dumps(v, sort_keys=True) for v in values)
    best = max(counts.values())
    for v in values:
        if counts[json.dumps(v, sort_keys=True)] == best:
            return v
    return None


def compare(nodes: Sequence[dict]) -> list[dict]:
    """Drift rows `{field, label, majority, count, outliers: [{node, value}]}` for every field (pure).

    Finding codes become fields `finding:<code>` whose value is the code's severity on a node, or None
    where the node does not have it. Rows without outliers are kept (the table shows what agrees too).
    """
    names = [n["node"] for n in nodes]
    rows = []
    columns = [(f, label, [n["fields"].get(f) for n in nodes]) for f, label in FIELDS]
    codes = sorted({c for n in nodes for c in n["findings"]})
    columns += [(FINDING_PREFIX + c, c, [n["findings"].get(c) for n in nodes]) for c in codes]
    for field, label, values in columns:
        majority = _majority(values) if values else None
        outliers = [{"node": name, "value": v} for name, v in zip(names, values) if v != majority]
        rows.append({"field": field, "label": label, "majority": majority,
                     "count": len(values) - len(outliers), "outliers": outliers})
    return rows


def _unique_names(nodes: list[dict]) -> None:
    """Two reports from one host (or one host name twice): tell them apart by file."""
    seen = Counter(n["node"] for n in nodes)
    for n in nodes:
        if seen[n["node"]] > 1:
            n["node"] = f"{n['node']} ({n['file']})"


def expand_paths(paths: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Files as given, directories -> their *.json files (sorted, not recursive); missing -> unreadable."""
    files, bad = [], []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".json"))
            if not found:
                bad.append((p, "a directory without .json files"))
            files += found
        elif os.path.exists(p):
            files.append(p)
        else:
            bad.append((p, "no such file or directory"))
    return files, bad


def load(path: str) -> dict:
    """Read one report file -> node record. Raises ValueError with a one-line reason."""
    try:
        with open(path, "rb") as fh:
            obj = json.loads(fh.read())
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nested too deeply
        raise ValueError(f"not valid JSON ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    return node_from_report(obj, path)


def run(paths: Sequence[str]) -> Result:
    if not paths:
        raise EnvcheckError(Msg("no reports given"), hint=Msg("pass files or directories of `envcheck doctor --json` output"))
    files, bad = expand_paths(paths)
    nodes = []
    for path in files:
        try:
            nodes.append(load(path))
        except ValueError as exc:
            bad.append((path, str(exc)))
    nodes.sort(key=lambda n: (n["node"], n["file"]))
    _unique_names(nodes)
    drift_rows = compare(nodes)
    drift = [{"field": r["field"], "majority": r["majority"], "outliers": r["outliers"]}
             for r in drift_rows if r["outliers"]]
    nodes.sort(key=lambda n: (0 if n["errors"] else 1, n["node"]))  # nodes with error findings first
    with_errors = [n["node"] for n in nodes if n["errors"]]
    errors = tuple(EnvcheckError(Msg("cannot read {path}: {why}", path=path, why=why), code="unreadable-report",
                                 hint=Msg("pass the output of `envcheck doctor --json`, one file per node"))
                   for path, why in bad)
    if errors:
        code = ExitCode.USAGE
    elif drift or with_errors:
        code = ExitCode.PROBLEMS
    else:
        code = ExitCode.OK
    data = {
        "nodes": [{"node": n["node"], "file": n["file"], "errors": n["errors"], "warnings": n["warnings"],
                   "fields": n["fields"], "findings": n["findings"]} for n in nodes],
        "drift": drift,
        "fields": drift_rows,
        "summary": {"nodes": len(nodes), "unreadable": len(bad), "drifting_fields": len(drift),
                    "nodes_with_errors": len(with_errors), "uniform": not drift,
                    "healthy": not with_errors},
        "unreadable": [{"path": p, "reason": why} for p, why in bad],
    }
    return Result(command=COMMAND, exit_code=code, data=data, errors=errors)
