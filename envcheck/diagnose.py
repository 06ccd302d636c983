"""PURE: facts -> findings. No subprocess, no os.environ, no pynvml, no rich.

Each finding has a stable kebab-case code CI can assert on, a severity, a message saying what is
wrong in this machine's own numbers, and a fix a beginner can follow. Messages and fixes are
`Msg(template, **params)` (envcheck/i18n.py): their value is the English text (JSON, tests), and the
human renderer translates the template at render time; a new rule writes its text the same way and
adds the template's translation to envcheck/locale/zh_CN/LC_MESSAGES/envcheck.po. Driver floors come in as a
callable (`driver_floor(cuda, os) -> Version | None`) so the matrix stays outside this module; for
the same reason the matrix's kernel-coverage verdicts (`ArchPrediction`) are computed by
commands/doctor.py and arrive in the facts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from packaging.version import InvalidVersion, Version

from envcheck.errors import Msg, joined
from envcheck.facts import Accelerator, NvidiaFacts
from envcheck.results import Finding, Severity

DriverFloor = Callable[[str, str], Optional[Version]]
SMALL_SHM_BYTES = 1 << 30  # Docker's default is 64 MiB; DataLoader workers pass tensors through /dev/shm

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class ArchPrediction:
    """envcheck's matrix's verdict on one GPU against the inspected torch's official wheels, made
    without importing torch (commands/doctor.py computes it with matrix.gpu_coverage, the resolver's
    rule). Only GPUs whose coverage the matrix can decide get one: unknown coverage, no prediction."""

    gpu_index: int | None
    gpu_name: str | None
    cc: str  # "9.0"
    covered: bool
    torch: str  # the inspected version as installed, "1.13.1+cu117"
    release: str  # the matrix's release row, "1.13.1"
    variant: str  # "cu117"
    carried: tuple[str, ...] = ()  # what the wheels carry: ("sm_37", ..., "compute_120"); empty when decided by arch_cuda
    presumed_from: str | None = None  # the release whose recorded list was used, when this one has none
    toolkit_reason: str | None = None  # set when arch_cuda decided it (the variant's CUDA cannot target the GPU)
    fix: str | None = None  # the `envcheck install` command that picks a covering build


@dataclass(frozen=True)
class DoctorFacts:
    """Everything diagnose looks at. Plain values so tests build it by hand."""

    nvidia: NvidiaFacts
    os_family: str = "linux"  # "linux" | "windows" | "darwin": which driver floor applies
    python: str | None = None  # the interpreter inspected
    python_ok: bool = True
    python_reason: str | None = None
    torch_installed: bool | None = None  # None: unknown (the interpreter could not be inspected)
    torch_version: str | None = None
    torch_cuda: str | None = None
    torch_hip: str | None = None
    distributions: dict = field(default_factory=dict)  # normalized name -> version
    deep: dict | None = None  # DeepInfo.to_dict() with --deep
    visible: dict | None = None  # VisibleResolution.to_dict()
    typos: tuple[tuple[str, str, str], ...] = ()
    kernels: tuple[dict, ...] = ()  # KernelSpecInfo as dicts
    dev_shm_bytes: int | None = None
    in_container: bool = False
    arch_predictions: tuple[ArchPrediction, ...] = ()  # from the matrix; the --deep arch list wins over them
    # issue 8: what `envcheck install` picks for this machine when it is a CUDA build, with the exact
    # command for the inspected interpreter (commands/doctor.py cuda_install_fix); None: none computed
    cuda_install_fix: str | None = None
    # issue 10: every vendor's accelerators (NVIDIA included), the torch local label ("rocm6.2"), the
    # gfx list the official wheels of that ROCm variant carry (None: unknown), and the AMD/HIP env vars
    accelerators: tuple[Accelerator, ...] = ()
    torch_local: str | None = None
    rocm_wheel_arches: tuple[str, ...] | None = None
    rocm_env: dict = field(default_factory=dict)  # HIP_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES, HSA_OVERRIDE_GFX_VERSION
    amd_install_fix: str | None = None  # what `envcheck install` picks for the AMD GPUs (commands/doctor.covering_install)
    companions: dict = field(default_factory=dict)  # probes.torchinfo.companion_facts(): torchvision/torchaudio vs torch


def _v(text: str | None) -> Version | None:
    if not text:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _mm(text: str | None) -> tuple[int, int] | None:
    m = re.match(r"^(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB" if n >= (1 << 30) else f"{n / (1 << 20):.0f} MiB"


def arch_supported(cc: str, arch_list: Sequence[str]) -> bool:
    """Can a torch build with `arch_list` (torch.cuda.get_arch_list()) run on compute capability `cc`?

    A cubin for sm_XY runs on X.Z for Z >= Y (same major); PTX (compute_XY) is JIT-compiled for any
    later GPU; 'a'-suffixed arch-specific targets (sm_90a) run only on exactly that GPU.
    https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#binary-compatibility
    https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#application-compatibility
    """
    want = _mm(cc)
    if want is None:
        return True  # unknown capability: nothing to say
    for arch in arch_list:
        m = re.fullmatch(r"(sm|compute)_(\d+)(\d)([af]?)", arch.strip())
        if not m:
            continue
        kind, major, minor, suffix = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        if suffix == "a":
            if (major, minor) == want:
                return True
            continue
        if kind == "sm" and major == want[0] and minor <= want[1]:
            return True
        if kind == "compute" and (major, minor) <= want:
            return True
    return False


def diagnose(facts: DoctorFacts, driver_floor: DriverFloor | None = None) -> list[Finding]:
    """All findings, errors first. `driver_floor(cuda, os)` gives the minimum driver for a CUDA."""
    out: list[Finding] = []
    nv = facts.nvidia
    gpu_count = len(nv.gpus)
    py = facts.python or Msg("this interpreter")

    # --- driver -------------------------------------------------------------------------------
    if nv.mismatch:
        out.append(Finding(
            "nvml-driver-library-mismatch", Severity.ERROR,
            Msg("The NVIDIA kernel module and the user-space driver library have different versions "
                "(\"Driver/library version mismatch\"), usually after a driver upgrade without a reboot. "
                "No CUDA program can start until this is fixed."),
            Msg("Reboot the machine. Without a reboot: stop everything using the GPU, then "
                "`sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia`."),
        ))
    elif not nv.has_driver:
        reasons = joined(nv.reasons) if nv.reasons else Msg("no driver found")
        if nv.pci_devices or gpu_count:
            out.append(Finding(
                "no-nvidia-driver", Severity.ERROR,
                Msg("An NVIDIA GPU is present (PCI {pci}) but no working NVIDIA driver was found ({reasons}). "
                    "torch can only use the CPU.", pci=", ".join(nv.pci_devices) or Msg("device"), reasons=reasons),
                Msg("Install the NVIDIA driver for your OS (e.g. `sudo ubuntu-drivers install` on Ubuntu, or "
                    "the .run installer from nvidia.com), then reboot and run `nvidia-smi`."),
            ))
        else:
            others = sorted({a.vendor for a in facts.accelerators if a.vendor != "nvidia"})
            out.append(Finding(
                "no-nvidia-driver", Severity.INFO,
                Msg("No NVIDIA GPU or driver on this machine ({reasons}); accelerators of other vendors found: "
                    "{vendors}.", reasons=reasons, vendors=", ".join(others)) if others else
                Msg("No NVIDIA GPU or driver on this machine ({reasons}); torch will run on the CPU.", reasons=reasons),
                Msg("Nothing to fix for CPU work. On a GPU-less build host set ENVCHECK_OVERRIDE_DRIVER and "
                    "ENVCHECK_OVERRIDE_CUDA to plan for the target machine."),
            ))

    # --- python / torch -------------------------------------------------------------------------
    if not facts.python_ok:
        out.append(Finding(
            # an error: nothing about this interpreter was checked, so doctor must not say "ready" (issue 14)
            "python-inspect-failed", Severity.ERROR,
            Msg("Could not inspect {python}: {reason}.", python=py, reason=facts.python_reason or Msg("unknown reason")),
            Msg("Run that interpreter by hand (`PYTHON -c 'import sys; print(sys.version)'`) or pick another "
                "with --python."),
        ))
    elif facts.torch_installed is False:
        out.append(Finding(
            "torch-not-installed", Severity.ERROR,
            Msg("torch is not installed in {python}.", python=py),
            Msg("Run `envcheck install` to get the exact install command for this machine's driver "
                "(add `--python {python}` to target this interpreter).", python=py),
        ))

    torch_cuda = facts.torch_cuda
    if facts.torch_installed and torch_cuda is None and facts.torch_hip is None and (nv.has_driver or gpu_count):
        out.append(Finding(
            "torch-cpu-build-on-gpu-host", Severity.ERROR,
            Msg("torch {torch} in {python} is a CPU-only build, but this machine has an NVIDIA GPU (driver "
                "{driver}). torch.cuda.is_available() will be False.", torch=facts.torch_version or "", python=py,
                driver=nv.driver_version or Msg("present")),
            Msg("Reinstall torch with a CUDA build: {fix}.", fix=facts.cuda_install_fix) if facts.cuda_install_fix else
            Msg("Reinstall torch from a CUDA wheel index: `envcheck install` prints the exact command for this "
                "machine's driver and GPU."),
        ))

    if facts.torch_installed and torch_cuda and nv.has_driver:
        out.extend(_driver_vs_torch(nv, torch_cuda, facts.os_family, driver_floor))

    # --- deep: arch list, is_available ----------------------------------------------------------
    deep = facts.deep
    real_arch_list = bool(deep and deep.get("ok") and deep.get("arch_list"))
    if facts.torch_installed and not real_arch_list:
        # Without the real list (no --deep, or torch.cuda could not give one), predict from the matrix.
        out.extend(_predicted_arch_findings(facts.arch_predictions))
    if deep and deep.get("ok"):
        arch_list = deep.get("arch_list") or []
        caps = [(g.index, g.name, g.compute_capability) for g in nv.gpus if g.compute_capability]
        if not caps:
            caps = [(d.get("index"), d.get("name"), d.get("capability")) for d in deep.get("devices") or []
                    if d.get("capability")]
        if arch_list:
            bad = [(i, n, c) for i, n, c in caps if not arch_supported(c, arch_list)]
            for i, name, cc in bad:
                out.append(Finding(
                    "gpu-arch-not-in-torch-build", Severity.ERROR,
                    Msg("GPU {index} ({name}, compute capability {cc}) is not in this torch build's architectures "
                        "({arches}): kernels will fail with \"no kernel image is available for execution on the "
                        "device\".", index=i, name=name or Msg("unknown"), cc=cc, arches=", ".join(arch_list)),
                    Msg("Install a torch build that includes this GPU: newer GPUs need a newer CUDA wheel "
                        "(`envcheck install` picks one); very old GPUs need an older torch release."),
                ))
        if torch_cuda and gpu_count and deep.get("is_available") is False and not _visible_hides(facts):
            cause = deep.get("cuda_error") or "; ".join(deep.get("warnings") or []) or Msg("no reason given")
            out.append(Finding(
                "torch-cuda-unavailable", Severity.ERROR,
                Msg("torch.cuda.is_available() is False in {python} although the driver reports {count} GPU(s): "
                    "{cause}.", python=py, count=gpu_count, cause=cause),
                Msg("Check the findings above (driver, CUDA_VISIBLE_DEVICES); then run "
                    "`envcheck verify --require-cuda` for the exact failing step."),
            ))
    elif deep and not deep.get("ok"):
        out.append(Finding(
            "torch-import-failed", Severity.ERROR if facts.torch_installed else Severity.INFO,
            Msg("`import torch` in {python} failed: {reason}.", python=py, reason=deep.get("reason")),
            Msg("Reinstall torch in that environment (`envcheck install` prints the command)."),
        ))

    # --- CUDA_VISIBLE_DEVICES --------------------------------------------------------------------
    for name, value, meant in facts.typos:
        out.append(Finding(
            "cuda-visible-devices-typo", Severity.WARNING,
            Msg("{name}={value!r} is set, but CUDA only reads {meant}: this variable is silently ignored and "
                "every GPU stays visible.", name=name, value=value, meant=meant) if meant == "CUDA_VISIBLE_DEVICES"
            else Msg("{name}={value!r} is set, but CUDA only reads {meant}: this variable is silently ignored.",
                     name=name, value=value, meant=meant),
            Msg("Rename it: `unset {name}; export {meant}={value}`.", name=name, meant=meant, value=value),
        ))
    vis = facts.visible or {}
    if vis.get("is_set") and gpu_count:
        if vis.get("out_of_range"):
            n = vis["out_of_range"][0]
            none_left = not vis.get("visible")
            out.append(Finding(
                "cuda-visible-devices-out-of-range", Severity.ERROR if none_left else Severity.WARNING,
                Msg("CUDA_VISIBLE_DEVICES={raw!r} names GPU {n}, but this machine has {count} GPU(s) (0..{last}); "
                    "CUDA stops reading at that entry, so no GPU is visible.", raw=vis.get("raw"), n=n,
                    count=gpu_count, last=gpu_count - 1) if none_left else
                Msg("CUDA_VISIBLE_DEVICES={raw!r} names GPU {n}, but this machine has {count} GPU(s) (0..{last}); "
                    "CUDA stops reading at that entry, so only {visible} are visible.", raw=vis.get("raw"), n=n,
                    count=gpu_count, last=gpu_count - 1, visible=str(vis.get("visible"))),
                Msg("Use ordinals 0..{last} (see `nvidia-smi -L`), or UUIDs, e.g. `export CUDA_VISIBLE_DEVICES=0`.",
                    last=gpu_count - 1),
            ))
        elif vis.get("hides_all"):
            out.append(Finding(
                "cuda-visible-devices-hides-all", Severity.WARNING,
                Msg("CUDA_VISIBLE_DEVICES={raw!r} hides every GPU ({why}): torch will see 0 of {count} GPU(s).",
                    raw=vis.get("raw"), why=str(vis.get("stop_reason")), count=gpu_count),
                Msg("If you want the GPUs: `unset CUDA_VISIBLE_DEVICES` (or set it to e.g. `0`)."),
            ))

    # --- Python packages -------------------------------------------------------------------------
    if "pynvml" in facts.distributions:
        out.append(Finding(
            "pynvml-deprecated-shim", Severity.WARNING,
            Msg("The `pynvml` distribution {version} is installed in {python}: it is deprecated (NVIDIA's official "
                "bindings are `nvidia-ml-py`, which provide the same `pynvml` module) and the two overwrite each "
                "other's files.", version=facts.distributions.get("pynvml") or "", python=py),
            "`python -m pip uninstall -y pynvml && python -m pip install --force-reinstall nvidia-ml-py`",
        ))

    # --- Jupyter -------------------------------------------------------------------------------
    out.extend(kernel_findings(facts.kernels))

    # --- /dev/shm --------------------------------------------------------------------------------
    shm = facts.dev_shm_bytes
    if shm is not None and shm < SMALL_SHM_BYTES:
        out.append(Finding(
            "small-dev-shm", Severity.WARNING,
            Msg("/dev/shm is only {size}: a torch DataLoader with num_workers > 0 can crash with \"bus error\" or "
                "\"unable to write to file </torch_...>\".", size=_gib(shm)),
            Msg("In Docker: `docker run --shm-size=8g ...` (or `--ipc=host`); in Kubernetes mount an emptyDir "
                "with medium: Memory at /dev/shm; or use num_workers=0."),
        ))

    # --- other vendors (issue 10) ---------------------------------------------------------------
    out.extend(amd_torch_build_findings(facts))
    out.extend(amd_arch_findings(facts))
    out.extend(rocm_visible_devices_findings(facts))
    out.extend(hsa_override_findings(facts))

    out += companion_findings(facts.companions, facts.deep)

    # --- GPU health (issue 11) ------------------------------------------------------------------
    out.extend(gpu_ecc_findings(facts))
    out.extend(gpu_row_remap_findings(facts))
    out.extend(gpu_throttle_findings(facts))
    out.extend(gpu_pcie_findings(facts))
    out.extend(gpu_persistence_findings(facts))

    return sorted(out, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))


# jupyter_client's KernelManager.format_kernel_cmd replaces argv[0] "python" and "python<major>" (and
# "python<major>.<minor>" of Jupyter's own version) with Jupyter's sys.executable, so those bare names
# never go stale; any other interpreter that does not exist (a deleted env's path, or a bare
# `python3.99` not on PATH) cannot start. Source: jupyter_client/manager.py, format_kernel_cmd
# (`if cmd and cmd[0] in {"python", "python%i" % sys.version_info[0], ...}: cmd[0] = sys.executable`).
_JUPYTER_SUBSTITUTES = re.compile(r"^python\d?$")
STALE_KERNEL = "stale-jupyter-kernel"


def kernel_is_stale(k: dict) -> bool:
    """A Python kernelspec (KernelSpecInfo.to_dict()) whose interpreter cannot be started (pure)."""
    interp = k.get("interpreter")
    return bool(interp) and not k.get("interpreter_exists") and not _JUPYTER_SUBSTITUTES.match(interp)


def kernel_findings(kernels: Sequence[dict]) -> list[Finding]:
    """The one rule for kernelspecs, used by `doctor` and `kernel check` (pure): a stale interpreter
    (error for the kernel Jupyter uses, warning for a shadowed copy), an invalid kernel.json, shadowing."""
    findings: list[Finding] = []
    for k in kernels:
        name, where, shadowed_by = k.get("name"), k.get("resource_dir"), k.get("shadowed_by")
        if k.get("error"):
            findings.append(Finding("invalid-jupyter-kernelspec", Severity.WARNING,
                                    Msg("kernel {name} ({where}): {error}", name=name, where=where, error=k["error"]),
                                    Msg("fix or delete {where}", where=where)))
        elif kernel_is_stale(k):
            used = shadowed_by is None
            findings.append(Finding(
                STALE_KERNEL, Severity.ERROR if used else Severity.WARNING,
                Msg("kernel {name} ({where}) launches {interpreter}, which no longer exists", name=name, where=where,
                    interpreter=k.get("interpreter")) if used else
                Msg("kernel {name} ({where}) launches {interpreter}, which no longer exists (it is shadowed by "
                    "{shadowed_by})", name=name, where=where, interpreter=k.get("interpreter"), shadowed_by=shadowed_by),
                Msg("`envcheck kernel remove {name}` if its env is gone for good, or re-register it: "
                    "`envcheck kernel add --python NEW_PYTHON --name {name} --force`", name=name) if used
                else Msg("delete {where}", where=where),
            ))
        if shadowed_by and not kernel_is_stale(k):
            findings.append(Finding("shadowed-jupyter-kernel", Severity.INFO,
                                    Msg("kernel {name} at {where} is shadowed by {shadowed_by}", name=name, where=where,
                                        shadowed_by=shadowed_by),
                                    Msg("Jupyter only ever uses the first one; delete the other if it is unwanted")))
    return findings


def _tag_word(tag: str | None) -> str:
    m = re.fullmatch(r"cu(\d+)(\d)", tag or "")
    return f"CUDA {int(m.group(1))}.{m.group(2)}" if m else ("CPU" if tag == "cpu" else (tag or "unknown"))


def companion_findings(companions: dict, deep: dict | None = None) -> list[Finding]:
    """`torchvision-torch-mismatch` / `torchaudio-torch-mismatch` (ERROR): a companion whose version
    the matrix does not pair with the installed torch, or whose build (local suffix, else the release's
    default-index build) differs from torch's; with --deep, also its real import error."""
    out: list[Finding] = []
    torch = companions.get("torch")
    torch_build = companions.get("torch_build")
    deep_companions = (deep or {}).get("companions") or {}
    for name in ("torchvision", "torchaudio"):
        pkg = (companions.get("packages") or {}).get(name)
        error = (deep_companions.get(name) or {}).get("error")
        if not pkg and not error:
            continue
        pkg = pkg or {}
        fix = (f"Reinstall {name} built for this torch: `{pkg['fix']}`" if pkg.get("fix") else
               f"Reinstall {name} from the same index as torch (`envcheck install` prints the command).")
        reasons = []
        version, expected, build = pkg.get("version"), pkg.get("expected"), pkg.get("build")
        if version and expected and version.split("+")[0] != expected:
            reasons.append(Msg("{name} {version} does not belong with torch {torch} (the release pairs it with {name} "
                               "{expected})", name=name, version=version, torch=torch, expected=expected))
        elif build and torch_build and build != torch_build:
            reasons.append(Msg("{name} {version} is a {build} build but torch {torch} is a {torch_build} build",
                               name=name, version=version, build=_tag_word(build), torch=torch, torch_build=_tag_word(torch_build)))
        if error:
            reasons.append(Msg("`import {name}` fails: {error}", name=name, error=error))
        if reasons:
            out.append(Finding(f"{name}-torch-mismatch", Severity.ERROR, "; ".join(reasons) + ".", fix))
    return out


