"""`envcheck doctor`: probe everything (concurrently), diagnose, return one Result.

The probes are independent, so they run in threads: the slow ones (the target interpreter, conda's
start-up, nvidia-smi, `import torch` with --deep) overlap instead of adding up.
"""
from __future__ import annotations

import getpass
import os
import re
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from envcheck.errors import Msg
from envcheck.diagnose import SEVERITY_ORDER, ArchPrediction, DoctorFacts, diagnose
from envcheck.facts import GpuInfo, Interpreter, NvidiaFacts
from envcheck.i18n import N_
from envcheck.probes import accelerators, cudaenv, managers, nvidia, system, toolkit, torchinfo
from envcheck.inputs import confirm_interpreter, interpreter_check_needed, target_interpreter
from envcheck.redact import redact
from envcheck.results import Finding, Result, Severity, exit_code_for_findings
from envcheck.runner import Runner

CUDA_EXPLANATION = N_(
    "Three different CUDA numbers: the driver's is the NEWEST CUDA it can run (a ceiling); torch's is "
    "the CUDA its wheel was built with and ships (it must not exceed the driver's, beyond minor-version "
    "compatibility); the toolkit's (nvcc) only matters for compiling CUDA extensions."
)


def _companions(matrix, py, torch, os_name: str) -> dict:
    """torchvision/torchaudio vs torch from metadata (issue 9); never breaks doctor."""
    try:
        from envcheck.probes.torchinfo import companion_facts

        return companion_facts(matrix, py, torch, os_name) if matrix is not None else {}
    except Exception:
        return {}


def os_family(sys_facts: system.SystemFacts, platform: str | None = None) -> str:
    """Which driver floors apply: WSL runs the Windows driver."""
    platform = platform or sys.platform
    if sys_facts.wsl.value:
        return "windows"
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def _timed(timings: dict, name: str, fn: Callable, *args, **kwargs):
    start = time.monotonic()
    try:
        return fn(*args, **kwargs)
    finally:
        timings[name] = round(time.monotonic() - start, 3)


def _matrix_hooks():
    """(driver_floor callable or None, matrix or None, note) from envcheck.matrix; never raises."""
    try:
        from envcheck.matrix import load_matrix

        matrix = load_matrix()
    except Exception as exc:  # ImportError, missing or invalid configs: doctor still works
        msg = getattr(exc, "message", None) or f"{exc.__class__.__name__}: {exc}"
        return None, None, f"compatibility matrix unavailable ({msg}); driver floors checked against the driver's CUDA only"
    return (lambda cuda, os_name: matrix.driver_floor(cuda, os_name)), matrix, None


# --------------------------------------------------------------------- kernel coverage, predicted

_CC = re.compile(r"^\d+\.\d+$")


def official_build(matrix, version: str | None, cuda: str | None, local: str | None):
    """(Release, Variant) of the official CUDA wheel this torch is, per the matrix; None otherwise.

    '1.13.1+cu117' names its variant; a plain version ('2.5.1', PyPI's default CUDA build) maps
    version.py's CUDA to cuXY[Z]. A local label that is not a CUDA variant (+cpu, +rocm6.2, +git...),
    a release the matrix does not list, or a variant that release was never built for: None.
    """
    if not version:
        return None
    release = matrix.release(version)
    if release is None:
        return None
    if local is not None:
        variant = matrix.variant(local)
    elif cuda:
        variant = matrix.cuda_variant(cuda)
    else:
        return None
    if variant is None or variant.kind != "cuda":
        return None
    from envcheck.matrix import OSES

    if not any(variant.name in release.variants_for(o) for o in OSES):
        return None
    return release, variant


def _carried(arches) -> tuple[str, ...]:
    from envcheck.matrix import sm_label

    if arches is None:
        return ()
    ptx = (sm_label(arches.ptx).replace("sm_", "compute_"),) if arches.ptx else ()
    return tuple(sm_label(s) for s in arches.sm) + ptx


