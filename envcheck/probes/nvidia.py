"""The NVIDIA driver and GPUs: NVML first, then sysfs/procfs, then nvidia-smi; overrides last.

Shell equivalents, in the order tried:
  python -c 'import pynvml; pynvml.nvmlInit(); print(pynvml.nvmlSystemGetDriverVersion())'
  cat /sys/module/nvidia/version
  cat /proc/driver/nvidia/version
  nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total,compute_cap,pci.bus_id \
             --format=csv,noheader,nounits
  nvidia-smi --version            (the "CUDA Version" line: the newest CUDA the driver supports)

Nothing here raises: every failure becomes a human reason in `NvidiaFacts.reasons`.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
from typing import Callable, Mapping

from envcheck.facts import GpuInfo, NvidiaFacts, Source
from envcheck.probes import read_text
from envcheck.runner import Runner

SMI_QUERY_FIELDS = "index,name,uuid,driver_version,memory.total,compute_cap,pci.bus_id"
# On WSL2 the Windows driver exposes its tools here, often not on PATH.
# https://docs.nvidia.com/cuda/wsl-user-guide/index.html ("/usr/lib/wsl/lib")
WSL_NVIDIA_SMI = "/usr/lib/wsl/lib/nvidia-smi"
DEFAULT_TOOL_TIMEOUT_S = 8.0
MISMATCH_TEXT = "driver/library version mismatch"
MISMATCH_REASON = (
    "driver/library version mismatch: the NVIDIA kernel module and the user-space library differ "
    "(usually after a driver upgrade): reboot, or reload the nvidia kernel module"
)
NVIDIA_PCI_VENDOR = "0x10de"

_DRIVER_VERSION = re.compile(r"\b(\d{2,4}\.\d{1,3}(?:\.\d{1,3})?)\b")
_CUDA_LINE = re.compile(r"CUDA Version\s*:?\s*(\d+\.\d+)", re.IGNORECASE)


def tool_timeout(environ: Mapping[str, str] | None = None) -> float:
    """Seconds each external tool may take: ENVCHECK_TOOL_TIMEOUT, else 8 s (bad values: nan, <= 0,
    not a number, ignored; inf and huge values clamped to runner.MAX_TIMEOUT_S, one day)."""
    from envcheck.runner import clamp_timeout

    environ = os.environ if environ is None else environ
    return clamp_timeout(environ.get("ENVCHECK_TOOL_TIMEOUT", "").strip(), DEFAULT_TOOL_TIMEOUT_S)


# ----------------------------------------------------------------------------------------------
# Pure parsers (text -> value), tested on real captures in tests/fixtures/h100-driver580/.


def decode(value) -> str | None:
    """NVML returns bytes in old nvidia-ml-py releases and str in new ones."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    value = str(value).strip().rstrip("\x00")
    return value or None


def cuda_from_int(value) -> str | None:
    """NVML/cuDriverGetVersion encode CUDA as 1000*major + 10*minor: 13000 -> '13.0', 12040 -> '12.4'."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    if n <= 0:
        return None
    return f"{n // 1000}.{(n % 1000) // 10}"


def parse_sys_module_version(text: str) -> str | None:
    """/sys/module/nvidia/version holds just the version: '580.159.04\\n'."""
    text = (text or "").strip()
    m = _DRIVER_VERSION.fullmatch(text)
    return m.group(1) if m else None


def parse_proc_driver_version(text: str) -> str | None:
    """The 'NVRM version:' line of /proc/driver/nvidia/version -> '580.159.04'."""
    for line in (text or "").splitlines():
        if line.startswith("NVRM version:"):
            # "... Kernel Module for x86_64  580.159.04  Release Build ..." (open or proprietary module)
            m = re.search(r"\s(\d{2,4}\.\d{1,3}(?:\.\d{1,3})?)\s", line + " ")
            if m:
                return m.group(1)
    return None


def parse_smi_cuda_version(text: str) -> str | None:
    """'CUDA Version : 13.0' (nvidia-smi --version) or the banner's 'CUDA Version: 13.0' -> '13.0'."""
    m = _CUDA_LINE.search(text or "")
    return m.group(1) if m else None


def parse_smi_driver_version(text: str) -> str | None:
    """'DRIVER version : 580.159.04' (--version) or the banner's 'Driver Version: 580.159.04'."""
    m = re.search(r"Driver Version\s*:\s*(\d[\d.]+\d)", text or "", re.IGNORECASE)
    return m.group(1) if m else None


