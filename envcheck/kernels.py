"""Registering Jupyter kernels, reusable without the CLI (`kernel add` and `install --execute` use it).

`plan_kernel(...) -> KernelPlan` decides (the steps --dry-run shows), `register_kernel(...)` runs exactly
those steps and reads kernel.json back. The kernelspec rules (stale, shadowed) live in envcheck/diagnose.py.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

from envcheck.backends import conda_env_prefix
from envcheck.diagnose import STALE_KERNEL, kernel_is_stale
from envcheck.errors import EnvcheckError, ExitCode, Msg, joined
from envcheck.inenv import script_path
from envcheck.inputs import target_interpreter
from envcheck.names import default_envs_dir, env_dir_for_name, validate_display_name, validate_env_name, validate_kernel_name
from envcheck.plans.env import Backend, KernelScope, Step, plan_ipykernel_install, plan_pip_install
from envcheck.probes.jupyter import default_prefixes, kernel_dirs, probe_kernelspecs, read_kernelspec, user_data_dir
from envcheck.probes.python import env_python
from envcheck.results import Finding, Severity
from envcheck.runner import Runner
from envcheck.workflow import logs
from envcheck.workflow.consent import Confirm
from envcheck.workflow.events import NULL, Sink
from envcheck.workflow.steps import run_logged
from envcheck.workflow.transaction import Transaction



# --- the target interpreter ---------------------------------------------------------------------


@dataclass(frozen=True)
class TargetInfo:
    """What the target interpreter says about itself (inenv/target_info.py)."""

    executable: str
    prefix: str
    version: str
    ipykernel: bool
    ipykernel_version: str | None
    pip: bool

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def parse_target_info(text: str) -> TargetInfo | None:
    """The JSON line printed by inenv/target_info.py -> TargetInfo, None if malformed (pure)."""
    for line in reversed(text.strip().splitlines()):
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):  # a hostile target: `[[[[...` thousands deep
            continue
        if isinstance(data, dict) and isinstance(data.get("executable"), str):
            return TargetInfo(
                executable=data["executable"],
                prefix=str(data.get("prefix") or ""),
                version=str(data.get("version") or ""),
                ipykernel=bool(data.get("ipykernel")),
                ipykernel_version=data.get("ipykernel_version"),
                pip=bool(data.get("pip")),
            )
    return None


def probe_target(runner: Runner, python: str) -> TargetInfo:
    """Ask the target interpreter who it is. Shell: `PY envcheck/inenv/target_info.py`.

    Raises EnvcheckError exit 4 when it does not run (a stale path, a broken shim)."""
    with tempfile.TemporaryDirectory(prefix="envcheck-") as cwd:  # no local module can shadow stdlib
        done = runner.run([python, script_path("target_info")], timeout=60, cwd=cwd)
    info = parse_target_info(done.stdout) if done.ok else None
    if info is None:
        raise EnvcheckError(
            Msg("the target interpreter {python} does not run: {reason}",
                python=python, reason=done.describe_failure() if not done.ok else 'no answer'),
            hint=Msg("pass a working interpreter with --python PATH, or recreate the environment"),
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="interpreter-not-found",
        )
    return info


def resolve_target_python(
    python: str | None, env: str | None, runner: Runner, environ: Mapping[str, str] | None = None
) -> str:
    """--python PATH|DIR|X.Y, or --env NAME (envcheck's envs dir, then conda/mamba/micromamba envs)."""
    environ = os.environ if environ is None else environ
    if (python is None) == (env is None):
        raise EnvcheckError(Msg("pass exactly one of --python PATH and --env NAME"),
                            hint=Msg("e.g. envcheck kernel add --env torch --name torch"), code="invalid-input")
    if python is not None:
        return target_interpreter(python, runner, environ, check=False).path  # probe_target runs it next
    validate_env_name(env)
    envs_dir = default_envs_dir(environ)
    looked = [envs_dir]
    candidate_dir = env_dir_for_name(env, envs_dir)
    if os.path.isdir(candidate_dir):
        return env_python(candidate_dir)
    for tool in (Backend.MICROMAMBA, Backend.MAMBA, Backend.CONDA):
        exe = shutil.which(tool.value, path=environ.get("PATH"))
        if not exe:
            continue
        looked.append(f"`{tool.value} env list`")
        try:
            prefix = conda_env_prefix(runner, exe, env)
        except EnvcheckError:
            continue
        if prefix:
            return env_python(prefix)
    raise EnvcheckError(
        Msg("no environment named {env!r} (looked in {items})", env=env, items=', '.join(looked)),
        hint=Msg("create it with `envcheck create --name NAME --python X.Y`, or pass --python PATH"),
        exit_code=ExitCode.TARGET_NOT_FOUND,
        code="env-not-found",
    )


# --- where ipykernel will write ------------------------------------------------------------------


def kernel_destination(
    name: str,
    scope: KernelScope,
    *,
    target_prefix: str,
    prefix_dir: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The directory `ipykernel install` creates, per jupyter_client KernelSpecManager._get_destination_dir():
    --user -> <user data dir>/kernels/NAME (JUPYTER_DATA_DIR honoured); --prefix DIR (and --sys-prefix,
    which is --prefix sys.prefix) -> DIR/share/jupyter/kernels/NAME."""
    if scope is KernelScope.USER:
        return os.path.join(user_data_dir(environ), "kernels", name)
    base = target_prefix if scope is KernelScope.SYS_PREFIX else os.path.abspath(os.path.expanduser(prefix_dir or ""))
    return os.path.join(base, "share", "jupyter", "kernels", name)


def _same_interpreter(a: str, b: str) -> bool:
    # Compare the paths as written, NOT resolved: a venv's bin/python is a symlink to the base
    # interpreter, and a kernel that launches the base interpreter is exactly the bug to catch.
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


@dataclass(frozen=True)
class KernelPlan:
    """Everything decided before a kernel is registered: the steps shown by --dry-run are the ones run."""

    python: str
    name: str
    display_name: str
    scope: KernelScope
    resource_dir: str
    steps: tuple[Step, ...]
    existing: str | None
    info: TargetInfo

    def commands(self) -> list[str]:
        return [s.display() for s in self.steps]


def kernel_steps(python: str, name: str, display_name: str, scope: KernelScope, prefix_dir: str | None = None, *,
                 install_ipykernel: bool, uv: str | None = None, index_url: str | None = None,
                 find_links: Sequence[str] = ()) -> tuple[Step, ...]:
    """[pip install ipykernel,] python -m ipykernel install ... (pure). Used by plan_kernel and by
    install --execute's plan, so both show and run the same argv."""
    steps = []
    if install_ipykernel:
        steps.append(plan_pip_install(python, ["ipykernel"], uv=uv, index_url=index_url, find_links=find_links))
    steps.append(plan_ipykernel_install(python, name, display_name, scope, prefix_dir))
    return tuple(steps)


def default_display_name(version: str, name: str) -> str:
    return f"Python {'.'.join(version.split('.')[:2])} ({name})"


def existing_kernel(dest: str) -> str | None:
    """`dest` when ANYTHING is at kernels/NAME (a kernel, a directory without kernel.json or with it
    renamed, a file, a dangling link): `ipykernel install` replaces the whole directory, so all of it
    counts as existing and needs --force (issue 14). None when nothing is there."""
    return dest if os.path.lexists(dest) else None


def plan_kernel(
    python: str,
    name: str,
    info: TargetInfo,
    *,
    display_name: str | None = None,
    scope: KernelScope = KernelScope.USER,
    prefix_dir: str | None = None,
    environ: Mapping[str, str] | None = None,
    index_url: str | None = None,
    find_links: Sequence[str] = (),
) -> KernelPlan:
    """Validate and decide (reads only the filesystem and PATH for uv). Exit 2 for bad names, 4 when
    the target has neither ipykernel nor pip and no uv is installed."""
    environ = os.environ if environ is None else environ
    validate_kernel_name(name)
    display_name = validate_display_name(display_name or default_display_name(info.version, name))
    if scope is KernelScope.PREFIX and not prefix_dir:
        raise EnvcheckError(Msg("--prefix needs a directory"), code="invalid-input")
    uv = None
    if not info.ipykernel and not info.pip:  # a uv-made venv has no pip: uv installs into it from outside
        uv = shutil.which("uv", path=environ.get("PATH"))
        if not uv:
            raise EnvcheckError(Msg("{python} has neither ipykernel nor pip", python=python),
                                hint=Msg("run `{python} -m ensurepip` first, or install uv", python=python),
                                exit_code=ExitCode.TARGET_NOT_FOUND, code="pip-missing")
    steps = kernel_steps(python, name, display_name, scope, prefix_dir, install_ipykernel=not info.ipykernel, uv=uv,
                         index_url=index_url, find_links=find_links)
    dest = kernel_destination(name, scope, target_prefix=info.prefix, prefix_dir=prefix_dir, environ=environ)
    existing = existing_kernel(dest)
    return KernelPlan(python, name, display_name, scope, dest, steps, existing, info)


@dataclass(frozen=True)
class RegisteredKernel:
    """A kernel registered by `register_kernel`, read back from its kernel.json."""

    name: str
    display_name: str
    resource_dir: str
    python: str
    python_version: str
    argv: tuple[str, ...]
    scope: KernelScope
    installed_ipykernel: bool
    replaced: str | None
    shadowed_by: str | None
    on_search_path: bool
    log_path: str | None
    duration_s: float
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in ("name", "display_name", "resource_dir", "python", "python_version")}
        return {**data, "argv": list(self.argv), "scope": self.scope.value,
                **{k: getattr(self, k) for k in ("installed_ipykernel", "replaced", "shadowed_by", "on_search_path",
                                                 "log_path")},
                "duration_s": round(self.duration_s, 3)}


def _ipykernel_consent(plan: KernelPlan, install_ipykernel: bool, confirm: Confirm | None) -> None:
    if plan.info.ipykernel or install_ipykernel:
        return
    from envcheck.i18n import tr  # the question is human text only: translated now

    question = tr(Msg("ipykernel is not installed in {python}. Install it with that environment's own pip?",
                      python=plan.python))
    if confirm is not None and confirm(question):
        return
    raise EnvcheckError(
        Msg("ipykernel is not installed in the target interpreter {python}", python=plan.python),
        hint=Msg("pass --install-ipykernel to install it with the target's pip, or run `{python} -m pip install "
                 "ipykernel`", python=plan.python),
        exit_code=ExitCode.USAGE,
        code="ipykernel-missing",
    )


def register_kernel(
    python: str,
    name: str,
    *,
    display_name: str | None = None,
    scope: KernelScope = KernelScope.USER,
    prefix_dir: str | None = None,
    force: bool = False,
    install_ipykernel: bool = False,
    confirm: Confirm | None = None,
    runner: Runner | None = None,
    log_path: str | None = None,
    environ: Mapping[str, str] | None = None,
    sink: Sink = NULL,
    index_url: str | None = None,
    find_links: Sequence[str] = (),
    info: TargetInfo | None = None,
    plan: KernelPlan | None = None,
    tx: Transaction | None = None,
) -> RegisteredKernel:
    """Register a Jupyter kernel that launches `python` (the steps of `plan`, or of plan_kernel()), and
    prove it by reading kernel.json back. With a caller's `tx` the undo is registered there and
    commit/rollback is the caller's; otherwise a failure restores what was there and commits on success.

    Raises EnvcheckError: 2 invalid name / kernel exists without `force` / ipykernel missing without
    consent; 4 interpreter does not run; 5 pip or ipykernel failed (data.log_tail).
    """
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    start = time.monotonic()
    if plan is None:
        info = info or probe_target(runner, python)
        plan = plan_kernel(python, name, info, display_name=display_name, scope=scope, prefix_dir=prefix_dir,
                           environ=environ, index_url=index_url, find_links=find_links)
    info, dest, existing = plan.info, plan.resource_dir, plan.existing
    if existing and not force:
        old = read_kernelspec(name, dest, environ)
        raise EnvcheckError(
            Msg("a kernel named {name!r} already exists at {dest} (it launches {interpreter})", name=name, dest=dest,
                interpreter=old.interpreter) if old.interpreter else
            Msg("a kernel named {name!r} already exists at {dest}", name=name, dest=dest)
            if os.path.isfile(os.path.join(dest, "kernel.json")) else
            Msg("a kernel named {name!r} already exists at {dest} (it holds no kernel.json: envcheck will not replace "
                "it without --force)", name=name, dest=dest),
            hint=Msg("pass --force to replace it, or choose another --name"),
            code="kernel-exists",
        )
    _ipykernel_consent(plan, install_ipykernel, confirm)
    own = tx is None
    tx = tx or Transaction(log_path)
    try:
        if existing:
            tx.stash(dest, "kernel")
        tx.created(dest, "kernel")
        for step in plan.steps:
            done = run_logged(runner, step, log_path, sink)
            if not done.ok:
                tail = logs.tail(log_path)
                if own:
                    tx.rollback()
                raise EnvcheckError(
                    Msg("{description} failed: {reason}", description=step.description, reason=done.describe_failure()),
                    hint=joined([Msg("full log: {log_path}", log_path=log_path) if log_path else
                                 Msg("run `{command}` to see why", command=step.display())]
                                + ([Msg("the previous kernel was put back")] if existing and own else [])),
                    exit_code=ExitCode.TOOL_FAILED,
                    code="kernel-add-failed",
                    data={"log_path": log_path, "log_tail": tail, "command": step.display()},
                )
    except KeyboardInterrupt:
        if not own:
            raise
        tx.rollback()
        raise EnvcheckError(Msg("interrupted: no kernel was registered"), exit_code=ExitCode.INTERRUPTED,
                            code="interrupted") from None
    findings, shadowed_by, on_path = _read_back(plan, environ)
    if own:
        tx.commit()
    return RegisteredKernel(
        name=name, display_name=plan.display_name, resource_dir=dest, python=python, python_version=info.version,
        argv=read_kernelspec(name, dest, environ).argv, scope=plan.scope, installed_ipykernel=len(plan.steps) > 1,
        replaced=existing, shadowed_by=shadowed_by, on_search_path=on_path, log_path=log_path,
        duration_s=time.monotonic() - start, findings=tuple(findings),
    )


def _read_back(plan: KernelPlan, environ: Mapping[str, str]) -> tuple[list[Finding], str | None, bool]:
    """The kernel must launch the target interpreter, that file must exist, and Jupyter must find it."""
    name, dest, info, python = plan.name, plan.resource_dir, plan.info, plan.python
    spec = read_kernelspec(name, dest, environ)
    findings: list[Finding] = []
    if spec.error or not spec.argv:
        findings.append(Finding("kernel-registration-invalid", Severity.ERROR,
                                Msg("{dest}/kernel.json is unusable: {error}", dest=dest, error=spec.error), Msg("rerun with --force")))
    elif not _same_interpreter(spec.argv[0], info.executable) and not _same_interpreter(spec.argv[0], python):
        findings.append(Finding("kernel-wrong-interpreter", Severity.ERROR,
                                Msg("kernel {name} launches {interpreter}, not the target {executable}",
                                    name=name, interpreter=spec.argv[0], executable=info.executable),
                                Msg("rerun `{python} -m ipykernel install ...` with the target interpreter",
                                    python=python)))
    elif kernel_is_stale(spec.to_dict()):
        findings.append(Finding(STALE_KERNEL, Severity.ERROR, Msg("kernel {name} launches {interpreter}, which does "
                                                                  "not exist", name=name, interpreter=spec.argv[0]),
                                Msg("pass a working interpreter with --python")))
    # "On the path" means: the Jupyter of this shell (active env, `jupyter` on PATH, user and system
    # dirs) finds it. The target's own prefix counts only when it is one of those.
    shell_prefixes = tuple(default_prefixes(environ))
    on_path = os.path.normpath(os.path.dirname(dest)) in {os.path.normpath(d) for d in kernel_dirs(environ, shell_prefixes)}
    prefixes = shell_prefixes + (info.prefix,)
    winner = None
    for other in probe_kernelspecs(environ, prefixes):
        if other.name == name and other.shadowed_by is None:
            winner = other.resource_dir
            break
    shadowed_by = winner if winner and os.path.normpath(winner) != os.path.normpath(dest) else None
    if shadowed_by:
        findings.append(Finding("kernel-shadowed", Severity.ERROR,
                                Msg("another kernel named {name} at {shadowed_by} comes first on the Jupyter path: "
                                    "Jupyter will launch that one", name=name, shadowed_by=shadowed_by),
                                Msg("remove it (`envcheck kernel remove {name}` removes the first one) or pick another "
                                    "--name", name=name)))
    if not on_path:
        findings.append(Finding("kernel-not-on-jupyter-path", Severity.WARNING,
                                Msg("{directory} is not on this shell's Jupyter path: only a Jupyter that runs from "
                                    "{prefix} (or has it in JUPYTER_PATH) will list this kernel",
                                    directory=os.path.dirname(dest), prefix=info.prefix),
                                Msg("use --user (the default) for a kernel every Jupyter of this user sees")))
    return findings, shadowed_by, on_path