def _wheel_arch(machine: str | None = None) -> str:
    """Whose kernel lists apply to a torch on this machine (matrix.kernel_arch of this host)."""
    from envcheck.facts import host_arch
    from envcheck.inputs import host_os
    from envcheck.matrix import kernel_arch

    return kernel_arch(host_os(), host_arch(machine).value)


def predict_arch(matrix, torch: torchinfo.TorchInfo, gpus: tuple[GpuInfo, ...], fix: str | None = None,
                 *, machine: str | None = None) -> tuple[ArchPrediction, ...]:
    """The matrix's kernel-coverage verdict for each GPU against the inspected torch's official wheels
    (no torch import). Uses matrix.gpu_coverage, the resolver's own rule: the recorded arch list (the
    aarch64 one on a Linux aarch64 host), else the nearest release's (presumed), else the arch_cuda
    table. Unknown coverage: no verdict."""
    from envcheck.matrix import gpu_coverage, wheel_arches

    build = official_build(matrix, torch.version, torch.cuda, torch.local) if torch.installed else None
    if build is None:
        return ()
    release, variant = build
    arch = _wheel_arch(machine)
    arches, presumed_from = wheel_arches(variant, release, matrix, arch)
    out = []
    for g in gpus:
        cc = g.compute_capability
        if not cc or not _CC.match(cc):
            continue
        covered, why, _, coverage = gpu_coverage(variant, release, (cc,), matrix, arch)
        if covered and coverage == "unknown":
            continue
        toolkit = None
        if not covered and arches is None and why:
            toolkit = why.split(": ", 1)[1] if why.startswith(variant.name + ": ") else why
        out.append(ArchPrediction(
            g.index, g.name, cc, covered, torch.version or release.torch, release.torch, variant.name,
            _carried(arches), presumed_from.torch if presumed_from is not None else None, toolkit,
            None if covered else fix,
        ))
    return tuple(out)


def covering_install(matrix, release, ccs: tuple[str, ...], *, python_version: str | None, python_path: str,
                     nv: NvidiaFacts | None = None, gfx: tuple[str, ...] = (), machine: str | None = None) -> str | None:
    """The `envcheck install` command (with what it picks) that gets a build whose kernels cover the GPUs:
    NVIDIA compute capabilities `ccs`, or AMD gfx targets `gfx` (a ROCm build), found by running the
    resolver as `envcheck install --python PATH` would here: first pinned to the installed release
    (another variant of it may cover the GPU), then unpinned. None: no build the resolver would pick
    covers them (e.g. the driver is too old, no ROCm list has the gfx target), or the inputs are unusable."""
    import shlex

    from envcheck.inputs import host_os
    from envcheck.matrix import gpu_coverage, sm_label
    from envcheck.resolve import ResolveRequest, resolve

    m = re.match(r"^(\d+)\.(\d+)", python_version or "")
    if not m or not (ccs or gfx):
        return None
    driver = cuda = None
    if nv is not None and not gfx:
        driver = nv.driver_version if nv.driver_version and re.match(r"^\d+(\.\d+)+$", nv.driver_version) else None
        cuda = nv.cuda if nv.cuda and _CC.match(nv.cuda) else None
    labels = ", ".join(gfx) if gfx else ", ".join(sm_label(c) for c in ccs)
    base = f"envcheck install --python {shlex.quote(python_path)}"
    arch = _wheel_arch(machine)  # install's default --arch on this machine
    for pin in ((release.torch,) if release is not None else ()) + (None,):
        try:
            res = resolve(ResolveRequest(python=f"{m.group(1)}.{m.group(2)}", os=host_os(), driver=driver, cuda=cuda,
                                         gpu_ccs=() if gfx else ccs, gpu_gfx=gfx, arch=arch if host_os() == "linux" else None,
                                         torch_spec=f"=={pin}" if pin else None), matrix)
        except Exception:  # NoCompatibleBuild (no wheel for this Python), a bad value: try the next
            continue
        rec = res.recommendation
        cmd = f"{base} --torch {pin}" if pin else base
        if gfx:
            if rec.variant.kind != "rocm":  # the resolver picks ROCm only where a recorded gfx list covers every GPU
                continue
            return Msg("`{command}` picks torch {torch} with {variant}, whose wheels carry kernels for {gpus} "
                       "(configs/rocm_arches.json); install torch with the command it prints", command=cmd,
                       torch=rec.torch, variant=rec.variant.name, gpus=labels)
        if rec.variant.kind != "cuda":
            continue
        coverage = gpu_coverage(rec.variant, rec.release, ccs, matrix, arch)[3]
        if coverage not in ("sass", "ptx", "presumed"):
            continue
        p = dict(command=cmd, torch=rec.torch, variant=rec.variant.name, gpus=labels)
        if coverage == "presumed":
            return Msg("`{command}` picks torch {torch} with {variant} for this driver, whose wheels carry kernels for "
                       "{gpus} (presumed from a neighbouring release's list); reinstall torch with the command it prints",
                       **p)
        return Msg("`{command}` picks torch {torch} with {variant} for this driver, whose wheels carry kernels for "
                   "{gpus}; reinstall torch with the command it prints", **p)
    return None