def is_mismatch_text(text: str) -> bool:
    """nvidia-smi prints 'Failed to initialize NVML: Driver/library version mismatch'."""
    return MISMATCH_TEXT in (text or "").lower()


def _int_or_none(text: str) -> int | None:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return None


def _clean(text: str) -> str | None:
    text = text.strip()
    # nvidia-smi writes "[N/A]" or "[Not Supported]" for fields a GPU lacks; those are "no value".
    if not text or (text.startswith("[") and text.endswith("]")) or text in ("N/A", "Not Supported"):
        return None
    return text


def parse_smi_csv(text: str, fields: str = SMI_QUERY_FIELDS) -> tuple[tuple[GpuInfo, ...], str | None]:
    """Parse `nvidia-smi --query-gpu=FIELDS --format=csv,noheader,nounits` -> (GPUs, driver version).

    `fields` is the comma-separated list that was queried (default: index,name,uuid,driver_version,
    memory.total,compute_cap,pci.bus_id); a line whose column count differs is skipped, so empty or
    garbage text gives ((), None). GPU names contain no commas (nvidia-smi's CSV does not quote).
    """
    names = [f.strip() for f in fields.split(",")]
    gpus: list[GpuInfo] = []
    driver = None
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != len(names):
            continue
        row = dict(zip(names, parts))
        raw_index = row.get("index", "")
        if not raw_index.isdigit():
            continue
        cc = _clean(row.get("compute_cap", ""))
        if cc is not None and not re.fullmatch(r"\d+\.\d+", cc):
            cc = None
        drv = _clean(row.get("driver_version", ""))
        if drv and _DRIVER_VERSION.fullmatch(drv):
            driver = driver or drv
        uuid = _clean(row.get("uuid", ""))
        gpus.append(
            GpuInfo(
                index=int(raw_index),
                name=_clean(row.get("name", "")),
                uuid=uuid if uuid and uuid.startswith(("GPU-", "MIG-")) else None,
                memory_total_mib=_int_or_none(_clean(row.get("memory.total", "")) or ""),
                compute_capability=cc,
                pci_bus_id=_clean(row.get("pci.bus_id", "")),
            )
        )
    return tuple(gpus), driver


# ----------------------------------------------------------------------------------------------
# NVML


def nvml_error_reason(exc: BaseException, pynvml=None) -> tuple[str, bool]:
    """An NVMLError (or import failure) -> (human cause, is_mismatch)."""
    if isinstance(exc, ImportError):
        return "NVML bindings not installed (pip install nvidia-ml-py)", False
    code = getattr(exc, "value", None)

    def const(name: str):
        return getattr(pynvml, name, object()) if pynvml is not None else object()

    if code == const("NVML_ERROR_LIBRARY_NOT_FOUND"):
        return "NVML library (libnvidia-ml.so.1) not found: no NVIDIA driver installed, or not on the library path", False
    if code == const("NVML_ERROR_DRIVER_NOT_LOADED"):
        return "NVIDIA driver not loaded (kernel module missing: `sudo modprobe nvidia`, or reinstall the driver)", False
    if code == const("NVML_ERROR_LIB_RM_VERSION_MISMATCH"):
        return MISMATCH_REASON, True
    if code == const("NVML_ERROR_NO_PERMISSION"):
        return "no permission to open /dev/nvidia* (add your user to the video group or check container device access)", False
    if code == const("NVML_ERROR_FUNCTION_NOT_FOUND"):
        return "NVML library too old for this call (driver older than the nvidia-ml-py bindings expect)", False
    text = str(exc) or exc.__class__.__name__
    if is_mismatch_text(text):
        return MISMATCH_REASON, True
    return f"NVML error: {text}", False


def _nvml_call(default, fn, *args):
    try:
        return fn(*args)
    except Exception:
        return default


