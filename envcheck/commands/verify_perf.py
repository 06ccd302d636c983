"""`envcheck verify --level 3`: measured performance beside the datasheet peak.

The host runs envcheck/inenv/perf_check.py with the TARGET interpreter (never importing torch itself),
parses its one JSON object, and judges the figures against configs/gpu_peaks.json (envcheck/gpupeaks.py).
It adds three checks and `data.performance`:

    perf-matmul            dense matmul TFLOPS per dtype (TF32/BF16/FP16 on tensor-core GPUs), CPU FP32 GFLOPS
    perf-memory-bandwidth  device copy kernel GB/s
    perf-host-device       pinned host<->device copy GB/s, each direction

A figure far below its peak (gpupeaks.LOW_FRACTION) is a WARNING in the check message and in
`data.performance.warnings`, never a failure. The checks fail only when the measurement itself could
not run (the child crashed, timed out, or printed no result). On a machine without a GPU the GPU
checks are skipped with the reason, and the CPU matmul still runs (about a second).
"""
from __future__ import annotations

import json
import tempfile
import time
from typing import Sequence

from envcheck.results import CheckResult
from envcheck.runner import Completed, Runner

PERF_TIMEOUT_S = 300.0
CHECKS = (("perf-matmul", "Matmul throughput vs datasheet"),
          ("perf-memory-bandwidth", "Device memory bandwidth vs datasheet"),
          ("perf-host-device", "Host<->device bandwidth (pinned) vs PCIe"))
_METRICS_OF = {"perf-matmul": ("matmul_tf32", "matmul_bf16", "matmul_fp16", "cpu_matmul_fp32"),
               "perf-memory-bandwidth": ("memory_bandwidth",),
               "perf-host-device": ("host_to_device", "device_to_host")}
METHOD = {
    "matmul": "C = A @ B, square N x N (N = 8192 on GPUs, 512 on CPU); FLOP = 2 N^3; TF32 = float32 with "
              "allow_tf32; BF16/FP16 operands accumulate in FP32",
    "memory_bandwidth": "dst.copy_(src) of a 1 GiB float32 buffer; bytes = read + written = 2 x 1 GiB",
    "host_device": "copy_ between a 256 MiB pinned host buffer and the device (non_blocking), each direction",
    "timing": "warm-up calls not timed; median over repeats of back-to-back calls; CUDA events after "
              "torch.cuda.synchronize() on GPUs, time.perf_counter() on CPU",
    "low_threshold": "a figure below 0.5 of the datasheet peak is a warning (envcheck/gpupeaks.py)",
}


def perf_argv(python: str, device: str, quick: bool = False) -> list[str]:
    from envcheck.inenv import script_path

    argv = [python, script_path("perf_check"), "--device", "cuda" if device == "cuda" else
            ("cpu" if device in ("cpu", "mps") else "auto")]
    return argv + (["--quick"] if quick else [])


def parse_perf_output(done: Completed) -> tuple[dict | None, str | None]:
    """The child's JSON object (its last JSON line) or (None, why)."""
    if done.timed_out or done.error:
        return None, done.describe_failure()
    for line in reversed((done.stdout or "").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                break
            if obj.get("ok"):
                return obj, None
            return None, obj.get("reason") or "the measurement reported a failure"
    tail = (done.stderr or "").strip().splitlines()[-1:] or [done.describe_failure() if not done.ok else "no output"]
    return None, f"no result from the measurement ({tail[0][:300]})"


def _fmt(fig: dict) -> str:
    if fig["status"] == "skipped":
        return f"{fig['name']}: skipped ({fig['note']})"
    if fig["measured"] is None:
        return f"{fig['name']}: not measured ({fig.get('note') or 'error'})"
    text = f"{fig['name']} {fig['measured']:g} {fig['unit']}"
    if fig.get("fraction") is not None:
        text += f" = {fig['fraction']:.0%} of {fig['peak']:g}" + (" LOW" if fig["status"] == "low" else "")
    return text


def _join(figs: list[dict]) -> str:
    """Figures in order; skipped ones sharing a reason are named once: 'TF32 matmul, BF16 matmul: skipped (...)'."""
    parts, skipped = [], {}
    for f in figs:
        if f["status"] == "skipped":
            skipped.setdefault(f["note"], []).append(f["name"])
        else:
            parts.append(_fmt(f))
    parts += [f"{', '.join(names)}: skipped ({why})" for why, names in skipped.items()]
    return "; ".join(parts)


def checks_from(judged: dict, seconds: float) -> list[CheckResult]:
    figs = {f["metric"]: f for f in judged["figures"]}
    warnings = judged["warnings"]
    where = f" ({judged['datasheet']['row']} datasheet)" if judged.get("datasheet") else ""
    out = []
    for check_id, name in CHECKS:
        mine = [figs[m] for m in _METRICS_OF[check_id] if m in figs]
        measured = [f for f in mine if f["measured"] is not None]
        errors = [f for f in mine if f["status"] == "error"]
        if not measured and errors:
            out.append(CheckResult(check_id, name, "fail", seconds, _join(mine),
                                   "rerun with `envcheck --debug verify --level 3`; a GPU out of memory means another "
                                   "process holds it (`nvidia-smi`)"))
        elif not measured:
            out.append(CheckResult(check_id, name, "skip", 0.0, _join(mine) or "nothing to measure"))
        else:
            low = [w for w in warnings if any(w.startswith(f["name"] + ":") for f in mine)]
            msg = _join(mine) + where
            if low:
                msg += ". WARNING: " + " ".join(low)
            out.append(CheckResult(check_id, name, "ok", seconds, msg))
    return out


def run_perf(python: str, device: str, runner: Runner, *, timeout: float = PERF_TIMEOUT_S,
             quick: bool = False) -> tuple[list[CheckResult], dict]:
    """Measure in the target interpreter and judge -> (the three checks, data.performance)."""
    from envcheck.gpupeaks import PeaksError, judge

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="envcheck-perf-") as cwd:
        done = runner.run(perf_argv(python, device, quick), timeout=timeout, cwd=cwd)
    seconds = round(time.monotonic() - start, 3)
    perf, why = parse_perf_output(done)
    if perf is None:
        checks = [CheckResult(cid, name, "fail", seconds, f"performance not measured: {why}",
                              "rerun with `envcheck --debug verify --level 3`") for cid, name in CHECKS]
        return checks, {"measured": None, "reason": why, "method": METHOD, "figures": [], "warnings": []}
    try:
        judged = judge(perf)
    except PeaksError as exc:  # a broken table must not hide the measurements
        judged = judge(perf, rows=())
        judged["warnings"].append(f"datasheet table unusable: {exc}")
    data = dict(judged, device=perf.get("device"), torch=perf.get("torch"), method=METHOD, raw=perf)
    return checks_from(judged, seconds), data


def render_performance(perf: dict | None) -> Sequence[str]:
    """Lines for the human report: one per figure, then the warnings."""
    if not perf:
        return []
    if perf.get("reason"):
        return [f"performance: not measured ({perf['reason']})"]
    lines = [f"performance on {perf.get('gpu') or perf.get('device') or 'this machine'}"
             + (f" vs the {perf['datasheet']['row']} datasheet" if perf.get("datasheet") else "") + ":"]
    lines += ["  " + _fmt(f) for f in perf.get("figures") or []]
    lines += ["  warning: " + w for w in perf.get("warnings") or []]
    return lines
