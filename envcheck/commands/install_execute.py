"""`envcheck install --execute`: the whole loop for the recommendation of `envcheck install`.

    create the env -> install torch (+ torchvision, torchaudio) as recommended -> register a Jupyter
    kernel -> run the verification suite inside the new env

Built from the pieces the other commands use, never a copy of them: `install.decide()` (the same
recommendation and argv the install command prints), `create.plan_create()/execute_create()` (names,
refusing to clobber, undo), `kernel.register_kernel()` (ipykernel with the env's own pip, kernel.json
read back) and `verify.run()` (the suite run by the env's interpreter).

Safety (README: install --execute):
- everything is decided and validated before anything changes: bad input, an existing env or kernel
  without --force, a missing backend or interpreter are refused first (exit 2 / 4);
- on a failed step (exit 5) or Ctrl-C (exit 130) what THIS run made is undone: the kernel it
  registered, then the env it created (an env or kernel --force replaced is put back); nothing else;
- a failed verification check (exit 1) keeps the env and kernel: the install worked, and the check
  names what to fix (a driver, CUDA_VISIBLE_DEVICES ...) without reinstalling gigabytes.

Speed (issue 5, item 6): every subprocess goes through `_TimedRunner`, so the result splits the wall
time into tool time (venv/conda, pip/uv/conda, ipykernel, the in-env suite) and envcheck's own.
"""
from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.results import Finding, Result, Severity
from envcheck.runner import Completed, Runner

COMMAND = "install"
PACKAGES = ("torch", "torchvision", "torchaudio")
INSTALL_TIMEOUT_S = 3600.0  # a CUDA torch is ~2.5 GB with its nvidia-* wheels; a slow mirror takes long
STEP_TITLES = {
    "create": "create the environment",
    "install": "install PyTorch",
    "kernel": "register the Jupyter kernel",
    "verify": "verify inside the environment",
}
ENV_PYTHON_PLACEHOLDER = "ENV_PYTHON"  # conda -n NAME: conda picks the directory when it creates it


# --- the display protocol (render/install.py implements it; tests record it) ---------------------


class Display:
    """Receives progress. Everything here goes to stderr; the default does nothing."""

    def log_path(self, path: str) -> None: ...

    def step_start(self, index: int, total: int, step_id: str, title: str, commands: Sequence[str]) -> None: ...

    def tool_line(self, line: str) -> None: ...

    def detail(self, text: str) -> None: ...

    def step_end(self, index: int, total: int, step_id: str, status: str, wall_s: float, tool_s: float,
                 note: str = "") -> None: ...

    def failure_tail(self, lines: Sequence[str]) -> None: ...

    def verify_listener(self):
        return None

    def close(self) -> None: ...


# --- timing: every subprocess is counted -----------------------------------------------------------


class _TimedRunner(Runner):
    """Delegates to a Runner and adds each call's duration to the step that is running.

    It also forwards streamed tool output to the display (the last line shows next to the spinner).
    """

    def __init__(self, inner: Runner, on_line: Callable[[str], None] | None = None) -> None:
        self.inner = inner
        self.on_line = on_line
        self.step = "plan"
        self.tool_s: dict[str, float] = {}
        self.calls: list[tuple[str, str, float]] = []  # (step, tool, seconds)
        self._lock = threading.Lock()

    def _record(self, done: Completed) -> None:
        tool = os.path.basename(done.argv[0]) if done.argv else "?"
        with self._lock:
            self.tool_s[self.step] = self.tool_s.get(self.step, 0.0) + done.duration_s
            self.calls.append((self.step, tool, done.duration_s))

    def run(self, argv, **kwargs) -> Completed:
        done = self.inner.run(argv, **kwargs)
        self._record(done)
        return done

    def stream(self, argv, **kwargs) -> Completed:
        outer = kwargs.pop("on_line", None)
        mine = self.on_line

        def on_line(line: str) -> None:
            if outer is not None:
                outer(line)
            if mine is not None and line.strip():
                mine(line)

        start = time.monotonic()
        try:
            done = self.inner.stream(argv, on_line=on_line, **kwargs)
        except BaseException:  # Ctrl-C: the time spent still counts
            with self._lock:
                self.tool_s[self.step] = self.tool_s.get(self.step, 0.0) + time.monotonic() - start
            raise
        self._record(done)
        return done


