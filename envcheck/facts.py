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

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "name": self.name,
            "uuid": self.uuid,
            "memory_total_mib": self.memory_total_mib,
            "compute_capability": self.compute_capability,
            "pci_bus_id": self.pci_bus_id,
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