def _predicted_arch_findings(predictions: Sequence[ArchPrediction]) -> list[Finding]:
    out = []
    for p in predictions:
        if p.covered:
            continue
        gpu = Msg("GPU {index} ({name}, compute capability {cc})", index=p.gpu_index if p.gpu_index is not None
                  else "?", name=p.gpu_name or Msg("unknown"), cc=p.cc)
        if p.toolkit_reason:
            why = Msg("the official {variant} wheels of torch {release} have no kernel list in the matrix, but {reason}",
                      variant=p.variant, release=p.release, reason=p.toolkit_reason)
            basis = Msg("its arch_cuda table of the CUDA versions that can target each GPU")
        else:
            why = Msg("the official {variant} wheels of torch {release} carry {carried}, none of which runs on it",
                      variant=p.variant, release=p.release, carried=", ".join(p.carried) or Msg("no kernels"))
            basis = (Msg("kernel list presumed from torch {presumed}'s, none is recorded for {release}",
                         presumed=p.presumed_from, release=p.release)
                     if p.presumed_from else Msg("recorded kernel list"))
        out.append(Finding(
            "gpu-arch-not-in-torch-build", Severity.ERROR,
            Msg("{gpu} is not covered by torch {torch}: {why}, so kernels would fail with \"no kernel image is "
                "available for execution on the device\". Predicted from envcheck's compatibility matrix ({basis}), "
                "not read from torch: `envcheck doctor --deep` reads the real list.", gpu=gpu, torch=p.torch, why=why,
                basis=basis),
            p.fix or Msg("Install a torch build whose wheels cover this GPU: `envcheck install` picks one (newer GPUs "
                         "need a newer CUDA wheel; very old GPUs an older torch release)."),
        ))
    return out