def timing_split(wall_s: float, steps: Sequence[dict]) -> dict:
    """The split of the wall time (pure): tool time per step, and envcheck's own (the rest).

    Each step dict has `id`, `wall_s` and `tool_s` (its subprocesses' time, which can exceed the step's
    wall time only when calls overlap: clamped). envcheck's own time is everything else, including the
    planning before the first step (resolving, interpreter discovery and its read-only probes).
    """
    tools = {}
    tool_total = 0.0
    for s in steps:
        t = min(max(s.get("tool_s", 0.0), 0.0), max(s.get("wall_s", 0.0), 0.0))
        tools[s["id"]] = round(t, 3)
        tool_total += t
    package = sum(tools.get(k, 0.0) for k in ("create", "install", "kernel"))
    own = max(wall_s - tool_total, 0.0)
    return {
        "wall_s": round(wall_s, 3),
        "tools_s": round(tool_total, 3),
        "package_tools_s": round(package, 3),
        "verify_s": tools.get("verify", 0.0),
        "envcheck_s": round(own, 3),
        "envcheck_fraction": round(own / wall_s, 4) if wall_s > 0 else 0.0,
        "by_step": tools,
    }


# --- request and plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecuteRequest:
    python: str | None = None
    os_name: str | None = None
    driver: str | None = None
    cuda: str | None = None
    gpu_cc: tuple[str, ...] = ()
    cpu: bool = False
    torch: str | None = None
    strict_driver: bool = False
    mirror: str | None = None
    name: str | None = None
    prefix: str | None = None
    backend: str = "auto"
    kernel: str | None = None
    no_kernel: bool = False
    force: bool = False
    index_url: str | None = None
    find_links: str | None = None
    only: tuple[str, ...] = ()
    arch: str | None = None
    allow_unverified: bool = False
    gpu_arch: tuple[str, ...] = ()  # AMD gfx targets (--gpu-arch)
    xpu: bool = False  # plan for an Intel GPU (--xpu)


def parse_only(values: Sequence[str]) -> tuple[str, ...] | None:
    """`--only torch --only torchvision` or `--only torch,torchvision` -> ('torch', 'torchvision'); pure.

    None when not given (all recommended packages). torch is required: the env is new."""
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip().lower()
            if part and part not in names:
                names.append(part)
    if not values:
        return None
    unknown = [n for n in names if n not in PACKAGES]
    if unknown or not names:
        raise EnvcheckError(
            f"invalid --only {', '.join(unknown) or repr(''.join(values))}: choose from torch, torchvision, torchaudio",
            hint="e.g. --only torch (torch alone), or --only torch,torchvision",
            code="invalid-only",
        )
    if "torch" not in names:
        raise EnvcheckError("--only must include torch: the new environment has none",
                            hint="e.g. --only torch,torchvision", code="invalid-only")
    return tuple(n for n in PACKAGES if n in names)


def normalize_index_url(value: str | None) -> str | None:
    """A URL as is; an existing local directory (a PEP 503 simple index) -> its file:// URL."""
    if value is None:
        return None
    value = value.strip()
    if "://" in value:
        return value
    path = os.path.abspath(os.path.expanduser(value))
    if os.path.isdir(path):
        return "file://" + path
    raise EnvcheckError(f"--index-url {value!r} is neither a URL nor a directory",
                        hint="pass e.g. --index-url https://mirror.example/simple or a local simple-index directory",
                        code="invalid-index-url")


def normalize_find_links(value: str | None) -> str | None:
    """A URL as is; a local directory of wheels -> its absolute path (it must exist: a typo would
    otherwise only show up as pip's 'no matching distribution')."""
    if value is None:
        return None
    value = value.strip()
    if "://" in value:
        return value
    path = os.path.abspath(os.path.expanduser(value))
    if not os.path.isdir(path):
        raise EnvcheckError(f"--find-links {value!r}: no such directory",
                            hint="pass a directory holding the wheels, or a URL of a page linking them",
                            code="invalid-find-links")
    return path


@dataclass(frozen=True)
class PlannedStep:
    """One step of the loop: what it does and every command it will run (argv lists)."""

    id: str
    title: str
    argv: tuple[tuple[str, ...], ...]
    note: str = ""

    def commands(self) -> list[str]:
        from envcheck.plans.install import shell_join

        return [shell_join(a) for a in self.argv]

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "commands": self.commands(),
                "argv": [list(a) for a in self.argv], "note": self.note or None}