def cuda_install_fix(matrix, *, python_version: str | None, python_path: str, nv: NvidiaFacts,
                     runner=None, environ: Mapping[str, str] | None = None, machine: str | None = None) -> str | None:
    """What `envcheck install --python PATH` picks on this machine, with the exact pip command for the
    inspected interpreter, when that pick is a CUDA build (the fix of torch-cpu-build-on-gpu-host).
    The same decision as `install` (decision.decide, fed the NVIDIA facts doctor already probed):
    one home for the pick. None: no CUDA build runs here (install would pick CPU), or no usable inputs.
    `machine`: platform.machine() as decide() takes it (tests; None: this host's, so a Linux aarch64
    host such as a Grace Hopper gets the aarch64 pick)."""
    import shlex

    from envcheck.decision import decide
    from envcheck.plans.install import plan_pip_install, shell_join

    m = re.match(r"^(\d+)\.(\d+)", python_version or "")
    if not m:
        return None
    # the driver and GPUs as doctor detected them, given as install's flags would give them (so install
    # probes nothing again: no second nvidia-smi, no AMD/Intel probe on an NVIDIA host)
    driver = nv.driver_version if nv.driver_version and re.match(r"^\d+(\.\d+)+$", nv.driver_version) else None
    cuda = nv.cuda if nv.cuda and _CC.match(nv.cuda) else None
    ccs = tuple(dict.fromkeys(g.compute_capability for g in nv.gpus if g.compute_capability and _CC.match(g.compute_capability)))
    try:
        d = decide(python=f"{m.group(1)}.{m.group(2)}", driver=driver, cuda=cuda, gpu_cc=ccs, matrix=matrix,
                   probed=nv, runner=runner, environ=environ, machine=machine)
    except Exception:  # NoCompatibleBuild for this Python, an unusable override: the generic fix stays
        return None
    rec = d.recommendation
    if rec.variant.kind != "cuda":
        return None
    pip = shell_join(plan_pip_install(rec, python_path))
    return Msg("`envcheck install --python {python}` picks torch {torch} with {variant} for this machine; into this "
               "interpreter: `{pip}`", python=shlex.quote(python_path), torch=rec.torch, variant=rec.variant.name, pip=pip)


def _kernels(environ: Mapping[str, str], target_prefix_guess: str | None):
    try:
        from envcheck.probes.jupyter import default_prefixes, probe_kernelspecs
    except ImportError as exc:
        return None, f"Jupyter probe unavailable: {exc}"
    prefixes = list(default_prefixes(environ))
    if target_prefix_guess and target_prefix_guess not in prefixes:
        prefixes.append(target_prefix_guess)
    try:
        return probe_kernelspecs(environ=environ, prefixes=tuple(prefixes)), None
    except Exception as exc:  # the probe promises not to raise; belt and braces
        return None, f"Jupyter probe failed: {exc.__class__.__name__}: {exc}"