def _visible_hides(facts: DoctorFacts) -> bool:
    vis = facts.visible or {}
    return bool(vis.get("is_set") and (vis.get("hides_all") or vis.get("out_of_range")))


def _driver_vs_torch(nv: NvidiaFacts, torch_cuda: str, os_family: str, driver_floor: DriverFloor | None) -> list[Finding]:
    out = []
    floor = None
    if driver_floor is not None:
        try:
            floor = driver_floor(torch_cuda, os_family)
        except Exception:  # an unknown CUDA version in the table: fall back on the CUDA comparison
            floor = None
    have = _v(nv.driver_version)
    fix = Msg("Upgrade the NVIDIA driver (then reboot), or install a torch build for an older CUDA: "
              "`envcheck install` picks the newest build this driver can run.")
    if floor is not None and have is not None and have < floor:
        out.append(Finding(
            "driver-too-old-for-torch-cuda", Severity.ERROR,
            Msg("torch was built with CUDA {cuda}, which needs NVIDIA driver >= {floor}; this machine has {driver} "
                "(newest CUDA it supports: {driver_cuda}).", cuda=torch_cuda, floor=str(floor),
                driver=nv.driver_version, driver_cuda=nv.cuda) if nv.cuda else
            Msg("torch was built with CUDA {cuda}, which needs NVIDIA driver >= {floor}; this machine has {driver}.",
                cuda=torch_cuda, floor=str(floor), driver=nv.driver_version),
            fix,
        ))
        return out
    drv, built = _mm(nv.cuda), _mm(torch_cuda)
    if drv and built and built > drv:
        if built[0] > drv[0] and floor is None:
            out.append(Finding(
                "driver-too-old-for-torch-cuda", Severity.ERROR,
                Msg("torch was built with CUDA {cuda}, but driver {driver} supports CUDA up to {driver_cuda}: a newer "
                    "CUDA major version needs a newer driver.", cuda=torch_cuda, driver=nv.driver_version,
                    driver_cuda=nv.cuda),
                fix,
            ))
        elif built[0] == drv[0]:
            # CUDA minor version compatibility (11.1+): the app runs on an older driver of the same
            # major, except PTX JIT and new APIs. https://docs.nvidia.com/deploy/cuda-compatibility/
            out.append(Finding(
                "driver-cuda-older-than-torch-cuda", Severity.INFO,
                Msg("torch was built with CUDA {cuda}; driver {driver} supports CUDA {driver_cuda}. This works through "
                    "CUDA minor version compatibility, but kernels compiled at run time (PTX JIT, e.g. "
                    "torch.compile/Triton) may fail.", cuda=torch_cuda, driver=nv.driver_version, driver_cuda=nv.cuda),
                Msg("Upgrade the driver when convenient, or use a torch build for CUDA {driver_cuda} or older.",
                    driver_cuda=nv.cuda),
            ))
    return out


