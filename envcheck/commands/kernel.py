"""`envcheck kernel add | list | check | remove`: Jupyter kernels that launch the right interpreter.

The classic failures this prevents: a kernel registered by the wrong Python (ipykernel writes the
sys.executable of whoever ran `ipykernel install`), a stale kernel whose env was deleted, a kernel
silently replaced (`ipykernel install` overwrites without asking), a kernel shadowed by a same-named
one earlier on the Jupyter path.

Reusable without the CLI: `register_kernel(python, name, ...) -> RegisteredKernel`.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from envcheck.commands.create import Confirm, Progress, _noop, conda_env_prefix, log_tail, new_log_path, run_logged
from envcheck.errors import EnvcheckError, ExitCode
from envcheck.inenv import script_path
from envcheck.names import (
    default_envs_dir,
    env_dir_for_name,
    validate_display_name,
    validate_env_name,
    validate_kernel_name,
)
from envcheck.plans.env import Backend, KernelScope, plan_ipykernel_install, plan_pip_install
from envcheck.probes.jupyter import (
    KernelSpecInfo,
    default_prefixes,
    jupyter_data_dirs,
    kernel_dirs,
    probe_kernelspecs,
    read_kernelspec,
    user_data_dir,
)
from envcheck.probes.python import env_python, resolve_interpreter
from envcheck.results import Finding, Result, Severity, exit_code_for_findings
from envcheck.runner import Runner

STALE_CODE = "stale-jupyter-kernel"


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
        except ValueError:
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
            f"the target interpreter {python} does not run: {done.describe_failure() if not done.ok else 'no answer'}",
            hint="pass a working interpreter with --python PATH, or recreate the environment",
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
        raise EnvcheckError("pass exactly one of --python PATH and --env NAME",
                            hint="e.g. envcheck kernel add --env torch --name torch", code="invalid-input")
    if python is not None:
        return resolve_interpreter(python, runner, environ).path
    validate_env_name(env)
    looked = []
    envs_dir = default_envs_dir(environ)
    candidate_dir = env_dir_for_name(env, envs_dir)
    looked.append(envs_dir)
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
        f"no environment named {env!r} (looked in {', '.join(looked)})",
        hint="create it with `envcheck create --name NAME --python X.Y`, or pass --python PATH",
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
class RegisteredKernel:
    """A kernel registered by `register_kernel`. `undo()` removes it and restores a kernel that
    --force replaced; `commit()` drops that backup (done at once unless keep_backup=True)."""

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
    undo: Callable[[], None] = field(compare=False, repr=False, default=lambda: None)
    commit: Callable[[], None] = field(compare=False, repr=False, default=lambda: None)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "resource_dir": self.resource_dir,
            "python": self.python,
            "python_version": self.python_version,
            "argv": list(self.argv),
            "scope": self.scope.value,
            "installed_ipykernel": self.installed_ipykernel,
            "replaced": self.replaced,
            "shadowed_by": self.shadowed_by,
            "on_search_path": self.on_search_path,
            "log_path": self.log_path,
            "duration_s": round(self.duration_s, 3),
        }


def _ipykernel_consent(
    info: TargetInfo, python: str, install_ipykernel: bool, confirm: Confirm | None
) -> None:
    if info.ipykernel or install_ipykernel:
        return
    question = f"ipykernel is not installed in {python}. Install it with that environment's own pip?"
    if confirm is not None and confirm(question):
        return
    raise EnvcheckError(
        f"ipykernel is not installed in the target interpreter {python}",
        hint=f"pass --install-ipykernel to install it with the target's pip, or run `{python} -m pip install ipykernel`",
        exit_code=ExitCode.USAGE,
        code="ipykernel-missing",
    )


def plan_register(
    python: str,
    name: str,
    info: TargetInfo,
    *,
    display_name: str | None,
    scope: KernelScope,
    prefix_dir: str | None,
    environ: Mapping[str, str] | None = None,
    index_url: str | None = None,
    find_links: Sequence[str] = (),
):
    """(steps, destination) for registering `name` for `python` (pure apart from shutil.which for uv)."""
    environ = os.environ if environ is None else environ
    steps = []
    if not info.ipykernel:
        uv = None
        if not info.pip:  # a uv-made venv has no pip: uv installs into it from outside
            uv = shutil.which("uv", path=environ.get("PATH"))
            if not uv:
                raise EnvcheckError(
                    f"{python} has neither ipykernel nor pip",
                    hint=f"run `{python} -m ensurepip` first, or install uv",
                    exit_code=ExitCode.TARGET_NOT_FOUND,
                    code="pip-missing",
                )
        steps.append(plan_pip_install(python, ["ipykernel"], uv=uv, index_url=index_url, find_links=find_links))
    steps.append(plan_ipykernel_install(python, name, display_name, scope, prefix_dir))
    dest = kernel_destination(name, scope, target_prefix=info.prefix, prefix_dir=prefix_dir, environ=environ)
    return steps, dest


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
    progress: Progress = _noop,
    index_url: str | None = None,
    find_links: Sequence[str] = (),
    keep_backup: bool = False,
    info: TargetInfo | None = None,
) -> RegisteredKernel:
    """Register a Jupyter kernel that launches `python`, and prove it by reading kernel.json back.

    Raises EnvcheckError: 2 invalid name / kernel exists without `force` / ipykernel missing without
    consent; 4 interpreter does not run; 5 pip or ipykernel failed (data.log_tail).
    """
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    start = time.monotonic()
    validate_kernel_name(name)
    info = info or probe_target(runner, python)
    major_minor = ".".join(info.version.split(".")[:2])
    display_name = validate_display_name(display_name or f"Python {major_minor} ({name})")
    if scope is KernelScope.PREFIX and not prefix_dir:
        raise EnvcheckError("--prefix needs a directory", code="invalid-input")
    steps, dest = plan_register(python, name, info, display_name=display_name, scope=scope, prefix_dir=prefix_dir,
                                environ=environ, index_url=index_url, find_links=find_links)
    existing = dest if os.path.isfile(os.path.join(dest, "kernel.json")) else None
    if existing and not force:
        old = read_kernelspec(name, dest, environ)
        raise EnvcheckError(
            f"a kernel named {name!r} already exists at {dest}"
            + (f" (it launches {old.interpreter})" if old.interpreter else ""),
            hint="pass --force to replace it, or choose another --name",
            code="kernel-exists",
        )
    _ipykernel_consent(info, python, install_ipykernel, confirm)

    backup_root = None
    installed = False

    def restore() -> None:
        nonlocal backup_root
        if os.path.isdir(dest):
            shutil.rmtree(dest, ignore_errors=True)
        if backup_root:
            shutil.move(os.path.join(backup_root, name), dest)
            shutil.rmtree(backup_root, ignore_errors=True)
            backup_root = None

    def commit() -> None:
        nonlocal backup_root
        if backup_root:
            shutil.rmtree(backup_root, ignore_errors=True)
            backup_root = None

    try:
        if existing:
            backup_root = tempfile.mkdtemp(prefix="envcheck-kernel-backup-")
            shutil.move(dest, os.path.join(backup_root, name))
        for step in steps:
            done = run_logged(runner, step, log_path, progress)
            if not done.ok:
                tail = log_tail(log_path)
                restore()
                raise EnvcheckError(
                    f"{step.description} failed: {done.describe_failure()}",
                    hint=(f"full log: {log_path}" if log_path else f"run `{step.display()}` to see why")
                    + ("; the previous kernel was put back" if existing else ""),
                    exit_code=ExitCode.TOOL_FAILED,
                    code="kernel-add-failed",
                    data={"log_path": log_path, "log_tail": tail, "command": step.display()},
                )
            if step is not steps[-1]:
                installed = True
    except KeyboardInterrupt:
        restore()
        raise EnvcheckError("interrupted: no kernel was registered", exit_code=ExitCode.INTERRUPTED,
                            code="interrupted") from None

    # Read it back: the kernel must launch the target interpreter, and that file must exist.
    spec = read_kernelspec(name, dest, environ)
    findings: list[Finding] = []
    if spec.error or not spec.argv:
        findings.append(Finding("kernel-registration-invalid", Severity.ERROR,
                                f"{dest}/kernel.json is unusable: {spec.error}", "rerun with --force"))
    elif not _same_interpreter(spec.argv[0], info.executable) and not _same_interpreter(spec.argv[0], python):
        findings.append(Finding("kernel-wrong-interpreter", Severity.ERROR,
                                f"kernel {name} launches {spec.argv[0]}, not the target {info.executable}",
                                f"rerun `{python} -m ipykernel install ...` with the target interpreter"))
    elif not spec.interpreter_exists:
        findings.append(Finding(STALE_CODE, Severity.ERROR, f"kernel {name} launches {spec.argv[0]}, which does not exist",
                                "pass a working interpreter with --python"))
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
                                f"another kernel named {name} at {shadowed_by} comes first on the Jupyter path: "
                                "Jupyter will launch that one",
                                f"remove it (`envcheck kernel remove {name}` removes the first one) or pick another --name"))
    if not on_path:
        findings.append(Finding("kernel-not-on-jupyter-path", Severity.WARNING,
                                f"{os.path.dirname(dest)} is not on this shell's Jupyter path: only a Jupyter that "
                                f"runs from {info.prefix} (or has it in JUPYTER_PATH) will list this kernel",
                                "use --user (the default) for a kernel every Jupyter of this user sees"))
    if not keep_backup:
        commit()
    return RegisteredKernel(
        name=name,
        display_name=display_name,
        resource_dir=dest,
        python=python,
        python_version=info.version,
        argv=spec.argv,
        scope=scope,
        installed_ipykernel=installed,
        replaced=existing,
        shadowed_by=shadowed_by,
        on_search_path=on_path,
        log_path=log_path,
        duration_s=time.monotonic() - start,
        findings=tuple(findings),
        undo=restore,
        commit=commit,
    )


# --- commands -----------------------------------------------------------------------------------


def _scope(user: bool, sys_prefix: bool, prefix_dir: str | None) -> KernelScope:
    chosen = [s for s, on in ((KernelScope.USER, user), (KernelScope.SYS_PREFIX, sys_prefix),
                              (KernelScope.PREFIX, bool(prefix_dir))) if on]
    if len(chosen) > 1:
        raise EnvcheckError("pass only one of --user, --sys-prefix and --prefix DIR", code="invalid-input")
    return chosen[0] if chosen else KernelScope.USER


def run_add(
    *,
    name: str,
    python: str | None = None,
    env: str | None = None,
    display_name: str | None = None,
    user: bool = False,
    sys_prefix: bool = False,
    prefix_dir: str | None = None,
    install_ipykernel: bool = False,
    force: bool = False,
    yes: bool = False,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    progress: Progress = _noop,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
) -> Result:
    """`envcheck kernel add`. --yes answers yes to every question (including installing ipykernel)."""
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    validate_kernel_name(name)
    if display_name is not None:
        validate_display_name(display_name)
    scope = _scope(user, sys_prefix, prefix_dir)
    target = resolve_target_python(python, env, runner, environ)
    info = probe_target(runner, target)
    if dry_run:
        major_minor = ".".join(info.version.split(".")[:2])
        shown = display_name or f"Python {major_minor} ({name})"
        steps, dest = plan_register(target, name, info, display_name=shown, scope=scope, prefix_dir=prefix_dir,
                                    environ=environ)
        exists = os.path.isfile(os.path.join(dest, "kernel.json"))
        data = {"dry_run": True, "python": target, "target": info.to_dict(), "resource_dir": dest,
                "exists": exists, "commands": [s.display() for s in steps]}
        errors = ()
        code = ExitCode.OK
        if exists and not force:
            err = EnvcheckError(f"a kernel named {name!r} already exists at {dest}",
                                hint="pass --force to replace it", code="kernel-exists")
            errors, code = (err,), ExitCode.USAGE
        return Result("kernel add", code, data, errors)
    log_path = new_log_path("kernel", name, environ)
    registered = register_kernel(
        target, name, display_name=display_name, scope=scope, prefix_dir=prefix_dir, force=force,
        install_ipykernel=install_ipykernel or yes, confirm=confirm, runner=runner, log_path=log_path,
        environ=environ, progress=progress, info=info,
    )
    data = {"kernel": registered.to_dict(), "findings": [f.to_dict() for f in registered.findings]}
    return Result("kernel add", exit_code_for_findings(registered.findings), data)


def _search_data(environ: Mapping[str, str], prefixes: Sequence[str]) -> dict:
    return {"data_dirs": jupyter_data_dirs(environ, prefixes), "kernel_dirs": kernel_dirs(environ, prefixes),
            "prefixes": list(prefixes)}


def run_list(prefixes: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> Result:
    """`envcheck kernel list`: every kernelspec on the Jupyter path, shadowed ones included."""
    environ = os.environ if environ is None else environ
    prefixes = tuple(default_prefixes(environ)) + tuple(os.path.abspath(p) for p in prefixes)
    specs = probe_kernelspecs(environ, prefixes)
    data = {"search": _search_data(environ, prefixes), "kernels": [s.to_dict() for s in specs]}
    return Result("kernel list", ExitCode.OK, data)


def diagnose_kernels(specs: Sequence[KernelSpecInfo]) -> list[Finding]:
    """Findings for kernelspecs (pure): stale interpreters, invalid files, shadowing."""
    findings: list[Finding] = []
    for s in specs:
        if s.error:
            findings.append(Finding("invalid-jupyter-kernelspec", Severity.WARNING,
                                    f"kernel {s.name} ({s.resource_dir}): {s.error}",
                                    f"fix or delete {s.resource_dir}"))
        elif s.stale:
            used = s.shadowed_by is None
            findings.append(Finding(
                STALE_CODE, Severity.ERROR if used else Severity.WARNING,
                f"kernel {s.name} ({s.resource_dir}) launches {s.interpreter}, which no longer exists"
                + ("" if used else f" (it is shadowed by {s.shadowed_by})"),
                f"`envcheck kernel remove {s.name}` if its env is gone for good, or re-register it: "
                f"`envcheck kernel add --python NEW_PYTHON --name {s.name} --force`" if used else
                f"delete {s.resource_dir}",
            ))
        if s.shadowed_by and not s.stale:
            findings.append(Finding("shadowed-jupyter-kernel", Severity.INFO,
                                    f"kernel {s.name} at {s.resource_dir} is shadowed by {s.shadowed_by}",
                                    "Jupyter only ever uses the first one; delete the other if it is unwanted"))
    return findings


def run_check(prefixes: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> Result:
    """`envcheck kernel check`: exit 1 with `stale-jupyter-kernel` for each kernel whose interpreter is gone."""
    environ = os.environ if environ is None else environ
    prefixes = tuple(default_prefixes(environ)) + tuple(os.path.abspath(p) for p in prefixes)
    specs = probe_kernelspecs(environ, prefixes)
    findings = diagnose_kernels(specs)
    data = {"search": _search_data(environ, prefixes), "kernels": [s.to_dict() for s in specs],
            "findings": [f.to_dict() for f in findings]}
    return Result("kernel check", exit_code_for_findings(findings), data)


def run_remove(
    name: str,
    *,
    all_copies: bool = False,
    yes: bool = False,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    prefixes: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Result:
    """`envcheck kernel remove NAME`: delete the kernelspec Jupyter uses for NAME (all same-named ones
    with --all). Exit 4 when there is none. Only directories found on the Jupyter path that hold a
    kernel.json are ever deleted."""
    environ = os.environ if environ is None else environ
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise EnvcheckError(f"invalid kernel name {name!r}", hint="pass a name from `envcheck kernel list`",
                            code="invalid-kernel-name")
    prefixes = tuple(default_prefixes(environ)) + tuple(os.path.abspath(p) for p in prefixes)
    matches = [s for s in probe_kernelspecs(environ, prefixes) if s.name == name.lower()]
    if not matches:
        raise EnvcheckError(
            f"no Jupyter kernel named {name!r} on the Jupyter path",
            hint="see `envcheck kernel list` for the names",
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="kernel-not-found",
        )
    targets = matches if all_copies else matches[:1]
    remaining = [s.resource_dir for s in matches if s not in targets]
    data = {"dry_run": dry_run, "name": name.lower(), "removed": [], "would_remove": [s.resource_dir for s in targets],
            "remaining": remaining}
    if dry_run:
        return Result("kernel remove", ExitCode.OK, data)
    if not yes:
        question = "Delete " + ", ".join(s.resource_dir for s in targets) + "?"
        if confirm is None:
            raise EnvcheckError("refusing to delete a kernel without confirmation: stdin is not a terminal",
                                hint="pass --yes", code="confirmation-required")
        if not confirm(question):
            raise EnvcheckError("cancelled: nothing was changed", hint="pass --yes to skip the question", code="cancelled")
    for s in targets:
        try:
            if os.path.islink(s.resource_dir):
                os.unlink(s.resource_dir)
            else:
                shutil.rmtree(s.resource_dir)
        except OSError as exc:
            raise EnvcheckError(
                f"cannot remove {s.resource_dir}: {exc.strerror or exc}",
                hint="it may belong to another user or the system (try with sudo)",
                exit_code=ExitCode.PROBLEMS,
                code="kernel-remove-failed",
                data={**data, "removed": data["removed"]},
            ) from None
        data["removed"].append(s.resource_dir)
    data["would_remove"] = []
    return Result("kernel remove", ExitCode.OK, data)
