"""Creating environments, reusable without the CLI (`create` and `install --execute` use it).

`plan_create()` validates and decides (changes nothing); `execute_create()` runs the plan and undoes
what it made on failure or Ctrl-C; `create_environment()` does both. Pass a workflow Transaction to
make the env part of a bigger undo (install --execute).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Mapping

from envcheck.backends import BackendChoice, choose_backend, conda_env_prefix, mirror_channels
from envcheck.errors import EnvcheckError, ExitCode, Msg, joined
from envcheck.inputs import python_version_request
from envcheck.names import default_envs_dir, env_dir_for_name, validate_env_name, validate_prefix
from envcheck.plans.env import (
    Backend,
    Step,
    activate_command,
    plan_conda_create,
    plan_env_remove,
    plan_uv_create,
    plan_venv_create,
)
from envcheck.probes.python import (
    InterpreterSearch,
    check_interpreter,
    env_python,
    find_interpreter,
    interpreter_version,
)
from envcheck.registry import (
    add_to_registry,
    drop_from_registry,
    foreign_entries,
    foreign_entries_error,
    registered,
    write_marker,
)
from envcheck.runner import Completed, Runner
from envcheck.workflow import logs
from envcheck.workflow.events import NULL, FailureTail, Note, Sink, Warn
from envcheck.workflow.steps import run_logged
from envcheck.workflow.transaction import Transaction, remove_path


# --- plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRequest:
    python: str  # "3.11", or an interpreter (path, env dir, command) whose version is used
    name: str | None = None
    prefix: str | None = None
    backend: str = "auto"
    force: bool = False
    mirror: str | None = None  # a mirror name or channel URL (conda family only)
    base_python: str | None = None  # venv/uv: start from this interpreter (must be X.Y) instead of searching


def _path_state(path: str) -> str:
    """absent | empty-dir | env | not-env | file."""
    if not os.path.lexists(path):
        return "absent"
    if not os.path.isdir(path) or os.path.islink(path):
        return "file"
    if os.path.isfile(os.path.join(path, "pyvenv.cfg")) or os.path.isdir(os.path.join(path, "conda-meta")):
        return "env"
    try:
        return "empty-dir" if not os.listdir(path) else "not-env"
    except OSError:
        return "not-env"


@dataclass(frozen=True)
class CreatePlan:
    """Everything decided before anything changes. `prefix` is None only for a new conda -n env
    (conda picks its envs dir); `existing` is the env --force will replace (moved aside first)."""

    backend: BackendChoice
    python: str
    name: str | None
    prefix: str | None
    step: Step
    base_interpreter: InterpreterSearch | None = None
    existing: str | None = None
    prefix_was_empty_dir: bool = False
    envs_dir: str | None = None
    channels: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "backend": self.backend.backend.value,
            "backend_why": self.backend.why,
            "tool": self.backend.executable,
            "python": self.python,
            "name": self.name,
            "prefix": self.prefix,
            "replaces": self.existing,
            "base_interpreter": self.base_interpreter.path if self.base_interpreter else None,
            "envs_dir": self.envs_dir,
            "channels": list(self.channels),
            "commands": [self.step.display()],
        }


def plan_create(request: CreateRequest, runner: Runner, environ: Mapping[str, str] | None = None) -> CreatePlan:
    """Validate and decide; changes nothing. Raises EnvcheckError: 2 bad input or existing env without
    --force, 4 backend or interpreter not found, 5 env list failed."""
    environ = os.environ if environ is None else environ
    if (request.name is None) == (request.prefix is None):
        raise EnvcheckError(Msg("pass exactly one of --name NAME and --prefix PATH"),
                            hint=Msg("e.g. envcheck create --name torch --python 3.11"), code="invalid-input")
    if request.name is not None:
        validate_env_name(request.name)
    prefix = validate_prefix(request.prefix) if request.prefix is not None else None
    version, interpreter = python_version_request(request.python, runner, environ)  # exit 2 / 4
    base_python = request.base_python or interpreter
    if version[0] != 3:
        raise EnvcheckError(Msg("--python {python}: envcheck creates Python 3 environments", python=request.python),
                            hint=Msg("pass a version such as --python 3.11"), code="invalid-python-version")
    python = f"{version[0]}.{version[1]}"
    choice = choose_backend(request.backend, environ)
    backend = choice.backend
    channels = mirror_channels(request.mirror, backend) if backend.conda_family else ()

    envs_dir = None
    if backend.conda_family:
        existing = None
        if request.name is not None:
            existing = conda_env_prefix(runner, choice.executable, request.name)
        target = prefix
    else:
        if request.name is not None:
            envs_dir = default_envs_dir(environ)
            target = env_dir_for_name(request.name, envs_dir)
        else:
            target = prefix
        existing = None
    was_empty = False
    if target is not None:
        state = _path_state(target)
        if state == "file":
            raise EnvcheckError(Msg("{target} exists and is not a directory", target=target), hint=Msg("choose another path"),
                                code="path-not-an-env")
        if state == "not-env":
            raise EnvcheckError(
                Msg("{target} exists and is not an environment (no pyvenv.cfg or conda-meta): envcheck will not touch "
                    "it", target=target),
                hint=Msg("choose another --prefix/--name, or empty that directory yourself"),
                code="path-not-an-env",
            )
        if state == "env":
            existing = target
        was_empty = state == "empty-dir"
    if existing and request.force and os.path.isdir(existing):
        extra = foreign_entries(existing)  # a venv made inside a project: never delete the project (issue 14)
        if extra:
            raise foreign_entries_error(existing, "replace", extra)
    if existing and not request.force:
        raise EnvcheckError(
            Msg("an environment already exists at {existing}", existing=existing),
            hint=Msg("pass --force to replace it (the old one is kept until the new one works), or choose another name"),
            code="env-exists",
        )

    base = None
    if backend.conda_family:
        step = plan_conda_create(choice.executable, backend, python, name=request.name if prefix is None else None,
                                 prefix=prefix, channels=channels)
    else:
        if base_python:
            base = check_interpreter(base_python, version[0], version[1], runner)
        else:
            base = find_interpreter(version[0], version[1], runner, environ)
        if base.path is None:
            raise EnvcheckError(
                Msg("no working Python {python} interpreter found for a {backend} environment",
                    python=python, backend=backend.value),
                hint=Msg("install Python {python} (`uv python install {python}`, pyenv, or your OS packages), or use "
                         "--backend conda / micromamba, which install Python themselves", python=python),
                exit_code=ExitCode.TARGET_NOT_FOUND,
                code="interpreter-not-found",
                data={"tried": list(base.tried)},
            )
        if backend is Backend.UV:
            step = plan_uv_create(choice.executable, base.path, target)
        else:
            step = plan_venv_create(base.path, target)
            choice = BackendChoice(backend, base.path, choice.why)
    return CreatePlan(choice, python, request.name, target, step, base, existing, was_empty, envs_dir, channels)


def env_lock_paths(name: str | None, prefix: str | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The lock files a run that creates, replaces or removes this env holds (envcheck/workflow/locks.py):
    one beside the prefix, and one per NAME beside envs_dir/NAME, so two runs for the same name wait on
    each other whatever the backend (a conda -n env's prefix is known only after conda made it)."""
    from envcheck.workflow.locks import lock_path_for

    paths = []
    if prefix:
        paths.append(lock_path_for(validate_prefix(prefix)))
    if name:
        paths.append(lock_path_for(env_dir_for_name(name, default_envs_dir(environ))))
    return paths


