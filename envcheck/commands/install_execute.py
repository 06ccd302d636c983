"""`envcheck install --execute`: the whole loop for the recommendation of `envcheck install`.

    create the env -> install torch (+ torchvision, torchaudio) as recommended -> register a Jupyter
    kernel -> run the verification suite inside the new env

Built from the pieces the other commands use, never a copy of them: `install.decide()` (the same
recommendation and argv the install command prints), `envs.plan_create()/execute_create()` (names,
refusing to clobber, undo), `kernels.register_kernel()` (ipykernel with the env's own pip, kernel.json
read back) and `verify.run()` (the suite run by the env's interpreter). The machinery (log, events,
one Transaction for the undo, consent, timing, the step runner, fix hints) is envcheck/workflow/.

Safety (README: install --execute):
- everything is decided and validated before anything changes: bad input, an existing env or kernel
  without --force, a missing backend or interpreter are refused first (exit 2 / 4);
- on a failed step (exit 5) or Ctrl-C / SIGTERM / SIGHUP (exit 130) what THIS run made is undone: the
  kernel it registered, then the env it created (an env or kernel --force replaced is put back);
- a failed verification check (exit 1) keeps the env and kernel: the install worked, and the check
  names what to fix (a driver, CUDA_VISIBLE_DEVICES ...) without reinstalling gigabytes.

Speed: every subprocess goes through a workflow TimedRunner, so the result splits the wall time into
tool time (venv/conda, pip/uv/conda, ipykernel, the in-env suite) and envcheck's own.
"""
from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.inputs import (
    host_os,
    normalize_find_links,
    normalize_index_url,
    parse_os,
    python_version_request,
    validate_kernel_name,
)
from envcheck.results import Finding, Result, Severity
from envcheck.runner import Runner
from envcheck.workflow import logs
from envcheck.workflow.consent import require_consent
from envcheck.workflow.events import NULL, CommandStarted, FailureTail, LogOpened, Sink, ToolLine, Warn
from envcheck.workflow.hints import suggest_fix
from envcheck.workflow.timing import TimedRunner, timing_split
from envcheck.workflow.transaction import Transaction, Undone, interrupts_roll_back

__all__ = ["ExecuteRequest", "ExecutePlan", "plan_execute", "execute", "run", "parse_only", "plan_install_argv",
           "confirmation_question", "find_links_from_pip_config", "timing_split", "suggest_fix"]

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