def deep_timeout(environ: Mapping[str, str]) -> float:
    try:
        value = float(environ.get("ENVCHECK_DEEP_TIMEOUT", ""))
        return value if value > 0 else torchinfo.DEEP_TIMEOUT_S
    except ValueError:
        return torchinfo.DEEP_TIMEOUT_S


def collect(
    interp: Interpreter,
    *,
    deep: bool,
    runner: Runner,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    """Run all probes concurrently; return the raw facts by name (plus timings)."""
    timeout = nvidia.tool_timeout(environ)
    timings: dict[str, float] = {}
    prefix_guess = os.path.dirname(os.path.dirname(interp.path))
    with ThreadPoolExecutor(max_workers=8 + len(accelerators.VENDOR_PROBES)) as pool:  # every probe starts at once
        try:
            f_py = pool.submit(_timed, timings, "python", torchinfo.probe_pyinfo_run, runner, interp.path,
                               max(timeout, torchinfo.PYINFO_TIMEOUT_S))
            f_deep = (pool.submit(_timed, timings, "torch_deep", torchinfo.probe_deep, runner, interp.path,
                                  deep_timeout(environ)) if deep else None)
            f_nv = pool.submit(_timed, timings, "nvidia", nvidia.probe_nvidia, runner, environ)
            f_sys = pool.submit(_timed, timings, "system", system.probe_system, environ)
            f_tk = pool.submit(_timed, timings, "toolkit", toolkit.probe_toolkit, runner, environ, timeout)
            f_mg = pool.submit(_timed, timings, "managers", managers.probe_managers, runner, environ, timeout=timeout)
            f_jk = pool.submit(_timed, timings, "jupyter", _kernels, environ, prefix_guess)
            # the registered vendor probes (AMD, Intel, Apple...), each in its own thread
            f_vendors = {v: pool.submit(_timed, timings, v, accelerators.run_vendor_probe, v, runner, environ)
                         for v in accelerators.enabled_vendors(environ)}
            pyinfo, pyinfo_run = f_py.result()
            out = {
                "pyinfo": pyinfo,
                "pyinfo_run": pyinfo_run,
                "deep": f_deep.result() if f_deep else None,
                "nvidia": f_nv.result(),
                "system": f_sys.result(),
                "toolkit": f_tk.result(),
                "managers": f_mg.result(),
                "kernels": f_jk.result(),
                "vendors": {v: f.result() for v, f in f_vendors.items()},
            }
        except BaseException as exc:  # Ctrl-C / SIGTERM / SIGHUP: the probes' tools die now, not at their timeouts
            from envcheck.runner import kill_children

            kill_children(stop_new=isinstance(exc, KeyboardInterrupt))  # and no probe starts another one
            raise
    # pip's site config lives in the target's sys.prefix, known only now
    mg = out["managers"]
    pip_notes: list[str] = []
    pip_settings, pip_files = managers.read_pip_config(environ, pyinfo.prefix if pyinfo.ok else None, pip_notes)
    pip_version = pyinfo.dist_version("pip") if pyinfo.ok else None
    def _pip(m: managers.ManagerInfo) -> managers.ManagerInfo:
        # pip's version is the one in the inspected interpreter (read from its dist-info, no pip start-up)
        # (`pip` on PATH may belong to another Python, so the target's own pip is what is shown).
        if pip_version:
            return managers.ManagerInfo("pip", f"{pyinfo.executable or interp.path} -m pip", "interpreter",
                                        pip_version, None)
        why = N_("pip is not installed in the inspected interpreter")
        return managers.ManagerInfo("pip", m.path, m.source, None,
                                    why + (f" (`pip` on PATH, {m.path}, belongs to another Python)" if m.path else ""))

    tools = tuple(_pip(m) if m.name == "pip" else m for m in mg.managers)
    out["managers"] = managers.ManagersFacts(tools, mg.conda_channels, mg.conda_settings, mg.condarc_files,
                                             pip_settings, pip_files, mg.uv_settings,
                                             tuple(dict.fromkeys(mg.notes + tuple(pip_notes))))
    out["timings"] = timings
    return out


def _sourced(value, source, reason=None) -> dict:
    return {"value": value, "source": source, "reason": None if value is not None else reason}


def build_data(interp: Interpreter, raw: dict, findings: list[Finding], cuda_env: cudaenv.CudaEnvFacts,
               notes: list[str]) -> dict[str, Any]:
    py: torchinfo.PyInfo = raw["pyinfo"]
    nv: NvidiaFacts = raw["nvidia"]
    tk: toolkit.ToolkitFacts = raw["toolkit"]
    torch = torchinfo.torch_from_pyinfo(py)
    deep: torchinfo.DeepInfo | None = raw["deep"]
    kernels, kernel_reason = raw["kernels"]

    dists = py.distributions if py.ok else {}
    packages = {name: (dists.get(name) or {}).get("version")
                for name in ("torchvision", "torchaudio", "numpy", "ipykernel", "pynvml", "nvidia-ml-py", "triton")}
    nvidia_wheels = {k: v.get("version") for k, v in sorted(dists.items()) if k.startswith("nvidia-") and k != "nvidia-ml-py"}
    torch_dict = torch.to_dict()
    torch_dict.update({"packages": packages, "nvidia_wheels": nvidia_wheels,
                       "deep": deep.to_dict() if deep else None})

    no_driver_reason = (N_("driver/library version mismatch") if nv.mismatch else N_("no NVIDIA driver found")
                        if not nv.has_driver else N_("the driver did not report it"))
    errors = [f for f in findings if f.severity == Severity.ERROR]
    warnings = [f for f in findings if f.severity == Severity.WARNING]
    vendors = raw.get("vendors") or {}
    accs = accelerators.all_accelerators(nv, vendors)
    return {
        "target": {"python": interp.path, "source": interp.source.value, "why": interp.why},
        "system": raw["system"].to_dict(),
        "python": {
            "executable": _sourced(py.executable or interp.path, interp.source.value),
            "version": _sourced(py.version, "interpreter", py.reason),
            "prefix": _sourced(py.prefix, "interpreter", py.reason),
            "kind": _sourced((N_("conda env") if py.is_conda else "venv" if py.is_venv else N_("system/base interpreter"))
                             if py.ok else None, "interpreter", py.reason),
            "is_venv": py.is_venv,
            "is_conda": py.is_conda,
            "implementation": py.implementation,
            "ok": py.ok,
            "reason": py.reason,
        },
        "managers": raw["managers"].to_dict(),
        "driver": nv.driver_dict(),
        "gpus": [dict(g.to_dict(), source=nv.gpus_source.value if nv.gpus_source else None,
                      health=g.health.to_dict() if g.health is not None else None) for g in nv.gpus],
        "accelerators": [a.to_dict() for a in accs],
        "accelerator_probes": {v: {k: val for k, val in f.to_dict().items() if k not in ("vendor", "accelerators")}
                               for v, f in vendors.items()},
        "nvidia": {"pci_devices": list(nv.pci_devices), "gpus_source": nv.gpus_source.value if nv.gpus_source else None,
                   # per GPU, beside data.gpus (whose keys stay as they were): issue 10's details
                   "gpu_details": [{"index": g.index, "compute_capability_source": g.compute_capability_source,
                                    "mig_mode": g.mig_mode, "mig_devices": list(g.mig_devices),
                                    "virtualization": g.virtualization} for g in nv.gpus]},
        "toolkit": tk.to_dict(),
        "cuda_versions": {
            "driver_max": _sourced(nv.cuda, nv._cuda_source_value(), no_driver_reason),
            "torch_build": _sourced(torch.cuda, torch.source if torch.installed else None,
                                    "CPU-only build" if torch.installed else (torch.reason or "torch not installed")),
            "toolkit": _sourced(tk.version, "nvcc --version" if tk.version else None, tk.reason),
            "explanation": CUDA_EXPLANATION,
        },
        "torch": torch_dict,
        "jupyter": {"kernels": [k.to_dict() for k in kernels] if kernels is not None else [],
                    "reason": kernel_reason},
        "cuda_env": cuda_env.to_dict(),
        "findings": [f.to_dict() for f in findings],
        "summary": {"errors": len(errors), "warnings": len(warnings),
                    "infos": len(findings) - len(errors) - len(warnings)},
        "verdict": verdict(findings, torch, nv, accs),
        "notes": notes,
        "timings_s": raw.get("timings", {}),
    }


def verdict(findings: list[Finding], torch: torchinfo.TorchInfo, nv: NvidiaFacts, accs=()) -> str:
    errors = [f for f in findings if f.severity == Severity.ERROR]
    warnings = [f for f in findings if f.severity == Severity.WARNING]
    if errors:
        first = errors[0]
        if len(errors) > 1:
            return Msg("problems found: {code} (+{more} more)", code=first.code, more=len(errors) - 1)
        return Msg("problems found: {code}", code=first.code)
    amd = [a for a in accs if a.vendor == "amd" and a.kind == "gpu"]
    where = (Msg("CUDA {cuda} on {count} GPU(s)", cuda=torch.cuda, count=len(nv.gpus)) if torch.cuda and nv.gpus
             else Msg("ROCm {hip} on {count} AMD GPU(s)", hip=torch.hip, count=len(amd)) if torch.hip and amd
             else Msg("CPU only") if torch.installed else Msg("no torch"))
    head = Msg("ready: torch {version} ({where})", version=torch.version, where=where) if torch.installed else Msg("ready")
    return Msg("{head}, {count} warning(s)", head=head, count=len(warnings)) if warnings else head


# ------------------------------------------------------------------------------------- anonymize

_UUID = re.compile(r"\b(GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b|\b(GPU|MIG)-[0-9a-fA-F-]{6,}\b")


def make_anonymizer(environ: Mapping[str, str]) -> Callable[[str], str]:
    """Mask the home directory, user name, host name and GPU/MIG UUIDs in a string."""
    home = (environ.get("HOME") or os.path.expanduser("~")).rstrip("/")
    try:
        user = environ.get("USER") or getpass.getuser()
    except Exception:
        user = None
    try:
        host = socket.gethostname()
    except OSError:
        host = None

    def anon(text: str) -> str:
        if home and len(home) > 1:
            text = re.sub(re.escape(home) + r"(?=/|\b|$)", "~", text)
        if user:
            text = re.sub(r"(?<=/)" + re.escape(user) + r"(?=/|$)", "<user>", text)
        if host and len(host) >= 3:  # a 2-letter host name would mask parts of ordinary words
            text = re.sub(r"(?<![\w.-])" + re.escape(host) + r"(?![\w-])", "<host>", text)
        text = _UUID.sub(lambda m: (m.group(1) or m.group(2)) + "-<redacted>", text)
        return redact(text)  # URL secrets too: user:password@, conda /t/<token>/, ?token=...

    return anon


def anonymize(obj: Any, anon: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return anon(obj)
    if isinstance(obj, dict):
        return {anon(k) if isinstance(k, str) else k: anonymize(v, anon) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [anonymize(v, anon) for v in obj]
    return obj


# ------------------------------------------------------------------------------------------- run


def _check_overrides(environ: Mapping[str, str]) -> None:
    from envcheck.inputs import parse_cuda, parse_driver

    for name, parse in (("ENVCHECK_OVERRIDE_DRIVER", parse_driver), ("ENVCHECK_OVERRIDE_CUDA", parse_cuda)):
        value = environ.get(name, "").strip()
        if value:
            parse(value, name)


def run(
    python: str | None = None,
    deep: bool = False,
    anonymize: bool = False,
    *,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
    sink=None,
) -> Result:
    """`envcheck doctor`. `sink` (workflow.events): with --deep, the torch import in the target (seconds;
    minutes for a cold CUDA build) is shown as a command that starts and ends; the probes without it
    take a fraction of a second and show nothing."""
    environ = dict(os.environ if environ is None else environ)
    runner = runner or Runner()
    _check_overrides(environ)  # a malformed override is bad input (exit 2), as in `envcheck install`
    interp = target_interpreter(python, runner, environ, check=False)  # exit 2 blank, 4 missing
    check = interpreter_check_needed(python) and interp.version is None
    if check and deep:  # --deep imports torch there (minutes of timeout): a non-Python is refused first
        interp, check = confirm_interpreter(interp, runner), False
    start = time.monotonic()
    if deep and sink is not None:
        import shlex

        from envcheck.inenv import script_path
        from envcheck.workflow.events import CommandEnded, CommandStarted

        shown = shlex.join([interp.path, script_path("torchdeep")])  # what probe_deep runs (imports torch)
        sink.emit(CommandStarted(shown))
        try:
            raw = collect(interp, deep=deep, runner=runner, environ=environ)
        finally:  # "done": the probe ran; what it found (torch missing, an import error) is in the report
            sink.emit(CommandEnded(shown, 0, time.monotonic() - start))
    else:
        raw = collect(interp, deep=deep, runner=runner, environ=environ)
    pyinfo_run = raw.pop("pyinfo_run")
    if check:  # exit 4 when an explicit --python is not a working Python
        interp = confirm_interpreter(interp, runner, answer=_inspection_answer(pyinfo_run, raw["pyinfo"]))
    nv: NvidiaFacts = raw["nvidia"]
    py: torchinfo.PyInfo = raw["pyinfo"]
    sys_facts: system.SystemFacts = raw["system"]
    torch = torchinfo.torch_from_pyinfo(py)
    cuda_env = cudaenv.probe_cuda_env(environ, nv.gpus)
    kernels, _ = raw["kernels"]
    driver_floor, matrix, matrix_note = _matrix_hooks()
    notes = [matrix_note] if matrix_note else []
    if nv.overrides:
        notes.append(Msg("override in effect: {items} (values marked source=override)", items=', '.join(nv.overrides)))

    deep_info = raw["deep"]
    predictions: tuple[ArchPrediction, ...] = ()
    if matrix is not None and torch.installed and torch.cuda:
        try:
            predictions = predict_arch(matrix, torch, nv.gpus)
            missed = tuple(dict.fromkeys(p.cc for p in predictions if not p.covered))
            if missed:
                ccs = tuple(dict.fromkeys(g.compute_capability for g in nv.gpus if g.compute_capability))
                fix = covering_install(matrix, matrix.release(torch.version), ccs, python_version=py.version,
                                       python_path=py.executable or interp.path, nv=nv)
                predictions = predict_arch(matrix, torch, nv.gpus, fix)
        except Exception as exc:  # never let the prediction break doctor
            notes.append(Msg("kernel-coverage prediction skipped: {name}: {exc}", name=exc.__class__.__name__, exc=exc))
    cuda_fix = None
    if matrix is not None and torch.installed and not torch.cuda and not torch.hip and nv.has_driver:
        try:
            cuda_fix = cuda_install_fix(matrix, python_version=py.version, python_path=py.executable or interp.path,
                                        nv=nv, runner=runner, environ=environ)
        except Exception as exc:  # never let the advice break doctor
            notes.append(Msg("install pick for the CUDA-build fix skipped: {name}: {exc}",
                             name=exc.__class__.__name__, exc=exc))
    facts = DoctorFacts(
        cuda_install_fix=cuda_fix,
        nvidia=nv,
        os_family=os_family(sys_facts),
        python=py.executable or interp.path,
        python_ok=py.ok,
        python_reason=py.reason,
        torch_installed=torch.installed if py.ok else None,
        torch_version=torch.version,
        torch_cuda=torch.cuda,
        torch_hip=torch.hip,
        distributions={k: v.get("version") for k, v in py.distributions.items()} if py.ok else {},
        deep=deep_info.to_dict() if (deep_info is not None and torch.installed) else None,
        visible=cuda_env.visible_devices.to_dict(),
        typos=cuda_env.typos,
        kernels=tuple(k.to_dict() for k in kernels) if kernels else (),
        dev_shm_bytes=sys_facts.dev_shm_bytes.value,
        in_container=bool(sys_facts.container.value),
        arch_predictions=predictions,
        **_accelerator_facts(raw, nv, torch, environ),
        amd_install_fix=_amd_install_fix(matrix, torch, raw, py, interp, nv),
        companions=_companions(matrix, py, torch, os_family(sys_facts)),
    )
    findings = diagnose(facts, driver_floor)
    if matrix is not None:
        try:
            from envcheck.matrix import stale_notes

            findings += stale_notes(
                matrix,
                torch_version=torch.version if torch.installed else None,
                driver_cuda=nv.cuda,
                compute_capabilities=tuple(g.compute_capability for g in nv.gpus if g.compute_capability),
            )
        except Exception as exc:  # never let the matrix's notes break doctor
            notes.append(Msg("matrix staleness check skipped: {name}: {exc}", name=exc.__class__.__name__, exc=exc))
    findings.sort(key=lambda f: SEVERITY_ORDER.get(f.severity, 9))  # errors first, the matrix's notes too
    raw["timings"]["total"] = round(time.monotonic() - start, 3)
    data = build_data(interp, raw, findings, cuda_env, notes)
    if anonymize:
        data = anonymize_data(data, environ)
    return Result(command="doctor", exit_code=exit_code_for_findings(findings), data=data)


def _inspection_answer(done, py: torchinfo.PyInfo) -> tuple[str | None, str | None] | None:
    """What the inspection's run of the target says about it being Python, for confirm_interpreter, so
    the interpreter is not started a second time just to ask its version (~20-30 ms of the run): it
    answered pyinfo.py's JSON with a version -> (version, None); anything else -> None, and the quick
    version check decides: a Python whose inspection hung or failed (a sitecustomize that blocks, a
    broken site-packages) IS a Python, and gets the python-inspect-failed finding, not exit 4; `/bin/ls`
    or a binary that hangs on everything is exit 4."""
    from envcheck.probes.python import FULL_VERSION

    if py.ok and FULL_VERSION.match(py.version or ""):
        return py.version, None
    return None


def _accelerator_facts(raw: dict, nv: NvidiaFacts, torch: torchinfo.TorchInfo, environ: Mapping[str, str]) -> dict:
    """The issue-10 fields of DoctorFacts: every vendor's accelerators, the ROCm wheel gfx list of the
    inspected torch's variant (configs/rocm_arches.json; None when unknown), and the AMD env vars."""
    from envcheck.rocmarch import rocm_variant_of, wheel_gfx

    variant = rocm_variant_of(torch.local) if torch.installed and torch.hip else None
    return {
        "accelerators": accelerators.all_accelerators(nv, raw.get("vendors") or {}),
        "torch_local": variant or torch.local,
        "rocm_wheel_arches": wheel_gfx(variant, torch.version) if variant else None,
        "rocm_env": {k: environ[k] for k in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HSA_OVERRIDE_GFX_VERSION")
                     if k in environ},
    }


def _amd_install_fix(matrix, torch: torchinfo.TorchInfo, raw: dict, py, interp, nv: NvidiaFacts) -> str | None:
    """For torch-not-rocm-on-amd-host: what `envcheck install` picks for this AMD machine (covering_install,
    the same home as the NVIDIA fix). None when not needed or not computable."""
    amd = (raw.get("vendors") or {}).get("amd")
    if matrix is None or amd is None or not torch.installed or torch.hip or nv.gpus:
        return None
    gfx = tuple(dict.fromkeys(a.arch for a in amd.accelerators if a.kind == "gpu" and a.arch))
    if not gfx:
        return None
    try:
        return covering_install(matrix, matrix.release(torch.version) if torch.version else None, (),
                                python_version=py.version, python_path=py.executable or interp.path, gfx=gfx)
    except Exception:  # never let the fix text break doctor
        return None


def anonymize_data(data: dict, environ: Mapping[str, str]) -> dict:
    original = ((data.get("system") or {}).get("hostname") or {}).get("value")
    out = anonymize(data, make_anonymizer(environ))
    host = out.get("system", {}).get("hostname")
    if isinstance(host, dict) and host.get("value"):
        host["value"] = system.mask_hostname(original or host["value"])  # masked, still distinct per node
    out["anonymized"] = True
    return out