def probe_nvml(loader: Callable[[], object] | None = None) -> tuple[str | None, str | None, tuple[GpuInfo, ...], str | None, bool]:
    """NVML through nvidia-ml-py's `pynvml` module -> (driver, cuda, gpus, reason, mismatch).

    `loader` returns the pynvml module (tests pass a stand-in); the default imports it here, not at
    module import, so `envcheck --help` stays fast.
    """
    pynvml = None
    try:
        if loader is None:
            import pynvml  # noqa: F811  (nvidia-ml-py ships this module)
        else:
            pynvml = loader()
        pynvml.nvmlInit()
    except Exception as exc:  # ImportError, NVMLError_*, OSError from ctypes
        reason, mismatch = nvml_error_reason(exc, pynvml)
        return None, None, (), reason, mismatch
    try:
        driver = decode(_nvml_call(None, pynvml.nvmlSystemGetDriverVersion))
        cuda_int = _nvml_call(None, getattr(pynvml, "nvmlSystemGetCudaDriverVersion_v2", lambda: None))
        if not cuda_int:
            cuda_int = _nvml_call(None, getattr(pynvml, "nvmlSystemGetCudaDriverVersion", lambda: None))
        cuda = cuda_from_int(cuda_int)
        gpus = []
        count = _nvml_call(0, pynvml.nvmlDeviceGetCount) or 0
        for i in range(int(count)):
            handle = _nvml_call(None, pynvml.nvmlDeviceGetHandleByIndex, i)
            if handle is None:
                gpus.append(GpuInfo(index=i))
                continue
            mem = _nvml_call(None, pynvml.nvmlDeviceGetMemoryInfo, handle)
            cc = _nvml_call(None, pynvml.nvmlDeviceGetCudaComputeCapability, handle)
            pci = _nvml_call(None, pynvml.nvmlDeviceGetPciInfo, handle)
            # NVML's busId is "00000000:00:06.0", the same form nvidia-smi prints
            bus = decode(getattr(pci, "busId", None)) if pci is not None else None
            gpus.append(
                GpuInfo(
                    index=i,
                    name=decode(_nvml_call(None, pynvml.nvmlDeviceGetName, handle)),
                    uuid=decode(_nvml_call(None, pynvml.nvmlDeviceGetUUID, handle)),
                    memory_total_mib=int(mem.total) // (1024 * 1024) if mem is not None else None,
                    compute_capability=f"{cc[0]}.{cc[1]}" if cc else None,
                    pci_bus_id=bus,
                )
            )
        return driver, cuda, tuple(gpus), None, False
    except Exception as exc:
        reason, mismatch = nvml_error_reason(exc, pynvml)
        return None, None, (), reason, mismatch
    finally:
        _nvml_call(None, getattr(pynvml, "nvmlShutdown", lambda: None))


# ----------------------------------------------------------------------------------------------
# Files




def probe_pci_nvidia(sys_root: str = "/sys") -> tuple[str, ...]:
    """PCI devices whose vendor is NVIDIA (0x10de): `grep -l 0x10de /sys/bus/pci/devices/*/vendor`.

    Only display/3D controllers count (class 0x03xxxx), so an NVIDIA audio function or NVSwitch alone
    does not suggest a GPU.
    """
    found = []
    for vendor_file in sorted(glob.glob(os.path.join(sys_root, "bus", "pci", "devices", "*", "vendor"))):
        if (read_text(vendor_file) or "").strip().lower() != NVIDIA_PCI_VENDOR:
            continue
        dev_dir = os.path.dirname(vendor_file)
        klass = (read_text(os.path.join(dev_dir, "class")) or "").strip().lower()
        if klass and not klass.startswith("0x03"):
            continue
        found.append(os.path.basename(dev_dir))
    return tuple(found)


def find_nvidia_smi(environ: Mapping[str, str]) -> str | None:
    """`command -v nvidia-smi`, else WSL's /usr/lib/wsl/lib/nvidia-smi."""
    found = shutil.which("nvidia-smi", path=environ.get("PATH"))
    if found:
        return found
    if os.path.isfile(WSL_NVIDIA_SMI) and os.access(WSL_NVIDIA_SMI, os.X_OK):
        return WSL_NVIDIA_SMI
    return None


