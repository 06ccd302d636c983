"""The machine: OS, kernel, architecture, CPU, RAM, free disk, WSL, container hints, /dev/shm.

Shell equivalents: `cat /etc/os-release; uname -srm; grep -m1 'model name' /proc/cpuinfo; nproc;
free -b; df -B1 ~; cat /proc/version; ls /.dockerenv /run/.containerenv; df -B1 /dev/shm`.
Never raises: a value that cannot be read is None with a reason.
"""
from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
from dataclasses import dataclass, field
from typing import Mapping

from envcheck.errors import Msg
from envcheck.facts import Sourced, host_arch
from envcheck.probes import read_text


@dataclass(frozen=True)
class SystemFacts:
    os: Sourced = Sourced()
    kernel: Sourced = Sourced()
    arch: Sourced = Sourced()
    hostname: Sourced = Sourced()
    cpu_model: Sourced = Sourced()
    cpu_cores_logical: Sourced = Sourced()
    cpu_cores_physical: Sourced = Sourced()
    ram_total_bytes: Sourced = Sourced()
    disk_free_bytes: Sourced = Sourced()
    disk_path: str | None = None
    wsl: Sourced = Sourced()  # "WSL1" | "WSL2" | None (not WSL)
    container: Sourced = Sourced()  # "docker" | "podman" | "kubernetes" | ... | None
    container_hints: tuple[str, ...] = ()
    dev_shm_bytes: Sourced = Sourced()
    platform: str = field(default_factory=lambda: sys.platform)

    def to_dict(self) -> dict:
        out = {}
        for name in (
            "os", "kernel", "arch", "hostname", "cpu_model", "cpu_cores_logical", "cpu_cores_physical",
            "ram_total_bytes", "disk_free_bytes", "wsl", "container", "dev_shm_bytes",
        ):
            out[name] = getattr(self, name).to_dict()
        out["disk_path"] = self.disk_path
        out["container_hints"] = list(self.container_hints)
        out["platform"] = self.platform
        return out




# ---------------------------------------------------------------------------------- pure parsers


def mask_hostname(name: str) -> str:
    """`host-<8 hex>` for `doctor --anonymize`: hides the name but keeps nodes of a fleet distinct
    (the same host always masks the same way, so `envcheck fleet report` can still tell nodes apart)."""
    import hashlib

    return "host-" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:8]


def parse_os_release(text: str) -> dict[str, str]:
    """/etc/os-release KEY=value lines (values optionally quoted) -> dict."""
    out = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def parse_cpu_model(cpuinfo: str) -> str | None:
    """First 'model name' (x86) or 'Model'/'Hardware' (ARM) line of /proc/cpuinfo."""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in (cpuinfo or "").splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return " ".join(value.split())
    return None


def parse_wsl(kernel_release: str, proc_version: str = "") -> str | None:
    """WSL2 kernels are named '...-microsoft-standard-WSL2'; WSL1 reports '...-Microsoft'.

    https://learn.microsoft.com/en-us/windows/wsl/compare-versions (WSL2 runs a real Linux kernel)
    """
    text = f"{kernel_release or ''} {proc_version or ''}"
    low = text.lower()
    if "microsoft" not in low and "wsl" not in low:
        return None
    if "wsl2" in low or "microsoft-standard" in low:
        return "WSL2"
    return "WSL1"


def parse_container_hints(
    cgroup_text: str | None, dockerenv: bool, containerenv: bool, environ: Mapping[str, str]
) -> tuple[str | None, tuple[str, ...]]:
    """Container runtime guess and the evidence, from /proc/1/cgroup, marker files and env vars."""
    hints = []
    kind = None
    if dockerenv:
        hints.append("/.dockerenv exists")
        kind = "docker"
    if containerenv:
        hints.append("/run/.containerenv exists")
        kind = kind or "podman"
    low = (cgroup_text or "").lower()
    for marker, name in (("kubepods", "kubernetes"), ("docker", "docker"), ("containerd", "containerd"),
                         ("lxc", "lxc"), ("libpod", "podman")):
        if marker in low:
            hints.append(f"/proc/1/cgroup mentions {marker}")
            kind = kind or name
            break
    if environ.get("KUBERNETES_SERVICE_HOST"):
        hints.append("KUBERNETES_SERVICE_HOST is set")
        kind = "kubernetes" if kind in (None, "docker", "containerd") else kind
    if environ.get("container"):  # set by systemd-nspawn, podman, flatpak
        hints.append(f"container={environ['container']} in the environment")
        kind = kind or environ["container"]
    if environ.get("SINGULARITY_CONTAINER") or environ.get("APPTAINER_CONTAINER"):
        hints.append("Apptainer/Singularity container")
        kind = kind or "apptainer"
    return kind, tuple(hints)


