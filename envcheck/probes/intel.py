"""Intel discrete GPUs (the XPU devices PyTorch's XPU build runs on), without importing torch.

Shell equivalents, in the order tried:
  grep -H . /sys/class/drm/card*/device/vendor /sys/class/drm/card*/device/device
      (vendor 0x8086 and a device id listed in configs/intel_gpus.json)
  xpu-smi discovery --json          (only when on PATH: the names and indices xpu-smi uses)

`sycl-ls` is not run: it starts every SYCL backend and can take seconds; xpu-smi and sysfs say enough.
Nothing here raises.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from envcheck.errors import Msg
from envcheck.facts import Accelerator, VendorFacts
from envcheck.probes import read_text
from envcheck.runner import Runner

INTEL_PCI_VENDOR = "0x8086"
TABLE_NAME = "intel_gpus.json"


@lru_cache(maxsize=1)
def device_table(path: str | None = None) -> dict[str, dict]:
    """device id ('0x0bd5') -> {name, family, source}; an unreadable table gives {}."""
    from envcheck.gputable import config_path

    try:
        data = json.loads(Path(path or config_path(TABLE_NAME)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for row in data.get("devices", []) if isinstance(data, dict) else []:
        if isinstance(row, dict) and re.fullmatch(r"0x[0-9a-f]{4}", str(row.get("device_id", "")).lower()):
            out[row["device_id"].lower()] = row
    return out


def drm_devices(sys_root: str) -> list[dict]:
    """[{card, device_id, pci}] for /sys/class/drm/cardN whose device vendor is Intel (connectors such
    as card0-DP-1 skipped), in card order."""
    out = []
    cards = [p for p in glob.glob(os.path.join(sys_root, "class", "drm", "card*")) if re.fullmatch(r"card\d+", os.path.basename(p))]
    for card in sorted(cards, key=lambda p: int(os.path.basename(p)[4:])):
        vendor = (read_text(os.path.join(card, "device", "vendor")) or "").strip().lower()
        if vendor != INTEL_PCI_VENDOR:
            continue
        dev = (read_text(os.path.join(card, "device", "device")) or "").strip().lower()
        pci = os.path.basename(os.path.realpath(os.path.join(card, "device")))
        out.append({"card": os.path.basename(card), "device_id": dev or None, "pci": pci})
    return out


def parse_xpu_smi_discovery(text: str) -> list[dict]:
    """`xpu-smi discovery --json` -> [{index, name, pci_device_id}]; garbage -> []."""
    try:
        data = json.loads(text or "")
    except (ValueError, RecursionError):
        return []
    rows = data.get("device_list") if isinstance(data, dict) else None
    out = []
    for d in rows if isinstance(rows, list) else []:
        if isinstance(d, dict) and isinstance(d.get("device_id"), int):
            out.append({"index": d["device_id"], "name": d.get("device_name"), "pci_device_id": d.get("pci_device_id")})
    return sorted(out, key=lambda r: r["index"])


def probe_intel(runner: Runner, environ: Mapping[str, str] | None = None, *, sys_root: str | None = None,
                timeout: float | None = None) -> VendorFacts:
    from envcheck.probes.nvidia import tool_timeout

    environ = os.environ if environ is None else environ
    sys_root = sys_root or environ.get("ENVCHECK_SYSFS_ROOT") or "/sys"
    reasons: list[str] = []
    intel_cards = drm_devices(sys_root)
    table = device_table() if intel_cards else {}  # the table (and its loader) only when Intel cards exist
    found = [d for d in intel_cards if d["device_id"] in table]
    xpu = []
    smi = shutil.which("xpu-smi", path=environ.get("PATH"))
    if smi:
        done = runner.run([smi, "discovery", "--json"], timeout=timeout or tool_timeout(environ))
        if done.ok:
            xpu = parse_xpu_smi_discovery(done.stdout)
            if not xpu and done.stdout.strip():
                reasons.append(Msg("xpu-smi printed output envcheck could not parse"))
        else:
            reasons.append(done.describe_failure())
    accs = []
    for i in range(max(len(found), len(xpu))):
        d = found[i] if i < len(found) else {}
        x = xpu[i] if i < len(xpu) else {}
        row = table.get(d.get("device_id") or "", {})
        accs.append(Accelerator(
            vendor="intel", index=i, name=x.get("name") or row.get("name"),
            arch=row.get("family"), source="xpu-smi" if x else f"sysfs:/sys/class/drm/{d.get('card')}",
            arch_source="configs/intel_gpus.json" if row else None,
            notes=(f"PCI {d['pci']}, device id {d['device_id']}",) if d else (),
        ))
    return VendorFacts(vendor="intel", accelerators=tuple(accs), reasons=tuple(reasons))