# --- execute ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedEnv:
    """A finished environment made by this run."""

    backend: Backend
    python: str
    prefix: str
    name: str | None
    python_version: str | None
    created: bool
    replaced: str | None
    log_path: str | None
    duration_s: float
    tool_duration_s: float
    activate: str

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in ("name", "prefix", "python", "python_version", "created", "replaced",
                                              "log_path", "activate")}
        return {"backend": self.backend.value, **data, "duration_s": round(self.duration_s, 3),
                "tool_duration_s": round(self.tool_duration_s, 3)}


class _StepFailed(Exception):
    def __init__(self, completed: Completed, reason: str | None = None):
        super().__init__(reason or completed.describe_failure())
        self.completed, self.reason = completed, reason


def _register_undo(tx: Transaction, plan: CreatePlan, runner: Runner, log_path: str | None, sink: Sink) -> dict:
    """Register with `tx` how to remove what this run creates; returns the holder of the new prefix
    (a conda -n env's directory is known only after conda made it)."""
    where = {"prefix": plan.prefix}
    conda_named = plan.backend.backend.conda_family and plan.prefix is None and bool(plan.name)
    if plan.prefix and plan.prefix_was_empty_dir:  # runs after the removal: leave the empty dir as it was
        tx.on_rollback("env", f"recreate the empty directory {plan.prefix}",
                       lambda: os.makedirs(plan.prefix, exist_ok=True) or [])

    def remove_new() -> list[str]:
        if conda_named:
            # A new named conda env did not exist before this run (plan_create checked), so whatever
            # now carries that name is ours. Let the tool unregister it, then make sure.
            if where["prefix"] is None:
                try:
                    where["prefix"] = conda_env_prefix(runner, plan.backend.executable, plan.name)
                except EnvcheckError:
                    pass
            run_logged(runner, plan_env_remove(plan.backend.backend, plan.backend.executable, name=plan.name),
                       log_path, sink)
        target = where["prefix"]
        if target and os.path.lexists(target):
            remove_path(target)
            return [target]
        return [target] if target and conda_named else []

    tx.on_rollback("env", "remove the new environment", remove_new)
    return where


