"""`envcheck install --execute`: the whole loop for the recommendation of `envcheck install`.

    create the env -> install torch (+ torchvision, torchaudio) as recommended -> register a Jupyter
    kernel -> run the verification suite inside the new env

Built from the pieces the other commands use, never a copy of them: `decision.decide()` (the same
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
from typing import Callable, Mapping, Sequence

from envcheck.commands.install_plan import (
    INSTALL_TIMEOUT_S,
    ExecutePlan,
    ExecuteRequest,
    confirmation_question,
    parse_only,
    plan_execute,
    plan_install_argv,
)
from envcheck.errors import EnvcheckError, ExitCode, Msg, joined
from envcheck.proof import COMPANION_CHECKS, prove_installed
from envcheck.i18n import N_
from envcheck.inputs import normalize_find_links, normalize_index_url
from envcheck.results import Finding, Result, Severity
from envcheck.runner import Runner
from envcheck.workflow import logs
from envcheck.workflow.consent import require_consent
from envcheck.workflow.events import NULL, CommandStarted, FailureTail, LogOpened, Sink, Warn
from envcheck.workflow.hints import diagnose_installer, suggest_fix, unreachable_index
from envcheck.workflow.timing import TimedRunner, timing_split
from envcheck.workflow.transaction import Transaction, Undone, interrupts_roll_back

__all__ = ["ExecuteRequest", "ExecutePlan", "plan_execute", "execute", "run", "parse_only", "plan_install_argv",
           "confirmation_question", "find_links_from_pip_config", "timing_split", "suggest_fix"]

COMMAND = "install"


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
    steps = StepRunner([(s.id, s.title, s.commands()) for s in plan.steps], timed, sink)
    timed.on_line = steps.tool_line
    tx = Transaction(log_path)
    out: dict = {"env": None, "kernel": None, "findings": [], "verify": {}, "proof": {}, "warnings": []}

    def create(rec):
        created = out["env"] = execute_create(plan.create, timed, log_path, sink, tx=tx, environ=environ)
        if plan.env_python != created.python:  # conda -n: the interpreter's path is known only now
            quoted = shlex.quote(created.python)
            for r in steps.records:
                r.commands = [c.replace(plan.env_python, quoted) for c in r.commands]
        return "ok", Msg("{backend} env at {prefix} (Python {python})", backend=created.backend.value,
                         prefix=created.prefix, python=created.python_version)

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
                if isinstance(why, Msg) and why.params.get("name") == os.path.basename(done.argv[0]):
                    why = type(why)(why.msgid, **{**why.params, "name": "pip"})  # the same template
                else:
                    why = why.replace(os.path.basename(done.argv[0]), "pip", 1)
            found = diagnose_installer(done.stdout or "\n".join(tail), done.duration_s,
                                       "uv" if plan.route == "uv" else "pip")
            raise _Failed(Msg("{step} failed: {reason}", step=rec.title, reason=why), ExitCode.TOOL_FAILED, "install-failed",
                          suggest_fix(tail, done), {"log_tail": tail, "command": step.display(),
                                                    "cause": found.cause if found else None})
        unreachable = unreachable_index(done.stdout or "")
        if unreachable is not None:  # it worked, but not from where the plan pointed: say so
            where, reason = unreachable
            tool = "uv" if plan.route == "uv" else "pip"
            out["warnings"].append(Msg("the install step could not reach {where} ({reason}); {tool} took the packages "
                                       "from the other sources it knows (its configuration, --find-links): the "
                                       "verification below shows whether those builds belong together",
                                       where=where, reason=reason, tool=tool))
            sink.emit(Warn(out["warnings"][-1]))
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
                              listener=sink.verify_listener(), environ=environ,
                              # what this run installed must be there: missing is a failed check, live
                              require_packages=[p for p in plan.packages if p in COMPANION_CHECKS])
        out["verify"] = vres.data
        out["proof"] = prove_installed(plan.packages, vres.data, _not_planned(plan))
        s = vres.data.get("summary") or {}
        return ("fail" if s.get("failed") else "ok",
                Msg("{ok} passed, {failed} failed, {skipped} skipped", ok=s.get("ok", 0), failed=s.get("failed", 0),
                    skipped=s.get("skipped", 0)))

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
        **_plan_data(plan, dry_run=False, warnings=out["warnings"]),
        "env": created.to_dict(),
        "installed": list(plan.packages),
        "proof": out["proof"],
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


def _not_planned(plan: ExecutePlan) -> dict[str, str]:
    """Why a package of the release is not in this install: --only, or no release pairs with the torch."""
    rec, only = plan.recommendation, parse_only(plan.request.only)
    out = {}
    for pkg in COMPANION_CHECKS:
        if pkg in plan.packages:
            continue
        if not getattr(rec, pkg):
            out[pkg] = Msg("no {package} release pairs with torch {torch}", package=pkg, torch=rec.torch)
        elif only is not None and pkg not in only:
            out[pkg] = "--only"
    return out


def _plan_data(plan: ExecutePlan, *, dry_run: bool, warnings: Sequence[str] = ()) -> dict:
    return {
        "execute": True,
        "dry_run": dry_run,
        "recommendation": plan.recommendation.to_dict(),
        "inputs": {k: v.to_dict() for k, v in plan.decision.inputs.items()},
        "plan": plan.to_dict(),
        "warnings": list(plan.warnings) + list(warnings),
    }


def _next_steps(verify_data: dict, findings: Sequence[Finding]) -> list[str]:
    """Fixes for what failed although the install worked (failed checks, kernel findings)."""
    out = []
    for c in verify_data.get("checks") or []:
        if c.get("status") == "fail":
            out.append(_next_step(c["id"], c.get("message"), c.get("fix")))
    for f in findings:
        if f.severity == Severity.ERROR:
            out.append(_next_step(f.code, f.message, f.fix))
    return out


def _next_step(ident: str, message, fix) -> Msg:
    if fix:
        return Msg("{id}: {message} - fix: {fix}", id=ident, message=message, fix=fix)
    return Msg("{id}: {message}", id=ident, message=message)


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
    title = failed.title if failed is not None else Msg("planning")
    extra: dict = {}
    if isinstance(exc, KeyboardInterrupt):
        exit_code, code, message, fix = ExitCode.INTERRUPTED, "interrupted", "", None
    elif isinstance(exc, _Failed):
        exit_code, code, message, fix, extra = exc.exit_code, exc.code, exc.message, exc.hint, dict(exc.data)
    else:
        exit_code, code, fix, extra = exc.exit_code, exc.code, exc.hint, dict(exc.data)
        inner = exc.message
        if isinstance(inner, Msg) and inner.msgid == "creating the environment failed: {reason}":
            inner = inner.params["reason"]  # create's wording of the same thing
        elif inner.startswith("creating the environment failed: "):
            inner = inner[len("creating the environment failed: "):]
        message = Msg("{step} failed: {reason}", step=title, reason=inner)
    tail = extra.pop("log_tail", None)
    if exit_code == ExitCode.INTERRUPTED:
        message, code, fix, tail = Msg("interrupted during step: {step}", step=title), "interrupted", None, []
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
        parts.append(Msg("removed what this run created: {paths}", paths=joined(removed, ", ")))
    elif exit_code in (ExitCode.TOOL_FAILED, ExitCode.INTERRUPTED):
        parts.append(Msg("nothing was left behind"))
    if restored:
        parts.append(Msg("put back the previous {paths}", paths=joined(restored, ", ")))
    if fix:
        parts.append(Msg("fix: {fix}", fix=fix))
    parts.append(Msg("full log: {log_path}", log_path=log_path))
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
    return EnvcheckError(message, hint=joined(parts), exit_code=exit_code, code=code, data=data)


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
    if dry_run:
        return Result(COMMAND, ExitCode.OK, _plan_data(plan_execute(request, timed, environ), dry_run=True))
    plan = plan_execute(request, timed, environ)
    # One run per env and per kernel (issue 14): both locks, then the plan's "absent" checks again under
    # them (the env's name may be the default one, known only once the build is picked); held to the end.
    from envcheck.envs import env_lock_paths
    from envcheck.workflow.locks import hold, lock_path_for

    with hold(env_lock_paths(plan.create.name, plan.create.prefix, environ), "env"), \
            hold([lock_path_for(plan.kernel.resource_dir)] if plan.kernel else [], "kernel"):
        _still_as_planned(plan)
        return _run_locked(plan, yes, confirm, sink, timed, environ, started)


def _still_as_planned(plan: ExecutePlan) -> None:
    """Exit 2 when another run made the env or the kernel between the plan and the locks."""
    prefix = plan.create.prefix
    if prefix and not plan.create.existing and os.path.lexists(prefix) and not plan.create.prefix_was_empty_dir:
        raise EnvcheckError(Msg("an environment appeared at {prefix} while planning", prefix=prefix),
                            hint=Msg("another run made it: choose another --name/--prefix, or pass --force"),
                            code="env-exists")
    if plan.kernel and not plan.kernel.replaces and os.path.lexists(plan.kernel.resource_dir):
        raise EnvcheckError(Msg("a Jupyter kernel named {name!r} appeared at {resource_dir} while planning", name=plan.kernel.name, resource_dir=plan.kernel.resource_dir), hint=Msg("pass --kernel OTHER_NAME, --force to replace it, or --no-kernel"),
                            code="kernel-exists")


def _run_locked(plan: ExecutePlan, yes: bool, confirm, sink: Sink, timed, environ, started: float) -> Result:
    require_consent(confirmation_question(plan), yes=yes, confirm=confirm,
                    refusal=N_("create an environment and install PyTorch"),
                    hint=Msg("pass --yes to proceed non-interactively (or --dry-run to see every command)"))
    label = plan.create.name or os.path.basename(os.path.normpath(plan.create.prefix or "env"))
    log_path = logs.new_log_path("install", label, environ)
    for warning in plan.warnings:
        sink.emit(Warn(warning))
    sink.emit(LogOpened(log_path))
    with interrupts_roll_back():
        return execute(plan, timed, log_path=log_path, sink=sink, environ=environ, started=started)


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