# ------------------------------------------------------------------------------- AMD / ROCm (issue 10)


def _amd(facts: DoctorFacts) -> list[Accelerator]:
    return [a for a in facts.accelerators if a.vendor == "amd" and a.kind == "gpu"]


def amd_torch_build_findings(facts: DoctorFacts) -> list[Finding]:
    """torch-not-rocm-on-amd-host: a CUDA or CPU torch on a host whose only GPUs are AMD."""
    amd = _amd(facts)
    if not amd or not facts.torch_installed or facts.torch_hip:
        return []
    if any(a.vendor == "nvidia" for a in facts.accelerators):
        return []  # a mixed host: the CUDA checks speak for the NVIDIA GPUs
    py = facts.python or Msg("this interpreter")
    what = Msg("a CUDA {cuda} build", cuda=facts.torch_cuda) if facts.torch_cuda else Msg("a CPU-only build")
    rocm = next((a.runtime for a in amd if a.runtime), None)
    names = ", ".join(f"{a.name or 'AMD GPU'} ({a.arch or 'gfx ?'})" for a in amd)
    params = dict(torch=facts.torch_version or "", python=py, what=what, names=names, rocm=rocm or "")
    return [Finding(
        "torch-not-rocm-on-amd-host", Severity.ERROR,
        Msg("torch {torch} in {python} is {what}, but this machine's GPU(s) are AMD: {names} with {rocm}. "
            "torch.cuda.is_available() will be False: only a ROCm build of torch runs on AMD GPUs.", **params)
        if rocm else
        Msg("torch {torch} in {python} is {what}, but this machine's GPU(s) are AMD: {names}. "
            "torch.cuda.is_available() will be False: only a ROCm build of torch runs on AMD GPUs.", **params),
        Msg("Reinstall torch from a ROCm build: {fix}.", fix=facts.amd_install_fix) if facts.amd_install_fix else
        Msg("Reinstall torch from a ROCm wheel index whose gfx list covers your GPU: `envcheck install` (or "
            "`envcheck install --gpu-arch gfxNNN`) picks one where envcheck's recorded gfx lists cover it and says why "
            "not otherwise; installed: {rocm}.", rocm=rocm) if rocm else
        Msg("Reinstall torch from a ROCm wheel index whose gfx list covers your GPU: `envcheck install` (or "
            "`envcheck install --gpu-arch gfxNNN`) picks one where envcheck's recorded gfx lists cover it and says why "
            "not otherwise."),
    )]


