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

from envcheck.errors import Msg
from envcheck.i18n import N_
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
    # {"torchvision": "0.28.0+cu130", ...}: the literal __version__ of PACKAGE/version.py, which keeps
    # the build's local suffix even when the wheel's METADATA version has none (default-index wheels)
    companion_versions: dict = field(default_factory=dict)
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
    companions: dict = field(default_factory=dict)  # name -> {"version"} or {"error"} (import tried)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "companions": dict(self.companions),
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
            except (ValueError, RecursionError):  # nested thousands deep: json recurses per level
                continue
            if isinstance(obj, dict):
                return obj
    return None


def parse_pyinfo(done: Completed) -> PyInfo:
    if not done.ok:
        return PyInfo(False, reason=Msg("could not inspect the interpreter: {reason}", reason=done.describe_failure()))
    data = last_json_object(done.stdout)
    if data is None:
        return PyInfo(False, reason=N_("the interpreter did not print the expected JSON (is it Python >= 3.7?)"))
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
        companion_versions={k: v for k, v in (data.get("companion_versions") or {}).items() if isinstance(v, str)},
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
        reason = (tv or {}).get("error") or N_("torch/version.py not found; CUDA inferred from the version suffix")
        return TorchInfo(True, version, local, cuda_from_local(local), None, "dist-info", dist.get("location"), reason)
    return TorchInfo(False, reason=N_("torch is not installed in this interpreter"))


def parse_deep(done: Completed) -> DeepInfo:
    if done.timed_out:
        return DeepInfo(False, reason=Msg("`import torch` timed out after {seconds:.0f} s", seconds=done.duration_s))
    data = last_json_object(done.stdout)
    if data is None:
        why = done.describe_failure() if not done.ok else "no JSON output"
        return DeepInfo(False, reason=Msg("`import torch` in the target failed: {reason}", reason=why))
    if not data.get("ok"):
        return DeepInfo(False, reason=data.get("error") or N_("import torch failed"))
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
        companions={k: v for k, v in (data.get("companions") or {}).items() if isinstance(v, dict)},
    )


COMPANIONS = ("torchvision", "torchaudio")


def companion_table(matrix, os_name: str) -> dict:
    """{torch release: {"torchvision", "torchaudio", "default_index", "pip_style"}} for one OS (pure).

    What `verify`'s pairing check and doctor's companion findings judge against:
    configs/torch_releases.json's rows (each cites its sources there)."""
    return {
        rel.torch: {
            "torchvision": rel.torchvision,
            "torchaudio": rel.torchaudio,
            "default_index": rel.default_index.get(os_name),
            "pip_style": rel.pip_style,
        }
        for rel in matrix.releases
    }


def companion_build(version: str | None, default_index: str | None) -> str | None:
    """The build a companion (or torch) wheel was made for: its local suffix ('cu130', 'cpu'), else
    what the release's default index carries on this OS (a plain `pip install` gets that), else None."""
    return parse_local_suffix(version) or default_index or None


def torch_build(torch: TorchInfo, default_index: str | None) -> str | None:
    """The installed torch's build tag: its suffix, else from version.py's cuda/hip, else the default index."""
    if torch.local:
        return torch.local
    if torch.hip:
        return "rocm" + ".".join(torch.hip.split(".")[:2])
    if torch.cuda:
        return "cu" + torch.cuda.replace(".", "")
    if torch.source == "torch/version.py":
        return "cpu"
    return default_index


def companions_from_pyinfo(info: PyInfo) -> dict:
    """{"torchvision": "0.28.0+cu130", ...} for each installed companion: version.py's version when
    it was read (it carries the build suffix), else the distribution's metadata version."""
    out = {}
    for name in COMPANIONS:
        version = info.companion_versions.get(name) or info.dist_version(name)
        if version:
            out[name] = version
    return out


# ---------------------------------------------------------------------------------------- probes


def _run_script(runner: Runner, python: str, name: str, timeout: float) -> Completed:
    # A temp cwd: a ./torch directory in the user's project must not shadow the installed one.
    with tempfile.TemporaryDirectory(prefix="envcheck-") as cwd:
        return runner.run([python, script_path(name)], timeout=timeout, cwd=cwd)


def probe_pyinfo(runner: Runner, python: str, timeout: float = PYINFO_TIMEOUT_S) -> PyInfo:
    """Run inenv/pyinfo.py with the target interpreter."""
    return probe_pyinfo_run(runner, python, timeout)[0]


def probe_pyinfo_run(runner: Runner, python: str, timeout: float = PYINFO_TIMEOUT_S) -> tuple[PyInfo, Completed]:
    """probe_pyinfo, with the run itself (did the interpreter start, hang, answer?)."""
    done = _run_script(runner, python, "pyinfo", timeout)
    return parse_pyinfo(done), done


def probe_deep(runner: Runner, python: str, timeout: float = DEEP_TIMEOUT_S) -> DeepInfo:
    """Run inenv/torchdeep.py (imports torch) with the target interpreter, with a timeout."""
    return parse_deep(_run_script(runner, python, "torchdeep", timeout))


def reinstall_command(matrix, release_version: str, build: str | None, os_name: str, python: str, package: str) -> str | None:
    """The exact pip line that reinstalls `package` at the release's version for `build` (the torch's
    build), from plans/install.py's rule (index per era, local labels where the era needs them).
    None when the release or the build is not in the matrix."""
    from envcheck.plans.install import plan_pip_install, shell_join
    from envcheck.resolve import Recommendation

    rel = matrix.release(release_version)
    variant = matrix.variant(build) if build else None
    if rel is None or variant is None:
        return None
    argv = plan_pip_install(Recommendation(rel, variant, os_name, "", ()), python, only=[package])
    return shell_join(argv[:4] + ["--force-reinstall", "--no-deps"] + argv[4:])


def companion_facts(matrix, info: PyInfo, torch: TorchInfo, os_name: str) -> dict:
    """What doctor's companion findings judge (metadata only, no import): per installed companion its
    version (with the build suffix when version.py gives one), the version the matrix pairs with
    this torch, both builds, and the reinstall command. {} when torch or no companion is installed."""
    installed = companions_from_pyinfo(info) if info.ok else {}
    if not torch.installed or not installed or not torch.version:
        return {}
    rel = matrix.release(torch.version)
    default = rel.default_index.get(os_name) if rel else None
    t_build = torch_build(torch, default)
    out = {"torch": torch.version, "torch_build": t_build, "release": rel.torch if rel else None, "packages": {}}
    for name, version in installed.items():
        expected = (rel.torchvision if name == "torchvision" else rel.torchaudio) if rel else None
        out["packages"][name] = {
            "version": version,
            "expected": expected,
            "build": companion_build(version, default),
            "fix": reinstall_command(matrix, rel.torch, t_build, os_name, info.executable or "python", name)
            if rel and (expected or name == "torchvision") else None,
        }
    return out
