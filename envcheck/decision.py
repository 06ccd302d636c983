"""The install decision: detect (or take from flags) the inputs, resolve, and build the install plans.

`decide(...)` returns an InstallDecision (the request with the source of every input, the Resolution and
the InstallPlans). It is the one home of "what would `envcheck install` pick on this machine": the
`install` command, `install --execute` and doctor's fixes (commands/doctor.py) all call it, so no
command imports another to get it.
"""
from __future__ import annotations

import os as _os
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from envcheck.errors import EnvcheckError, Msg, joined
from envcheck.facts import Source
from envcheck.inputs import (
    driver_short_note,
    host_os,
    parse_cc,
    parse_gpu_arch,
    parse_cuda,
    parse_driver,
    parse_gpu_name,
    parse_os,
    parse_python_request,
)
from envcheck.names import validate_env_name

MANAGERS = ("conda", "pip", "uv")


@dataclass(frozen=True)
class Input:
    """One resolver input and where it came from (JSON: {"value", "source", "reason"})."""

    value: object
    source: str
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"value": self.value, "source": self.source, "reason": self.reason}


# --- parsing user input (pure; exit 2 on bad values) -----------------------------------------


# --- the decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstallDecision:
    request: object  # ResolveRequest
    resolution: object  # Resolution
    plans: object  # InstallPlans
    inputs: dict = field(default_factory=dict)  # name -> Input
    mirror: object = None  # Mirror | None
    stale: tuple = ()  # Findings
    input_notes: tuple = ()  # what an almost-right input was read as (a driver cut short)

    @property
    def recommendation(self):
        return self.resolution.recommendation