def amd_arch_findings(facts: DoctorFacts) -> list[Finding]:
    """rocm-arch-not-in-torch-build: the GPU's gfx target is not in the ROCm torch's arch list (--deep),
    or, without --deep, not in the list the official wheels of its variant carry (configs/rocm_arches.json)."""
    from envcheck.rocmarch import gfx_covered

    if not facts.torch_installed or not facts.torch_hip:
        return []
    deep = facts.deep or {}
    real = deep.get("arch_list") if deep.get("ok") else None
    arches, predicted = (tuple(real), False) if real else (facts.rocm_wheel_arches, True)
    if not arches:
        return []
    out = []
    for a in _amd(facts):
        if not a.arch or gfx_covered(a.arch, arches):
            continue
        basis = (Msg("Predicted from the gfx list of the official {local} wheels in envcheck's "
                     "configs/rocm_arches.json, not read from torch (`envcheck doctor --deep` reads the real list)",
                     local=facts.torch_local)
                 if predicted else Msg("Read from torch.cuda.get_arch_list()"))
        out.append(Finding(
            "rocm-arch-not-in-torch-build", Severity.ERROR,
            Msg("AMD GPU {index} ({name}, {arch}) is not among this torch build's targets ({arches}): ROCm kernels "
                "load only on their exact gfx target, so GPU work fails with \"invalid device function\" or \"no "
                "kernel image is available\". {basis}.", index=a.index, name=a.name or Msg("unknown"), arch=a.arch,
                arches=", ".join(arches), basis=basis),
            Msg("Install a ROCm torch build whose targets include this GPU (a newer ROCm variant usually adds newer "
                "GPUs); HSA_OVERRIDE_GFX_VERSION is a risky workaround (see its finding)."),
        ))
    return out