def execute_create(plan: CreatePlan, runner: Runner, log_path: str | None, sink: Sink = NULL,
                   tx: Transaction | None = None, environ: Mapping[str, str] | None = None) -> CreatedEnv:
    """Run the plan. Without `tx`: commits on success, and on failure or Ctrl-C removes what this run
    created, restores a replaced env and raises EnvcheckError (exit 5 with `data.log_tail`, or 130).
    With a caller's `tx`: registers the undo there and leaves commit/rollback to the caller.
    The new env is recorded as envcheck's (envcheck/registry.py) so `env list/remove` know it."""
    start = time.monotonic()
    own = tx is None
    tx = tx or Transaction(log_path)
    tool_s = 0.0
    try:
        if plan.existing:  # --force: move the old env aside (a rename); put back on failure
            backup = tx.move_aside(plan.existing, "env")
            sink.emit(Note(Msg("moved the existing env aside to {backup}", backup=backup)))
        if plan.prefix:
            os.makedirs(os.path.dirname(plan.prefix), exist_ok=True)
        where = _register_undo(tx, plan, runner, log_path, sink)
        done = run_logged(runner, plan.step, log_path, sink)
        tool_s += done.duration_s
        if not done.ok:
            raise _StepFailed(done)
        prefix = plan.prefix
        if prefix is None:  # conda -n: ask conda where it put it
            prefix = where["prefix"] = conda_env_prefix(runner, plan.backend.executable, plan.name or "")
            if prefix is None:
                raise _StepFailed(done, Msg("{tool} reported success but `env list` does not show {name}",
                                            tool=plan.backend.backend.value, name=plan.name))
        python = env_python(prefix)
        version, why = interpreter_version(runner, python)
        if version is None:
            raise _StepFailed(done, Msg("the new env's interpreter {python} does not run: {reason}", python=python,
                                        reason=why))
        if version.rsplit(".", 1)[0] != plan.python:
            raise _StepFailed(done, Msg("the new env has Python {version}, not {python}", version=version,
                                        python=plan.python))
    except _StepFailed as failed:
        undone = _undone(tx.rollback()) if own else {}
        tail = logs.tail(log_path)
        if own:
            sink.emit(FailureTail(tuple(tail)))
        raise EnvcheckError(
            Msg("creating the environment failed: {reason}",
                reason=failed.reason or failed.completed.describe_failure()),
            hint=_failure_hint(plan, log_path, undone),
            exit_code=ExitCode.TOOL_FAILED,
            code="env-create-failed",
            data={"plan": plan.to_dict(), "log_path": log_path, "log_tail": tail, **undone},
        ) from None
    except KeyboardInterrupt:
        if not own:
            raise
        undone = _undone(tx.rollback())
        raise EnvcheckError(
            Msg("interrupted: removed the partial environment {paths}", paths=joined(undone["removed"], ", "))
            if undone["removed"] else Msg("interrupted: nothing was left behind"),
            hint=(Msg("the previous env is back at {path}", path=undone["restored"]) if undone["restored"] else None),
            exit_code=ExitCode.INTERRUPTED,
            code="interrupted",
            data={"log_path": log_path, **undone},
        ) from None
    _record_created(tx, plan, prefix, sink, environ)
    if own:
        tx.commit()
    return CreatedEnv(
        backend=plan.backend.backend, python=python, prefix=prefix, name=plan.name, python_version=version,
        created=True, replaced=plan.existing, log_path=log_path, duration_s=time.monotonic() - start,
        tool_duration_s=tool_s,
        activate=activate_command(plan.backend.backend, name=plan.name if plan.prefix is None else None, prefix=prefix),
    )