@dataclass(frozen=True)
class KernelIntent:
    name: str
    resource_dir: str
    replaces: str | None
    name_source: str  # "flag" or "default"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ExecutePlan:
    request: ExecuteRequest
    decision: object  # InstallDecision
    create: object  # CreatePlan
    route: str  # pip | uv | conda | conda-pip
    install_argv: tuple[str, ...]
    packages: tuple[str, ...]
    kernel: KernelIntent | None
    verify_device: str
    verify_require_cuda: bool
    steps: tuple[PlannedStep, ...]
    env_python: str  # the new env's interpreter (ENV_PYTHON for a conda -n env before it exists)
    warnings: tuple[str, ...] = ()

    @property
    def recommendation(self):
        return self.decision.recommendation

    def to_dict(self) -> dict:
        return {
            "env": self.create.to_dict(),
            "route": self.route,
            "packages": list(self.packages),
            "env_python": self.env_python,
            "kernel": self.kernel.to_dict() if self.kernel else None,
            "verify": {"device": self.verify_device, "require_cuda": self.verify_require_cuda},
            "steps": [s.to_dict() for s in self.steps],
        }


def _conda_target(plan_create) -> list[str]:
    return ["-p", plan_create.prefix] if plan_create.prefix else ["-n", plan_create.name]