def decide(
    *,
    python: str | None = None,
    os_name: str | None = None,
    driver: str | None = None,
    cuda: str | None = None,
    gpu_cc: Sequence[str] = (),
    cpu: bool = False,
    torch: str | None = None,
    strict_driver: bool = False,
    mirror: str | None = None,
    name: str | None = None,
    runner=None,
    environ: Mapping[str, str] | None = None,
    matrix=None,
    arch: str | None = None,
    allow_unverified: bool = False,
    machine: str | None = None,
    gpu: Sequence[str] = (),
    probed=None,
    gpu_arch: Sequence[str] = (),
    xpu: bool = False,
) -> InstallDecision:
    """Parse and detect the inputs, resolve, and plan. Raises EnvcheckError (2, 3, 4, 5).

    `gpu`: GPU product names (`--gpu "RTX 3090"`), mapped to compute capabilities by the GPU table and
    added to `gpu_cc`. `probed`: NVIDIA facts this process already probed (doctor), used instead of
    probing again; the decision is then the one `envcheck install` makes on this machine.

    `machine`: platform.machine() of this host (tests pass it); used for the CPU architecture when
    --arch is not given and the target OS is this machine's."""
    from envcheck.matrix import load_matrix, refresh_notes, stale_notes
    from envcheck.plans.install import plan_install
    from envcheck.resolve import ResolveRequest, default_arch, parse_arch, parse_torch_spec, resolve

    environ = _os.environ if environ is None else environ
    inputs: dict[str, Input] = {}

    # Validate every flag before touching the machine or the matrix: bad input is exit 2 at once.
    target_os = parse_os(os_name)
    inputs["os"] = Input(target_os, Source.FLAG.value if os_name else Source.DEFAULT.value,
                         None if os_name else Msg("this machine"))
    if arch is not None:
        target_arch = parse_arch(arch)
        inputs["arch"] = Input(target_arch, Source.FLAG.value)
    elif target_os == host_os():
        from envcheck.facts import host_arch

        found = host_arch(machine)  # the one normalization doctor's data.system.arch uses too
        if found.value in ("x86_64", "aarch64"):
            target_arch = str(found.value)
            inputs["arch"] = Input(target_arch, "platform.machine", found.reason or Msg("this machine reports {arch!r}", arch=found.value))
        else:
            target_arch = default_arch(target_os)
            inputs["arch"] = Input(target_arch, Source.DEFAULT.value, Msg("{reason}; assumed {arch}", reason=found.reason,
                                                                                arch=target_arch))
    else:
        target_arch = default_arch(target_os)
        inputs["arch"] = Input(target_arch, Source.DEFAULT.value,
                               Msg("--os {os} is not this machine: assumed {arch} (pass --arch)", os=target_os,
                                   arch=target_arch))
    spec = parse_torch_spec(torch) if torch is not None else None
    flag_driver = parse_driver(driver) if driver is not None else None
    flag_cuda = parse_cuda(cuda) if cuda is not None else None
    flag_ccs = tuple(parse_cc(c) for c in gpu_cc)
    named = tuple((text, *parse_gpu_name(text)) for text in gpu)  # (as given, cc, table row)
    flag_ccs = tuple(dict.fromkeys(flag_ccs + tuple(cc for _, cc, _ in named)))
    flag_gfx = tuple(dict.fromkeys(parse_gpu_arch(g) for g in gpu_arch))
    if name is not None:
        validate_env_name(name)
    py_version = parse_python_request(python) if python is not None else None

    matrix = matrix or load_matrix()
    mirror_obj = None
    if mirror is not None:
        mirror_obj = matrix.mirrors.get(mirror.strip().lower())
        if mirror_obj is None:
            known = ", ".join(sorted(matrix.mirrors)) or "none"
            raise EnvcheckError(Msg("unknown mirror {mirror!r}", mirror=mirror), hint=Msg("known mirrors: {known}", known=known), code="invalid-mirror")

    # Python: a version is taken as is (no interpreter needed); a path or the default is asked.
    if py_version is not None:
        inputs["python"] = Input(py_version, Source.FLAG.value)
    else:
        from envcheck.inputs import target_interpreter
        from envcheck.runner import Runner

        runner = runner or Runner()
        interp = target_interpreter(python, runner, environ, check=True)
        py_version = ".".join(interp.version.split(".")[:2])
        inputs["python"] = Input(py_version, Source.INTERPRETER.value, f"{interp.path} ({interp.why})")

    # Accelerator facts: flags win; detect the rest "as doctor does" when it is this machine.
    drv_text: str | None = str(driver).strip() if driver is not None else None
    drv = flag_driver
    cuda_v = flag_cuda
    ccs = flag_ccs
    if cpu:
        inputs["cpu"] = Input(True, Source.FLAG.value)
    elif target_os == "macos":
        inputs["cpu"] = Input(False, Source.DEFAULT.value, Msg("macOS has no CUDA builds"))
    # --driver or --cuda describe a driver (maybe another machine's): never mix in this machine's.
    driver_given = drv is not None or cuda_v is not None
    need_probe = not cpu and target_os != "macos" and (not driver_given or not ccs)
    if drv is not None:
        inputs["driver"] = Input(drv_text, Source.FLAG.value)
    elif driver_given:
        inputs["driver"] = Input(None, Source.DEFAULT.value, Msg("only --cuda given"))
    if cuda_v is not None:
        inputs["cuda"] = Input(str(cuda_v), Source.FLAG.value)
    elif driver_given:
        inputs["cuda"] = Input(None, Source.DEFAULT.value, Msg("only --driver given"))
    if ccs:
        inputs["gpu_cc"] = Input(list(ccs), Source.FLAG.value, joined(
            Msg("--gpu {text!r} is {row}, compute capability {cc} (configs/nvidia_gpus.json)", text=text, row=row, cc=cc)
            for text, cc, row in named) if named else None)
    if need_probe and target_os != host_os():
        reason = Msg("not detected: --os {os} is not this machine", os=target_os)
        for key in ("driver", "cuda", "gpu_cc"):
            inputs.setdefault(key, Input(None, Source.DEFAULT.value, reason))
    elif need_probe:
        facts = probed if probed is not None else _probe(runner, environ)
        why = joined(facts.reasons) if facts.reasons else None
        if not driver_given:
            drv, drv_text, inputs["driver"] = _detected(
                facts.driver_version, facts, "ENVCHECK_OVERRIDE_DRIVER", parse_driver, facts.source,
                why or Msg("no NVIDIA driver detected"))
            cuda_v, _, inputs["cuda"] = _detected(
                facts.cuda, facts, "ENVCHECK_OVERRIDE_CUDA", parse_cuda,
                getattr(facts, "cuda_source", None) or facts.source, why or Msg("not reported"))
        if not ccs:
            ccs = tuple(g.compute_capability for g in facts.gpus if g.compute_capability)
            ccs = tuple(dict.fromkeys(ccs))  # one entry per architecture, in order
            inputs["gpu_cc"] = Input(list(ccs), _src(facts.source) if ccs else Source.DEFAULT.value,
                                     None if ccs else (why or Msg("no GPU detected")))

    gfx, has_xpu, host_rocm = _vendor_inputs(inputs, flag_gfx, xpu, runner=runner, environ=environ,
                                             probe=not cpu and not driver_given and target_os == host_os()
                                             and target_os != "macos" and not flag_gfx and not xpu)

    request = ResolveRequest(
        python=py_version,
        os=target_os,
        driver=drv,
        cuda=cuda_v,
        gpu_ccs=ccs,
        cpu_only=cpu,
        torch_spec=spec,
        strict_driver=strict_driver,
        driver_text=drv_text,
        torch_spec_text=torch.strip() if torch else None,
        arch=target_arch,
        allow_unverified=allow_unverified,
        gpu_gfx=gfx,
        xpu=has_xpu,
        host_rocm=host_rocm,
    )
    try:
        resolution = resolve(request, matrix)
    except EnvcheckError as exc:  # --torch naming a release only the refresh knows: say so
        newer = [v for v in matrix.refreshed_without_row() if spec is not None and spec.contains(v, prereleases=True)]
        if newer:
            known = Msg("torch {versions} is on the package index (envcheck matrix refresh) but envcheck's matrix does "
                        "not know its CUDA variants, driver floors or companions yet: upgrade envcheck",
                        versions=', '.join(newer))
            exc.hint = joined([known, exc.hint]) if exc.hint else known
        raise
    short = _driver_short_note(request, resolution, matrix)
    if short is not None and "driver" in inputs:
        inputs["driver"] = Input(inputs["driver"].value, inputs["driver"].source, short)
    plans = plan_install(resolution.recommendation, name=name, mirror=mirror_obj)
    stale = tuple(stale_notes(matrix, driver_cuda=cuda_v, compute_capabilities=ccs)) + tuple(refresh_notes(matrix))
    return InstallDecision(request, resolution, plans, inputs, mirror_obj, stale, (short,) if short else ())