def _record_created(tx: Transaction, plan: CreatePlan, prefix: str, sink: Sink,
                    environ: Mapping[str, str] | None) -> None:
    """The marker inside the new env (removed with it on rollback) and its entry in the index (dropped
    on rollback unless the index already had that path: a --force replacement put back keeps its entry).
    Failing to record never fails the create: the env works, only `env remove` will refuse it."""
    try:
        write_marker(prefix, name=plan.name, backend=plan.backend.backend, python=plan.python)
        known = registered(prefix, environ)
        add_to_registry(prefix, plan.name, plan.backend.backend, environ)
    except OSError as exc:
        sink.emit(Warn(Msg("could not record {prefix} as made by envcheck ({reason}): "
                           "`envcheck env list/remove` will not know it", prefix=prefix, reason=exc.strerror or exc)))
        return
    if not known:
        tx.on_rollback("env", f"drop {prefix} from envcheck's index",
                       lambda: drop_from_registry(prefix, environ) or [])


def _undone(report) -> dict:
    """create's JSON shape of a rollback: {"removed": [paths], "restored": path or None}."""
    restored = report.paths("restored", "env")
    return {"removed": report.paths("removed", "env"), "restored": restored[0] if restored else None}


def _failure_hint(plan: CreatePlan, log_path: str | None, undone: dict) -> str:
    parts = []
    if log_path:
        parts.append(Msg("full log: {log_path}", log_path=log_path))
    if undone.get("removed"):
        parts.append(Msg("removed what this run created ({paths})", paths=joined(undone["removed"], ", ")))
    if undone.get("restored"):
        parts.append(Msg("the previous env is back at {path}", path=undone["restored"]))
    if plan.backend.backend.conda_family:
        parts.append(Msg("check the channels (--mirror) and that python={python} exists there", python=plan.python))
    return joined(parts) if parts else Msg("rerun with --dry-run to see the command")


def create_environment(request: CreateRequest, runner: Runner, log_path: str | None,
                       environ: Mapping[str, str] | None = None, sink: Sink = NULL,
                       tx: Transaction | None = None) -> CreatedEnv:
    """plan_create + execute_create: no prompts (the caller asks). Raises EnvcheckError."""
    plan = plan_create(request, runner, environ)
    return execute_create(plan, runner, log_path, sink, tx=tx, environ=environ)