def plan_install_argv(
    rec,
    *,
    backend: str,
    executable: str,
    env_python: str,
    conda_target: Sequence[str] = (),
    mirror=None,
    index_url: str | None = None,
    find_links: str | None = None,
    only: Sequence[str] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """(route, argv) installing the recommendation into the new env (pure).

    venv: the env's own pip, the recommendation's pip argv. uv: `uv pip install --python ENV_PY ...`
    (a uv env has no pip). conda family: the era's `conda install -n NAME pytorch==... -c pytorch -y`
    where the pytorch channel has the build (<= 2.5.1), else pip inside the env through `conda run`,
    exactly the `conda_pip` route `envcheck install` prints. `only` drops torchvision/torchaudio.
    """
    from envcheck.plans.install import plan_conda_install, plan_pip_install, plan_uv_install

    if backend == "venv":
        return "pip", tuple(plan_pip_install(rec, env_python, mirror=mirror, index_url=index_url,
                                             find_links=find_links, only=only))
    if backend == "uv":
        argv = plan_uv_install(rec, env_python, mirror=mirror, index_url=index_url, find_links=find_links, only=only)
        return "uv", (executable, *argv[1:])
    target = list(conda_target)
    conda = plan_conda_install(rec, "NAME", mirror=mirror, yes=True)
    if conda is not None:
        # ["conda", "install", "-n", "NAME", pins..., -c ..., "-y"]: the chosen tool, the real target.
        pins = [a for a in conda[4:] if not _dropped_conda_pin(a, only)]
        return "conda", (executable, "install", *target, *pins)
    pip = plan_pip_install(rec, "python", mirror=mirror, index_url=index_url, find_links=find_links, only=only)
    return "conda-pip", (executable, "run", *target, *pip)


def _dropped_conda_pin(arg: str, only: Sequence[str] | None) -> bool:
    if only is None:
        return False
    for pkg in ("torchvision", "torchaudio"):
        if arg.startswith(pkg + "==") and pkg not in only:
            return True
    return False


def plan_execute(request: ExecuteRequest, runner: Runner, environ: Mapping[str, str] | None = None) -> ExecutePlan:
    """Decide and validate everything; changes nothing. Raises EnvcheckError (2, 3, 4, 5)."""
    from envcheck.commands import install as install_cmd
    from envcheck.commands.create import CreateRequest, plan_create
    from envcheck.commands.kernel import kernel_destination
    from envcheck.facts import Source
    from envcheck.names import validate_kernel_name
    from envcheck.plans.env import KernelScope, plan_ipykernel_install
    from envcheck.plans.env import plan_pip_install as plan_env_pip
    from envcheck.plans.install import default_env_name, kernel_name
    from envcheck.probes.python import env_python, resolve_interpreter

    environ = os.environ if environ is None else environ
    # Flags first: exit 2 before touching the machine.
    if request.name is not None and request.prefix is not None:
        raise EnvcheckError("pass only one of --name NAME and --prefix PATH",
                            hint="--name puts the env in envcheck's envs dir (or conda's); --prefix anywhere",
                            code="invalid-input")
    target_os = install_cmd.parse_os(request.os_name)
    if target_os != install_cmd.host_os():
        raise EnvcheckError(f"--execute installs on this machine ({install_cmd.host_os()}), not --os {target_os}",
                            hint="drop --os, or drop --execute to print the commands for the other machine",
                            code="invalid-input")
    only = parse_only(request.only)
    index_url = normalize_index_url(request.index_url)
    find_links = normalize_find_links(request.find_links)
    if request.kernel is not None:
        if request.no_kernel:
            raise EnvcheckError("pass only one of --kernel NAME and --no-kernel", code="invalid-input")
        validate_kernel_name(request.kernel)

    # --python PATH: that interpreter decides the version and is the venv's base.
    python_arg = request.python
    base_path = None
    if python_arg is not None and install_cmd.parse_python_request(python_arg) is None:
        interp = resolve_interpreter(python_arg, runner, environ)
        base_path = interp.path
        version = install_cmd.interpreter_version(base_path, runner)
        python_arg = version
    decision = install_cmd.decide(
        python=python_arg, driver=request.driver, cuda=request.cuda, gpu_cc=request.gpu_cc,
        cpu=request.cpu, torch=request.torch, strict_driver=request.strict_driver, mirror=request.mirror,
        name=None, runner=runner, environ=environ, arch=request.arch, allow_unverified=request.allow_unverified,
        gpu_arch=request.gpu_arch, xpu=request.xpu,
    )
    if base_path is not None:
        decision.inputs["python"] = install_cmd.Input(python_arg, Source.INTERPRETER.value, base_path)
    rec = decision.recommendation

    name = request.name
    if name is None and request.prefix is None:
        name = default_env_name(rec)
    # --python PATH: that interpreter is the venv/uv base (conda installs its own Python).
    create_request = CreateRequest(python=rec.python, name=name, prefix=request.prefix, backend=request.backend,
                                   force=request.force, mirror=request.mirror, base_python=base_path)
    cplan = plan_create(create_request, runner, environ)
    backend = cplan.backend.backend
    warnings: list[str] = []

    env_py = env_python(cplan.prefix) if cplan.prefix else ENV_PYTHON_PLACEHOLDER
    route, install_argv = plan_install_argv(
        rec, backend=backend.value, executable=cplan.backend.executable, env_python=env_py,
        conda_target=_conda_target(cplan) if backend.conda_family else (), mirror=decision.mirror,
        index_url=index_url, find_links=find_links, only=only,
    )
    if route == "conda" and (index_url or find_links):
        warnings.append("--index-url/--find-links do not apply to the conda channel install of PyTorch "
                        "(only to pip installs such as ipykernel's)")
    if backend.value == "uv" and not (index_url or find_links):
        warnings.append("uv reads its own configuration (UV_INDEX_URL, uv.toml), not pip's: "
                        "pass --index-url/--find-links for a mirror or local wheels")
    packages = tuple(a.split("==")[0].replace("pytorch", "torch") for a in install_argv if "==" in a)

    steps = [PlannedStep("create", STEP_TITLES["create"], (cplan.step.argv,), cplan.backend.why)]
    pkg_label = ", ".join(packages)
    steps.append(PlannedStep("install", f"install {pkg_label}", (install_argv,),
                             {"pip": "the env's own pip", "uv": "uv pip", "conda": "the pytorch channel",
                              "conda-pip": "pip inside the conda env (no conda build of this release)"}[route]))

    kernel = None
    if not request.no_kernel:
        label = name or os.path.basename(os.path.normpath(cplan.prefix or "torch"))
        kname = request.kernel or kernel_name(label)
        validate_kernel_name(kname)
        dest = kernel_destination(kname, KernelScope.USER, target_prefix=cplan.prefix or "", environ=environ)
        replaces = dest if os.path.isfile(os.path.join(dest, "kernel.json")) else None
        if replaces and not request.force:
            raise EnvcheckError(
                f"a Jupyter kernel named {kname!r} already exists at {dest}",
                hint="pass --kernel OTHER_NAME, --force to replace it, or --no-kernel",
                code="kernel-exists",
            )
        kernel = KernelIntent(kname, dest, replaces, "flag" if request.kernel else "default")
        display = f"Python {rec.python} ({kname})"
        uv = cplan.backend.executable if backend.value == "uv" else None
        ipk = plan_env_pip(env_py, ["ipykernel"], uv=uv, index_url=index_url,
                           find_links=(find_links,) if find_links else ())
        reg = plan_ipykernel_install(env_py, kname, display, KernelScope.USER)
        steps.append(PlannedStep("kernel", f"register Jupyter kernel {kname}", (ipk.argv, reg.argv),
                                 "ipykernel is installed first if the env lacks it"))

    device = "cpu" if rec.variant.kind == "cpu" else "auto"
    driver_input = decision.inputs.get("driver")
    detected_here = driver_input is not None and driver_input.value and driver_input.source not in (
        Source.FLAG.value, Source.DEFAULT.value)
    require_cuda = rec.variant.kind == "cuda" and bool(detected_here)
    verify_cmd = ["envcheck", "verify", "--python", env_py, "--device", device]
    if require_cuda:
        verify_cmd.append("--require-cuda")
    steps.append(PlannedStep("verify", STEP_TITLES["verify"], (tuple(verify_cmd),),
                             "the verification suite, run by the env's interpreter"))
    return ExecutePlan(request, decision, cplan, route, install_argv, packages, kernel, device, require_cuda,
                       tuple(steps), env_py, tuple(warnings))


# --- failures --------------------------------------------------------------------------------------

# (substring in the tool's output, fix). First match wins; checked on the log's tail.
_FIXES = (
    ("No space left on device", "free disk space (torch with CUDA needs ~5 GB), or use --prefix on a bigger disk"),
    ("No matching distribution found", "the index has no such build for this Python/platform: check "
     "--index-url/--find-links (a wheel directory must hold a wheel for this Python), or pick another --torch"),
    ("Could not find a version that satisfies", "the index has no such build for this Python/platform: check "
     "--index-url/--find-links, or pick another --torch"),
    ("No solution found", "uv found no matching build: check --index-url/--find-links, or pick another --torch"),
    ("PackagesNotFoundError", "the channel has no such package: check the channels (--mirror) or use pip "
     "(--backend venv/uv)"),
    ("ResolvePackageNotFound", "the channel has no such package: check the channels (--mirror)"),
    ("UnsatisfiableError", "conda cannot combine these pins: try another --torch, or --backend venv"),
    ("CondaHTTPError", "the channel could not be reached: check the network or pass --mirror"),
    ("Temporary failure in name resolution", "no network: pass --index-url/--find-links to a local mirror "
     "or wheel directory"),
    ("Name or service not known", "no network: pass --index-url/--find-links to a local mirror or wheel directory"),
    ("Connection refused", "the index refused the connection: check --index-url / the proxy settings"),
    ("HTTP error 403", "the index refused access: check --index-url and its credentials"),
    ("DO NOT MATCH THE HASHES", "a download was corrupted or changed: clear pip's cache (`pip cache purge`) "
     "and retry"),
)


def suggest_fix(tail: Sequence[str], completed: Completed | None = None) -> str:
    """The fix for a failed tool run, from its output's tail (pure)."""
    if completed is not None and completed.timed_out:
        return "the tool timed out: check the network or use a closer --mirror / --index-url, then retry"
    if completed is not None and completed.error:
        return f"{os.path.basename(completed.argv[0]) if completed.argv else 'the tool'} could not start " \
               f"({completed.error}): check it is installed"
    text = "\n".join(tail)
    for needle, fix in _FIXES:
        if needle in text:
            return fix
    return "read the log above; rerun with --dry-run to see every command"


def step_tail(log_path: str | None, lines: int = 20) -> list[str]:
    """The log's last lines from the last command's `$ ...` header on: the failing tool's own output."""
    from envcheck.commands.create import log_tail

    tail = log_tail(log_path, 200)
    starts = [i for i, line in enumerate(tail) if line.startswith("$ ")]
    if starts:
        tail = tail[starts[-1]:]
    return tail[-lines:]


class _Failed(Exception):
    def __init__(self, step: str, message: str, exit_code: ExitCode, code: str, hint: str | None,
                 data: dict | None = None) -> None:
        super().__init__(message)
        self.step, self.message, self.exit_code, self.code, self.hint = step, message, exit_code, code, hint
        self.data = data or {}


# --- execute ---------------------------------------------------------------------------------------


@dataclass
class _StepTimer:
    id: str
    title: str
    commands: list[str]
    status: str = "pending"
    wall_s: float = 0.0
    tool_s: float = 0.0
    start: float = field(default=0.0, repr=False)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "status": self.status, "wall_s": round(self.wall_s, 3),
                "tool_s": round(min(self.tool_s, self.wall_s), 3), "commands": self.commands}