def planned_packages(rec, only: Sequence[str] | None) -> tuple[str, ...]:
    """The packages the install step puts in, from the recommendation (a release may pair no torchaudio)."""
    versions = {"torch": rec.torch, "torchvision": rec.torchvision, "torchaudio": rec.torchaudio}
    return tuple(p for p in PACKAGES if versions[p] and (only is None or p in only))


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
    from envcheck.envs import CreateRequest, plan_create
    from envcheck.facts import Source
    from envcheck.kernels import default_display_name, kernel_destination, kernel_steps
    from envcheck.plans.env import KernelScope
    from envcheck.plans.install import default_env_name, kernel_name
    from envcheck.probes.python import env_python

    environ = os.environ if environ is None else environ
    # Flags first: exit 2 before touching the machine.
    if request.name is not None and request.prefix is not None:
        raise EnvcheckError("pass only one of --name NAME and --prefix PATH",
                            hint="--name puts the env in envcheck's envs dir (or conda's); --prefix anywhere",
                            code="invalid-input")
    target_os = parse_os(request.os_name)
    if target_os != host_os():
        raise EnvcheckError(f"--execute installs on this machine ({host_os()}), not --os {target_os}",
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
    python_arg, base_path = request.python, None
    if python_arg is not None:
        version, base_path = python_version_request(python_arg, runner, environ)  # exit 2 blank, 4 not Python
        if base_path is not None:
            python_arg = f"{version[0]}.{version[1]}"
    decision = install_cmd.decide(
        python=python_arg, driver=request.driver, cuda=request.cuda, gpu_cc=request.gpu_cc,
        cpu=request.cpu, torch=request.torch, strict_driver=request.strict_driver, mirror=request.mirror,
        name=None, runner=runner, environ=environ,
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
    packages = planned_packages(rec, only)

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
        uv = cplan.backend.executable if backend.value == "uv" else None
        ksteps = kernel_steps(env_py, kname, default_display_name(rec.python, kname), KernelScope.USER,
                              install_ipykernel=True, uv=uv, index_url=index_url,
                              find_links=(find_links,) if find_links else ())
        steps.append(PlannedStep("kernel", f"register Jupyter kernel {kname}", tuple(k.argv for k in ksteps),
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


# --- execute ---------------------------------------------------------------------------------------


class _Failed(Exception):
    def __init__(self, message: str, exit_code: ExitCode, code: str, hint: str | None, data: dict | None = None):
        super().__init__(message)
        self.message, self.exit_code, self.code, self.hint = message, exit_code, code, hint
        self.data = data or {}


def execute(
    plan: ExecutePlan,
    runner: Runner,
    *,
    log_path: str,
    sink: Sink = NULL,
    environ: Mapping[str, str] | None = None,
    started: float | None = None,
) -> Result:
    """Run the plan. Raises EnvcheckError (5 tool failed, 130 interrupted, 4 ...) after undoing what this
    run created; returns a Result with exit 0, or 1 when a verification check or the kernel check failed."""
    from envcheck.commands import verify as verify_cmd
    from envcheck.envs import execute_create
    from envcheck.kernels import register_kernel
    from envcheck.plans.env import KernelScope, Step
    from envcheck.workflow.steps import StepRunner, run_logged

    environ = os.environ if environ is None else environ
    started = time.monotonic() if started is None else started
    timed = runner if isinstance(runner, TimedRunner) else TimedRunner(runner)
    timed.on_line = lambda line: sink.emit(ToolLine(line))
    steps = StepRunner([(s.id, s.title, s.commands()) for s in plan.steps], timed, sink)
    tx = Transaction(log_path)
    out: dict = {"env": None, "kernel": None, "findings": [], "verify": {}}

    def create(rec):
        created = out["env"] = execute_create(plan.create, timed, log_path, sink, tx=tx)
        if plan.env_python != created.python:  # conda -n: the interpreter's path is known only now
            quoted = shlex.quote(created.python)
            for r in steps.records:
                r.commands = [c.replace(plan.env_python, quoted) for c in r.commands]
        return "ok", f"{created.backend.value} env at {created.prefix} (Python {created.python_version})"

    def install(rec):
        python = out["env"].python
        argv = tuple(python if a == plan.env_python else a for a in plan.install_argv)
        step = Step(argv, rec.title, timeout_s=INSTALL_TIMEOUT_S)
        rec.commands = [step.display()]
        done = run_logged(timed, step, log_path, sink)
        if not done.ok:
            tail = logs.step_tail(log_path)
            why = done.describe_failure()
            if plan.route == "pip" and done.argv:  # "python exited ..." -> "pip exited ...": it is pip's error
                why = why.replace(os.path.basename(done.argv[0]), "pip", 1)
            raise _Failed(f"{rec.title} failed: {why}", ExitCode.TOOL_FAILED, "install-failed",
                          suggest_fix(tail, done), {"log_tail": tail, "command": step.display()})
        return "ok", ", ".join(plan.packages)

    def kernel(rec):
        ki, request = plan.kernel, plan.request
        registered = out["kernel"] = register_kernel(
            out["env"].python, ki.name, scope=KernelScope.USER, force=bool(ki.replaces), install_ipykernel=True,
            runner=timed, log_path=log_path, environ=environ, sink=sink,
            index_url=normalize_index_url(request.index_url),
            find_links=(normalize_find_links(request.find_links),) if request.find_links else (), tx=tx,
        )
        out["findings"] = list(registered.findings)
        bad = any(f.severity == Severity.ERROR for f in registered.findings)
        return ("fail" if bad else "ok"), registered.resource_dir

    def verify(rec):
        for cmd in rec.commands:
            sink.emit(CommandStarted(cmd))
        vres = verify_cmd.run(python=out["env"].python, device=plan.verify_device,
                              require_cuda=plan.verify_require_cuda, runner=timed,
                              listener=sink.verify_listener(), environ=environ)
        out["verify"] = vres.data
        s = vres.data.get("summary") or {}
        return ("ok" if vres.exit_code == ExitCode.OK else "fail",
                f"{s.get('ok', 0)} passed, {s.get('failed', 0)} failed, {s.get('skipped', 0)} skipped")

    tasks = [("create", create), ("install", install)] + ([("kernel", kernel)] if plan.kernel else []) + [
        ("verify", verify)]
    try:
        steps.execute(tasks)
    except BaseException as exc:  # noqa: B036 - undo on anything, then report ours, re-raise the rest
        failed = steps.abort(_interrupted(exc))
        undone = tx.rollback()
        if isinstance(exc, (EnvcheckError, _Failed, KeyboardInterrupt)):
            raise _as_error(exc, failed, steps.to_dicts(), plan, log_path, undone, sink, started) from None
        raise
    finally:
        sink.close()
    tx.commit()
    created, registered, findings, verify_data = out["env"], out["kernel"], out["findings"], out["verify"]
    step_dicts = steps.to_dicts()
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
        "kernel": registered.to_dict() if registered else None,
        "kernel_findings": [f.to_dict() for f in findings],
        "verify": verify_data,
        "steps": step_dicts,
        "timing": timing_split(time.monotonic() - started, step_dicts),
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


def _undone_dict(plan: ExecutePlan, report: Undone) -> dict:
    """install --execute's JSON shape of the rollback (checked on disk by the Transaction)."""
    env_restored, kernel_restored = report.paths("restored", "env"), report.paths("restored", "kernel")
    env_removed, kernel_removed = report.paths("removed", "env"), report.paths("removed", "kernel")
    return {
        "kernel_removed": None if kernel_restored or not kernel_removed else kernel_removed[0],
        "kernel_restored": kernel_restored[0] if kernel_restored else None,
        "env_removed": None if env_restored or not env_removed else ", ".join(env_removed),
        "env_restored": env_restored[0] if env_restored else None,
    }


def _as_error(exc, failed, step_dicts, plan, log_path, report: Undone, sink: Sink, started) -> EnvcheckError:
    """One EnvcheckError for a failed or interrupted run: which step, why, what was undone, the fix."""
    undone = _undone_dict(plan, report)
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
    if exit_code == ExitCode.INTERRUPTED:
        message, code, fix, tail = f"interrupted during step: {title}", "interrupted", None, []
    elif tail is None and failed is not None and failed.id != "verify":
        tail = logs.step_tail(log_path)
    if exit_code == ExitCode.TOOL_FAILED and not isinstance(exc, _Failed):
        fix = suggest_fix(tail or [])  # create's and kernel's hints name the log and the undo, said below
    if tail:
        sink.emit(FailureTail(tuple(tail)))
    parts = []
    removed = [v for v in (undone["kernel_removed"], undone["env_removed"]) if v]
    restored = [v for v in (undone["kernel_restored"], undone["env_restored"]) if v]
    if removed:
        parts.append("removed what this run created: " + ", ".join(removed))
    elif exit_code in (ExitCode.TOOL_FAILED, ExitCode.INTERRUPTED):
        parts.append("nothing was left behind")
    if restored:
        parts.append("put back the previous " + ", ".join(restored))
    if fix:
        parts.append(f"fix: {fix}")
    parts.append(f"full log: {log_path}")
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
    sink: Sink = NULL,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
) -> Result:
    """`envcheck install --execute`. `confirm` is None when stdin is not a terminal: then --yes is required."""
    started = time.monotonic()
    environ = os.environ if environ is None else environ
    timed = TimedRunner(runner or Runner())
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
    require_consent(confirmation_question(plan), yes=yes, confirm=confirm,
                    refusal="create an environment and install PyTorch",
                    hint="pass --yes to proceed non-interactively (or --dry-run to see every command)")
    label = plan.create.name or os.path.basename(os.path.normpath(plan.create.prefix or "env"))
    log_path = logs.new_log_path("install", label, environ)
    for warning in plan.warnings:
        sink.emit(Warn(warning))
    sink.emit(LogOpened(log_path))
    with interrupts_roll_back():
        return execute(plan, timed, log_path=log_path, sink=sink, environ=environ, started=started)


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

