"""AMD GPUs and ROCm, without importing torch: KFD sysfs first, then amd-smi or rocm-smi, then the
ROCm version file. Every external tool runs with a timeout; nothing here raises.

Shell equivalents, in the order tried:
  grep -H . /sys/class/kfd/kfd/topology/nodes/*/properties      (gfx_target_version, simd_count)
  cat /sys/class/kfd/kfd/topology/nodes/*/mem_banks/0/properties  (size_in_bytes: VRAM)
  amd-smi static --asic --bus --vram --json                     (ROCm >= 6: names, gfx targets; its
                                                                text form is parsed too)
  rocm-smi --showproductname --showmeminfo vram --json          (older ROCm)
  cat ${ROCM_PATH:-/opt/rocm}/.info/version                     (the installed ROCm release)

KFD encodes gfx_target_version as MMmmss in decimal, stepping printed in hex: 90402 -> gfx942,
90010 -> gfx90a, 110000 -> gfx1100 (https://github.com/ROCm/rocm-cli/pull/343: "gfx_target_version
90402" on an MI300X whose amd-smi TARGET_GRAPHICS_VERSION is gfx942;
https://github.com/mostlygeek/llama-swap/pull/978 formatGFXTarget).
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
from typing import Mapping

from envcheck.errors import Msg
from envcheck.facts import Accelerator, VendorFacts
from envcheck.probes import pci_display_devices, read_text
from envcheck.runner import Runner

AMD_PCI_VENDOR = "0x1002"
DEFAULT_ROCM_PATH = "/opt/rocm"
_GFX = re.compile(r"^gfx[0-9a-f]{3,5}$", re.IGNORECASE)


# ------------------------------------------------------------------------------- pure parsers


def gfx_from_target_version(value) -> str | None:
    """KFD's gfx_target_version integer -> 'gfx942'; 0 or garbage -> None."""
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if n < 10000:
        return None
    major, minor, step = n // 10000, (n // 100) % 100, n % 100
    if minor > 9 or step > 15:
        return None
    return f"gfx{major}{minor}{step:x}"


def normalize_gfx(text) -> str | None:
    """'gfx1100' -> 'gfx1100'; rocm-smi's unpadded 'gfx9010' (9.0.10) -> 'gfx90a'; junk -> None."""
    t = str(text or "").strip().lower()
    m = re.fullmatch(r"gfx([2-9])(\d)(\d\d)", t)  # a one-digit major with a two-digit stepping
    if m:
        return gfx_from_target_version(int(m.group(1)) * 10000 + int(m.group(2)) * 100 + int(m.group(3)))
    return t if _GFX.match(t) else None


def parse_kfd_properties(text: str) -> dict[str, int]:
    """A KFD topology `properties` file ('key value' lines) -> {key: int}; other lines ignored."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"-?\d+", parts[1]):
            out[parts[0]] = int(parts[1])
    return out


def _mib(n) -> int | None:
    try:
        v = int(float(str(n).strip()))
    except (TypeError, ValueError):
        return None
    return v // (1024 * 1024) if v > 0 else None


def parse_rocm_smi_json(text: str) -> list[dict]:
    """`rocm-smi --showproductname --showmeminfo vram --json` -> [{index, name, gfx, memory_total_mib,
    device_id}] in card order; garbage -> []."""
    try:
        data = json.loads(text or "")
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict):
        return []
    rows = []
    for key, info in data.items():
        m = re.fullmatch(r"card(\d+)", str(key))
        if not m or not isinstance(info, dict):
            continue
        name = info.get("Card Series") or info.get("Card series") or info.get("Device Name")
        rows.append({
            "index": int(m.group(1)),
            "name": str(name).strip() or None if name else None,
            "gfx": normalize_gfx(info.get("GFX Version")),
            "memory_total_mib": _mib(info.get("VRAM Total Memory (B)")),
            "device_id": info.get("Card Model") or info.get("Device ID"),
        })
    return sorted(rows, key=lambda r: r["index"])


def parse_amd_smi_static(text: str) -> list[dict]:
    """`amd-smi static --asic --bus --vram` (text) -> [{index, name, gfx, memory_total_mib, bdf}]."""
    rows: list[dict] = []
    cur: dict | None = None
    section = None
    for raw in (text or "").splitlines():
        line = raw.strip()
        m = re.fullmatch(r"GPU:\s*(\d+)", line)
        if m and not raw.startswith(" "):
            cur = {"index": int(m.group(1)), "name": None, "gfx": None, "memory_total_mib": None, "bdf": None}
            rows.append(cur)
            section = None
            continue
        if cur is None or ":" not in line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().upper(), value.strip()
        if not value:
            section = key
            continue
        if value.upper() == "N/A":
            continue
        if section == "ASIC" and key == "MARKET_NAME":
            cur["name"] = value
        elif section == "ASIC" and key == "TARGET_GRAPHICS_VERSION":
            cur["gfx"] = normalize_gfx(value)
        elif section == "BUS" and key == "BDF":
            cur["bdf"] = value
        elif section == "VRAM" and key == "SIZE":  # "SIZE: 196592 MB"
            cur["memory_total_mib"] = _size_mib(value)
    return rows


def _size_mib(value) -> int | None:
    """amd-smi's VRAM size: {"value": 196592, "unit": "MB"} or "196592 MB" -> MiB."""
    if isinstance(value, dict):
        value = f"{value.get('value', '')} {value.get('unit', '')}"
    m = re.match(r"\s*(\d+)\s*(MB|MIB|GB|GIB)?", str(value or "").upper())
    if not m:
        return None
    n = int(m.group(1))
    return n * 1024 if (m.group(2) or "").startswith("G") else n