def execute(
    plan: ExecutePlan,
    runner: Runner,
    *,
    log_path: str,
    display: Display | None = None,
    environ: Mapping[str, str] | None = None,
    started: float | None = None,
) -> Result:
    """Run the plan. Raises EnvcheckError (5 tool failed, 130 interrupted, 4 ...) after undoing what this
    run created; returns a Result with exit 0, or 1 when a verification check or the kernel check failed."""
    from envcheck.commands import verify as verify_cmd
    from envcheck.commands.create import execute_create, run_logged
    from envcheck.commands.kernel import register_kernel
    from envcheck.plans.env import KernelScope, Step

    environ = os.environ if environ is None else environ
    display = display or Display()
    started = time.monotonic() if started is None else started
    timed = runner if isinstance(runner, _TimedRunner) else _TimedRunner(runner)
    timed.on_line = display.tool_line
    timers = [_StepTimer(s.id, s.title, s.commands()) for s in plan.steps]
    total = len(timers)
    state: dict = {"env": None, "kernel": None}
    outputs: dict = {}

    def progress(text: str) -> None:
        display.detail(text)

    def begin(step_id: str) -> _StepTimer:
        t = next(x for x in timers if x.id == step_id)
        timed.step = step_id
        t.start = time.monotonic()
        t.status = "running"
        display.step_start(timers.index(t) + 1, total, step_id, t.title, t.commands)
        return t

    def end(t: _StepTimer, status: str, note: str = "") -> None:
        t.wall_s = time.monotonic() - t.start
        t.tool_s = timed.tool_s.get(t.id, 0.0)
        t.status = status
        display.step_end(timers.index(t) + 1, total, t.id, status, t.wall_s, min(t.tool_s, t.wall_s), note)

    current: _StepTimer | None = None
    created = None
    try:
        # 1. create
        current = begin("create")
        created = execute_create(plan.create, timed, log_path, progress, keep_backup=True)
        state["env"] = created
        end(current, "ok", f"{created.backend.value} env at {created.prefix} (Python {created.python_version})")
        if plan.env_python != created.python:  # conda -n: the interpreter's path is known only now
            quoted = shlex.quote(created.python)
            for t in timers:
                t.commands = [c.replace(plan.env_python, quoted) for c in t.commands]

        # 2. install, with the env's interpreter now known (the same argv the plan showed for venv/uv)
        current = begin("install")
        install_argv = plan.install_argv
        if plan.env_python != created.python:
            install_argv = tuple(created.python if a == plan.env_python else a for a in install_argv)
        step = Step(install_argv, current.title, timeout_s=INSTALL_TIMEOUT_S)
        current.commands = [step.display()]
        done = run_logged(timed, step, log_path, progress)
        if not done.ok:
            tail = step_tail(log_path)
            why = done.describe_failure()
            if plan.route == "pip" and done.argv:  # "python exited ..." -> "pip exited ...": it is pip's error
                why = why.replace(os.path.basename(done.argv[0]), "pip", 1)
            raise _Failed("install", f"{current.title} failed: {why}", ExitCode.TOOL_FAILED,
                          "install-failed", suggest_fix(tail, done), {"log_tail": tail, "command": step.display()})
        end(current, "ok", ", ".join(f"{p}" for p in plan.packages))

        # 3. kernel
        if plan.kernel is not None:
            current = begin("kernel")
            ki = plan.kernel
            registered = register_kernel(
                created.python, ki.name, scope=KernelScope.USER, force=bool(ki.replaces), install_ipykernel=True,
                runner=timed, log_path=log_path, environ=environ, progress=progress,
                index_url=normalize_index_url(plan.request.index_url),
                find_links=(normalize_find_links(plan.request.find_links),) if plan.request.find_links else (),
                keep_backup=True,
            )
            state["kernel"] = registered
            outputs["kernel_findings"] = list(registered.findings)
            bad = any(f.severity == Severity.ERROR for f in registered.findings)
            end(current, "fail" if bad else "ok", f"{registered.resource_dir}")

        # 4. verify
        current = begin("verify")
        for cmd in current.commands:
            progress(f"running: {cmd}")
        vres = verify_cmd.run(python=created.python, device=plan.verify_device,
                              require_cuda=plan.verify_require_cuda, runner=timed,
                              listener=display.verify_listener(), environ=environ)
        outputs["verify"] = vres.data
        s = vres.data.get("summary") or {}
        end(current, "ok" if vres.exit_code == ExitCode.OK else "fail",
            f"{s.get('ok', 0)} passed, {s.get('failed', 0)} failed, {s.get('skipped', 0)} skipped")
        current = None
    except BaseException as exc:  # noqa: B036 - undo on anything, then report ours, re-raise the rest
        failed = current
        if failed is not None and failed.status == "running":
            end(failed, "interrupted" if _interrupted(exc) else "fail")
        undone = _undo(state)
        if isinstance(exc, (EnvcheckError, _Failed, KeyboardInterrupt)):
            raise _as_error(exc, failed, timers, plan, log_path, undone, display, started) from None
        raise
    finally:
        display.close()

    created.commit()
    if state["kernel"] is not None:
        state["kernel"].commit()
    wall = time.monotonic() - started
    step_dicts = [t.to_dict() for t in timers]
    kernel = state["kernel"]
    findings = outputs.get("kernel_findings", [])
    verify_data = outputs.get("verify") or {}
    verify_failed = bool((verify_data.get("summary") or {}).get("failed"))
    exit_code = ExitCode.PROBLEMS if verify_failed or any(f.severity == Severity.ERROR for f in findings) else ExitCode.OK
    data = {
        "execute": True,
        "dry_run": False,
        "recommendation": plan.recommendation.to_dict(),
        "inputs": {k: v.to_dict() for k, v in plan.decision.inputs.items()},
        "plan": plan.to_dict(),
        "warnings": list(plan.warnings),
        "env": created.to_dict(),
        "installed": list(plan.packages),
        "kernel": kernel.to_dict() if kernel else None,
        "kernel_findings": [f.to_dict() for f in findings],
        "verify": verify_data,
        "steps": step_dicts,
        "timing": timing_split(wall, step_dicts),
        "log_path": log_path,
        "activate": created.activate,
        "next": _next_steps(verify_data, findings),
    }
    return Result(COMMAND, exit_code, data)


