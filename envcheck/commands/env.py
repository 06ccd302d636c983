"""`envcheck env list | remove`: the environments envcheck created, and removing one safely.

What envcheck created is known from the marker it writes into each env it makes and the index of where
they are (envcheck/registry.py, written by envs.execute_create for `create` and `install --execute`).

Safety rules (docs/commands/env.md):
- only a directory whose marker is envcheck's, names that very directory, and which still looks like the
  env it describes is ever removed; anything else is refused with the reason (exit 2);
- venv/uv envs: the directory is renamed aside, then deleted (the marker and pyvenv.cfg last, so a
  partial failure leaves an env `env remove` still recognises); conda-family envs are removed by their
  own tool (`conda env remove -n NAME -y`, or `-p PREFIX` when conda's NAME is another directory);
- the Jupyter kernels that launch the env's interpreter are removed with it, kernels of other envs are
  kept; a failure or Ctrl-C puts the kernels (and a renamed venv) back;
- the active environment is never removed (exit 2); consent is asked (or --yes; exit 2 without a tty).

The removal is a list of workflow steps (kernels, env) with one Transaction, like install --execute, so
a per-env lock can wrap it in one place.
"""
from __future__ import annotations

import os
import stat
from typing import Mapping

from envcheck.errors import EnvcheckError, ExitCode, Msg, joined
from envcheck.i18n import N_, tr
from envcheck.names import default_envs_dir, validate_env_name, validate_prefix
from envcheck.plans.env import Step, plan_env_remove
from envcheck.probes.jupyter import KernelSpecInfo, default_prefixes, probe_kernelspecs
from envcheck.probes.python import env_python
from envcheck.probes.torchinfo import probe_pyinfo, torch_from_pyinfo
from envcheck.registry import (
    MARKER,
    Candidate,
    CreatedEnvRecord,
    candidates,
    drop_from_registry,
    foreign_entries,
    foreign_entries_error,
    read_marker,
)
from envcheck.results import Result
from envcheck.runner import Runner
from envcheck.workflow import logs
from envcheck.workflow.consent import Confirm, require_consent
from envcheck.workflow.events import NULL, FailureTail, LogOpened, Sink
from envcheck.workflow.transaction import Transaction, interrupts_roll_back, remove_path

# --- shared: kernels and size ---------------------------------------------------------------------


def _inside(path: str, prefix: str) -> bool:
    root = os.path.normcase(os.path.abspath(prefix)).rstrip(os.sep) + os.sep
    return os.path.normcase(os.path.abspath(path)).startswith(root)


def kernels_launching(prefix: str, specs) -> list[KernelSpecInfo]:
    """The kernelspecs whose argv[0] is inside `prefix` (compared as written, not through symlinks: a
    venv's bin/python links to the base interpreter, which other envs' kernels may launch too)."""
    return [s for s in specs if s.argv and os.path.isabs(s.argv[0]) and _inside(s.argv[0], prefix)]


def probe_disk_usage(path: str) -> int | None:
    """Bytes on disk under `path`, like `du -s -B1` (allocated blocks; hard links counted once; symlinks
    not followed). None when unreadable."""
    total, seen, stack = 0, set(), [path]
    try:
        while stack:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if st.st_nlink > 1:
                        if (st.st_dev, st.st_ino) in seen:
                            continue
                        seen.add((st.st_dev, st.st_ino))
                    total += getattr(st, "st_blocks", 0) * 512 if hasattr(st, "st_blocks") else st.st_size
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(entry.path)
    except OSError:
        return None
    return total


def _kernel_dicts(kernels) -> list[dict]:
    return [{"name": k.name, "resource_dir": k.resource_dir, "display_name": k.display_name} for k in kernels]


# --- env list -----------------------------------------------------------------------------------


def describe_env(record: CreatedEnvRecord, runner: Runner, specs, size: bool = True) -> dict:
    """One env for `env list`: the interpreter's version and torch (inenv/pyinfo.py run by the env's
    interpreter: torch is never imported), the kernels launching it, its size on disk."""
    python = env_python(record.prefix)
    info = probe_pyinfo(runner, python)
    torch = torch_from_pyinfo(info)
    return {
        **record.to_dict(),
        "python": python,
        "python_version": info.version if info.ok else None,
        "python_reason": None if info.ok else info.reason,
        "torch": torch.to_dict(),
        "kernels": _kernel_dicts(kernels_launching(record.prefix, specs)),
        "size_bytes": probe_disk_usage(record.prefix) if size else None,
    }


