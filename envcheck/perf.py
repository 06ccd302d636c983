"""`envcheck verify --level 3`: measured performance beside the datasheet peak.

verify_suite.py's level-3 checks, one of each per device, measure with the functions of
envcheck/inenv/perf_check.py inside the TARGET interpreter and send the raw figures to the host in their
end event ("perf"):

    perf-matmul:N            dense matmul TFLOPS per dtype (TF32/BF16/FP16 on tensor-core GPUs); CPU FP32 GFLOPS
    perf-memory-bandwidth:N  device copy kernel GB/s
    perf-host-device:N       pinned host<->device copy GB/s, each direction

The host (this module) merges them per device, judges them against configs/gpu_peaks.json
(envcheck/gpupeaks.py), rewrites the checks' messages with the fractions, and returns
`data.performance`. A figure far below its peak (gpupeaks.LOW_FRACTION) is a WARNING in the check
message and in `data.performance.warnings`, never a failure: a check fails only when its measurement
could not run at all. Without a GPU the CPU matmul runs (about a second) and the GPU checks are skipped
with the reason. The same measurements run standalone: `PYTHON envcheck/inenv/perf_check.py --device cuda`.
"""
from __future__ import annotations

from typing import Sequence

from envcheck.errors import Msg, joined
from envcheck.results import CheckResult

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


def _fmt(fig: dict) -> str:
    if fig["status"] == "skipped":
        return Msg("{name}: skipped ({note})", name=fig["name"], note=fig["note"])
    if fig["measured"] is None:
        return Msg("{name}: not measured ({note})", name=fig["name"], note=fig.get("note") or Msg("error"))
    if fig.get("fraction") is not None:
        return Msg("{name} {measured:g} {unit} = {fraction:.0%} of {peak:g}{low}", name=fig["name"],
                   measured=fig["measured"], unit=fig["unit"], fraction=fig["fraction"], peak=fig["peak"],
                   low=Msg(" LOW") if fig["status"] == "low" else "")
    return f"{fig['name']} {fig['measured']:g} {fig['unit']}"


def _join(figs: list[dict]) -> str:
    """Figures in order; skipped ones sharing a reason are named once: 'TF32 matmul, BF16 matmul: skipped (...)'."""
    parts, skipped = [], {}
    for f in figs:
        if f["status"] == "skipped":
            skipped.setdefault(f["note"], []).append(f["name"])
        else:
            parts.append(_fmt(f))
    parts += [Msg("{name}: skipped ({note})", name=", ".join(names), note=why) for why, names in skipped.items()]
    return joined(parts)


def render_performance(perf: dict | None) -> Sequence[str]:
    """Lines for the human report: per device, one line per figure, then the warnings. Takes either one
    judged device (run_perf) or the suite's {"devices": [...]} (judge_events)."""
    if not perf:
        return []
    from envcheck.i18n import tr
    from envcheck.i18n import translate as _

    if perf.get("reason"):
        return [_("performance: not measured ({reason})").format(reason=tr(perf["reason"]))]
    lines = []
    for d in perf.get("devices") or [perf]:
        where = d.get("gpu") or d.get("device") or _("this machine")
        if d.get("gpu") and d.get("device"):
            where = f"{where} ({d['device']})"
        if d.get("datasheet"):
            lines.append(_("performance on {where} vs the {row} datasheet:").format(where=where, row=d["datasheet"]["row"]))
        else:
            lines.append(_("performance on {where}:").format(where=where))
        lines += ["  " + tr(_fmt(f)) for f in d.get("figures") or [] if f["status"] != "skipped"]
        skipped = [f for f in d.get("figures") or [] if f["status"] == "skipped"]
        if skipped:
            lines.append("  " + tr(_join(skipped)))
        lines += ["  " + _("warning: ") + tr(w) for w in d.get("warnings") or []]
    return lines


# ------------------------------------------------------------------ level 3 inside the verify suite
# verify_suite.py's perf-* checks (level 3, one per device) send their raw figures in the end event
# ("perf"); the host merges them per device, judges them against the datasheet and rewrites the checks'
# messages with the fractions (status unchanged: a low figure is a warning, never a failure).

def merge_perf_events(perf_by_check: dict) -> dict:
    """{check id: perf record from the suite} -> {device: perf_check-shaped dict}."""
    devices: dict = {}
    for _, rec in sorted(perf_by_check.items()):
        if not isinstance(rec, dict) or not rec.get("device"):
            continue
        d = devices.setdefault(rec["device"], {"device": rec["device"], "name": None, "capability": None,
                                               "metrics": {}, "skipped": {}})
        d["name"] = d["name"] or rec.get("name")
        d["capability"] = d["capability"] or rec.get("capability")
        d["metrics"].update(rec.get("metrics") or {})
        d["skipped"].update(rec.get("skipped") or {})
    return devices


def judge_events(perf_by_check: dict, rows=None) -> dict | None:
    """data.performance for a suite run: {"devices": [judged per device], "warnings": [...], "method"}."""
    from envcheck.gpupeaks import PeaksError, judge

    devices = merge_perf_events(perf_by_check)
    if not devices:
        return None
    out, warnings = [], []
    for dev, perf in devices.items():
        try:
            j = judge(perf, rows)
        except PeaksError as exc:
            j = judge(perf, rows=())
            j["warnings"].append(Msg("datasheet table unusable: {error}", error=str(exc)))
        j["device"] = dev
        out.append(j)
        warnings += [f"{dev}: {w}" for w in j["warnings"]]
    return {"devices": out, "warnings": warnings, "method": METHOD}


def annotate_checks(checks: Sequence[CheckResult], performance: dict | None) -> list[CheckResult]:
    """perf-* checks get the figures beside the datasheet ('BF16 matmul 712 TFLOPS = 72% of 989.5') and,
    for a low figure, 'WARNING: ... Likely causes: ...'; other checks and statuses are unchanged."""
    if not performance:
        return list(checks)
    by_device = {d["device"]: d for d in performance["devices"]}
    out = []
    for c in checks:
        base, _, suffix = c.id.partition(":")
        if base not in _METRICS_OF or c.status != "ok":
            out.append(c)
            continue
        dev = "cpu" if suffix in ("", "cpu") else f"cuda:{suffix}"
        j = by_device.get(dev)
        if j is None:
            out.append(c)
            continue
        mine = [f for f in j["figures"] if f["metric"] in _METRICS_OF[base] and f["status"] != "skipped"]
        low = [w for w in j["warnings"] if any(w.startswith(f["name"] + ":") for f in mine)]
        where = Msg(" ({row} datasheet)", row=j["datasheet"]["row"]) if j.get("datasheet") else ""
        msg = Msg("{device}: {figures}{where}{warning}", device=dev, figures=_join(mine), where=where,
                  warning=Msg(". WARNING: {warnings}", warnings=joined(low, " ")) if low else "")
        out.append(CheckResult(c.id, c.name, c.status, c.duration_s, msg, c.fix))
    return out