def _next_steps(verify_data: dict, findings: Sequence[Finding]) -> list[str]:
    """Fixes for what failed although the install worked (failed checks, kernel findings)."""
    out = []
    for c in verify_data.get("checks") or []:
        if c.get("status") == "fail":
            out.append(f"{c['id']}: {c.get('message')}" + (f" - fix: {c['fix']}" if c.get("fix") else ""))
    for f in findings:
        if f.severity == Severity.ERROR:
            out.append(f"{f.code}: {f.message}" + (f" - fix: {f.fix}" if f.fix else ""))
    return out


def _interrupted(exc: BaseException) -> bool:
    return isinstance(exc, KeyboardInterrupt) or (
        isinstance(exc, EnvcheckError) and exc.exit_code == ExitCode.INTERRUPTED)


def _undo(state: dict) -> dict:
    """Undo in reverse order: the kernel this run registered, then the env it created (an env or kernel
    that --force replaced is put back). Never raises: the original failure is what gets reported."""
    undone: dict = {"kernel_removed": None, "kernel_restored": None, "env_removed": None, "env_restored": None}
    kernel = state.get("kernel")
    if kernel is not None:
        try:
            kernel.undo()
        except (OSError, KeyboardInterrupt):
            pass
        if kernel.replaced:
            undone["kernel_restored"] = kernel.replaced if os.path.isdir(kernel.replaced) else None
        elif not os.path.exists(kernel.resource_dir):
            undone["kernel_removed"] = kernel.resource_dir
    env = state.get("env")
    if env is not None:
        try:
            env.undo()
        except (OSError, KeyboardInterrupt, EnvcheckError):
            pass
        if env.replaced:
            undone["env_restored"] = env.replaced if os.path.isdir(env.replaced) else None
        elif not os.path.lexists(env.prefix):
            undone["env_removed"] = env.prefix
    return undone


