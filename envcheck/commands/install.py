"""`envcheck install`: detect (or take from flags) the inputs, resolve, and build the install plans.

`decide(...)` returns an InstallDecision (the request with the source of every input, the
Resolution and the InstallPlans) so `install --execute` (issue 5) can reuse the same recommendation
and argv lists; `run(...)` wraps it into a Result for rendering.
"""
from __future__ import annotations

import os as _os
import re
import sys
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from packaging.version import Version

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.facts import Source
from envcheck.numeric import ascii_number_text
from envcheck.results import Result

_XY = re.compile(r"^\d+\.\d+$")
_VERSIONISH = re.compile(r"^\d+(\.\d+)*$")
_DRIVER = re.compile(r"^\d+(\.\d+){0,3}$")
_CUDA = re.compile(r"^(\d+)\.(\d+)(\.\d+)?$")
_CC = re.compile(r"^(?:sm_?)?(\d+)\.?(\d)$", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

OS_ALIASES = {
    "linux": "linux",
    "windows": "windows", "win": "windows", "win32": "windows", "win64": "windows",
    "macos": "macos", "mac": "macos", "darwin": "macos", "osx": "macos",
}
MANAGERS = ("conda", "pip", "uv")


def host_os(platform: str | None = None) -> str:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


@dataclass(frozen=True)
class Input:
    """One resolver input and where it came from (JSON: {"value", "source", "reason"})."""

    value: object
    source: str
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"value": self.value, "source": self.source, "reason": self.reason}


# --- parsing user input (pure; exit 2 on bad values) -----------------------------------------


def parse_os(text: str | None) -> str:
    if text is None:
        return host_os()
    value = OS_ALIASES.get(text.strip().lower())
    if value is None:
        raise EnvcheckError(f"unknown OS {text!r}", hint="use --os linux, --os windows or --os macos", code="invalid-os")
    return value


def parse_driver(text: str, what: str = "--driver") -> Version:
    text = ascii_number_text(text, what, "535.104.05")
    if not _DRIVER.match(text):
        raise EnvcheckError(
            f"invalid {what} {text!r}: not an NVIDIA driver version",
            hint="driver versions look like 535.104.05 (Linux) or 537.13 (Windows)",
            code="invalid-driver",
        )
    return Version(text.strip())


def parse_cuda(text: str, what: str = "--cuda") -> Version:
    m = _CUDA.match(ascii_number_text(text, what, "12.4"))
    if not m:
        raise EnvcheckError(
            f"invalid {what} {text!r}: expected X.Y",
            hint="the CUDA version nvidia-smi shows top right, e.g. --cuda 12.2",
            code="invalid-cuda",
        )
    return Version(f"{m.group(1)}.{m.group(2)}")


def parse_cc(text: str) -> str:
    """'8.6', 'sm_86', '86' -> '8.6'; '10.0', 'sm_100' -> '10.0'."""
    t = ascii_number_text(text, "--gpu-cc", "8.6")
    if _XY.match(t):
        major, minor = t.split(".")
        if len(minor) == 1:
            return f"{int(major)}.{int(minor)}"
    m = _CC.match(t)
    if m and "." not in t:
        return f"{int(m.group(1))}.{int(m.group(2))}"
    raise EnvcheckError(
        f"invalid --gpu-cc {text!r}: expected a compute capability X.Y",
        hint="e.g. --gpu-cc 8.6 (RTX 30xx), 7.5 (T4), 9.0 (H100); `nvidia-smi --query-gpu=compute_cap --format=csv`",
        code="invalid-gpu-cc",
    )


def parse_python_request(text: str) -> str | None:
    """'3.7' -> '3.7'; a version that is not X.Y -> exit 2; anything else (a path) -> None."""
    t = text.strip()
    if t[:1].isdigit():  # a version, not a path: ASCII and short, or exit 2
        t = ascii_number_text(t, "--python", "3.11")
    if _XY.match(t):
        major, minor = t.split(".")
        return f"{int(major)}.{int(minor)}"
    if _VERSIONISH.match(t) or re.match(r"^\d", t):
        raise EnvcheckError(
            f"invalid --python {text!r}: expected a version X.Y (such as 3.11) or an interpreter path",
            hint="e.g. --python 3.11, or --python /path/to/python",
            code="invalid-python",
        )
    return None


