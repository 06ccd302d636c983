"""Frozen facts shared by probes, the resolver and diagnose. Every decided value records its source."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Source(str, Enum):
    """Where a value came from (JSON: `"source"`)."""

    NVML = "nvml"
    NVIDIA_SMI = "nvidia-smi"
    SYSFS = "sysfs"
    PROCFS = "procfs"
    OVERRIDE = "override"  # ENVCHECK_OVERRIDE_DRIVER / ENVCHECK_OVERRIDE_CUDA
    FLAG = "flag"  # a command-line option
    ENV = "env"  # an environment variable such as VIRTUAL_ENV
    PATH = "path"  # found on PATH
    INTERPRETER = "interpreter"  # reported by the target interpreter itself
    CONFIG = "config"  # a configuration file (.condarc, pip.conf)
    DEFAULT = "default"


# CPU architecture names -> the two PyTorch publishes wheels for. ONE home for doctor (data.system.arch),
# install (--arch and the host default) and the Apple probe: macOS says "arm64", Windows "AMD64".
ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "x86-64": "x86_64",
                "aarch64": "aarch64", "arm64": "aarch64", "armv8": "aarch64"}


def normalize_arch(text: str | None) -> str | None:
    """'arm64' -> 'aarch64', 'AMD64' -> 'x86_64'; an architecture without PyTorch wheels -> None (pure)."""
    return ARCH_ALIASES.get((text or "").strip().lower())


def host_arch(machine: str | None = None) -> "Sourced":
    """This machine's CPU architecture from platform.machine(), normalized by normalize_arch (an
    unknown one is kept as reported, with the reason)."""
    import platform

    raw = machine if machine is not None else platform.machine()
    arch = normalize_arch(raw)
    if arch is None:
        return Sourced(raw or None, "platform.machine" if raw else None,
                       f"platform.machine() reports {raw!r}, for which PyTorch publishes no wheels" if raw else "unknown")
    return Sourced(arch, "platform.machine", None if arch == raw else f"platform.machine() reports {raw!r}")


@dataclass(frozen=True)
class GpuInfo:
    """One NVIDIA GPU as the driver sees it (NVML or nvidia-smi ordering, i.e. PCI bus order)."""

    index: int
    name: str | None = None
    uuid: str | None = None
    memory_total_mib: int | None = None
    compute_capability: str | None = None  # "9.0"
    pci_bus_id: str | None = None
    # where compute_capability came from: "nvml", "nvidia-smi", or "table:<row>" (configs/nvidia_gpus.json)
    compute_capability_source: str | None = field(default=None, compare=False)
    mig_mode: bool | None = None  # MIG enabled on this GPU (NVML nvmlDeviceGetMigMode / nvidia-smi -q)
    mig_devices: tuple[str, ...] = ()  # MIG instances: "MIG 1g.10gb (MIG-...)"
    virtualization: str | None = None  # "none" | "pass-through" | "vgpu" | "host-vgpu" | "host-vsga"
    health: "GpuHealth | None" = field(default=None, compare=False)  # issue 11: ECC, remapping, clocks, PCIe

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "name": self.name,
            "uuid": self.uuid,
            "memory_total_mib": self.memory_total_mib,
            "compute_capability": self.compute_capability,
            "pci_bus_id": self.pci_bus_id,
        }


# NVML clock event reason bits (nvmlClocksEventReason*, same values as the older nvmlClocksThrottleReason*):
# https://docs.nvidia.com/deploy/nvml-api/group__nvmlClocksEventReasons.html
CLOCK_EVENT_BITS: dict[str, int] = {
    "gpu_idle": 0x1,
    "applications_clocks_setting": 0x2,
    "sw_power_cap": 0x4,
    "hw_slowdown": 0x8,
    "sync_boost": 0x10,
    "sw_thermal_slowdown": 0x20,
    "hw_thermal_slowdown": 0x40,
    "hw_power_brake_slowdown": 0x80,
    "display_clock_setting": 0x100,
}
# The reasons that mean "slowed down by a fault or a limit": thermal, power brake, hardware slowdown.
# Idle, application/display clocks, sync boost and the software power cap (a GPU at its power limit
# under full load) are normal operation and never make a finding.
THROTTLE_BITS = ("hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown", "sw_thermal_slowdown")


@dataclass(frozen=True)
class GpuHealth:
    """One NVIDIA GPU's health counters (doctor's `data.gpus[].health`). None: not reported (the GPU
    lacks the feature, or the driver refused the query); `reasons` says which reads failed.

    `source` is where the values came from: "nvml", "nvidia-smi" (the --query-gpu CSV) or
    "nvidia-smi -q" (the human report, for drivers that refuse the CSV fields)."""

    source: str | None = None
    ecc_enabled: bool | None = None
    ecc_uncorrected_volatile: int | None = None  # since the driver loaded
    ecc_uncorrected_aggregate: int | None = None  # lifetime (kept in the InfoROM)
    retired_pages_pending: bool | None = None  # pre-Ampere dynamic page retirement waiting for a reset
    row_remap_pending: bool | None = None  # Ampere+ row remapping waiting for a reset
    row_remap_failure: bool | None = None
    row_remap_uncorrectable: int | None = None
    clock_event_mask: int | None = None  # NVML bitmask, see CLOCK_EVENT_BITS
    pcie_gen_current: int | None = None
    pcie_gen_max: int | None = None  # the max of this GPU in this system (the slot may cap it)
    pcie_gen_device_max: int | None = None  # the GPU's own max
    pcie_width_current: int | None = None
    pcie_width_max: int | None = None
    persistence_mode: bool | None = None
    utilization_gpu: int | None = None  # percent
    reasons: tuple[str, ...] = ()

    def clock_events(self) -> tuple[str, ...]:
        if self.clock_event_mask is None:
            return ()
        return tuple(n for n, bit in CLOCK_EVENT_BITS.items() if self.clock_event_mask & bit)

    def throttle_reasons(self) -> tuple[str, ...]:
        return tuple(n for n in self.clock_events() if n in THROTTLE_BITS)

    @property
    def busy(self) -> bool | None:
        """Work is running now (GPU utilization > 0 %); None: not reported. The idle clock reason is not
        used: an idle H100 reports it "Not Active" (tests/fixtures/h100-driver580/nvidia-smi-q.txt)."""
        return None if self.utilization_gpu is None else self.utilization_gpu > 0

    def link_degraded(self) -> str | None:
        """Why the PCIe link runs below what it can, or None. Links drop speed (and may drop width) when
        the GPU is not in use ("These may be reduced when the GPU is not in use", nvidia-smi
        --help-query-gpu on pcie.link.gen.current/width.current), so a link is judged degraded only
        (1) when the slot caps it: max generation in this system < the GPU's own max; or (2) when it runs
        below max while in its active state: the GPU is busy, or the generation already is at its max
        (the idle downshift lowers the speed first) yet the width is narrower."""
        gc, gm, gd = self.pcie_gen_current, self.pcie_gen_max, self.pcie_gen_device_max
        wc, wm = self.pcie_width_current, self.pcie_width_max
        if gm is not None and gd is not None and gm < gd:
            return f"the slot or platform caps the link at PCIe Gen {gm}; the GPU supports Gen {gd}"
        slow_gen = gc is not None and gm is not None and gc < gm
        narrow = wc is not None and wm is not None and wc < wm
        active = bool(self.busy) or (gc is not None and gm is not None and gc >= gm)
        if not active or not (slow_gen or narrow):
            return None
        parts = []
        if slow_gen:
            parts.append(f"Gen {gc} of {gm}")
        if narrow:
            parts.append(f"x{wc} of x{wm} lanes")
        state = "while the GPU is busy" if self.busy else "at full link speed"
        return f"the link runs at {' and '.join(parts)} {state}"

    def to_dict(self) -> dict:
        mask = self.clock_event_mask
        return {
            "source": self.source,
            "ecc": {"enabled": self.ecc_enabled, "uncorrected_volatile": self.ecc_uncorrected_volatile,
                    "uncorrected_aggregate": self.ecc_uncorrected_aggregate},
            "retired_pages": {"pending": self.retired_pages_pending},
            "row_remap": {"pending": self.row_remap_pending, "failure": self.row_remap_failure,
                          "uncorrectable_rows": self.row_remap_uncorrectable},
            "clocks": {"event_mask": f"0x{mask:016x}" if mask is not None else None,
                       "active": list(self.clock_events()), "throttled_by": list(self.throttle_reasons())},
            "pcie": {"gen_current": self.pcie_gen_current, "gen_max": self.pcie_gen_max,
                     "gen_device_max": self.pcie_gen_device_max, "width_current": self.pcie_width_current,
                     "width_max": self.pcie_width_max},
            "persistence_mode": self.persistence_mode,
            "utilization_gpu_percent": self.utilization_gpu,
            "busy": self.busy,
            "pcie_link_degraded": self.link_degraded(),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class NvidiaFacts:
    """The NVIDIA driver and GPUs.

    `driver_version` is e.g. "580.159.04"; `cuda` the newest CUDA the driver supports, e.g. "13.0".
    A missing value is None and `reasons` says why in human words (never "N/A" strings).
    `mismatch` is True when NVML or nvidia-smi reported a driver/library version mismatch.
    """

    driver_version: str | None = None
    cuda: str | None = None
    source: Source | None = None
    gpus: tuple[GpuInfo, ...] = ()
    reasons: tuple[str, ...] = ()
    mismatch: bool = False
    overrides: tuple[str, ...] = ()  # names of ENVCHECK_OVERRIDE_* variables in effect
    cuda_source: Source | None = None  # where `cuda` came from when it differs from `source`
    pci_devices: tuple[str, ...] = ()  # PCI addresses with vendor 0x10de (NVIDIA) seen in sysfs
    gpus_source: Source | None = None  # where `gpus` came from (NVML or nvidia-smi)

    @property
    def has_driver(self) -> bool:
        return self.driver_version is not None

    def _cuda_source_value(self) -> str | None:
        src = self.cuda_source or (self.source if self.cuda else None)
        return src.value if src else None

    def driver_dict(self) -> dict:
        return {
            "version": self.driver_version,
            "cuda": self.cuda,
            "source": self.source.value if self.source else None,
            "cuda_source": self._cuda_source_value(),
            "reasons": list(self.reasons),
            "overrides": list(self.overrides),
            "mismatch": self.mismatch,
        }


@dataclass(frozen=True)
class Accelerator:
    """One accelerator of any vendor, as doctor's `data.accelerators` lists it.

    `arch` is the vendor's kernel target: CUDA compute capability "7.0" (NVIDIA), gfx target
    "gfx90a" (AMD), device id family (Intel), "mps" (Apple). `driver` is the kernel driver's version;
    `runtime` the user-space stack (CUDA the driver supports, ROCm version, Level Zero...). `source`
    says where the device was found; `arch_source` where its arch came from when that differs.
    """

    vendor: str  # "nvidia" | "amd" | "intel" | "apple"
    index: int
    name: str | None = None
    arch: str | None = None
    memory_total_mib: int | None = None
    driver: str | None = None
    runtime: str | None = None
    source: str | None = None
    arch_source: str | None = None
    kind: str = "gpu"  # "gpu" | "mig" (a MIG instance) | "vgpu"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "vendor": self.vendor, "index": self.index, "name": self.name, "arch": self.arch,
            "memory_total_mib": self.memory_total_mib, "driver": self.driver, "runtime": self.runtime,
            "source": self.source, "arch_source": self.arch_source, "kind": self.kind,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class VendorFacts:
    """What one vendor probe found: its accelerators, the runtime it saw, and why values are missing."""

    vendor: str
    accelerators: tuple[Accelerator, ...] = ()
    runtime: str | None = None  # "ROCm 6.2.4", "Level Zero", "MPS"
    runtime_source: str | None = None
    reasons: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"vendor": self.vendor, "accelerators": [a.to_dict() for a in self.accelerators],
                "runtime": self.runtime, "runtime_source": self.runtime_source,
                "reasons": list(self.reasons), **({"extra": self.extra} if self.extra else {})}


@dataclass(frozen=True)
class Interpreter:
    """The Python interpreter a command targets, and how it was chosen."""

    path: str
    source: Source
    why: str  # e.g. "active virtualenv (VIRTUAL_ENV)"
    version: str | None = None  # "3.11.7", filled by whoever asked the interpreter
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sourced:
    """One reported value with where it came from, or None with the human reason it is missing."""

    value: object = None
    source: str | None = None  # a Source value or a file path such as "/etc/os-release"
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"value": self.value, "source": self.source, "reason": self.reason}