def _as_error(exc, failed, timers, plan, log_path, undone, display, started) -> EnvcheckError:
    """One EnvcheckError for a failed or interrupted run: which step, why, what was undone, the fix."""
    title = failed.title if failed is not None else "planning"
    extra: dict = {}
    if isinstance(exc, KeyboardInterrupt):
        exit_code, code, message, fix = ExitCode.INTERRUPTED, "interrupted", "", None
    elif isinstance(exc, _Failed):
        exit_code, code, message, fix, extra = exc.exit_code, exc.code, exc.message, exc.hint, dict(exc.data)
    else:
        exit_code, code, fix, extra = exc.exit_code, exc.code, exc.hint, dict(exc.data)
        inner = exc.message
        if inner.startswith("creating the environment failed: "):  # create's wording of the same thing
            inner = inner[len("creating the environment failed: "):]
        message = f"{title} failed: {inner}"
    tail = extra.pop("log_tail", None)
    # execute_create undoes its own failure before raising: take what it says it removed/put back.
    if extra.get("removed") and not undone.get("env_removed"):
        undone["env_removed"] = ", ".join(extra["removed"])
    if extra.get("restored") and not undone.get("env_restored"):
        undone["env_restored"] = extra["restored"]
    if exit_code == ExitCode.INTERRUPTED:
        message, code, fix, tail = f"interrupted during step: {title}", "interrupted", None, []
    elif tail is None and failed is not None and failed.id != "verify":
        tail = step_tail(log_path)
    if exit_code == ExitCode.TOOL_FAILED and not isinstance(exc, _Failed):
        # create and kernel hints name the log and the undo, said below; the fix comes from the output.
        fix = suggest_fix(tail or [])
    if tail:
        display.failure_tail(tail)
    parts = []
    removed = [v for v in (undone.get("kernel_removed"), undone.get("env_removed")) if v]
    restored = [v for v in (undone.get("kernel_restored"), undone.get("env_restored")) if v]
    if removed:
        parts.append("removed what this run created: " + ", ".join(removed))
    elif exit_code in (ExitCode.TOOL_FAILED, ExitCode.INTERRUPTED):
        parts.append("nothing was left behind")
    if restored:
        parts.append("put back the previous " + ", ".join(restored))
    if fix:
        parts.append(f"fix: {fix}")
    parts.append(f"full log: {log_path}")
    step_dicts = [t.to_dict() for t in timers]
    data = {
        "execute": True,
        "failed_step": failed.id if failed is not None else None,
        "steps": step_dicts,
        "undone": undone,
        "log_path": log_path,
        "log_tail": tail or [],
        "fix": fix,
        "plan": plan.to_dict(),
        "timing": timing_split(time.monotonic() - started, step_dicts),
        **{k: v for k, v in extra.items() if k not in ("log_path", "plan", "removed", "restored")},
    }
    return EnvcheckError(message, hint="; ".join(parts), exit_code=exit_code, code=code, data=data)


