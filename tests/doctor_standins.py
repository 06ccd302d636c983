"""Helpers for the doctor tests: a stand-in `nvidia-smi` that replays the real H100 captures
(tests/fixtures/h100-driver580) or misbehaves on request, and a hermetic environment for doctor.

A stand-in is needed because this machine has no NVIDIA GPU; NVML itself is real here (and absent).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import FIXTURES, write_exe

H100 = FIXTURES / "h100-driver580"


def query_line() -> str:
    """The 10-field capture reduced to the 7 fields envcheck queries (same GPU, same values)."""
    parts = [p.strip() for p in (H100 / "nvidia-smi-query.txt").read_text().strip().split(",")]
    return ", ".join(parts[i] for i in (0, 1, 2, 3, 4, 6, 7)) + "\n"


def install_nvidia_smi(bin_dir: Path, data_dir: Path, mode: str = "ok") -> Path:
    """mode: ok | hang | garbage | fail | mismatch. Every call appends its argv to data_dir/argv.log."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "query.txt").write_text(query_line())
    cat, sleep = shutil.which("cat"), shutil.which("sleep")
    body = f"""#!/bin/sh
echo "$*" >> {data_dir}/argv.log
case "{mode}" in
  hang) exec {sleep} 60 ;;
  garbage) printf '\\000\\377<html>502 Bad Gateway</html>\\n,,,\\n'; exit 0 ;;
  fail) echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."; exit 9 ;;
  mismatch) echo "Failed to initialize NVML: Driver/library version mismatch"; echo "NVML library version: 580.159"; exit 18 ;;
esac
case "$1" in
  --query-gpu=*) exec {cat} {data_dir}/query.txt ;;
  --version) exec {cat} {H100}/nvidia-smi-version.txt ;;
  "") exec {cat} {H100}/nvidia-smi.txt ;;
  *) echo "unexpected arguments: $*" >&2; exit 2 ;;
esac
"""
    return write_exe(bin_dir, "nvidia-smi", body)


def hermetic_env(base: dict, tmp_path: Path, bin_dir: Path, **extra) -> dict:
    """PATH holds only bin_dir; NVML off (so a real GPU machine replays the capture too); empty sysfs
    and procfs roots so the host's /sys and /proc do not leak in."""
    sys_root, proc_root = tmp_path / "sysfs", tmp_path / "procfs"
    sys_root.mkdir(exist_ok=True)
    proc_root.mkdir(exist_ok=True)
    env = dict(base)
    env.update(PATH=str(bin_dir), ENVCHECK_DISABLE_NVML="1", ENVCHECK_SYSFS_ROOT=str(sys_root),
               ENVCHECK_PROCFS_ROOT=str(proc_root))
    env.update(extra)
    return env


def add_pci_gpu(env: dict) -> None:
    d = Path(env["ENVCHECK_SYSFS_ROOT"]) / "bus" / "pci" / "devices" / "0000:00:06.0"
    d.mkdir(parents=True, exist_ok=True)
    (d / "vendor").write_text("0x10de\n")
    (d / "class").write_text("0x030200\n")


def fake_cuda_torch(site: Path, version: str = "2.11.0+cu130", cuda: str = "13.0") -> Path:
    """A torch whose version.py says it is a CUDA build (pyinfo reads it without importing)."""
    (site / "torch").mkdir(parents=True, exist_ok=True)
    (site / "torch" / "__init__.py").write_text("raise ImportError('stand-in torch: never imported by doctor')\n")
    (site / "torch" / "version.py").write_text(f"__version__ = {version!r}\ncuda = {cuda!r}\nhip = None\n")
    meta = site / f"torch-{version}.dist-info"
    meta.mkdir(exist_ok=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n\n")
    return site


def unset_all(env: dict) -> dict:
    """For CliRunner: variables of the real environment that must not leak in are set to None."""
    out = {k: None for k in os.environ if k.startswith(("CUDA_", "ENVCHECK_", "JUPYTER_", "CONDA", "PIP_", "UV_"))}
    out.pop("VIRTUAL_ENV", None)
    out["VIRTUAL_ENV"] = None
    out.update(env)
    return out
