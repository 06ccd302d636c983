"""The NVIDIA driver and GPUs: NVML first, then sysfs/procfs, then nvidia-smi; overrides last.

Shell equivalents, in the order tried:
  python -c 'import pynvml; pynvml.nvmlInit(); print(pynvml.nvmlSystemGetDriverVersion())'
  cat /sys/module/nvidia/version
  cat /proc/driver/nvidia/version
  nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total,compute_cap,pci.bus_id \
             --format=csv,noheader,nounits
  nvidia-smi --version            (the "CUDA Version" line: the newest CUDA the driver supports)
  nvidia-smi -q                   (only when the driver refused a --query-gpu field: MIG and vGPU state)
  nvidia-smi; nvidia-smi -L       (only when the driver refused a field and the retried query gave no
                                   GPUs without hanging: the table's GPU rows, -L's names and UUIDs)

GPU health (issue 11; `GpuHealth`, doctor's `data.gpus[].health`): from NVML when NVML gave the GPUs,
else `nvidia-smi --query-gpu=index,pci.bus_id,<HEALTH_FIELDS> --format=csv,noheader,nounits`, else the
matching sections of `nvidia-smi -q` (ECC Errors, Retired Pages, Remapped Rows, Clocks Event Reasons,
GPU Link Info, Persistence Mode, Utilization).

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

from envcheck.errors import Msg
from envcheck.facts import CLOCK_EVENT_BITS, GpuHealth, GpuInfo, NvidiaFacts, Source
from envcheck.i18n import N_
from envcheck.probes import pci_display_devices, read_text
from envcheck.runner import Runner

SMI_QUERY_FIELDS = "index,name,uuid,driver_version,memory.total,compute_cap,pci.bus_id"
# On WSL2 the Windows driver exposes its tools here, often not on PATH.
# https://docs.nvidia.com/cuda/wsl-user-guide/index.html ("/usr/lib/wsl/lib")
WSL_NVIDIA_SMI = "/usr/lib/wsl/lib/nvidia-smi"
DEFAULT_TOOL_TIMEOUT_S = 8.0
MISMATCH_TEXT = "driver/library version mismatch"
MISMATCH_REASON = N_(
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


_SMI_Q_GPU = re.compile(r"^GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])$")


def walk_smi_q(text: str):
    """The one reader of `nvidia-smi -q`'s layout (pure): yields ("gpu", bus_id) at each "GPU 0000:..."
    header and ("field", indent, path, key, value) for each "Key : value" line, where `path` is the
    lower-cased headings above it (a heading is a line without a value; sections nest by indentation)."""
    stack: list[tuple[int, str]] = []
    for raw in (text or "").splitlines():
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        m = _SMI_Q_GPU.match(line)
        if m:
            stack = []
            yield ("gpu", m.group(1))
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not sep or not value:  # a heading ("ECC Errors", "GPU Link Info") opens a section
            stack.append((indent, key.lower()))
            continue
        yield ("field", indent, [k for _, k in stack], key, value)


def parse_smi_q(text: str) -> dict:
    """`nvidia-smi -q` -> {"driver", "cuda", "gpus": [{bus_id, name, uuid, memory_total_mib, mig_mode,
    virtualization}]}. Unknown or missing lines give None."""
    out: dict = {"driver": None, "cuda": None, "gpus": []}
    gpu: dict | None = None
    for item in walk_smi_q(text):
        if item[0] == "gpu":
            gpu = {"bus_id": item[1], "name": None, "uuid": None, "memory_total_mib": None,
                   "mig_mode": None, "virtualization": None}
            out["gpus"].append(gpu)
            continue
        _, indent, path, key, value = item
        if indent == 0:
            if key == "Driver Version":
                out["driver"] = value
            elif key == "CUDA Version" and re.fullmatch(r"\d+\.\d+", value):
                out["cuda"] = value
            continue
        if gpu is None:
            continue
        parent = path[-1] if path else None
        if parent is None:
            if key == "Product Name":
                gpu["name"] = _clean(value)
            elif key == "GPU UUID":
                gpu["uuid"] = _clean(value)
        elif parent == "mig mode" and key == "Current":
            gpu["mig_mode"] = {"enabled": True, "disabled": False}.get(value.lower())
        elif parent == "gpu virtualization mode" and key.lower() == "virtualization mode":
            gpu["virtualization"] = _VIRT.get(value.lower(), value.lower() or None)
        elif parent == "fb memory usage" and key == "Total":
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


# The GPU rows of the plain `nvidia-smi` table. Two layouts (the 470 branch's and 580's, captures in
# tests/fixtures/v100-driver470 and h100-driver580): "|   0  Tesla V100-SXM2...  On   | 00000000:03:00.0 Off |"
# then "| N/A   38C    P0    52W / 300W |   2576MiB / 16160MiB |". Long names are cut to "...".
_BANNER_GPU = re.compile(r"^\|\s*(\d+)\s+(\S.*?)\s+(?:On|Off)\s*\|\s*"
                         r"([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])\s")
_BANNER_MEM = re.compile(r"\|\s*\d+MiB\s*/\s*(\d+)MiB\s*\|")
_LIST_GPU = re.compile(r"^GPU (\d+): (.+?) \(UUID: ((?:GPU|MIG)-[^)\s]+)\)\s*$")


def parse_smi_banner(text: str) -> tuple[tuple[GpuInfo, ...], str | None, str | None]:
    """The plain `nvidia-smi` table -> (GPUs: index, name as printed, PCI bus id, memory total; driver;
    the driver's CUDA). Rows of the MIG and Processes tables are not GPU rows; garbage gives ((), None, None)."""
    gpus: list[GpuInfo] = []
    lines = (text or "").splitlines()
    for i, line in enumerate(lines):
        m = _BANNER_GPU.match(line.strip())
        if not m:
            continue
        mem = _BANNER_MEM.search(lines[i + 1]) if i + 1 < len(lines) else None
        gpus.append(GpuInfo(index=int(m.group(1)), name=_clean(m.group(2)), pci_bus_id=m.group(3),
                            memory_total_mib=int(mem.group(1)) if mem else None))
    return tuple(gpus), parse_smi_driver_version(text), parse_smi_cuda_version(text)


def parse_smi_list(text: str) -> dict[int, tuple[str, str]]:
    """`nvidia-smi -L` -> {index: (full name, uuid)}: "GPU 0: Tesla V100-PCIE-32GB (UUID: GPU-9bcc...)".
    The indented MIG lines under a GPU are not GPUs."""
    out: dict[int, tuple[str, str]] = {}
    for line in (text or "").splitlines():
        m = _LIST_GPU.match(line)
        if m:
            out[int(m.group(1))] = (m.group(2).strip(), m.group(3))
    return out


# ----------------------------------------------------------------------------------------------
# GPU health (issue 11): pure parsers first, then NVML.
#
# The --query-gpu field names are those of `nvidia-smi --help-query-gpu` (driver 580; the list is
# reproduced in utkuozdemir/nvidia_gpu_exporter internal/nvmlnative, checked against an H100 with driver
# 590). Older drivers call the clock reasons `clocks_throttle_reasons.*` and lack remapped_rows.* and
# pcie.link.gen.gpumax: a refused field is dropped (or swapped for its old name) and the query retried.
HEALTH_FIELDS = (
    "index,pci.bus_id,ecc.mode.current,ecc.errors.uncorrected.volatile.total,"
    "ecc.errors.uncorrected.aggregate.total,retired_pages.pending,remapped_rows.pending,remapped_rows.failure,"
    "clocks_event_reasons.active,pcie.link.gen.current,pcie.link.gen.max,pcie.link.gen.gpumax,"
    "pcie.link.width.current,pcie.link.width.max,persistence_mode,utilization.gpu"
)
HEALTH_FIELD_OLD_NAMES = {"clocks_event_reasons.active": "clocks_throttle_reasons.active"}
MAX_HEALTH_RETRIES = 8


def _flag(text: str | None) -> bool | None:
    """'Enabled'/'Yes'/'Active' -> True, 'Disabled'/'No'/'Not Active' -> False, '[N/A]' etc. -> None."""
    v = (_clean(text or "") or "").lower()
    if v in ("enabled", "yes", "active", "1", "true"):
        return True
    if v in ("disabled", "no", "not active", "0", "false"):
        return False
    return None


def _count(text: str | None) -> int | None:
    v = _clean(text or "")
    if v is None:
        return None
    m = re.match(r"^(\d+)", v)
    return int(m.group(1)) if m else None


def _mask(text: str | None) -> int | None:
    v = _clean(text or "")
    if v is None:
        return None
    try:
        return int(v, 16) if v.lower().startswith("0x") else int(v)
    except ValueError:
        return None


def parse_smi_health_csv(text: str, fields: str = HEALTH_FIELDS) -> dict[int, GpuHealth]:
    """`nvidia-smi --query-gpu=FIELDS --format=csv,noheader,nounits` -> {GPU index: GpuHealth}.

    `fields` is what was queried (refused fields already dropped); `clocks_throttle_reasons.active`
    counts as `clocks_event_reasons.active`. Lines whose column count differs are skipped."""
    names = [f.strip() for f in fields.split(",")]
    out: dict[int, GpuHealth] = {}
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != len(names):
            continue
        row = dict(zip(names, parts))
        if not row.get("index", "").isdigit():
            continue
        clocks = row.get("clocks_event_reasons.active", row.get("clocks_throttle_reasons.active"))
        out[int(row["index"])] = GpuHealth(
            source=Source.NVIDIA_SMI.value,
            ecc_enabled=_flag(row.get("ecc.mode.current")),
            ecc_uncorrected_volatile=_count(row.get("ecc.errors.uncorrected.volatile.total")),
            ecc_uncorrected_aggregate=_count(row.get("ecc.errors.uncorrected.aggregate.total")),
            retired_pages_pending=_flag(row.get("retired_pages.pending")),
            row_remap_pending=_flag(row.get("remapped_rows.pending")),
            row_remap_failure=_flag(row.get("remapped_rows.failure")),
            clock_event_mask=_mask(clocks),
            pcie_gen_current=_count(row.get("pcie.link.gen.current")),
            pcie_gen_max=_count(row.get("pcie.link.gen.max")),
            pcie_gen_device_max=_count(row.get("pcie.link.gen.gpumax")),
            pcie_width_current=_count(row.get("pcie.link.width.current")),
            pcie_width_max=_count(row.get("pcie.link.width.max")),
            persistence_mode=_flag(row.get("persistence_mode")),
            utilization_gpu=_count(row.get("utilization.gpu")),
        )
    return out


# `nvidia-smi -q` labels of the clock reasons -> CLOCK_EVENT_BITS names
_Q_CLOCK_LABELS = {
    "idle": "gpu_idle", "applications clocks setting": "applications_clocks_setting",
    "sw power cap": "sw_power_cap", "hw slowdown": "hw_slowdown", "sync boost": "sync_boost",
    "sw thermal slowdown": "sw_thermal_slowdown", "hw thermal slowdown": "hw_thermal_slowdown",
    "hw power brake slowdown": "hw_power_brake_slowdown", "display clock setting": "display_clock_setting",
}
_Q_HEALTH_SECTIONS = ("persistence mode", "ecc mode", "ecc errors", "retired pages", "remapped rows",
                      "clocks event reasons", "clocks throttle reasons", "gpu link info", "utilization")


def parse_smi_q_health(text: str) -> list[tuple[str | None, GpuHealth]]:
    """The health sections of `nvidia-smi -q` -> [(PCI bus id or None, GpuHealth)], one per GPU.

    Sections are found by indentation (a stack of headings), so a pasted excerpt without the
    "GPU 0000:..." header (e.g. only the "Clocks Throttle Reasons" block) is one GPU with bus id None.
    Both the current (driver 5xx: SRAM/DRAM Uncorrectable) and the old (Double Bit ... Total) ECC
    layouts are read; N/A values stay None."""
    gpus: list[tuple[str | None, dict]] = []
    cur: dict | None = None

    def new(bus: str | None) -> dict:
        d: dict = {"vol": [], "agg": [], "mask": None, "seen_clock": False}
        gpus.append((bus, d))
        return d

    for item in walk_smi_q(text):
        if item[0] == "gpu":
            cur = new(item[1])
            continue
        _, _indent, path, key, value = item
        lk = key.lower()
        top = path[0] if path else lk
        if cur is None:
            if top not in _Q_HEALTH_SECTIONS and not (set(path) & set(_Q_HEALTH_SECTIONS)):
                continue
            cur = new(None)
        if lk == "persistence mode" and not path:
            cur["persistence"] = _flag(value)
        elif "ecc mode" in path and lk == "current":
            cur["ecc_enabled"] = _flag(value)
        elif "ecc errors" in path and ("volatile" in path or "aggregate" in path):
            bucket = cur["vol"] if "volatile" in path else cur["agg"]
            # driver >= 5xx: "DRAM Uncorrectable", "SRAM Uncorrectable Parity/SEC-DED"; older: "Double Bit" > "Total"
            if ("uncorrectable" in lk and "sources" not in " ".join(path)) or ("double bit" in path and lk == "total"):
                bucket.append(_count(value))
        elif "retired pages" in path and lk.startswith("pending"):
            cur["retired_pending"] = _flag(value)
        elif "remapped rows" in path and "histogram" not in " ".join(path):
            if lk == "pending":
                cur["remap_pending"] = _flag(value)
            elif lk.startswith("remapping failure"):
                cur["remap_failure"] = _flag(value)
            elif lk == "uncorrectable error":
                cur["remap_unc"] = _count(value)
        elif ("clocks event reasons" in path or "clocks throttle reasons" in path) and lk in _Q_CLOCK_LABELS:
            active = _flag(value)
            cur["seen_clock"] = True
            if active is not None:
                cur["mask"] = (cur["mask"] or 0) | (CLOCK_EVENT_BITS[_Q_CLOCK_LABELS[lk]] if active else 0)
        elif "gpu link info" in path and "pcie generation" in path:
            if lk in ("max", "current", "device max"):
                cur[{"max": "gen_max", "current": "gen_cur", "device max": "gen_dev"}[lk]] = _count(value)
        elif "gpu link info" in path and "link width" in path and lk in ("max", "current"):
            cur["w_max" if lk == "max" else "w_cur"] = _count(value.rstrip("xX"))
        elif path and path[-1] == "utilization" and lk == "gpu":
            cur["util"] = _count(value)

    def total(values: list) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    return [(bus, GpuHealth(
        source="nvidia-smi -q",
        ecc_enabled=d.get("ecc_enabled"),
        ecc_uncorrected_volatile=total(d["vol"]),
        ecc_uncorrected_aggregate=total(d["agg"]),
        retired_pages_pending=d.get("retired_pending"),
        row_remap_pending=d.get("remap_pending"),
        row_remap_failure=d.get("remap_failure"),
        row_remap_uncorrectable=d.get("remap_unc"),
        clock_event_mask=d["mask"] if d["seen_clock"] else None,
        pcie_gen_current=d.get("gen_cur"),
        pcie_gen_max=d.get("gen_max"),
        pcie_gen_device_max=d.get("gen_dev"),
        pcie_width_current=d.get("w_cur"),
        pcie_width_max=d.get("w_max"),
        persistence_mode=d.get("persistence"),
        utilization_gpu=d.get("util"),
    )) for bus, d in gpus]


def nvml_health(pynvml, handle) -> GpuHealth:
    """One GPU's health from NVML, every call isolated: a GPU without ECC (GeForce) or row remapping
    (pre-Ampere) raises NVML_ERROR_NOT_SUPPORTED for that call only, which leaves that value None.

    Calls: nvmlDeviceGetEccMode, nvmlDeviceGetTotalEccErrors(UNCORRECTED, VOLATILE/AGGREGATE),
    nvmlDeviceGetRetiredPagesPendingStatus, nvmlDeviceGetRemappedRows, nvmlDeviceGetCurrentClocksEventReasons
    (older bindings: ...ThrottleReasons), nvmlDeviceGetCurr/Max/GpuMaxPcieLinkGeneration,
    nvmlDeviceGetCurr/MaxPcieLinkWidth, nvmlDeviceGetPersistenceMode, nvmlDeviceGetUtilizationRates."""
    failed: list[str] = []

    def call(name: str, *args):
        fn = getattr(pynvml, name, None)
        if fn is None:
            failed.append(f"{name}: not in these NVML bindings")
            return None
        try:
            return fn(handle, *args)
        except Exception as exc:
            text = str(exc) or exc.__class__.__name__
            if "not supported" not in text.lower():  # NotSupported is normal: the GPU lacks the feature
                failed.append(f"{name}: {text}")
            return None

    def const(name: str, default: int) -> int:
        return getattr(pynvml, name, default)

    enabled = const("NVML_FEATURE_ENABLED", 1)
    ecc = call("nvmlDeviceGetEccMode")
    unc = const("NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1)
    vol = call("nvmlDeviceGetTotalEccErrors", unc, const("NVML_VOLATILE_ECC", 0))
    agg = call("nvmlDeviceGetTotalEccErrors", unc, const("NVML_AGGREGATE_ECC", 1))
    retired = call("nvmlDeviceGetRetiredPagesPendingStatus")
    rows = call("nvmlDeviceGetRemappedRows")  # (correctable, uncorrectable, pending, failure)
    reasons_fn = ("nvmlDeviceGetCurrentClocksEventReasons" if hasattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons")
                  else "nvmlDeviceGetCurrentClocksThrottleReasons")
    mask = call(reasons_fn)
    util = call("nvmlDeviceGetUtilizationRates")
    persistence = call("nvmlDeviceGetPersistenceMode")

    def as_int(v):
        try:
            return int(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    def row(i):
        try:
            return rows[i]
        except (TypeError, IndexError):
            return None

    try:
        ecc_current = int(ecc[0]) == enabled if ecc is not None else None
    except (TypeError, ValueError, IndexError):
        ecc_current = None
    return GpuHealth(
        source=Source.NVML.value,
        ecc_enabled=ecc_current,
        ecc_uncorrected_volatile=as_int(vol),
        ecc_uncorrected_aggregate=as_int(agg),
        retired_pages_pending=(as_int(retired) == enabled) if retired is not None else None,
        row_remap_pending=bool(row(2)) if row(2) is not None else None,
        row_remap_failure=bool(row(3)) if row(3) is not None else None,
        row_remap_uncorrectable=as_int(row(1)),
        clock_event_mask=as_int(mask),
        pcie_gen_current=as_int(call("nvmlDeviceGetCurrPcieLinkGeneration")),
        pcie_gen_max=as_int(call("nvmlDeviceGetMaxPcieLinkGeneration")),
        pcie_gen_device_max=as_int(call("nvmlDeviceGetGpuMaxPcieLinkGeneration")),
        pcie_width_current=as_int(call("nvmlDeviceGetCurrPcieLinkWidth")),
        pcie_width_max=as_int(call("nvmlDeviceGetMaxPcieLinkWidth")),
        persistence_mode=(as_int(persistence) == enabled) if persistence is not None else None,
        utilization_gpu=as_int(getattr(util, "gpu", None)) if util is not None else None,
        reasons=tuple(failed),
    )


def smi_health(runner: Runner, smi: str, timeout: float) -> tuple[dict[int, GpuHealth], list[tuple[str | None, GpuHealth]], str | None]:
    """The --query-gpu health CSV (refused fields dropped or renamed, then retried), and `nvidia-smi -q`
    when the CSV gave nothing. -> (by index, by bus id from -q, reason or None)."""
    fields = HEALTH_FIELDS.split(",")
    done = None
    for _ in range(MAX_HEALTH_RETRIES):
        done = runner.run([smi, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"], timeout=timeout)
        bad = None if done.ok else parse_refused_field(done.stdout + "\n" + done.stderr)
        if bad is None or bad not in fields or bad in ("index", "pci.bus_id"):
            break
        old = HEALTH_FIELD_OLD_NAMES.get(bad)
        fields = [old if f == bad else f for f in fields] if old else [f for f in fields if f != bad]
    by_index = parse_smi_health_csv(done.stdout, ",".join(fields)) if done is not None and done.ok else {}
    if by_index:
        return by_index, [], None
    q = runner.run([smi, "-q"], timeout=timeout)
    by_bus = parse_smi_q_health(q.stdout) if q.ok else []
    if by_bus:
        return {}, by_bus, None
    if done is not None and not done.ok:
        return {}, [], Msg("GPU health not reported by nvidia-smi ({why})", why=done.describe_failure())
    return {}, [], N_("GPU health not reported by nvidia-smi (no health values parsed)")


def attach_health(gpus: tuple[GpuInfo, ...], by_index: dict[int, GpuHealth],
                  by_bus: list[tuple[str | None, GpuHealth]]) -> tuple[GpuInfo, ...]:
    """GPUs with their health: by index from the CSV, else by PCI bus id from `nvidia-smi -q`."""
    from dataclasses import replace

    bus_map = {(b or "").lower(): h for b, h in by_bus if b}
    out = []
    for g in gpus:
        h = by_index.get(g.index) or bus_map.get((g.pci_bus_id or "").lower())
        out.append(replace(g, health=h) if h is not None else g)
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# NVML


NVML_NOT_INSTALLED = N_("NVML bindings not installed (pip install nvidia-ml-py)")
NVML_LIBRARY_NOT_FOUND = N_("NVML library (libnvidia-ml.so.1) not found: no NVIDIA driver installed, or not on the library path")


def nvml_error_reason(exc: BaseException, pynvml=None) -> tuple[str, bool]:
    """An NVMLError (or import failure) -> (human cause, is_mismatch)."""
    if isinstance(exc, ImportError):
        return NVML_NOT_INSTALLED, False
    code = getattr(exc, "value", None)

    def const(name: str):
        return getattr(pynvml, name, object()) if pynvml is not None else object()

    if code == const("NVML_ERROR_LIBRARY_NOT_FOUND"):
        return NVML_LIBRARY_NOT_FOUND, False
    if code == const("NVML_ERROR_DRIVER_NOT_LOADED"):
        return N_("NVIDIA driver not loaded (kernel module missing: `sudo modprobe nvidia`, or reinstall the driver)"), False
    if code == const("NVML_ERROR_LIB_RM_VERSION_MISMATCH"):
        return MISMATCH_REASON, True
    if code == const("NVML_ERROR_NO_PERMISSION"):
        return N_("no permission to open /dev/nvidia* (add your user to the video group or check container device access)"), False
    if code == const("NVML_ERROR_FUNCTION_NOT_FOUND"):
        return N_("NVML library too old for this call (driver older than the nvidia-ml-py bindings expect)"), False
    text = str(exc) or exc.__class__.__name__
    if is_mismatch_text(text):
        return MISMATCH_REASON, True
    return Msg("NVML error: {error}", error=text), False


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


NVML_LIBRARY = "libnvidia-ml.so.1"  # what nvidia-ml-py's _LoadNvmlLibrary opens on every non-Windows OS


def _nvml_library_missing(platform: str | None = None, cdll: Callable[[str], object] | None = None) -> str | None:
    """The reason probe_nvml would give, found WITHOUT importing pynvml (a ~15-30 ms import), when the
    NVML library cannot be loaded: the common case on a machine with no NVIDIA driver. None: load
    pynvml as usual (Windows, where nvidia-ml-py looks in two places, or a library that dlopen finds).

    Same outcome as before: pynvml missing -> "bindings not installed" (its ImportError came first);
    `CDLL("libnvidia-ml.so.1")` failing -> NVML_ERROR_LIBRARY_NOT_FOUND, exactly the call nvidia-ml-py
    makes (pynvml.py _LoadNvmlLibrary, nvidia-ml-py 13.615.71: `nvmlLib = CDLL("libnvidia-ml.so.1")`,
    an OSError raising NVMLError(NVML_ERROR_LIBRARY_NOT_FOUND))."""
    import sys

    if (platform or sys.platform).startswith("win") or "pynvml" in sys.modules:  # already imported: nothing to save
        return None
    import importlib.util

    try:
        if importlib.util.find_spec("pynvml") is None:
            return NVML_NOT_INSTALLED
    except (ImportError, ValueError):
        return None  # let the real import report it
    try:
        if cdll is None:
            from ctypes import CDLL as cdll  # noqa: N813
        cdll(NVML_LIBRARY)  # a library that loads stays loaded: pynvml's own CDLL finds it again
    except OSError:
        return NVML_LIBRARY_NOT_FOUND
    except Exception:
        return None
    return None


def probe_nvml(loader: Callable[[], object] | None = None) -> tuple[str | None, str | None, tuple[GpuInfo, ...], str | None, bool]:
    """NVML through nvidia-ml-py's `pynvml` module -> (driver, cuda, gpus, reason, mismatch).

    `loader` returns the pynvml module (tests pass a stand-in); the default imports it here, not at
    module import, so `envcheck --help` stays fast.
    """
    pynvml = None
    if loader is None:
        quick = _nvml_library_missing()
        if quick is not None:
            return None, None, (), quick, False
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
                    health=nvml_health(pynvml, handle),
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


def smi_listing(runner: Runner, smi: str, timeout: float) -> tuple[tuple[GpuInfo, ...], str | None, str | None, bool]:
    """When an old driver's retried --query-gpu gave no GPUs (it failed, or printed nothing envcheck
    reads) but did not hang: the GPU rows of the plain `nvidia-smi` table (index, bus id, memory; the
    driver and its CUDA), with the full names and UUIDs of `nvidia-smi -L` where it answers.
    -> (GPUs, driver, cuda, whether -L named them); ((), None, None, False) when the table lists none,
    so -L is asked only when the table worked."""
    from dataclasses import replace

    banner = runner.run([smi], timeout=timeout)
    if not banner.ok:
        return (), None, None, False
    gpus, driver, cuda = parse_smi_banner(banner.stdout)
    if not gpus:
        return (), None, None, False
    listed = runner.run([smi, "-L"], timeout=timeout)
    names = parse_smi_list(listed.stdout) if listed.ok else {}
    gpus = tuple(replace(g, name=names[g.index][0], uuid=names[g.index][1]) if g.index in names else g
                 for g in gpus)
    return gpus, driver, cuda, any(g.index in names for g in gpus)


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
        reasons.append(N_("NVML skipped (ENVCHECK_DISABLE_NVML is set)"))
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
            reasons.append(N_("nvidia-smi not found on PATH"))
        else:
            smi_parsed = False
            done, fields, refused = smi_query(runner, smi, timeout)
            if refused:
                reasons.append(Msg("nvidia-smi refused --query-gpu field(s) {items} (a driver older than the field); "
                                   "queried the rest", items=', '.join(refused)))
            if is_mismatch_text(done.stdout + done.stderr):
                mismatch = True
                reasons.append(Msg("nvidia-smi: {reason}", reason=MISMATCH_REASON))
            elif not done.ok:
                reasons.append(done.describe_failure())
            else:
                smi_gpus, smi_driver = parse_smi_csv(done.stdout, ",".join(fields))
                if not smi_gpus and done.stdout.strip():
                    reasons.append(N_("nvidia-smi printed output envcheck could not parse"))
                smi_parsed = bool(smi_gpus)
                if not gpus and smi_gpus:
                    gpus, gpus_source = smi_gpus, Source.NVIDIA_SMI
                if not driver and smi_driver:
                    driver, source = smi_driver, Source.NVIDIA_SMI
            # An old driver (it refused a field) whose retried query still gave no GPUs, without a hang or
            # a version mismatch: the plain table and `-L` list them. A driver that refused nothing and
            # failed is asked once only (a broken or hung nvidia-smi must not cost more calls).
            if refused and not gpus and not done.timed_out and done.error is None and not mismatch:
                listed, b_driver, b_cuda, named = smi_listing(runner, smi, timeout)
                if listed:
                    gpus, gpus_source, smi_parsed = listed, Source.NVIDIA_SMI, True
                    reasons.append(N_("--query-gpu gave no GPUs: listed from the nvidia-smi table and `nvidia-smi -L`")
                                   if named else
                                   N_("--query-gpu gave no GPUs: listed from the nvidia-smi table (names as the table "
                                      "prints them)"))
                    if not driver and b_driver:
                        driver, source = b_driver, Source.NVIDIA_SMI
                    if not cuda and b_cuda:
                        cuda, cuda_source = b_cuda, Source.NVIDIA_SMI
            # An old driver (it refused a field): `nvidia-smi -q` says which GPUs are MIG or vGPU.
            q_health = None
            if refused and smi_parsed and gpus_source == Source.NVIDIA_SMI:
                q_health = []
                q = runner.run([smi, "-q"], timeout=timeout)
                if q.ok:
                    parsed_q = parse_smi_q(q.stdout)
                    gpus = merge_smi_q(gpus, parsed_q)
                    if not cuda and parsed_q["cuda"]:
                        cuda, cuda_source = parsed_q["cuda"], Source.NVIDIA_SMI
                    q_health = parse_smi_q_health(q.stdout)
            # Health (issue 11) for GPUs nvidia-smi listed: an old driver (it refused an identity field)
            # knows few health fields either, so its `-q` report (already read) is used; else the health CSV.
            if smi_parsed and gpus_source == Source.NVIDIA_SMI:
                if q_health is not None:
                    by_index, by_bus = {}, q_health
                    why = None if q_health else N_("GPU health not reported (this driver refused query fields and "
                                                   "`nvidia-smi -q` gave none)")
                else:
                    by_index, by_bus, why = smi_health(runner, smi, timeout)
                gpus = attach_health(gpus, by_index, by_bus)
                if why:
                    reasons.append(why)
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
        reasons.append(N_("the driver's CUDA version was not reported"))
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
