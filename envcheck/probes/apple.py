"""Apple hosts: macOS version and CPU architecture, and whether PyTorch's MPS backend can run.

MPS (Metal Performance Shaders) needs macOS 12.3 or later on a Mac with Apple silicon or an AMD GPU
(https://pytorch-pytorch.mintlify.app/hardware/mps: "MPS support is available on macOS 12.3+ and
requires an Apple Silicon (M1/M2/M3) or AMD GPU on Intel-based Macs"; Apple's "Accelerated PyTorch
training on Mac" requirements, quoted at https://androidkt.com/how-to-check-and-change-the-default-device-to-mps-in-pytorch/:
"Mac computers with Apple silicon or AMD GPUs, macOS 12.3 or later", "a native version (arm64) of
Python"). An x86_64 Python on an Apple-silicon Mac runs under Rosetta 2 (`sysctl.proc_translated` is 1).
Nothing here raises; on other systems the probe reports nothing and runs nothing.
"""
from __future__ import annotations

import platform
import re
from typing import Mapping

from envcheck.errors import Msg
from envcheck.facts import Accelerator, VendorFacts, normalize_arch
from envcheck.runner import Runner

MPS_MIN_MACOS = (12, 3)


def macos_tuple(version: str | None) -> tuple[int, ...] | None:
    m = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", version or "")
    return tuple(int(x) for x in m.groups() if x is not None) if m else None


def mps_status(macos_version: str | None, machine: str | None, translated: bool = False) -> tuple[bool | None, str]:
    """(MPS can run?, why) from the macOS version and the interpreter's architecture (pure).
    None: it depends on a GPU envcheck does not see (an Intel Mac with an AMD GPU)."""
    ver = macos_tuple(macos_version)
    arch = (machine or "").lower()
    if ver is None:
        return False, Msg("macOS version unknown ({version!r})", version=macos_version)
    if ver < MPS_MIN_MACOS:
        return False, Msg("macOS {version} is older than 12.3, the first release with MPS", version=macos_version)
    if normalize_arch(arch) == "aarch64":
        return True, Msg("Apple silicon (arm64) on macOS {version}", version=macos_version)
    if translated:
        return False, ("this Python is x86_64 running under Rosetta 2 on Apple silicon: MPS needs a native arm64 "
                       "Python (install an arm64 Python and torch)")
    return None, Msg("Intel Mac ({arch}): MPS works only with an AMD GPU", arch=arch or "unknown arch")


def probe_apple(runner: Runner, environ: Mapping[str, str] | None = None, *, system: str | None = None,
                mac_ver: str | None = None, machine: str | None = None, timeout: float = 2.0) -> VendorFacts:
    system = system if system is not None else platform.system()
    if system != "Darwin":
        return VendorFacts(vendor="apple")
    mac_ver = mac_ver if mac_ver is not None else (platform.mac_ver()[0] or None)
    machine = machine if machine is not None else platform.machine()
    translated = False
    if (machine or "").lower() == "x86_64":
        done = runner.run(["sysctl", "-n", "sysctl.proc_translated"], timeout=timeout)
        translated = done.ok and done.stdout.strip() == "1"
    ok, why = mps_status(mac_ver, machine, translated)
    extra = {"macos": mac_ver, "machine": machine, "rosetta": translated, "mps": ok, "mps_reason": why}
    if not ok:
        return VendorFacts(vendor="apple", reasons=(why,), extra=extra)
    acc = Accelerator(vendor="apple", index=0, name="Apple GPU (Metal)", arch="mps", runtime=f"macOS {mac_ver}",
                      source="platform.mac_ver", arch_source="platform.machine", notes=(why,))
    return VendorFacts(vendor="apple", accelerators=(acc,), runtime=f"MPS (macOS {mac_ver})",
                       runtime_source="platform.mac_ver", extra=extra)