def run_list(*, size: bool = True, runner: Runner | None = None, environ: Mapping[str, str] | None = None) -> Result:
    """`envcheck env list`: every env envcheck created that is still there; the index's other entries
    under `ignored` with the reason they are not trusted."""
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    found = candidates(environ)
    specs = probe_kernelspecs(environ, default_prefixes(environ)) if any(c.record for c in found) else ()
    envs = [describe_env(c.record, runner, specs, size) for c in found if c.record]
    ignored = [{"prefix": c.prefix, "name": c.name, "why": c.why_not} for c in found if c.record is None]
    data = {"envs_dir": default_envs_dir(environ), "envs": envs, "ignored": ignored}
    return Result("env list", ExitCode.OK, data)


# --- env remove: which env ------------------------------------------------------------------------


def _refuse(prefix: str, why: str) -> EnvcheckError:
    return EnvcheckError(
        Msg("refusing to remove {prefix}: {why}", prefix=prefix, why=why),
        hint=Msg("envcheck removes only environments it created (`envcheck env list` shows them); remove this one with "
                 "the tool that made it"),
        exit_code=ExitCode.USAGE, code="env-not-created-by-envcheck", data={"prefix": prefix, "why": why},
    )


def _not_found(target: str, envs_dir: str) -> EnvcheckError:
    return EnvcheckError(
        Msg("no environment created by envcheck named {target!r}", target=target),
        hint=Msg("`envcheck env list` shows them (looked in envcheck's index and {envs_dir})", envs_dir=envs_dir),
        exit_code=ExitCode.TARGET_NOT_FOUND, code="env-not-found",
    )


def _is_path(target: str) -> bool:
    return os.sep in target or (os.altsep or os.sep) in target or target.startswith(("~", "."))


def find_removable(target: str, environ: Mapping[str, str]) -> CreatedEnvRecord:
    """NAME (as `env list` shows it) or a PATH -> the trusted record. Raises EnvcheckError: 2 invalid,
    not created by envcheck, ambiguous, active; 4 not found."""
    envs_dir = default_envs_dir(environ)
    if _is_path(target):
        prefix = validate_prefix(target)
        record, why = read_marker(prefix)
        if record is None:
            if not os.path.lexists(prefix):
                raise EnvcheckError(Msg("no environment at {prefix}", prefix=prefix), hint=Msg("`envcheck env list` shows envcheck's envs"),
                                    exit_code=ExitCode.TARGET_NOT_FOUND, code="env-not-found")
            raise _refuse(prefix, why or "unknown")
    else:
        validate_env_name(target)
        found: list[Candidate] = [c for c in candidates(environ) if c.name == target]
        trusted = [c.record for c in found if c.record]
        if len(trusted) > 1:
            raise EnvcheckError(
                f"{len(trusted)} environments created by envcheck are named {target!r}: "
                + ", ".join(r.prefix for r in trusted),
                hint=Msg("pass the path of the one to remove: envcheck env remove PATH"),
                exit_code=ExitCode.USAGE, code="env-name-ambiguous")
        if trusted:
            record = trusted[0]
        else:
            present = [c for c in found if os.path.lexists(c.prefix)]
            in_dir = os.path.join(envs_dir, target)
            if present:
                raise _refuse(present[0].prefix, present[0].why_not or "unknown")
            if os.path.lexists(in_dir):
                raise _refuse(in_dir, read_marker(in_dir)[1] or "unknown")
            raise _not_found(target, envs_dir)
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        active = environ.get(var)
        if active and os.path.realpath(active) == os.path.realpath(record.prefix):
            raise EnvcheckError(Msg("{prefix} is the active environment ({var})", prefix=record.prefix, var=var),
                                hint=Msg("deactivate it first (`deactivate` / `conda deactivate`), then retry"),
                                exit_code=ExitCode.USAGE, code="env-active")
    return record


def removal_step(record: CreatedEnvRecord, runner: Runner, environ: Mapping[str, str]) -> Step:
    """`conda env remove -n NAME -y` for a named conda-family env that the tool resolves to this very
    prefix (`-p PREFIX` otherwise); an in-process tree removal (shown as rm -rf) for venv/uv."""
    if not record.backend.conda_family:
        return plan_env_remove(record.backend, None, prefix=record.prefix)
    from envcheck.backends import choose_backend, conda_env_prefix

    exe = choose_backend(record.backend.value, environ).executable  # exit 4 when the tool is gone
    named = None
    if record.name and os.path.basename(os.path.normpath(record.prefix)) == record.name:
        known = conda_env_prefix(runner, exe, record.name)  # exit 5 when the list cannot be read
        if known and os.path.realpath(known) == os.path.realpath(record.prefix):
            named = record.name
    if named:
        return plan_env_remove(record.backend, exe, name=named)
    return plan_env_remove(record.backend, exe, prefix=record.prefix)