def validate_env_name(name: str) -> str:
    if not _ENV_NAME.match(name) or len(name) > 100:
        raise EnvcheckError(
            f"invalid --name {name!r}: use letters, digits, '.', '_' and '-' (starting with a letter or digit)",
            hint="e.g. --name torch-gpu",
            code="invalid-name",
        )
    return name


def interpreter_version(path: str, runner) -> str:
    """Ask the interpreter its X.Y. Shell equivalent: `PY -c 'import sys; print(sys.version_info[:2])'`."""
    done = runner.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], timeout=15)
    out = done.stdout.strip()
    if not done.ok or not _XY.match(out):
        raise EnvcheckError(
            f"could not ask {path} for its version: {done.describe_failure() if not done.ok else repr(out)}",
            hint="pass the version instead, e.g. --python 3.11",
            exit_code=ExitCode.TOOL_FAILED,
            code="interpreter-failed",
        )
    return out


# --- the decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstallDecision:
    request: object  # ResolveRequest
    resolution: object  # Resolution
    plans: object  # InstallPlans
    inputs: dict = field(default_factory=dict)  # name -> Input
    mirror: object = None  # Mirror | None
    stale: tuple = ()  # Findings

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
) -> InstallDecision:
    """Parse and detect the inputs, resolve, and plan. Raises EnvcheckError (2, 3, 4, 5)."""
    from envcheck.matrix import load_matrix, stale_notes
    from envcheck.plans.install import plan_install
    from envcheck.resolve import ResolveRequest, parse_torch_spec, resolve

    environ = _os.environ if environ is None else environ
    inputs: dict[str, Input] = {}

    # Validate every flag before touching the machine or the matrix: bad input is exit 2 at once.
    target_os = parse_os(os_name)
    inputs["os"] = Input(target_os, Source.FLAG.value if os_name else Source.DEFAULT.value,
                         None if os_name else "this machine")
    spec = parse_torch_spec(torch) if torch is not None else None
    flag_driver = parse_driver(driver) if driver is not None else None
    flag_cuda = parse_cuda(cuda) if cuda is not None else None
    flag_ccs = tuple(parse_cc(c) for c in gpu_cc)
    if name is not None:
        validate_env_name(name)
    py_version = parse_python_request(python) if python is not None else None

    matrix = matrix or load_matrix()
    mirror_obj = None
    if mirror is not None:
        mirror_obj = matrix.mirrors.get(mirror.strip().lower())
        if mirror_obj is None:
            known = ", ".join(sorted(matrix.mirrors)) or "none"
            raise EnvcheckError(f"unknown mirror {mirror!r}", hint=f"known mirrors: {known}", code="invalid-mirror")

    # Python: a version is taken as is (no interpreter needed); a path or the default is asked.
    if py_version is not None:
        inputs["python"] = Input(py_version, Source.FLAG.value)
    else:
        from envcheck.probes.python import resolve_interpreter
        from envcheck.runner import Runner

        runner = runner or Runner()
        interp = resolve_interpreter(python, runner, environ)
        py_version = interpreter_version(interp.path, runner)
        inputs["python"] = Input(py_version, Source.INTERPRETER.value, f"{interp.path} ({interp.why})")

    # Accelerator facts: flags win; detect the rest "as doctor does" when it is this machine.
    drv_text: str | None = str(driver).strip() if driver is not None else None
    drv = flag_driver
    cuda_v = flag_cuda
    ccs = flag_ccs
    if cpu:
        inputs["cpu"] = Input(True, Source.FLAG.value)
    elif target_os == "macos":
        inputs["cpu"] = Input(False, Source.DEFAULT.value, "macOS has no CUDA builds")
    # --driver or --cuda describe a driver (maybe another machine's): never mix in this machine's.
    driver_given = drv is not None or cuda_v is not None
    need_probe = not cpu and target_os != "macos" and (not driver_given or not ccs)
    if drv is not None:
        inputs["driver"] = Input(drv_text, Source.FLAG.value)
    elif driver_given:
        inputs["driver"] = Input(None, Source.DEFAULT.value, "only --cuda given")
    if cuda_v is not None:
        inputs["cuda"] = Input(str(cuda_v), Source.FLAG.value)
    elif driver_given:
        inputs["cuda"] = Input(None, Source.DEFAULT.value, "only --driver given")
    if ccs:
        inputs["gpu_cc"] = Input(list(ccs), Source.FLAG.value)
    if need_probe and target_os != host_os():
        reason = f"not detected: --os {target_os} is not this machine"
        for key in ("driver", "cuda", "gpu_cc"):
            inputs.setdefault(key, Input(None, Source.DEFAULT.value, reason))
    elif need_probe:
        facts = _probe(runner, environ)
        why = "; ".join(facts.reasons) if facts.reasons else None
        if not driver_given:
            drv, drv_text, inputs["driver"] = _detected(
                facts.driver_version, facts, "ENVCHECK_OVERRIDE_DRIVER", parse_driver, facts.source,
                why or "no NVIDIA driver detected")
            cuda_v, _, inputs["cuda"] = _detected(
                facts.cuda, facts, "ENVCHECK_OVERRIDE_CUDA", parse_cuda,
                getattr(facts, "cuda_source", None) or facts.source, why or "not reported")
        if not ccs:
            ccs = tuple(g.compute_capability for g in facts.gpus if g.compute_capability)
            ccs = tuple(dict.fromkeys(ccs))  # one entry per architecture, in order
            inputs["gpu_cc"] = Input(list(ccs), _src(facts.source) if ccs else Source.DEFAULT.value,
                                     None if ccs else (why or "no GPU detected"))

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
    )
    resolution = resolve(request, matrix)
    plans = plan_install(resolution.recommendation, name=name, mirror=mirror_obj)
    stale = tuple(stale_notes(matrix, driver_cuda=cuda_v, compute_capabilities=ccs))
    return InstallDecision(request, resolution, plans, inputs, mirror_obj, stale)


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
            return None, None, Input(None, Source.DEFAULT.value, f"unparsable {_src(source)} output {text!r}")
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