def rocm_visible_devices_findings(facts: DoctorFacts) -> list[Finding]:
    """HIP_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES checked with CUDA_VISIBLE_DEVICES' parser
    (probes/cudaenv.resolve_visible_devices) against the AMD GPUs found."""
    from envcheck.facts import GpuInfo
    from envcheck.probes.cudaenv import resolve_visible_devices

    amd = _amd(facts)
    if not amd:
        return []
    gpus = [GpuInfo(index=i) for i in range(len(amd))]
    out = []
    for name in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
        raw = facts.rocm_env.get(name)
        if raw is None:
            continue
        res = resolve_visible_devices(raw, gpus)
        code = "hip-visible-devices" if name.startswith("HIP") else "rocr-visible-devices"
        if res.out_of_range:
            none_left = not res.visible
            out.append(Finding(
                f"{code}-out-of-range", Severity.ERROR if none_left else Severity.WARNING,
                Msg("{name}={raw!r} names GPU {n}, but this machine has {count} AMD GPU(s) (0..{last}); parsing stops "
                    "at that entry, so no GPU is visible.", name=name, raw=raw, n=res.out_of_range[0], count=len(amd),
                    last=len(amd) - 1) if none_left else
                Msg("{name}={raw!r} names GPU {n}, but this machine has {count} AMD GPU(s) (0..{last}); parsing stops "
                    "at that entry, so only {visible} are visible.", name=name, raw=raw, n=res.out_of_range[0],
                    count=len(amd), last=len(amd) - 1, visible=str(list(res.visible))),
                Msg("Use ordinals 0..{last} (see `amd-smi list` or `rocm-smi`), e.g. `export {name}=0`.",
                    last=len(amd) - 1, name=name),
            ))
        elif res.hides_all:
            out.append(Finding(
                f"{code}-hides-all", Severity.WARNING,
                Msg("{name}={raw!r} hides every AMD GPU ({why}): torch will see 0 of {count} GPU(s).", name=name,
                    raw=raw, why=str(res.stop_reason), count=len(amd)),
                Msg("If you want the GPUs: `unset {name}` (or set it to e.g. `0`).", name=name),
            ))
    return out


