"""The NVIDIA driver and GPUs: NVML first, then sysfs/procfs, then nvidia-smi; overrides last.

Shell equivalents, in the order tried:
  python -c 'import pynvml; pynvml.nvmlInit(); print(pynvml.nvmlSystemGetDriverVersion())'
  cat /sys/module/nvidia/version
  cat /proc/driver/nvidia/version
  nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total,compute_cap,pci.bus_id \
             --format=csv,noheader,nounits
  nvidia-smi --version            (the "CUDA Version" line: the newest CUDA the driver supports)
  nvidia-smi -q                   (only when the driver refused a --query-gpu field: MIG and vGPU state)

Drivers before the 510 branch refuse `compute_cap` ('Field "compute_cap" is not a valid field to
query.', exit 2): the refused field is dropped and the query retried with the rest; the compute
capability then comes from NVML or from configs/nvidia_gpus.json (envcheck/gputable.py), and each
GPU's `compute_capability_source` says which.

Nothing here raises: every failure becomes a human reason in `NvidiaFacts.reasons`.
"""
from __future__ import annotations

import os
import re
import shutil
from typing import Callable, Mapping

from envcheck.facts import GpuInfo, NvidiaFacts, Source
from envcheck.probes import pci_display_devices, read_text
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


_REFUSED = re.compile(r'Field "([^"]+)" is not a valid field to query', re.IGNORECASE)


def parse_refused_field(text: str) -> str | None:
    """nvidia-smi's refusal of one --query-gpu field -> the field ('compute_cap'), else None.

    Driver 470 prints 'Field "compute_cap" is not a valid field to query.' and exits 2
    (https://github.com/huggingface/candle/issues/733, https://github.com/canonical/inference-snaps/issues/128).
    """
    m = _REFUSED.search(text or "")
    return m.group(1) if m else None


_VIRT = {"none": "none", "pass-through": "pass-through", "passthrough": "pass-through", "vgpu": "vgpu",
         "host vgpu": "host-vgpu", "host vsga": "host-vsga"}


def parse_smi_q(text: str) -> dict:
    """`nvidia-smi -q` -> {"driver", "cuda", "gpus": [{bus_id, name, uuid, memory_total_mib, mig_mode,
    virtualization}]}. Sections are found by indentation; unknown or missing lines give None."""
    out: dict = {"driver": None, "cuda": None, "gpus": []}
    gpu: dict | None = None
    parent = None
    for raw in (text or "").splitlines():
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        m = re.match(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])$", line)
        if indent == 0 and m:
            gpu = {"bus_id": m.group(1), "name": None, "uuid": None, "memory_total_mib": None,
                   "mig_mode": None, "virtualization": None}
            out["gpus"].append(gpu)
            parent = None
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if indent == 0:
            if key == "Driver Version" and value:
                out["driver"] = value
            elif key == "CUDA Version" and re.fullmatch(r"\d+\.\d+", value):
                out["cuda"] = value
            continue
        if gpu is None:
            continue
        if not sep or (not value and indent <= 4):
            parent = key
            continue
        if indent <= 4:
            parent = None
            if key == "Product Name":
                gpu["name"] = _clean(value)
            elif key == "GPU UUID":
                gpu["uuid"] = _clean(value)
        elif (parent or "").lower() == "mig mode" and key == "Current":
            gpu["mig_mode"] = {"enabled": True, "disabled": False}.get(value.lower())
        elif (parent or "").lower() == "gpu virtualization mode" and key.lower() == "virtualization mode":
            gpu["virtualization"] = _VIRT.get(value.lower(), value.lower() or None)
        elif parent == "FB Memory Usage" and key == "Total":
            gpu["memory_total_mib"] = _int_or_none(value.split()[0]) if value else None
    return out


def fill_compute_capability(gpus: tuple[GpuInfo, ...]) -> tuple[GpuInfo, ...]:
    """GPUs with no reported capability get one from configs/nvidia_gpus.json by name (source
    "table:<row name>"); a GPU the table does not know keeps None."""
    from dataclasses import replace

    from envcheck.gputable import cc_for_name

    out = []
    for g in gpus:
        if g.compute_capability is None and g.name:
            hit = cc_for_name(g.name)
            if hit:
                g = replace(g, compute_capability=hit[0], compute_capability_source=f"table:{hit[1]}")
        out.append(g)
    return tuple(out)


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
                compute_capability_source="nvidia-smi" if cc else None,
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


# nvmlGpuVirtualizationMode_t (nvidia-ml-py's pynvml: NVML_GPU_VIRTUALIZATION_MODE_NONE = 0,
# PASSTHROUGH = 1, VGPU = 2 (a vGPU inside a VM), HOST_VGPU = 3, HOST_VSGA = 4)
NVML_VIRTUALIZATION = {0: "none", 1: "pass-through", 2: "vgpu", 3: "host-vgpu", 4: "host-vsga"}
NVML_DEVICE_MIG_ENABLE = 1  # pynvml.NVML_DEVICE_MIG_ENABLE


def _mib(mem) -> int | None:
    try:
        return int(mem.total) // (1024 * 1024)
    except (AttributeError, TypeError, ValueError):
        return None