# --- env remove: doing it ---------------------------------------------------------------------------


def _delete_env_tree(path: str) -> None:
    """Delete a venv directory; its marker, pyvenv.cfg and conda-meta go last, so what a failure leaves
    behind is still recognisably envcheck's env (and `env remove` can be retried)."""
    last = {MARKER, "pyvenv.cfg", "conda-meta"}
    with os.scandir(path) as it:
        names = sorted(e.name for e in it)
    for name in [n for n in names if n not in last] + [n for n in names if n in last and n != MARKER] + [MARKER]:
        child = os.path.join(path, name)
        if os.path.lexists(child):
            remove_path(child)
    os.rmdir(path)


def execute_remove(record: CreatedEnvRecord, step: Step, kernels, runner: Runner, *, log_path: str | None,
                   sink: Sink = NULL, environ: Mapping[str, str] | None = None) -> dict:
    """Remove the kernels (stashed until the end) and the env, as two workflow steps in one Transaction.
    Returns what was removed; raises EnvcheckError (5 a tool or the deletion failed, 130 interrupted)
    after putting back what can be put back."""
    from envcheck.workflow.steps import StepRunner, run_logged
    from envcheck.workflow.timing import TimedRunner

    environ = os.environ if environ is None else environ
    timed = runner if isinstance(runner, TimedRunner) else TimedRunner(runner)
    kernel_dirs = [k.resource_dir for k in kernels]
    steps = StepRunner([("kernels", Msg("remove the Jupyter kernels that launch it"), [f"rm -rf -- {d}" for d in kernel_dirs]),
                        ("env", Msg("remove the {backend} environment", backend=record.backend.value),
                         [step.display()])], timed, sink)
    tx = Transaction(log_path)
    out: dict = {"kernels": [], "env": None, "warnings": []}

    def remove_kernels(rec):
        for d in kernel_dirs:
            try:
                tx.stash(d, "kernel")  # deleted at commit, put back on failure
            except OSError as exc:
                raise EnvcheckError(Msg("cannot remove the kernel {path}: {reason}",
                                        path=d, reason=exc.strerror or exc),
                                    hint=Msg("it may belong to another user or the system (check the permissions)"),
                                    exit_code=ExitCode.TOOL_FAILED, code="env-remove-failed") from None
            out["kernels"].append(d)
        return "ok", Msg("{count} kernel(s)", count=len(kernel_dirs))

    def remove_env(rec):
        if record.backend.conda_family:
            done = run_logged(timed, step, log_path, sink)
            if not done.ok:
                raise EnvcheckError(Msg("{description} failed: {reason}",
                                        description=step.description, reason=done.describe_failure()),
                                    hint=Msg("full log: {log_path}", log_path=log_path), exit_code=ExitCode.TOOL_FAILED,
                                    code="env-remove-failed", data={"log_tail": logs.step_tail(log_path),
                                                                    "command": step.display()})
            if os.path.lexists(record.prefix):
                out["warnings"].append(Msg("{tool} reported success but left {prefix} behind (files it does not manage): "
                                           "check and delete it yourself", tool=os.path.basename(step.argv[0]),
                                           prefix=record.prefix))
        else:
            logs.append(log_path, f"$ {step.display()}")
            try:
                backup = tx.move_aside(record.prefix, "env")  # a rename: instant, and undone on failure
                _delete_env_tree(backup)
            except OSError as exc:
                raise EnvcheckError(Msg("cannot delete {prefix}: {reason}{where}", prefix=record.prefix,
                                        reason=exc.strerror or exc, where=f" ({exc.filename})" if exc.filename else ""),
                                    hint=Msg("it may hold files of another user (check the permissions); what is left "
                                             "is back in place and `envcheck env remove` can be retried"),
                                    exit_code=ExitCode.TOOL_FAILED, code="env-remove-failed") from None
        out["env"] = record.prefix
        return "ok", record.prefix

    try:
        steps.execute([("kernels", remove_kernels), ("env", remove_env)])
    except BaseException as exc:  # noqa: B036 - put back what can be put back, then report
        interrupted = isinstance(exc, KeyboardInterrupt)
        failed = steps.abort(interrupted)
        report = tx.rollback()
        back = report.paths("restored")
        restored = Msg("put back: {paths}", paths=joined(back, ", ")) if back else Msg("nothing was removed")
        if isinstance(exc, EnvcheckError):
            tail = exc.data.get("log_tail") or []
            if tail:
                sink.emit(FailureTail(tuple(tail)))
            raise EnvcheckError(exc.message, hint=joined([exc.hint, restored]) if exc.hint else restored,
                                exit_code=exc.exit_code, code=exc.code,
                                data={**exc.data, "failed_step": failed.id if failed else None,
                                      "steps": steps.to_dicts(), "restored": back}) from None
        if interrupted:
            raise EnvcheckError(Msg("interrupted during step: {step}", step=failed.title if failed else 'env remove'),
                                hint=restored, exit_code=ExitCode.INTERRUPTED, code="interrupted",
                                data={"steps": steps.to_dicts(), "restored": back}) from None
        raise
    tx.commit()
    try:
        drop_from_registry(record.prefix, environ)
    except OSError as exc:
        out["warnings"].append(Msg("could not update envcheck's index ({reason})", reason=exc.strerror or exc))
    out["steps"] = steps.to_dicts()
    return out