def hsa_override_findings(facts: DoctorFacts) -> list[Finding]:
    """hsa-override-gfx-version-set: the ROCm runtime is told to treat the GPU as another gfx target.

    Sources: AMD on ROCm/Tensile#1907 ("you could set HSA_OVERRIDE_GFX_VERSION=10.3.0 (since the ISA is
    identical to gfx1030) but this is not an official workaround"); ROCm/rocm-systems#3461 (overrides to
    incompatible targets cause "kernel crashes, KFD interrupt handler overflows, and GPU resets");
    ROCm/rocm-systems#5686 (cross-major overrides cause "system instability, crashes"; an EMPTY value made
    the runtime fall back to gfx000, ROCm/ROCR-Runtime#354)."""
    raw = facts.rocm_env.get("HSA_OVERRIDE_GFX_VERSION")
    if raw is None:
        return []
    if not raw.strip():
        return [Finding(
            "hsa-override-gfx-version-set", Severity.ERROR,
            Msg("HSA_OVERRIDE_GFX_VERSION is set but empty: older ROCm runtimes read that as gfx000 and then find no "
                "usable GPU (ROCm/ROCR-Runtime#354)."),
            Msg("`unset HSA_OVERRIDE_GFX_VERSION` (in containers, drop the empty `-e HSA_OVERRIDE_GFX_VERSION=`)."),
        )]
    m = re.fullmatch(r"\s*(\d+)\.(\d+)\.(\d+)\s*", raw)
    as_gfx = f"gfx{m.group(1)}{m.group(2)}{int(m.group(3)):x}" if m else None
    real = ", ".join(sorted({a.arch for a in _amd(facts) if a.arch})) or Msg("unknown")
    return [Finding(
        "hsa-override-gfx-version-set", Severity.WARNING if m else Severity.ERROR,
        Msg("HSA_OVERRIDE_GFX_VERSION={raw!r} is set: the ROCm runtime reports every AMD GPU as {as_gfx} instead of "
            "its real target ({real}), so kernels built for that target are loaded on it. It lets an unsupported GPU "
            "run a ROCm build whose target has the same instruction set (AMD calls it \"not an official "
            "workaround\"); to a target of another family it can crash kernels, hang or reset the GPU, or compute "
            "wrong results.", raw=raw, real=real,
            as_gfx=as_gfx or Msg("a malformed version (expected MAJOR.MINOR.STEPPING, e.g. 10.3.0)")),
        Msg("Prefer a torch build that lists your GPU's real gfx target (`envcheck doctor --deep` shows the list). "
            "Keep the override only if you accept the risk, set to a target with the same instruction set (e.g. "
            "10.3.0 for other RDNA2 gfx103x parts); `unset HSA_OVERRIDE_GFX_VERSION` to check without it."),
    )]


# ------------------------------------------------------------------------------- GPU health (issue 11)
# Inputs: GpuInfo.health (facts.GpuHealth) from NVML, the nvidia-smi --query-gpu CSV or `nvidia-smi -q`.
# Memory error handling: https://docs.nvidia.com/deploy/a100-gpu-mem-error-mgmt/index.html (row remapping,
# "a GPU reset is required" for pending remaps; a remapping failure means the GPU should be replaced) and
# https://docs.nvidia.com/deploy/dynamic-page-retirement/index.html (pages retire at the next reset/reload).


def _health_gpus(facts: DoctorFacts):
    return [(g, g.health) for g in facts.nvidia.gpus if g.health is not None]


def _gpu_label(g) -> str:
    return f"GPU {g.index} ({g.name or 'unknown'}{', ' + g.pci_bus_id if g.pci_bus_id else ''})"


def gpu_ecc_findings(facts: DoctorFacts) -> list[Finding]:
    """gpu-ecc-errors: uncorrectable ECC errors. Since the driver loaded (volatile): error, jobs on that GPU
    can crash ("uncorrectable ECC error encountered") or compute wrong values until it is reset. Only in
    the lifetime counter (aggregate): warning, a history the admin should watch."""
    out = []
    for g, h in _health_gpus(facts):
        vol, agg = h.ecc_uncorrected_volatile, h.ecc_uncorrected_aggregate
        if vol:
            out.append(Finding(
                "gpu-ecc-errors", Severity.ERROR,
                Msg("{gpu_label} reported {vol} uncorrectable ECC memory error(s) since the driver loaded (lifetime: "
                    "{value}; source: {source}). Work on this GPU can fail with \"uncorrectable ECC error "
                    "encountered\" or silently compute wrong values.",
                    gpu_label=_gpu_label(g), vol=vol, value=agg if agg is not None else 'unknown', source=h.source),
                Msg("Stop the jobs on it and reset the GPU (`sudo nvidia-smi -r -i {index}`, or reboot); if the count "
                    "grows again, tell the cluster admin: the GPU needs a hardware check (RMA).", index=g.index),
            ))
        elif agg:
            out.append(Finding(
                "gpu-ecc-errors", Severity.WARNING,
                Msg("{gpu_label} has {agg} uncorrectable ECC error(s) in its lifetime counter (none since the driver "
                    "loaded; source: {source}). The driver retired or remapped the bad memory; the GPU works now.",
                    gpu_label=_gpu_label(g), agg=agg, source=h.source),
                Msg("Tell the admin so the count is tracked; a GPU whose count keeps growing should be replaced. Check "
                    "`nvidia-smi -q -d ECC,ROW_REMAPPER,PAGE_RETIREMENT`."),
            ))
    return out


