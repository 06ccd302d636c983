"""Probes READ the machine and never raise: a missing value comes back with a human reason."""
from __future__ import annotations


def read_text(path: str) -> str | None:
    """The file's text (undecodable bytes replaced), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def pci_display_devices(sys_root: str, vendor: str) -> tuple[str, ...]:
    """PCI addresses of display/3D controllers (class 0x03xxxx) whose vendor id is `vendor` ("0x10de"
    NVIDIA, "0x1002" AMD, "0x8086" Intel): `grep -l VENDOR /sys/bus/pci/devices/*/vendor`. A device
    without a readable class file counts (some containers hide it)."""
    import glob
    import os

    found = []
    for vendor_file in sorted(glob.glob(os.path.join(sys_root, "bus", "pci", "devices", "*", "vendor"))):
        if (read_text(vendor_file) or "").strip().lower() != vendor:
            continue
        dev_dir = os.path.dirname(vendor_file)
        klass = (read_text(os.path.join(dev_dir, "class")) or "").strip().lower()
        if klass and not klass.startswith("0x03"):
            continue
        found.append(os.path.basename(dev_dir))
    return tuple(found)