def _driver_short_note(request, resolution, matrix) -> str | None:
    """The note for a driver given cut short ('580.65', '580'), when a variant fell below a floor that
    the missing digits decide (inputs.driver_short_note has the rule; the floor is the resolver's)."""
    from envcheck.resolve import driver_floor_for

    if request.driver_text is None:
        return None
    floors = []
    for rej in resolution.rejected:
        variant = matrix.variants.get(rej.variant) if rej.code == "driver" and rej.variant else None
        floor = driver_floor_for(variant, request.os, strict=request.strict_driver) if variant else None
        if floor is not None:
            floors.append((variant.name, floor))
    return driver_short_note(request.driver_text, floors)


def _vendor_inputs(inputs: dict, flag_gfx: tuple, flag_xpu: bool, *, probe: bool, runner,
                   environ) -> tuple[tuple[str, ...], bool, str | None]:
    """AMD gfx targets, an Intel XPU, and the host's ROCm release: from --gpu-arch / --xpu ("flag"), else
    detected on this machine by doctor's own probes (probes/amd.py, probes/intel.py, through
    probes/accelerators.py, which honours ENVCHECK_SKIP_VENDOR_PROBES and ENVCHECK_SYSFS_ROOT)."""
    if flag_gfx:
        inputs["gpu_arch"] = Input(list(flag_gfx), Source.FLAG.value)
    if flag_xpu:
        inputs["xpu"] = Input(True, Source.FLAG.value)
    if not probe:
        return flag_gfx, flag_xpu, None
    gfx: tuple[str, ...] = ()
    has_xpu = False
    host_rocm = None
    amd = _probe_vendor("amd", runner, environ)
    if amd is not None:
        gpus = [a for a in amd.accelerators if a.kind == "gpu"]
        gfx = tuple(dict.fromkeys(a.arch for a in gpus if a.arch))
        found_by = ", ".join(dict.fromkeys(a.arch_source or a.source or "?" for a in gpus if a.arch))
        names = ", ".join(f"{a.name or 'AMD GPU'} ({a.arch or 'gfx ?'})" for a in gpus)
        why = joined(amd.reasons) if amd.reasons else None
        inputs["gpu_arch"] = (Input(list(gfx), "detected", f"{names} [{found_by}]") if gfx else
                              Input([], Source.DEFAULT.value,
                                    why or (Msg("AMD GPU without a known gfx target") if gpus else Msg("no AMD GPU detected"))))
        if amd.runtime:
            host_rocm = amd.runtime.replace("ROCm ", "")
            inputs["rocm"] = Input(host_rocm, "detected", amd.runtime_source)
    intel = _probe_vendor("intel", runner, environ)
    if intel is not None:
        xpus = [a for a in intel.accelerators if a.vendor == "intel"]
        has_xpu = bool(xpus)
        inputs["xpu"] = (Input(True, "detected", ", ".join(a.name or "Intel GPU" for a in xpus)) if xpus else
                         Input(False, Source.DEFAULT.value, joined(intel.reasons) if intel.reasons else
                               Msg("no supported Intel GPU detected")))
    return gfx, has_xpu, host_rocm