def nvml_mig(pynvml, handle) -> tuple[bool | None, tuple[str, ...]]:
    """(MIG enabled?, its instances as "NAME (UUID, N MiB)"); every call isolated (a driver without
    MIG raises NotSupported: (None, ()))."""
    mode = _nvml_call(None, getattr(pynvml, "nvmlDeviceGetMigMode", lambda h: None), handle)
    try:
        current = int(mode[0]) if mode is not None else None
    except (TypeError, ValueError, IndexError):
        current = None
    if current is None:
        return None, ()
    if current != NVML_DEVICE_MIG_ENABLE:
        return False, ()
    devices = []
    count = _nvml_call(0, getattr(pynvml, "nvmlDeviceGetMaxMigDeviceCount", lambda h: 0), handle) or 0
    for j in range(int(count)):
        mig = _nvml_call(None, getattr(pynvml, "nvmlDeviceGetMigDeviceHandleByIndex", lambda h, k: None), handle, j)
        if mig is None:  # an empty slot raises NVML_ERROR_NOT_FOUND
            continue
        name = decode(_nvml_call(None, pynvml.nvmlDeviceGetName, mig)) or "MIG device"
        uuid = decode(_nvml_call(None, pynvml.nvmlDeviceGetUUID, mig))
        mem = _mib(_nvml_call(None, pynvml.nvmlDeviceGetMemoryInfo, mig))
        extra = ", ".join(x for x in (uuid, f"{mem} MiB" if mem else None) if x)
        devices.append(f"{name} ({extra})" if extra else name)
    return True, tuple(devices)


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
            mig_mode, mig_devices = nvml_mig(pynvml, handle)
            gpus.append(
                GpuInfo(
                    index=i,
                    name=decode(_nvml_call(None, pynvml.nvmlDeviceGetName, handle)),
                    uuid=decode(_nvml_call(None, pynvml.nvmlDeviceGetUUID, handle)),
                    memory_total_mib=_mib(mem),
                    compute_capability=f"{cc[0]}.{cc[1]}" if cc else None,
                    pci_bus_id=bus,
                    compute_capability_source="nvml" if cc else None,
                    mig_mode=mig_mode,
                    mig_devices=mig_devices,
                    virtualization=NVML_VIRTUALIZATION.get(
                        _nvml_call(None, getattr(pynvml, "nvmlDeviceGetVirtualizationMode", lambda h: None), handle)),
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
    return pci_display_devices(sys_root, NVIDIA_PCI_VENDOR)


MAX_REFUSED_RETRIES = 3


def smi_query(runner: Runner, smi: str, timeout: float):
    """Run --query-gpu; each field nvidia-smi refuses is dropped and the query retried with the rest
    (at most MAX_REFUSED_RETRIES times). -> (last Completed, the fields it queried, refused fields)."""
    fields = SMI_QUERY_FIELDS.split(",")
    refused: list[str] = []
    while True:
        done = runner.run([smi, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"], timeout=timeout)
        bad = None if done.ok else parse_refused_field(done.stdout + "\n" + done.stderr)
        if bad is None or bad not in fields or bad in ("index", "name") or len(refused) >= MAX_REFUSED_RETRIES:
            return done, fields, tuple(refused)
        refused.append(bad)
        fields = [f for f in fields if f != bad]


def merge_smi_q(gpus: tuple[GpuInfo, ...], q: dict) -> tuple[GpuInfo, ...]:
    """Add `nvidia-smi -q`'s MIG mode and virtualization to GPUs found by --query-gpu (matched by PCI bus id)."""
    from dataclasses import replace

    by_bus = {(g.get("bus_id") or "").lower(): g for g in q.get("gpus", [])}
    out = []
    for g in gpus:
        info = by_bus.get((g.pci_bus_id or "").lower())
        if info:
            g = replace(g, mig_mode=g.mig_mode if g.mig_mode is not None else info.get("mig_mode"),
                        virtualization=g.virtualization or info.get("virtualization"))
        out.append(g)
    return tuple(out)


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
            done, fields, refused = smi_query(runner, smi, timeout)
            if refused:
                reasons.append(f"nvidia-smi refused --query-gpu field(s) {', '.join(refused)} (a driver older "
                               "than the field); queried the rest")
            if is_mismatch_text(done.stdout + done.stderr):
                mismatch = True
                reasons.append(f"nvidia-smi: {MISMATCH_REASON}")
            elif not done.ok:
                reasons.append(done.describe_failure())
            else:
                smi_gpus, smi_driver = parse_smi_csv(done.stdout, ",".join(fields))
                if not smi_gpus and done.stdout.strip():
                    reasons.append("nvidia-smi printed output envcheck could not parse")
                smi_parsed = bool(smi_gpus)
                if not gpus and smi_gpus:
                    gpus, gpus_source = smi_gpus, Source.NVIDIA_SMI
                if not driver and smi_driver:
                    driver, source = smi_driver, Source.NVIDIA_SMI
            # An old driver (it refused a field): `nvidia-smi -q` says which GPUs are MIG or vGPU.
            if refused and smi_parsed and gpus_source == Source.NVIDIA_SMI:
                q = runner.run([smi, "-q"], timeout=timeout)
                if q.ok:
                    parsed_q = parse_smi_q(q.stdout)
                    gpus = merge_smi_q(gpus, parsed_q)
                    if not cuda and parsed_q["cuda"]:
                        cuda, cuda_source = parsed_q["cuda"], Source.NVIDIA_SMI
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

    # Compute capability the driver did not report: from NVIDIA's list of GPU names.
    if any(g.compute_capability is None for g in gpus):
        gpus = fill_compute_capability(gpus)

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
