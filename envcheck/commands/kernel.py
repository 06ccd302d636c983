"""`envcheck kernel add | list | check | remove`: Jupyter kernels that launch the right interpreter.

The classic failures this prevents: a kernel registered by the wrong Python (ipykernel writes the
sys.executable of whoever ran `ipykernel install`), a stale kernel whose env was deleted, a kernel
silently replaced (`ipykernel install` overwrites without asking), a kernel shadowed by a same-named
one earlier on the Jupyter path. Registration lives in envcheck/kernels.py (shared with
`install --execute`); the kernelspec rules in envcheck/diagnose.py (shared with `doctor`).
"""
from __future__ import annotations

import os
import shutil
from typing import Mapping, Sequence

from envcheck.diagnose import kernel_findings
from envcheck.errors import EnvcheckError, ExitCode, Msg
from envcheck.i18n import N_
from envcheck.kernels import plan_kernel, probe_target, register_kernel, resolve_target_python
from envcheck.names import validate_display_name, validate_kernel_name
from envcheck.plans.env import KernelScope
from envcheck.probes.jupyter import default_prefixes, jupyter_data_dirs, kernel_dirs, probe_kernelspecs
from envcheck.results import Result, exit_code_for_findings
from envcheck.runner import Runner
from envcheck.workflow import logs
from envcheck.workflow.consent import Confirm, require_consent
from envcheck.workflow.events import NULL, LogOpened, Sink
from envcheck.workflow.locks import hold, lock_path_for
from envcheck.workflow.transaction import interrupts_roll_back


# --- commands -----------------------------------------------------------------------------------


def _scope(user: bool, sys_prefix: bool, prefix_dir: str | None) -> KernelScope:
    chosen = [s for s, on in ((KernelScope.USER, user), (KernelScope.SYS_PREFIX, sys_prefix),
                              (KernelScope.PREFIX, bool(prefix_dir))) if on]
    if len(chosen) > 1:
        raise EnvcheckError(Msg("pass only one of --user, --sys-prefix and --prefix DIR"), code="invalid-input")
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
    sink: Sink = NULL,
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
    plan = plan_kernel(target, name, info, display_name=display_name, scope=scope, prefix_dir=prefix_dir,
                       environ=environ)
    if dry_run:
        data = {"dry_run": True, "python": target, "target": info.to_dict(), "resource_dir": plan.resource_dir,
                "exists": plan.existing is not None, "commands": plan.commands()}
        errors = ()
        code = ExitCode.OK
        if plan.existing and not force:
            err = EnvcheckError(Msg("a kernel named {name!r} already exists at {resource_dir}",
                                    name=name, resource_dir=plan.resource_dir),
                                hint=Msg("pass --force to replace it"), code="kernel-exists")
            errors, code = (err,), ExitCode.USAGE
        return Result("kernel add", code, data, errors)
    # One run per kernel: lock kernels/.NAME.envcheck-lock, then decide again (the "absent" check under
    # the lock), and hold it to the end (issue 14).
    with hold([lock_path_for(plan.resource_dir)], "kernel"):
        plan = plan_kernel(target, name, info, display_name=display_name, scope=scope, prefix_dir=prefix_dir,
                           environ=environ)
        log_path = logs.new_log_path("kernel", name, environ)
        sink.emit(LogOpened(log_path))
        with interrupts_roll_back():
            registered = register_kernel(
                target, name, force=force, install_ipykernel=install_ipykernel or yes, confirm=confirm, runner=runner,
                log_path=log_path, environ=environ, sink=sink, plan=plan,
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


def run_check(prefixes: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> Result:
    """`envcheck kernel check`: exit 1 with `stale-jupyter-kernel` for each kernel whose interpreter is gone."""
    environ = os.environ if environ is None else environ
    prefixes = tuple(default_prefixes(environ)) + tuple(os.path.abspath(p) for p in prefixes)
    specs = probe_kernelspecs(environ, prefixes)
    findings = kernel_findings([s.to_dict() for s in specs])
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
        raise EnvcheckError(Msg("invalid kernel name {name!r}", name=name), hint=Msg("pass a name from `envcheck kernel list`"),
                            code="invalid-kernel-name")
    prefixes = tuple(default_prefixes(environ)) + tuple(os.path.abspath(p) for p in prefixes)
    matches = [s for s in probe_kernelspecs(environ, prefixes) if s.name == name.lower()]
    if not matches:
        raise EnvcheckError(
            Msg("no Jupyter kernel named {name!r} on the Jupyter path", name=name),
            hint=Msg("see `envcheck kernel list` for the names"),
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="kernel-not-found",
        )
    targets = matches if all_copies else matches[:1]
    remaining = [s.resource_dir for s in matches if s not in targets]
    data = {"dry_run": dry_run, "name": name.lower(), "removed": [], "would_remove": [s.resource_dir for s in targets],
            "remaining": remaining}
    if dry_run:
        return Result("kernel remove", ExitCode.OK, data)
    require_consent(Msg("Delete {paths}?", paths=", ".join(s.resource_dir for s in targets)), yes=yes, confirm=confirm,
                    refusal=N_("delete a kernel"), hint=N_("pass --yes"))
    for s in targets:
        try:
            if os.path.islink(s.resource_dir):
                os.unlink(s.resource_dir)
            else:
                shutil.rmtree(s.resource_dir)
        except OSError as exc:
            raise EnvcheckError(
                Msg("cannot remove {resource_dir}: {reason}", resource_dir=s.resource_dir, reason=exc.strerror or exc),
                hint=Msg("it may belong to another user or the system (try with sudo)"),
                exit_code=ExitCode.PROBLEMS,
                code="kernel-remove-failed",
                data={**data, "removed": data["removed"]},
            ) from None
        data["removed"].append(s.resource_dir)
    data["would_remove"] = []
    return Result("kernel remove", ExitCode.OK, data)