def gpu_row_remap_findings(facts: DoctorFacts) -> list[Finding]:
    """gpu-row-remap-pending: a memory repair (row remap on Ampere+, page retirement before) waits for a GPU
    reset: warning. A remapping failure (no spare rows left): error, the GPU should be replaced."""
    out = []
    for g, h in _health_gpus(facts):
        if h.row_remap_failure:
            out.append(Finding(
                "gpu-row-remap-pending", Severity.ERROR,
                Msg("{gpu_label} reports a row remapping FAILURE (source: {source}): its memory had an error that "
                    "could not be repaired with a spare row, so the bad memory stays in use.",
                    gpu_label=_gpu_label(g), source=h.source),
                Msg("Take the GPU out of service and tell the admin: NVIDIA's guidance for a remapping failure is to "
                    "replace (RMA) the GPU."),
            ))
        elif h.row_remap_pending or h.retired_pages_pending:
            what = ("row remapping" if h.row_remap_pending else "page retirement")
            rows = f" ({h.row_remap_uncorrectable} uncorrectable row(s) so far)" if h.row_remap_uncorrectable else ""
            out.append(Finding(
                "gpu-row-remap-pending", Severity.WARNING,
                Msg("{gpu_label} has a pending memory {what}{rows} (source: {source}): the repair only takes effect "
                    "after the GPU is reset, and until then the faulty memory can still be used.",
                    gpu_label=_gpu_label(g), what=what, rows=rows, source=h.source),
                Msg("When the GPU is idle: `sudo nvidia-smi -r -i {index}` (or reboot the node); on a shared cluster "
                    "ask the admin to drain and reset it.", index=g.index),
            ))
    return out


_THROTTLE_WORDS = {
    "hw_slowdown": "hardware slowdown (clocks cut by half or more)",
    "hw_thermal_slowdown": "hardware thermal slowdown (too hot)",
    "hw_power_brake_slowdown": "hardware power brake (asserted by the power supply or the server's management controller)",
    "sw_thermal_slowdown": "software thermal slowdown (above the max operating temperature)",
}


def gpu_throttle_findings(facts: DoctorFacts) -> list[Finding]:
    """gpu-throttled: an active clock event reason among thermal, power brake, hardware slowdown (NVML
    nvmlClocksEventReasons; idle, application clocks and the software power cap are normal): warning."""
    out = []
    for g, h in _health_gpus(facts):
        why = h.throttle_reasons()
        if not why:
            continue
        out.append(Finding(
            "gpu-throttled", Severity.WARNING,
            Msg("{gpu_label} is slowing its clocks: {items} (source: {source}). Everything still works, but compute "
                "runs well below the GPU's speed.",
                gpu_label=_gpu_label(g), items='; '.join((_THROTTLE_WORDS[r] for r in why)), source=h.source),
            Msg("Check cooling (fans, airflow, `nvidia-smi -q -d TEMPERATURE`) and power (PSUs, cables, the server "
                "BMC's power table: an unrecognised GPU gets a power brake); on a managed cluster tell the admin. "
                "`nvidia-smi -q -d PERFORMANCE` shows the live reasons."),
        ))
    return out


def gpu_pcie_findings(facts: DoctorFacts) -> list[Finding]:
    """gpu-pcie-link-degraded: the link runs below what the GPU and slot can do (see
    GpuHealth.link_degraded; an idle downshift is never flagged): warning."""
    out = []
    for g, h in _health_gpus(facts):
        why = h.link_degraded()
        if not why:
            continue
        out.append(Finding(
            "gpu-pcie-link-degraded", Severity.WARNING,
            Msg("{gpu_label}: {why} (source: {source}). Host<->device copies (data loading, offload, checkpoints) get "
                "a fraction of the bandwidth.", gpu_label=_gpu_label(g), why=why, source=h.source),
            Msg("Reseat the GPU (and its riser) in a full x16 slot, check the BIOS PCIe settings (link speed set to "
                "Auto/max, bifurcation); on a server you do not own, tell the admin. `sudo lspci -vv -s {bus} | grep "
                "-E 'LnkCap|LnkSta'` shows what the link trained at.", bus=(g.pci_bus_id or 'BUS')[-12:]),
        ))
    return out


def gpu_persistence_findings(facts: DoctorFacts) -> list[Finding]:
    """gpu-persistence-off: Linux multi-GPU host with persistence mode off: info. Without it the driver tears
    the GPUs down when the last client exits, so every CUDA start re-initialises them (1-3 s per GPU for
    ECC scrubbing) and non-persistent settings revert (NVIDIA Driver Persistence, Overview:
    https://docs.nvidia.com/deploy/driver-persistence/overview.html)."""
    if facts.os_family != "linux":
        return []
    gpus = facts.nvidia.gpus
    off = [g for g in gpus if g.health is not None and g.health.persistence_mode is False]
    if len(gpus) < 2 or not off:
        return []
    return [Finding(
        "gpu-persistence-off", Severity.INFO,
        Msg("Persistence mode is off on {off} of {total} GPU(s) ({items}): each time no process uses them the driver "
            "unloads their state, so every job start re-initialises them (about 1-3 s per GPU) and clock/power "
            "settings return to defaults.",
            off=len(off), total=len(gpus), items=', '.join((str(g.index) for g in off))),
        Msg("Run NVIDIA's persistence daemon: `sudo systemctl enable --now nvidia-persistenced` (or, legacy, `sudo "
            "nvidia-smi -pm 1`); on a managed cluster ask the admin."),
    )]