def run_remove(
    target: str,
    *,
    yes: bool = False,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    sink: Sink = NULL,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
) -> Result:
    """`envcheck env remove NAME|PATH`. `confirm` is None when stdin is not a terminal: then --yes is required."""
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    record = find_removable(target, environ)
    if dry_run:
        return _run_remove(target, record, yes, dry_run, confirm, sink, runner, environ)
    from envcheck.envs import env_lock_paths
    from envcheck.workflow.locks import hold

    try:
        paths = env_lock_paths(record.name, record.prefix, environ)
    except EnvcheckError:  # a conda name that is not a valid envcheck name: the prefix's lock only
        paths = env_lock_paths(None, record.prefix, environ)
    with hold(paths, "env"):  # one run per env (issue 14); what is there is read again under the lock
        return _run_remove(target, find_removable(target, environ), yes, dry_run, confirm, sink, runner, environ)


def _run_remove(target: str, record: CreatedEnvRecord, yes: bool, dry_run: bool, confirm: Confirm | None,
                sink: Sink, runner: Runner, environ: Mapping[str, str]) -> Result:
    extra = foreign_entries(record.prefix)  # files put in the env after envcheck made it: never deleted
    if extra:
        raise foreign_entries_error(record.prefix, "remove", extra)
    specs = probe_kernelspecs(environ, default_prefixes(environ))
    # Kernels inside the env itself (--sys-prefix) go with its directory.
    kernels = [k for k in kernels_launching(record.prefix, specs) if not _inside(k.resource_dir, record.prefix)]
    step = removal_step(record, runner, environ)
    data = {"dry_run": dry_run, "env": record.to_dict(), "kernels": _kernel_dicts(kernels),
            "commands": [step.display()], "removed": {"env": None, "kernels": []}, "warnings": []}
    if dry_run:
        return Result("env remove", ExitCode.OK, data)
    # Each command and path on a line of its own: a terminal folds long lines, never mid-path here.
    # The question is human text only: translated now.
    question = [tr(Msg("Remove the {backend} environment {name}:", backend=record.backend.value, name=record.name)
                   if record.name else Msg("Remove the {backend} environment:", backend=record.backend.value)),
                f"  {step.display()}"]
    if kernels:
        question += [tr(Msg("and the Jupyter kernel(s) that launch it:"))] + [f"  rm -rf -- {k.resource_dir}"
                                                                          for k in kernels]
    require_consent("\n".join(question + [tr(Msg("Proceed?"))]), yes=yes, confirm=confirm,
                    refusal=N_("remove an environment"))
    from envcheck.workflow.locks import hold, lock_path_for

    # The kernels' own locks too (the ones `kernel add/remove` take): a kernel being rewritten by another
    # run is waited for, or named, never deleted under it. Under the locks the kernels are read again.
    with hold([lock_path_for(k.resource_dir) for k in kernels], "kernel"):
        locked = {k.resource_dir for k in kernels}
        again = kernels_launching(record.prefix, probe_kernelspecs(environ, default_prefixes(environ)))
        kernels = [k for k in again if k.resource_dir in locked]
        data["kernels"] = _kernel_dicts(kernels)
        log_path = logs.new_log_path("env-remove", record.name or os.path.basename(record.prefix), environ)
        sink.emit(LogOpened(log_path))
        with interrupts_roll_back():
            done = execute_remove(record, step, kernels, runner, log_path=log_path, sink=sink, environ=environ)
    data["removed"] = {"env": done["env"], "kernels": done["kernels"]}
    data["warnings"] = done["warnings"]
    data["steps"] = done["steps"]
    data["log_path"] = log_path
    return Result("env remove", ExitCode.OK, data)
