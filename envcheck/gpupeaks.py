"""Measured performance beside the datasheet peak (`verify --level 3`). PURE over data.

configs/gpu_peaks.json holds, per GPU, DENSE tensor TFLOPS (TF32, BF16, FP16 with FP32 accumulate),
memory bandwidth and the host PCIe generation, each row citing its sources. `judge()` turns the
figures measured by envcheck/inenv/perf_check.py into rows {metric, measured, peak, fraction, status}
and a warning with the likely causes when a figure is far below its peak.

Thresholds (a fraction of the datasheet peak below which a figure is "low"): 0.5 for every metric.
Why 0.5: a dense cuBLAS GEMM of 8192^3 usually reaches well above half of the dense tensor peak on a
healthy GPU, a device copy kernel 70-90 % of the HBM/GDDR peak, and pinned PCIe copies 70-90 % of the
link's raw rate; half of the peak is far enough below normal that clocks, power caps, a narrow PCIe
link or another process are the likely cause, not measurement noise. A low figure is a WARNING, never
a failure: the environment still works.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from envcheck.errors import Msg

PEAKS_FILE = "gpu_peaks.json"
LOW_FRACTION = {"matmul": 0.5, "memory": 0.5, "host": 0.5}
# PCIe raw rate per lane (GT/s) and 128b/130b encoding (Gen3+): x16, one direction, GB/s (PCI-SIG).
PCIE_GTS = {3: 8.0, 4: 16.0, 5: 32.0, 6: 64.0}

METRICS = {
    # key from perf_check -> (kind, row field, human name)
    "matmul_tf32": ("matmul", "tf32", "TF32 matmul"),
    "matmul_bf16": ("matmul", "bf16", "BF16 matmul"),
    "matmul_fp16": ("matmul", "fp16", "FP16 matmul"),
    "memory_bandwidth": ("memory", "memory_gbs", "device memory bandwidth (copy)"),
    "host_to_device": ("host", "pcie_gen", "host-to-device copy (pinned)"),
    "device_to_host": ("host", "pcie_gen", "device-to-host copy (pinned)"),
    "cpu_matmul_fp32": ("cpu", None, "CPU FP32 matmul"),
}

CAUSES = {
    "matmul": Msg("GPU clocks held down (thermal or power-brake throttling: `envcheck doctor` shows gpu-throttled), "
                  "a lowered power cap (`nvidia-smi -q -d POWER`), or another process using the GPU (`nvidia-smi`)"),
    "memory": Msg("memory clocks held down (throttling, power cap), or another process using the GPU's memory "
                  "bandwidth (`nvidia-smi`)"),
    "host": Msg("a PCIe link running below its generation or width (`envcheck doctor`: gpu-pcie-link-degraded; "
                "`nvidia-smi -q -d PCIE`), the GPU behind a switch or on the far CPU socket (NUMA), or another "
                "process copying over the same link"),
}


class PeaksError(ValueError):
    """configs/gpu_peaks.json is malformed: the message names the row and what is wrong."""


def pcie_x16_gbs(gen: int | None) -> float | None:
    """One direction of a x16 link: Gen3 15.75, Gen4 31.5, Gen5 63.0 GB/s (GT/s x 16 x 128/130 / 8)."""
    if gen not in PCIE_GTS:
        return None
    return round(PCIE_GTS[gen] * 16 * 128 / 130 / 8, 2)


def validate(doc: dict, where: str = PEAKS_FILE) -> list[dict]:
    if not isinstance(doc, dict) or not isinstance(doc.get("gpus"), list):
        raise PeaksError(f"{where}: expected an object with a 'gpus' list")
    sources = doc.get("sources") or {}
    rows = []
    for i, row in enumerate(doc["gpus"]):
        label = f"{where}: gpus[{i}]" + (f" ({row.get('name')})" if isinstance(row, dict) else "")
        if not isinstance(row, dict) or not row.get("name") or not row.get("match"):
            raise PeaksError(f"{label}: needs 'name' and 'match'")
        try:
            re.compile(row["match"])
        except re.error as exc:
            raise PeaksError(f"{label}: 'match' is not a regular expression ({exc})") from None
        for key in ("tf32", "bf16", "fp16", "memory_gbs"):
            v = row.get(key)
            if v is not None and (not isinstance(v, (int, float)) or v <= 0):
                raise PeaksError(f"{label}: '{key}' must be a positive number or null, not {v!r}")
        if row.get("pcie_gen") is not None and row["pcie_gen"] not in PCIE_GTS:
            raise PeaksError(f"{label}: 'pcie_gen' must be one of {sorted(PCIE_GTS)}")
        cited = row.get("source") or []
        if not cited or any(k not in sources for k in cited):
            raise PeaksError(f"{label}: every row cites keys of 'sources' (got {cited!r})")
        rows.append(row)
    return rows


@lru_cache(maxsize=4)
def load_peaks(path: str | None = None) -> tuple[dict, ...]:
    from envcheck.gputable import config_path

    p = Path(path) if path else config_path(PEAKS_FILE)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PeaksError(f"{p}: cannot read ({exc})") from None
    return tuple(validate(doc, str(p)))


def peak_row(device_name: str | None, rows=None) -> dict | None:
    """The first row whose `match` finds the torch device name ('NVIDIA H100 80GB HBM3'), else None."""
    if not device_name:
        return None
    for row in rows if rows is not None else load_peaks():
        if re.search(row["match"], device_name, re.IGNORECASE):
            return row
    return None


def judge(perf: dict, rows=None) -> dict:
    """perf_check's result -> {"gpu", "datasheet", "figures": [...], "warnings": [...]}.

    Each figure: {metric, name, measured, unit, peak, peak_unit, fraction, threshold, status, note}, status
    "ok" | "low" | "no-peak" (no datasheet value) | "skipped" | "error". A "low" figure adds a warning
    naming the likely causes."""
    name = perf.get("name")
    row = peak_row(name, rows) if name else None
    figures, warnings = [], []
    metrics = perf.get("metrics") or {}
    for key, (kind, field, human) in METRICS.items():
        m = metrics.get(key)
        if m is None:
            if key in (perf.get("skipped") or {}):
                figures.append({"metric": key, "name": human, "measured": None, "unit": None, "peak": None,
                                "fraction": None, "status": "skipped", "note": perf["skipped"][key]})
            continue
        value = m.get("value")
        fig = {"metric": key, "name": human, "measured": round(value, 2) if value is not None else None,
               "unit": m.get("unit"), "peak": None, "fraction": None, "threshold": LOW_FRACTION.get(kind),
               "status": "error" if value is None else "no-peak", "note": m.get("error")}
        if value is not None and kind != "cpu":
            if row is None:
                fig["note"] = (Msg("no datasheet row for {name!r} in configs/gpu_peaks.json", name=name) if name
                               else Msg("no GPU name"))
            else:
                peak = pcie_x16_gbs(row.get("pcie_gen")) if kind == "host" else row.get(field)
                if peak is None:
                    fig["note"] = Msg("no {field} value in the {row} row (not in the sources read)", field=field,
                                      row=row["name"])
                else:
                    if kind == "host":
                        fig["note"] = Msg("peak: PCIe Gen{gen} x16, one direction", gen=row["pcie_gen"])
                    fig["peak"] = peak
                    fig["fraction"] = round(value / peak, 3)
                    low = fig["fraction"] < LOW_FRACTION[kind]
                    fig["status"] = "low" if low else "ok"
                    if low:
                        warnings.append(Msg(
                            "{name}: {value:.1f} {unit} is {fraction:.0%} of the {row} datasheet peak ({peak:g}), "
                            "below {threshold:.0%}. Likely causes: {causes}.", name=human, value=value,
                            unit=m.get("unit"), fraction=fig["fraction"], row=row["name"], peak=peak,
                            threshold=LOW_FRACTION[kind], causes=CAUSES[kind]))
        elif kind == "cpu" and value is not None:
            fig["status"] = "ok"
            fig["note"] = Msg("CPU: no datasheet peak is compared")
        figures.append(fig)
    return {"gpu": name, "capability": perf.get("capability"),
            "datasheet": ({"row": row["name"], "source": list(row["source"])} if row else None),
            "figures": figures, "warnings": warnings}