def parse_amd_smi_static_json(text: str) -> list[dict] | None:
    """`amd-smi static --asic --bus --vram --json` -> rows like parse_amd_smi_static; None when the text
    is not JSON (an amd-smi that printed its text form). Accepts both shapes amd-smi releases print:
    a list of {"gpu": N, "asic": {...}, "bus": {...}, "vram": {...}} and {"gpu_data": [that list]}.
    Field names as amd-smi's CLI builds them (ROCm/amdsmi amdsmi_cli: asic.market_name,
    asic.target_graphics_version = "gfx" + ..., bus.bdf, vram.size)."""
    try:
        data = json.loads(text or "")
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict):
        data = data.get("gpu_data")
    rows = []
    for d in data if isinstance(data, list) else []:
        if not isinstance(d, dict) or not isinstance(d.get("gpu"), int):
            continue
        asic = d.get("asic") if isinstance(d.get("asic"), dict) else {}
        bus = d.get("bus") if isinstance(d.get("bus"), dict) else {}
        vram = d.get("vram") if isinstance(d.get("vram"), dict) else {}
        name = asic.get("market_name")
        rows.append({"index": d["gpu"], "name": name if isinstance(name, str) and name != "N/A" else None,
                     "gfx": normalize_gfx(asic.get("target_graphics_version")),
                     "memory_total_mib": _size_mib(vram.get("size")), "bdf": bus.get("bdf") or asic.get("pci_bdf")})
    return sorted(rows, key=lambda r: r["index"])


def parse_rocm_version(text: str) -> str | None:
    """/opt/rocm/.info/version: '6.2.4-120' -> '6.2.4'."""
    m = re.match(r"\s*(\d+\.\d+(?:\.\d+)?)", text or "")
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------- sysfs


def kfd_gpus(sys_root: str) -> list[dict]:
    """GPU nodes of the KFD topology (simd_count > 0), in node order: [{node, gfx, memory_total_mib, device_id}]."""
    out = []
    nodes = glob.glob(os.path.join(sys_root, "class", "kfd", "kfd", "topology", "nodes", "*"))
    for node in sorted(nodes, key=lambda p: int(os.path.basename(p)) if os.path.basename(p).isdigit() else 1 << 30):
        props = parse_kfd_properties(read_text(os.path.join(node, "properties")) or "")
        if props.get("simd_count", 0) <= 0:  # CPU nodes have simd_count 0
            continue
        mem = parse_kfd_properties(read_text(os.path.join(node, "mem_banks", "0", "properties")) or "")
        out.append({"node": os.path.basename(node), "gfx": gfx_from_target_version(props.get("gfx_target_version")),
                    "memory_total_mib": _mib(mem.get("size_in_bytes")), "device_id": props.get("device_id")})
    return out