# ---------------------------------------------------------------------------------------- probe


def probe_system(environ: Mapping[str, str] | None = None, *, root: str = "/") -> SystemFacts:
    """Read the machine. `root` lets tests point at a fake tree for /etc, /proc and /dev/shm."""
    environ = os.environ if environ is None else environ

    def p(*parts: str) -> str:
        return os.path.join(root, *parts)

    # OS
    osr_path = p("etc", "os-release")
    osr_text = read_text(osr_path)
    if osr_text:
        rel = parse_os_release(osr_text)
        name = rel.get("PRETTY_NAME") or " ".join(x for x in (rel.get("NAME"), rel.get("VERSION_ID")) if x)
        os_fact = Sourced(name or None, "/etc/os-release", None if name else "no NAME in /etc/os-release")
    elif sys.platform == "darwin":
        os_fact = Sourced(f"macOS {platform.mac_ver()[0]}", "platform")
    elif sys.platform.startswith("win"):
        os_fact = Sourced(f"Windows {platform.version()}", "platform")
    else:
        os_fact = Sourced(platform.system() or None, "platform", "no /etc/os-release")

    kernel = platform.release()
    proc_version = read_text(p("proc", "version")) or ""
    wsl = parse_wsl(kernel, proc_version)

    cpuinfo = read_text(p("proc", "cpuinfo"))
    cpu_model = parse_cpu_model(cpuinfo) if cpuinfo else None
    if cpu_model:
        cpu_fact = Sourced(cpu_model, "/proc/cpuinfo")
    elif platform.processor():
        cpu_fact = Sourced(platform.processor(), "platform")
    else:
        cpu_fact = Sourced(None, None, "no model name in /proc/cpuinfo")

    ram = phys = None
    ram_reason = phys_reason = None
    try:
        import psutil  # imported here: keeps `envcheck --help` fast

        ram = int(psutil.virtual_memory().total)
        phys = psutil.cpu_count(logical=False)
        if phys is None:
            phys_reason = Msg("psutil could not count physical cores")
    except Exception as exc:  # ImportError or a platform psutil does not support
        ram_reason = phys_reason = Msg("psutil unavailable: {error}", error=exc.__class__.__name__)

    home = environ.get("HOME") or os.path.expanduser("~")
    disk_path = home if os.path.isdir(home) else os.getcwd()
    try:
        disk = Sourced(int(shutil.disk_usage(disk_path).free), "statvfs")
    except OSError as exc:
        disk = Sourced(None, None, f"cannot stat {disk_path}: {exc.strerror or exc}")

    shm_path = p("dev", "shm")
    if sys.platform.startswith("linux"):
        try:
            st = os.statvfs(shm_path)
            shm = Sourced(int(st.f_blocks * st.f_frsize), "statvfs /dev/shm")
        except OSError as exc:
            shm = Sourced(None, None, f"/dev/shm not available: {exc.strerror or exc}")
    else:
        shm = Sourced(None, None, "not Linux (no /dev/shm)")

    kind, hints = parse_container_hints(
        read_text(p("proc", "1", "cgroup")),
        os.path.exists(p(".dockerenv")),
        os.path.exists(p("run", ".containerenv")),
        environ,
    )
    try:
        hostname = Sourced(socket.gethostname() or None, "socket.gethostname")
    except OSError as exc:
        hostname = Sourced(None, None, str(exc))

    return SystemFacts(
        os=os_fact,
        kernel=Sourced(kernel or None, "platform.release", None if kernel else "unknown"),
        arch=host_arch(),  # the same normalization install's --arch default uses
        hostname=hostname,
        cpu_model=cpu_fact,
        cpu_cores_logical=Sourced(os.cpu_count(), "os.cpu_count"),
        cpu_cores_physical=Sourced(phys, "psutil" if phys else None, phys_reason),
        ram_total_bytes=Sourced(ram, "psutil" if ram else None, ram_reason),
        disk_free_bytes=disk,
        disk_path=disk_path,
        wsl=Sourced(wsl, "/proc/version" if wsl else "platform.release"),
        container=Sourced(kind, "heuristics" if kind else None, None if kind else "no container hints"),
        container_hints=hints,
        dev_shm_bytes=shm,
    )