# --- the command -----------------------------------------------------------------------------------


def run(
    request: ExecuteRequest,
    *,
    dry_run: bool = False,
    yes: bool = False,
    confirm: Callable[[str], bool] | None = None,
    display: Display | None = None,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
) -> Result:
    """`envcheck install --execute`. `confirm` is None when stdin is not a terminal: then --yes is required."""
    from envcheck.commands.create import new_log_path

    started = time.monotonic()
    environ = os.environ if environ is None else environ
    timed = _TimedRunner(runner or Runner())
    plan = plan_execute(request, timed, environ)
    if dry_run:
        data = {
            "execute": True,
            "dry_run": True,
            "recommendation": plan.recommendation.to_dict(),
            "inputs": {k: v.to_dict() for k, v in plan.decision.inputs.items()},
            "plan": plan.to_dict(),
            "warnings": list(plan.warnings),
        }
        return Result(COMMAND, ExitCode.OK, data)
    if not yes:
        if confirm is None:
            raise EnvcheckError(
                "refusing to create an environment and install PyTorch without confirmation: stdin is not a terminal",
                hint="pass --yes to proceed non-interactively (or --dry-run to see every command)",
                code="confirmation-required",
            )
        if not confirm(confirmation_question(plan)):
            raise EnvcheckError("cancelled: nothing was changed", hint="pass --yes to skip the question",
                                code="cancelled")
    label = plan.create.name or os.path.basename(os.path.normpath(plan.create.prefix or "env"))
    log_path = new_log_path("install", label, environ)
    display = display or Display()
    for warning in plan.warnings:
        display.detail(f"warning: {warning}")
    display.log_path(log_path)
    previous = _sigterm_as_interrupt()
    try:
        return execute(plan, timed, log_path=log_path, display=display, environ=environ, started=started)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):  # pragma: no cover - exercised through a real signal
    raise KeyboardInterrupt


def _sigterm_as_interrupt():
    """SIGTERM (a CI job cancelled, `kill`) undoes like Ctrl-C instead of leaving a half-made env behind.
    Returns the previous handler, or None when it cannot be set (not the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except (ValueError, OSError):
        return None


def confirmation_question(plan: ExecutePlan) -> str:
    rec = plan.recommendation
    where = plan.create.prefix or f"{plan.create.backend.backend.value} env {plan.create.name}"
    lines = [f"Install torch {rec.torch} ({rec.variant.name}) into a new Python {rec.python} environment at {where}?"]
    if plan.create.existing:
        lines.append(f"  (replaces the environment at {plan.create.existing}; it is kept until the new one works)")
    if plan.kernel and plan.kernel.replaces:
        lines.append(f"  (replaces the Jupyter kernel at {plan.kernel.replaces})")
    for i, s in enumerate(plan.steps, 1):
        lines.append(f"  {i}. {s.title}")
        for cmd in s.commands():
            lines.append(f"     {cmd}")
    lines.append("Proceed?")
    return "\n".join(lines)


def find_links_from_pip_config(runner: Runner | None = None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The find-links directories pip is configured with (PIP_FIND_LINKS, then `pip config list`).

    Shell equivalent: `echo $PIP_FIND_LINKS; python -m pip config list | grep find-links`. Used by the
    tests and the benchmark to say where the local torch wheel comes from."""
    environ = os.environ if environ is None else environ
    found: list[str] = []
    for part in (environ.get("PIP_FIND_LINKS") or "").split():
        if part not in found:
            found.append(part)
    done = (runner or Runner()).run([sys.executable, "-m", "pip", "config", "list"], timeout=30)
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith("find-links"):
            for part in value.strip().strip("'\"").split():
                if part not in found:
                    found.append(part)
    return [p for p in found if "://" in p or os.path.isdir(p)]

