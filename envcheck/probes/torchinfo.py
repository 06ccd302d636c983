"""The target interpreter and its torch, read by running inenv/pyinfo.py (and, with --deep,
inenv/torchdeep.py) with THAT interpreter. envcheck itself never imports torch.

Shell equivalent: `TARGET_PYTHON envcheck/inenv/pyinfo.py` (prints one JSON object).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field

from envcheck.inenv import script_path
from envcheck.runner import Completed, Runner

PYINFO_TIMEOUT_S = 20.0
DEEP_TIMEOUT_S = 120.0  # `import torch` alone took ~5 s on the H100 capture; a cold disk is slower


@dataclass(frozen=True)
class PyInfo:
    """What the target interpreter says about itself. `ok` False -> `reason` says why."""

    ok: bool
    executable: str | None = None
    version: str | None = None
    prefix: str | None = None
    base_prefix: str | None = None
    is_venv: bool = False
    is_conda: bool = False
    implementation: str | None = None
    distributions: dict = field(default_factory=dict)  # normalized name -> {"version", "location"}
    torch_version_py: dict | None = None
    reason: str | None = None

    def dist_version(self, name: str) -> str | None:
        d = self.distributions.get(name)
        return d.get("version") if d else None


@dataclass(frozen=True)
class TorchInfo:
    installed: bool
    version: str | None = None
    local: str | None = None  # "cpu", "cu121", "rocm6.2" (the +suffix), None when absent
    cuda: str | None = None  # the CUDA torch was built with, "12.1"; None for CPU builds
    hip: str | None = None
    source: str | None = None  # "torch/version.py" | "dist-info" | "import torch"
    location: str | None = None
    reason: str | None = None

    @property
    def is_cpu_build(self) -> bool:
        return self.installed and self.cuda is None and self.hip is None

    def to_dict(self) -> dict:
        return {
            "installed": self.installed,
            "version": self.version,
            "local": self.local,
            "cuda": self.cuda,
            "hip": self.hip,
            "build": None if not self.installed else ("cuda" if self.cuda else "rocm" if self.hip else "cpu"),
            "source": self.source,
            "location": self.location,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DeepInfo:
    """`import torch` inside the target (--deep)."""

    ok: bool
    is_available: bool | None = None
    device_count: int | None = None
    arch_list: tuple[str, ...] = ()
    cudnn: int | None = None
    devices: tuple[dict, ...] = ()
    warnings: tuple[str, ...] = ()
    import_s: float | None = None
    cuda_error: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "is_available": self.is_available,
            "device_count": self.device_count,
            "arch_list": list(self.arch_list),
            "cudnn": self.cudnn,
            "devices": list(self.devices),
            "warnings": list(self.warnings),
            "import_s": self.import_s,
            "cuda_error": self.cuda_error,
            "reason": self.reason,
        }


# ---------------------------------------------------------------------------------- pure parsers


def parse_local_suffix(version: str | None) -> str | None:
    """'2.5.1+cu121' -> 'cu121'; '2.13.0' -> None."""
    if not version or "+" not in version:
        return None
    return version.split("+", 1)[1] or None


def cuda_from_local(local: str | None) -> str | None:
    """'cu121' -> '12.1', 'cu118' -> '11.8', 'cu130' -> '13.0' (PyTorch's wheel tags)."""
    m = re.fullmatch(r"cu(\d+)(\d)", local or "")
    return f"{int(m.group(1))}.{m.group(2)}" if m else None


def last_json_object(text: str) -> dict | None:
    """The last line of stdout that is a JSON object (site hooks may print before it)."""
    for line in reversed((text or "").strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def parse_pyinfo(done: Completed) -> PyInfo:
    if not done.ok:
        return PyInfo(False, reason=f"could not inspect the interpreter: {done.describe_failure()}")
    data = last_json_object(done.stdout)
    if data is None:
        return PyInfo(False, reason="the interpreter did not print the expected JSON (is it Python >= 3.7?)")
    return PyInfo(
        True,
        executable=data.get("executable"),
        version=data.get("version"),
        prefix=data.get("prefix"),
        base_prefix=data.get("base_prefix"),
        is_venv=bool(data.get("is_venv")),
        is_conda=bool(data.get("is_conda")),
        implementation=data.get("implementation"),
        distributions=data.get("distributions") or {},
        torch_version_py=data.get("torch_version_py"),
    )


def torch_from_pyinfo(info: PyInfo) -> TorchInfo:
    if not info.ok:
        return TorchInfo(False, reason=info.reason)
    dist = info.distributions.get("torch")
    tv = info.torch_version_py
    if tv and not tv.get("error") and tv.get("__version__"):
        version = str(tv["__version__"])
        local = parse_local_suffix(version)
        return TorchInfo(
            True, version, local, tv.get("cuda") or None, tv.get("hip") or None, "torch/version.py",
            os.path.dirname(os.path.dirname(tv.get("path", ""))) or None,
        )
    if dist:
        version = dist.get("version")
        local = parse_local_suffix(version)
        reason = (tv or {}).get("error") or "torch/version.py not found; CUDA inferred from the version suffix"
        return TorchInfo(True, version, local, cuda_from_local(local), None, "dist-info", dist.get("location"), reason)
    return TorchInfo(False, reason="torch is not installed in this interpreter")


def parse_deep(done: Completed) -> DeepInfo:
    if done.timed_out:
        return DeepInfo(False, reason=f"`import torch` timed out after {done.duration_s:.0f} s")
    data = last_json_object(done.stdout)
    if data is None:
        why = done.describe_failure() if not done.ok else "no JSON output"
        return DeepInfo(False, reason=f"`import torch` in the target failed: {why}")
    if not data.get("ok"):
        return DeepInfo(False, reason=data.get("error") or "import torch failed")
    return DeepInfo(
        True,
        is_available=data.get("is_available"),
        device_count=data.get("device_count"),
        arch_list=tuple(data.get("arch_list") or ()),
        cudnn=data.get("cudnn"),
        devices=tuple(data.get("devices") or ()),
        warnings=tuple(data.get("warnings") or ()),
        import_s=data.get("import_s"),
        cuda_error=data.get("cuda_error"),
    )


# ---------------------------------------------------------------------------------------- probes


def _run_script(runner: Runner, python: str, name: str, timeout: float) -> Completed:
    # A temp cwd: a ./torch directory in the user's project must not shadow the installed one.
    with tempfile.TemporaryDirectory(prefix="envcheck-") as cwd:
        return runner.run([python, script_path(name)], timeout=timeout, cwd=cwd)


def probe_pyinfo(runner: Runner, python: str, timeout: float = PYINFO_TIMEOUT_S) -> PyInfo:
    """Run inenv/pyinfo.py with the target interpreter."""
    return parse_pyinfo(_run_script(runner, python, "pyinfo", timeout))


def probe_deep(runner: Runner, python: str, timeout: float = DEEP_TIMEOUT_S) -> DeepInfo:
    """Run inenv/torchdeep.py (imports torch) with the target interpreter, with a timeout."""
    return parse_deep(_run_script(runner, python, "torchdeep", timeout))