def tool_path(name: str, environ: Mapping[str, str], rocm_path: str) -> str | None:
    """`command -v NAME`, else ${ROCM_PATH}/bin/NAME."""
    found = shutil.which(name, path=environ.get("PATH"))
    if found:
        return found
    cand = os.path.join(rocm_path, "bin", name)
    return cand if os.path.isfile(cand) and os.access(cand, os.X_OK) else None


def probe_amd(runner: Runner, environ: Mapping[str, str] | None = None, *, sys_root: str | None = None,
              timeout: float | None = None) -> VendorFacts:
    """AMD GPUs (name, gfx target, memory) and the ROCm release, each with its source."""
    from envcheck.probes.nvidia import tool_timeout

    environ = os.environ if environ is None else environ
    sys_root = sys_root or environ.get("ENVCHECK_SYSFS_ROOT") or "/sys"
    rocm_path = environ.get("ROCM_PATH") or DEFAULT_ROCM_PATH
    timeout = timeout or tool_timeout(environ)
    reasons: list[str] = []

    kfd = kfd_gpus(sys_root)
    pci = pci_display_devices(sys_root, AMD_PCI_VENDOR)
    tool_rows: list[dict] = []
    tool_src = None
    amd_smi = tool_path("amd-smi", environ, rocm_path)
    rocm_smi = None if amd_smi else tool_path("rocm-smi", environ, rocm_path)
    if amd_smi:
        done = runner.run([amd_smi, "static", "--asic", "--bus", "--vram", "--json"], timeout=timeout)
        if done.ok:
            parsed = parse_amd_smi_static_json(done.stdout)
            tool_rows = parsed if parsed is not None else parse_amd_smi_static(done.stdout)
            if not tool_rows and done.stdout.strip():
                reasons.append(Msg("amd-smi printed output envcheck could not parse"))
        else:
            reasons.append(done.describe_failure())
        tool_src = "amd-smi"
    if rocm_smi or (amd_smi and not tool_rows and tool_path("rocm-smi", environ, rocm_path)):
        rocm_smi = rocm_smi or tool_path("rocm-smi", environ, rocm_path)
        done = runner.run([rocm_smi, "--showproductname", "--showmeminfo", "vram", "--json"], timeout=timeout)
        if done.ok:
            tool_rows = parse_rocm_smi_json(done.stdout)
            if not tool_rows and done.stdout.strip():
                reasons.append(Msg("rocm-smi printed output envcheck could not parse"))
        else:
            reasons.append(done.describe_failure())
        tool_src = "rocm-smi"

    rocm_text = read_text(os.path.join(rocm_path, ".info", "version"))
    rocm = parse_rocm_version(rocm_text) if rocm_text is not None else None
    driver_text = read_text(os.path.join(sys_root, "module", "amdgpu", "version"))
    driver = driver_text.strip() or None if driver_text else None

    accs = []
    count = max(len(tool_rows), len(kfd))
    for i in range(count):
        row = tool_rows[i] if i < len(tool_rows) else {}
        node = kfd[i] if i < len(kfd) else {}
        gfx, arch_src = row.get("gfx"), tool_src if row.get("gfx") else None
        if not gfx and node.get("gfx"):
            gfx, arch_src = node["gfx"], "sysfs:kfd"
        mem = row.get("memory_total_mib") or node.get("memory_total_mib")
        accs.append(Accelerator(
            vendor="amd", index=i, name=row.get("name"), arch=gfx, memory_total_mib=mem, driver=driver,
            runtime=f"ROCm {rocm}" if rocm else None, source=tool_src if row else "sysfs:kfd",
            arch_source=arch_src,
        ))
    if not accs and pci:
        reasons.append(Msg("PCI shows AMD display device(s) {items} but no KFD compute node: the amdgpu driver is not "
                           "loaded, or /dev/kfd is not available here", items=', '.join(pci)))
    if accs and not rocm:
        reasons.append(Msg("ROCm not found ({path} unreadable)", path=os.path.join(rocm_path, '.info', 'version')))
    return VendorFacts(
        vendor="amd", accelerators=tuple(accs), runtime=f"ROCm {rocm}" if rocm else None,
        runtime_source=os.path.join(rocm_path, ".info", "version") if rocm else None,
        reasons=tuple(reasons), extra={"pci_devices": list(pci)} if pci else {},
    )
