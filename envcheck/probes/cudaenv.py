"""CUDA_VISIBLE_DEVICES / CUDA_DEVICE_ORDER as set, what they resolve to, and near-miss names.

The rules follow CUDA's documented behaviour and PyTorch's mirror of it:
- a comma-separated sequence of GPU ordinals or UUIDs (`GPU-...`, `MIG-...`; a unique UUID prefix
  including `GPU-` is enough); only those GPUs are visible, enumerated in that order.
  https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#cuda-environment-variables
  https://docs.nvidia.com/deploy/mps/ (CUDA_VISIBLE_DEVICES section: UUID prefixes)
- parsing stops at the first invalid entry (a negative number, an ordinal >= the GPU count, a
  non-number): only the entries before it are visible; so empty or `-1` hides every GPU.
- each ordinal is read like strtoul (`1gpu` is 1) and a repeated entry makes the set empty.
  torch/cuda/__init__.py `_parse_visible_devices` and `_device_count_amdsmi`/`_device_count_nvml`;
  https://github.com/pytorch/pytorch/pull/84879
- CUDA_DEVICE_ORDER: FASTEST_FIRST (default) or PCI_BUS_ID; nvidia-smi numbers GPUs in PCI bus
  order, so ordinals agree with nvidia-smi only under PCI_BUS_ID (or on identical GPUs).
Pure: everything takes the environment and the GPU list as arguments.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from envcheck.errors import Msg
from envcheck.facts import GpuInfo

VISIBLE = "CUDA_VISIBLE_DEVICES"
ORDER = "CUDA_DEVICE_ORDER"
KNOWN = {VISIBLE, ORDER}
# Real variables that look like near misses but mean something else.
LEGIT = {
    "NVIDIA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL",
    "CUDA_MPS_PIPE_DIRECTORY", "CUDA_MODULE_LOADING", "CUDA_LAUNCH_BLOCKING", "CUDA_CACHE_PATH",
    "CUDA_CACHE_DISABLE", "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT", "CUDA_DEVICE_MAX_CONNECTIONS",
    "ZE_AFFINITY_MASK", "ONEAPI_DEVICE_SELECTOR",
}


@dataclass(frozen=True)
class VisibleResolution:
    """What CUDA_VISIBLE_DEVICES leaves visible. `visible` holds nvidia-smi indices (or raw UUID /
    MIG strings that could not be matched); `stopped_at` the first entry that ended parsing."""

    raw: str | None
    is_set: bool
    entries: tuple[str, ...] = ()
    visible: tuple[object, ...] = ()
    stopped_at: str | None = None
    stop_reason: str | None = None
    hides_all: bool = False
    out_of_range: tuple[int, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict:
        return {
            "raw": self.raw,
            "is_set": self.is_set,
            "entries": list(self.entries),
            "visible": list(self.visible),
            "stopped_at": self.stopped_at,
            "stop_reason": self.stop_reason,
            "hides_all": self.hides_all,
            "out_of_range": list(self.out_of_range),
            "note": self.note,
        }


@dataclass(frozen=True)
class CudaEnvFacts:
    visible_devices: VisibleResolution
    device_order: str | None
    device_order_valid: bool
    typos: tuple[tuple[str, str, str], ...] = ()  # (name as set, value, the name meant)

    def to_dict(self) -> dict:
        return {
            "CUDA_VISIBLE_DEVICES": {"value": self.visible_devices.raw, "source": "env" if self.visible_devices.is_set else None,
                                     "resolution": self.visible_devices.to_dict()},
            "CUDA_DEVICE_ORDER": {"value": self.device_order, "source": "env" if self.device_order is not None else None,
                                  "valid": self.device_order_valid,
                                  "effective": self.device_order if self.device_order_valid and self.device_order else "FASTEST_FIRST"},
            "near_misses": [{"name": n, "value": v, "meant": m} for n, v, m in self.typos],
        }


def strtoul(text: str) -> int:
    """The leading integer of `text` like C's strtoul as CUDA reads it; -1 when there is none."""
    text = text.strip()
    digits = ""
    for i, ch in enumerate(text):
        if ch.isdigit() or (i == 0 and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return -1


def resolve_visible_devices(raw: str | None, gpus: Sequence[GpuInfo]) -> VisibleResolution:
    """Apply CUDA's rules to `raw` against the GPUs the driver reports (pure)."""
    if raw is None:
        return VisibleResolution(None, False, visible=tuple(g.index for g in gpus))
    entries = tuple(e.strip() for e in raw.split(","))
    count = len(gpus)
    visible: list[object] = []
    stopped_at = stop_reason = None
    out_of_range: list[int] = []
    note = None
    if raw.strip() == "":
        return VisibleResolution(raw, True, entries, (), "", "empty value hides every GPU", hides_all=True)
    if entries[0].startswith(("GPU-", "MIG-")):
        for e in entries:
            if not e.startswith(("GPU-", "MIG-")):
                stopped_at, stop_reason = e, Msg("not a UUID: parsing stops here")
                break
            if e.startswith("MIG-"):
                visible.append(e)
                note = "MIG instances cannot be matched to GPUs here; listed as given"
                continue
            matches = [g.index for g in gpus if g.uuid and g.uuid.lower().startswith(e.lower())]
            if gpus and len(matches) != 1:
                stopped_at = e
                stop_reason = Msg("matches no GPU") if not matches else Msg("UUID prefix matches several GPUs")
                break
            if matches and matches[0] in visible:
                return VisibleResolution(raw, True, entries, (), e, "repeated entry: no GPU is visible", hides_all=True)
            visible.append(matches[0] if matches else e)
    else:
        for e in entries:
            n = strtoul(e)
            if n < 0:
                stopped_at = e
                stop_reason = Msg("negative or not a number: parsing stops here")
                break
            if n in visible:
                return VisibleResolution(raw, True, entries, (), e, "repeated ordinal: no GPU is visible", hides_all=True)
            if gpus and n >= count:
                stopped_at = e
                stop_reason = Msg("ordinal {n} >= GPU count {count}: parsing stops here", n=n, count=count)
                out_of_range.append(n)
                break
            visible.append(n)
    hides_all = not visible
    return VisibleResolution(raw, True, entries, tuple(visible), stopped_at, stop_reason, hides_all,
                             tuple(out_of_range), note)


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def find_near_misses(environ: Mapping[str, str]) -> tuple[tuple[str, str, str], ...]:
    """Variables set whose name is a near miss of CUDA_VISIBLE_DEVICES / CUDA_DEVICE_ORDER (a typo,
    wrong case, a missing S): CUDA silently ignores them. -> ((name, value, meant), ...)."""
    out = []
    for name, value in environ.items():
        if name in KNOWN or name in LEGIT:
            continue
        upper = name.upper().strip()
        for meant in (VISIBLE, ORDER):
            if upper == meant or (abs(len(upper) - len(meant)) <= 2 and _distance(upper, meant) <= 2):
                out.append((name, value, meant))
                break
    return tuple(sorted(out))


def probe_cuda_env(environ: Mapping[str, str], gpus: Sequence[GpuInfo]) -> CudaEnvFacts:
    order = environ.get(ORDER)
    return CudaEnvFacts(
        visible_devices=resolve_visible_devices(environ.get(VISIBLE), gpus),
        device_order=order,
        device_order_valid=order is None or order in ("FASTEST_FIRST", "PCI_BUS_ID"),
        typos=find_near_misses(environ),
    )
