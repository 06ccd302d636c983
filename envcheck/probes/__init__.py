"""Probes READ the machine and never raise: a missing value comes back with a human reason."""
from __future__ import annotations

import os
import stat

from envcheck.errors import Msg

# Config files (.condarc, pip.conf, kernel.json) are a few KiB; anything past 1 MiB is not one.
MAX_CONFIG_BYTES = 1 << 20
# sysfs/procfs text (/proc/cpuinfo grows with the core count: ~1.5 KiB per logical CPU).
MAX_TEXT_BYTES = 16 << 20

_KINDS = ((stat.S_ISDIR, Msg("a directory")), (stat.S_ISFIFO, Msg("a FIFO")), (stat.S_ISCHR, Msg("a character device")),
          (stat.S_ISBLK, Msg("a block device")), (stat.S_ISSOCK, Msg("a socket")))


def read_bounded(path: str, limit: int = MAX_CONFIG_BYTES) -> tuple[str | None, str | None]:
    """(text, None), or (None, reason) when the file cannot be read, is not a regular file (a FIFO
    must not hang us, /dev/zero must not fill memory) or is larger than `limit` bytes.

    The file is opened non-blocking (opening a FIFO for reading would otherwise wait for a writer)
    and checked with fstat on the open descriptor, so a swap between check and read cannot fool it.
    Undecodable bytes are replaced.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        return None, Msg("cannot read {path}: {error}", path=path, error=str(getattr(exc, "strerror", None) or exc))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), Msg("not a regular file"))
            return None, Msg("skipped {path}: {kind}, not a regular file", path=path, kind=kind)
        if st.st_size > limit:
            return None, Msg("skipped {path}: larger than {kib} KiB", path=path, kib=limit // 1024)
        chunks, total = [], 0
        while total <= limit:  # st_size is 0 for procfs files: read up to the limit, not to st_size
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            return None, Msg("skipped {path}: larger than {kib} KiB", path=path, kib=limit // 1024)
        text = b"".join(chunks).decode("utf-8", errors="replace")
        return text.replace("\r\n", "\n").replace("\r", "\n"), None  # as text mode's universal newlines
    except OSError as exc:
        return None, Msg("cannot read {path}: {error}", path=path, error=str(exc.strerror or exc))
    finally:
        os.close(fd)


def read_text(path: str, limit: int = MAX_TEXT_BYTES) -> str | None:
    """The file's text (undecodable bytes replaced), or None when it cannot be read, is not a
    regular file or is larger than `limit` (see read_bounded)."""
    return read_bounded(path, limit)[0]


def pci_display_devices(sys_root: str, vendor: str) -> tuple[str, ...]:
    """PCI addresses of display/3D controllers (class 0x03xxxx) whose vendor id is `vendor` ("0x10de"
    NVIDIA, "0x1002" AMD, "0x8086" Intel): `grep -l VENDOR /sys/bus/pci/devices/*/vendor`. A device
    without a readable class file counts (some containers hide it)."""
    import glob

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
