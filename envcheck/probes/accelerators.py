"""The registry of vendor accelerator probes and the one accelerator list doctor reports.

Adding a vendor = a new probe module with `probe_<vendor>(runner, environ) -> VendorFacts` and a row
in VENDOR_PROBES (plus its data rows in configs/); doctor runs every row concurrently with its other
probes and lists the result in `data.accelerators`. NVIDIA stays in probes/nvidia.py (its facts feed
the CUDA checks) and is converted here.

ENVCHECK_SKIP_VENDOR_PROBES=all (or a comma list such as "amd,intel") skips vendor probes: for
benchmarks and for hosts where a vendor tool misbehaves.
"""
from __future__ import annotations

import importlib
from typing import Mapping

from envcheck.errors import Msg
from envcheck.facts import Accelerator, NvidiaFacts, VendorFacts
from envcheck.runner import Runner

# (vendor, module, function): imported only when doctor runs, so `envcheck --help` stays fast.
VENDOR_PROBES: tuple[tuple[str, str, str], ...] = (
    ("amd", "envcheck.probes.amd", "probe_amd"),
    ("intel", "envcheck.probes.intel", "probe_intel"),
    ("apple", "envcheck.probes.apple", "probe_apple"),
)
SKIP_ENV = "ENVCHECK_SKIP_VENDOR_PROBES"


def enabled_vendors(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = (environ.get(SKIP_ENV) or "").strip().lower()
    if raw in ("all", "1", "true", "yes"):
        return ()
    skip = {v.strip() for v in raw.split(",") if v.strip()}
    return tuple(v for v, _, _ in VENDOR_PROBES if v not in skip)


def run_vendor_probe(vendor: str, runner: Runner, environ: Mapping[str, str]) -> VendorFacts:
    """One registered probe; an exception (a bug, never expected) becomes a reason, not a crash."""
    for name, module, func in VENDOR_PROBES:
        if name == vendor:
            try:
                return getattr(importlib.import_module(module), func)(runner, environ)
            except Exception as exc:  # probes promise not to raise; belt and braces
                return VendorFacts(vendor=vendor, reasons=(Msg("{vendor} probe failed: {error}", vendor=vendor,
                                                                       error=f"{exc.__class__.__name__}: {exc}"),))
    return VendorFacts(vendor=vendor, reasons=(Msg("no probe registered for {vendor}", vendor=vendor),))


def nvidia_accelerators(nv: NvidiaFacts) -> tuple[Accelerator, ...]:
    """NvidiaFacts' GPUs (and their MIG instances, kind "mig") as Accelerators."""
    out = []
    runtime = f"CUDA {nv.cuda} (newest the driver supports)" if nv.cuda else None
    src = nv.gpus_source.value if nv.gpus_source else None
    for g in nv.gpus:
        notes = []
        if g.virtualization in ("vgpu", "host-vgpu", "host-vsga"):
            notes.append(Msg("virtualization: {virtualization}", virtualization=g.virtualization))
        if g.mig_mode:
            notes.append(Msg("MIG enabled ({count} instance(s))", count=len(g.mig_devices)))
        out.append(Accelerator("nvidia", g.index, g.name, g.compute_capability, g.memory_total_mib, nv.driver_version,
                               runtime, src, g.compute_capability_source,
                               kind="vgpu" if g.virtualization == "vgpu" else "gpu", notes=tuple(notes)))
        for j, mig in enumerate(g.mig_devices):
            out.append(Accelerator("nvidia", g.index, mig, g.compute_capability, None, nv.driver_version, runtime,
                                   src, g.compute_capability_source, kind="mig", notes=(f"MIG instance {j} of GPU {g.index}",)))
    return tuple(out)


def all_accelerators(nv: NvidiaFacts, vendors: Mapping[str, VendorFacts]) -> tuple[Accelerator, ...]:
    out = list(nvidia_accelerators(nv))
    for v, _, _ in VENDOR_PROBES:
        facts = vendors.get(v)
        if facts is not None:
            out.extend(facts.accelerators)
    return tuple(out)