def _probe_vendor(vendor: str, runner, environ):
    """One vendor probe as doctor runs it (None: skipped by ENVCHECK_SKIP_VENDOR_PROBES)."""
    from envcheck.probes.accelerators import enabled_vendors, run_vendor_probe
    from envcheck.runner import Runner

    environ = _os.environ if environ is None else environ
    if vendor not in enabled_vendors(environ):
        return None
    return run_vendor_probe(vendor, runner or Runner(), environ)


def _detected(text, facts, var: str, parse, source, missing: str):
    """(value, text, Input) for a detected driver/CUDA. A malformed override variable is the
    user's input (exit 2); malformed detected output is treated as not detected, with the reason."""
    if not text:
        return None, None, Input(None, Source.DEFAULT.value, missing)
    if var in getattr(facts, "overrides", ()):
        value = parse(text, var)
    else:
        try:
            value = parse(text, "detected value")
        except EnvcheckError:
            return None, None, Input(None, Source.DEFAULT.value, Msg("unparsable {source} output {text!r}", source=_src(source), text=text))
    return value, text, Input(text if parse is parse_driver else str(value), _src(source))


def _src(source) -> str:
    if source is None:
        return Source.DEFAULT.value
    return source.value if hasattr(source, "value") else str(source)


def _probe(runner, environ):
    """NVIDIA facts as doctor gets them (the probe honours ENVCHECK_OVERRIDE_DRIVER/_CUDA itself)."""
    from envcheck.runner import Runner

    try:
        from envcheck.probes.nvidia import probe_nvidia
    except ImportError:  # pragma: no cover - the probe ships with envcheck
        from envcheck.facts import NvidiaFacts

        d = environ.get("ENVCHECK_OVERRIDE_DRIVER", "").strip() or None
        c = environ.get("ENVCHECK_OVERRIDE_CUDA", "").strip() or None
        return NvidiaFacts(driver_version=d, cuda=c, source=Source.OVERRIDE if d or c else None,
                           reasons=() if d else ("NVIDIA probe unavailable",))
    return probe_nvidia(runner or Runner(), environ)