# --- the command ------------------------------------------------------------------------------


def run(
    *,
    python: str | None = None,
    os_name: str | None = None,
    driver: str | None = None,
    cuda: str | None = None,
    gpu_cc: Sequence[str] = (),
    cpu: bool = False,
    torch: str | None = None,
    strict_driver: bool = False,
    explain: bool = False,
    manager: str | None = None,
    mirror: str | None = None,
    name: str | None = None,
    show_all: bool = False,
    runner=None,
    environ: Mapping[str, str] | None = None,
    matrix=None,
) -> Result:
    if manager is not None and manager not in MANAGERS:
        raise EnvcheckError(f"unknown --manager {manager!r}", hint="use conda, pip or uv", code="invalid-manager")
    from envcheck.matrix import load_matrix

    matrix = matrix or load_matrix()
    d = decide(
        python=python, os_name=os_name, driver=driver, cuda=cuda, gpu_cc=gpu_cc, cpu=cpu, torch=torch,
        strict_driver=strict_driver, mirror=mirror, name=name, runner=runner, environ=environ, matrix=matrix,
    )
    return Result(command="install", data=decision_data(d, matrix, explain=explain, manager=manager, show_all=show_all))


def decision_data(d: InstallDecision, matrix, *, explain: bool = False, manager: str | None = None,
                  show_all: bool = False) -> dict:
    rec = d.recommendation
    plans = d.plans.to_dict()
    commands = {
        "create": plans["create"],
        "conda": plans["conda"],
        "conda_pip": plans["conda_pip"],
        "pip": plans["pip"],
        "uv": plans["uv"],
        "kernel": plans["kernel"],
        "verify": plans["verify"],
    }
    rec_dict = rec.to_dict()
    rec_dict["commands"] = commands
    rec_dict["argv"] = plans["argv"]
    rec_dict["env_name"] = plans["name"]
    rec_dict["notes"] = list(rec.notes) + plans["notes"]
    data = {
        "recommendation": rec_dict,
        "inputs": {k: v.to_dict() for k, v in d.inputs.items()},
        "strict_driver": d.request.strict_driver,
        "torch_spec": d.request.spec_label,
        "manager": manager,
        "mirror": d.mirror.name if d.mirror is not None else None,
        "explain": explain,
        "rejected": [r.to_dict() for r in d.resolution.rejected],
        "better": d.resolution.better,
        "stale": [f.to_dict() for f in d.stale],
        "matrix": {"checked": matrix.checked, "newest_torch": matrix.newest_known},
    }
    if show_all:
        data["compatible"] = [c.to_dict() for c in d.resolution.compatible]
    return data