def probe_nvidia(
    runner: Runner,
    environ: Mapping[str, str] | None = None,
    *,
    sys_root: str | None = None,
    proc_root: str | None = None,
    nvml_loader: Callable[[], object] | None = None,
) -> NvidiaFacts:
    """The driver version, the newest CUDA it supports, and the GPUs, each with its source.

    `sys_root`/`proc_root` default to ENVCHECK_SYSFS_ROOT/ENVCHECK_PROCFS_ROOT, else /sys and /proc
    (tests point them at a temporary tree). ENVCHECK_DISABLE_NVML=1 skips NVML (tests replaying a
    recorded nvidia-smi on a GPU machine).
    """
    environ = os.environ if environ is None else environ
    sys_root = sys_root or environ.get("ENVCHECK_SYSFS_ROOT") or "/sys"
    proc_root = proc_root or environ.get("ENVCHECK_PROCFS_ROOT") or "/proc"
    timeout = tool_timeout(environ)
    reasons: list[str] = []
    mismatch = False
    driver = cuda = None
    source = cuda_source = gpus_source = None
    gpus: tuple[GpuInfo, ...] = ()

    # 1. NVML: the same library torch and nvidia-smi use; in-process and fast (~0.1 s).
    if environ.get("ENVCHECK_DISABLE_NVML", "").strip() in ("1", "true", "yes"):
        reasons.append("NVML skipped (ENVCHECK_DISABLE_NVML is set)")
    else:
        driver, cuda, gpus, why, mismatch = probe_nvml(nvml_loader)
        if why:
            reasons.append(why)
        if driver:
            source = Source.NVML
        if cuda:
            cuda_source = Source.NVML
        if gpus:
            gpus_source = Source.NVML

    # 2. The kernel module's version (present even when the user-space library is broken).
    if not driver:
        text = read_text(os.path.join(sys_root, "module", "nvidia", "version"))
        driver = parse_sys_module_version(text) if text is not None else None
        if driver:
            source = Source.SYSFS
    if not driver:
        text = read_text(os.path.join(proc_root, "driver", "nvidia", "version"))
        driver = parse_proc_driver_version(text) if text is not None else None
        if driver:
            source = Source.PROCFS

    # 3. nvidia-smi for what is still missing (GPUs, CUDA), with a timeout: it can hang on a wedged GPU.
    if not gpus or not cuda or not driver:
        smi = find_nvidia_smi(environ)
        if smi is None:
            reasons.append("nvidia-smi not found on PATH")
        else:
            smi_parsed = False
            done = runner.run(
                [smi, f"--query-gpu={SMI_QUERY_FIELDS}", "--format=csv,noheader,nounits"], timeout=timeout
            )
            if is_mismatch_text(done.stdout + done.stderr):
                mismatch = True
                reasons.append(f"nvidia-smi: {MISMATCH_REASON}")
            elif not done.ok:
                reasons.append(done.describe_failure())
            else:
                smi_gpus, smi_driver = parse_smi_csv(done.stdout)
                if not smi_gpus and done.stdout.strip():
                    reasons.append("nvidia-smi printed output envcheck could not parse")
                smi_parsed = bool(smi_gpus)
                if not gpus and smi_gpus:
                    gpus, gpus_source = smi_gpus, Source.NVIDIA_SMI
                if not driver and smi_driver:
                    driver, source = smi_driver, Source.NVIDIA_SMI
            # The CUDA line: only when the query worked (a hung or broken nvidia-smi is not retried).
            if not cuda and smi_parsed:
                ver = runner.run([smi, "--version"], timeout=timeout)
                cuda = parse_smi_cuda_version(ver.stdout) if ver.ok else None
                if not cuda:  # old nvidia-smi has no CUDA line in --version; the banner has it
                    banner = runner.run([smi], timeout=timeout)
                    cuda = parse_smi_cuda_version(banner.stdout) if banner.ok else None
                if cuda:
                    cuda_source = Source.NVIDIA_SMI
                if not driver:
                    d = parse_smi_driver_version(ver.stdout)
                    if d:
                        driver, source = d, Source.NVIDIA_SMI

    # 4. Overrides for GPU-less build hosts, like conda's CONDA_OVERRIDE_CUDA.
    overrides = []
    o_driver = environ.get("ENVCHECK_OVERRIDE_DRIVER", "").strip()
    if o_driver:
        driver, source = o_driver, Source.OVERRIDE
        overrides.append("ENVCHECK_OVERRIDE_DRIVER")
    o_cuda = environ.get("ENVCHECK_OVERRIDE_CUDA", "").strip()
    if o_cuda:
        cuda, cuda_source = o_cuda, Source.OVERRIDE
        overrides.append("ENVCHECK_OVERRIDE_CUDA")

    if driver and not cuda and not reasons:
        reasons.append("the driver's CUDA version was not reported")
    return NvidiaFacts(
        driver_version=driver,
        cuda=cuda,
        source=source,
        gpus=gpus,
        reasons=tuple(reasons),
        mismatch=mismatch,
        overrides=tuple(overrides),
        cuda_source=cuda_source,
        pci_devices=probe_pci_nvidia(sys_root),
        gpus_source=gpus_source,
    )
