"""`envcheck create`: make a new environment with conda / mamba / micromamba / uv / venv, safely.

Safety rules (README: create):
- names and paths are validated before anything runs (exit 2);
- an existing env is never replaced without --force; with --force the old env is moved aside and
  put back if the new one fails, and a directory that is not an environment is never deleted;
- on failure or Ctrl-C only what THIS run created is removed (exit 5 / 130), the log's tail is shown;
- --dry-run runs only read-only probes (interpreter discovery, `conda env list --json`).

Reusable without the CLI (the `install --execute` loop): `plan_create()` -> `execute_create()`, or
`create_environment()` for both; they take a Runner and a log path and return `CreatedEnv`.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.names import default_envs_dir, env_dir_for_name, validate_env_name, validate_prefix
from envcheck.plans.env import (
    AUTO_ORDER,
    Backend,
    Step,
    activate_command,
    plan_conda_create,
    plan_conda_env_list,
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
    parse_version_request,
)
from envcheck.results import Result
from envcheck.runner import Completed, Runner

Progress = Callable[[str], None]
Confirm = Callable[[str], bool]

LOG_TAIL_LINES = 20
def _noop(_: str) -> None:
    pass


# --- logs -------------------------------------------------------------------------------------


def log_dir(environ: Mapping[str, str] | None = None) -> str:
    """Where tool logs go: $ENVCHECK_LOG_DIR, else ~/.envcheck/logs."""
    environ = os.environ if environ is None else environ
    if environ.get("ENVCHECK_LOG_DIR"):
        return os.path.abspath(os.path.expanduser(environ["ENVCHECK_LOG_DIR"]))
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".envcheck", "logs")


def new_log_path(kind: str, label: str, environ: Mapping[str, str] | None = None) -> str:
    """A fresh log file path such as ~/.envcheck/logs/create-torch-20260127-101500-4242.log (dir created)."""
    directory = log_dir(environ)
    os.makedirs(directory, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label)[:60] or "env"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join(directory, f"{kind}-{safe}-{stamp}-{os.getpid()}.log")


def log_tail(path: str | None, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` lines of a log file ([] when unreadable)."""
    if not path:
        return []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return [line.rstrip("\n") for line in fh.readlines()[-lines:]]
    except OSError:
        return []


def _log(path: str | None, text: str) -> None:
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n")
    except OSError:
        pass


def run_logged(runner: Runner, step: Step, log_path: str | None, progress: Progress = _noop) -> Completed:
    """Run one RUN step, streaming its merged output into the log (header line `$ cmd` first)."""
    _log(log_path, f"$ {step.display()}")
    progress(f"running: {step.display()}")
    done = runner.stream(
        step.argv, timeout=step.timeout_s, env=dict(step.env) or None, log_path=log_path, merge_stderr=True
    )
    _log(log_path, f"# exit status {done.returncode} after {done.duration_s:.1f} s"
         + (f" ({done.describe_failure()})" if not done.ok else ""))
    return done


# --- interpreter discovery ---------------------------------------------------------------------


# --- backend choice -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendChoice:
    backend: Backend
    executable: str  # the tool (conda, uv) or, for venv, the base interpreter chosen later
    why: str

    def to_dict(self) -> dict:
        return {"backend": self.backend.value, "executable": self.executable, "why": self.why}


def _tool_path(backend: Backend, environ: Mapping[str, str]) -> str | None:
    found = shutil.which(backend.value, path=environ.get("PATH"))
    if found:
        return found
    # `conda` is often a shell function after `conda init`; the real executable is in CONDA_EXE
    # (micromamba's shell hook sets MAMBA_EXE). Only trust them when the file is there.
    var = {"conda": "CONDA_EXE", "micromamba": "MAMBA_EXE"}.get(backend.value)
    value = environ.get(var) if var else None
    if value and os.path.basename(value).startswith(backend.value) and os.access(value, os.X_OK):
        return value
    return None


def choose_backend(requested: str, environ: Mapping[str, str] | None = None) -> BackendChoice:
    """`auto`: the first of micromamba, mamba, conda found, else uv, else venv. An explicit backend
    must be installed (exit 4 otherwise). venv always exists (it is part of Python)."""
    environ = os.environ if environ is None else environ
    requested = (requested or "auto").lower()
    if requested != "auto":
        try:
            backend = Backend(requested)
        except ValueError:
            raise EnvcheckError(
                f"unknown backend {requested!r}",
                hint="choose one of auto, conda, mamba, micromamba, uv, venv",
                exit_code=ExitCode.USAGE,
                code="invalid-backend",
            ) from None
        if backend is Backend.VENV:
            return BackendChoice(backend, "venv", "--backend venv")
        path = _tool_path(backend, environ)
        if not path:
            raise EnvcheckError(
                f"--backend {backend.value}: {backend.value} was not found on PATH",
                hint=f"install {backend.value}, or use --backend auto to take what is installed",
                exit_code=ExitCode.TARGET_NOT_FOUND,
                code="backend-not-found",
            )
        return BackendChoice(backend, path, f"--backend {backend.value} ({path})")
    for backend in AUTO_ORDER:
        if backend is Backend.VENV:
            return BackendChoice(backend, "venv", "auto: no micromamba, mamba, conda or uv found; using Python's venv")
        path = _tool_path(backend, environ)
        if path:
            if backend.conda_family:
                why = f"auto: {backend.value} found at {path} (first of micromamba, mamba, conda)"
            else:
                why = f"auto: no micromamba, mamba or conda found; uv found at {path}"
            return BackendChoice(backend, path, why)
    raise AssertionError("unreachable: venv is always available")


# --- conda env lookup ---------------------------------------------------------------------------


def parse_conda_env_list(text: str) -> list[str] | None:
    """`conda env list --json` text -> env prefixes, or None when it is not that JSON (pure)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    envs = data.get("envs") if isinstance(data, dict) else None
    if not isinstance(envs, list) or not all(isinstance(e, str) for e in envs):
        return None
    return envs


def conda_env_prefix(runner: Runner, executable: str, name: str) -> str | None:
    """The prefix of the env called `name` that `executable` knows, else None.

    Shell equivalent: `conda env list --json`. Raises EnvcheckError (exit 5) when the list cannot be
    read: creating blind could let `conda create -y` replace an existing env.
    """
    done = runner.run(plan_conda_env_list(executable), timeout=60)
    envs = parse_conda_env_list(done.stdout) if done.ok else None
    if envs is None:
        raise EnvcheckError(
            f"cannot list the existing environments: {done.describe_failure() if not done.ok else 'unexpected output'}",
            hint=f"check that `{os.path.basename(executable)} env list --json` works, or use --prefix PATH",
            exit_code=ExitCode.TOOL_FAILED,
            code="env-list-failed",
        )
    for prefix in envs:
        if os.path.basename(os.path.normpath(prefix)) == name:
            return prefix
    return None


# --- plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRequest:
    python: str  # "3.11"
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
        raise EnvcheckError("pass exactly one of --name NAME and --prefix PATH",
                            hint="e.g. envcheck create --name torch --python 3.11", code="invalid-input")
    if request.name is not None:
        validate_env_name(request.name)
    prefix = validate_prefix(request.prefix) if request.prefix is not None else None
    version = parse_version_request(request.python or "")
    if not version:
        raise EnvcheckError(f"--python {request.python!r} is not a MAJOR.MINOR version",
                            hint="pass a version such as --python 3.11", code="invalid-python-version")
    if version[0] != 3:
        raise EnvcheckError(f"--python {request.python}: envcheck creates Python 3 environments",
                            hint="pass a version such as --python 3.11", code="invalid-python-version")
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
            raise EnvcheckError(f"{target} exists and is not a directory", hint="choose another path",
                                code="path-not-an-env")
        if state == "not-env":
            raise EnvcheckError(
                f"{target} exists and is not an environment (no pyvenv.cfg or conda-meta): envcheck will not touch it",
                hint="choose another --prefix/--name, or empty that directory yourself",
                code="path-not-an-env",
            )
        if state == "env":
            existing = target
        was_empty = state == "empty-dir"
    if existing and not request.force:
        raise EnvcheckError(
            f"an environment already exists at {existing}",
            hint="pass --force to replace it (the old one is kept until the new one works), or choose another name",
            code="env-exists",
        )

    base = None
    if backend.conda_family:
        step = plan_conda_create(choice.executable, backend, python, name=request.name if prefix is None else None,
                                 prefix=prefix, channels=channels)
    else:
        if request.base_python:
            base = check_interpreter(request.base_python, version[0], version[1], runner)
        else:
            base = find_interpreter(version[0], version[1], runner, environ)
        if base.path is None:
            raise EnvcheckError(
                f"no working Python {python} interpreter found for a {backend.value} environment",
                hint=f"install Python {python} (`uv python install {python}`, pyenv, or your OS packages), "
                "or use --backend conda / micromamba, which install Python themselves",
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


# --- execute ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedEnv:
    """A finished environment. `created` is True when this run made it (always, unless reused).

    `undo()` removes the env this run created and puts back the env --force replaced; `commit()`
    drops that backup. `create_environment(keep_backup=False)` commits at once; a multi-step caller
    (install --execute) passes keep_backup=True and calls commit() or undo() at the end.
    """

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
    undo: Callable[[], None] = field(compare=False, repr=False, default=lambda: None)
    commit: Callable[[], None] = field(compare=False, repr=False, default=lambda: None)

    def to_dict(self) -> dict:
        return {
            "backend": self.backend.value,
            "name": self.name,
            "prefix": self.prefix,
            "python": self.python,
            "python_version": self.python_version,
            "created": self.created,
            "replaced": self.replaced,
            "log_path": self.log_path,
            "duration_s": round(self.duration_s, 3),
            "tool_duration_s": round(self.tool_duration_s, 3),
            "activate": self.activate,
        }


def _rmtree(path: str) -> None:
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def _backup_path(prefix: str) -> str:
    base = os.path.normpath(prefix)
    candidate = f"{base}.envcheck-backup-{os.getpid()}"
    n = 0
    while os.path.lexists(candidate):
        n += 1
        candidate = f"{base}.envcheck-backup-{os.getpid()}-{n}"
    return candidate


class _Cleanup:
    """Removes what this run created and restores what --force moved aside. Idempotent."""

    def __init__(self, plan: CreatePlan, runner: Runner, log_path: str | None, progress: Progress):
        self.plan, self.runner, self.log_path, self.progress = plan, runner, log_path, progress
        self.backup: str | None = None
        self.started = False  # the creating tool ran (so something of ours may exist)
        self.prefix: str | None = plan.prefix
        self.done = False

    def remove_new(self) -> list[str]:
        removed: list[str] = []
        plan = self.plan
        if not self.started:
            return removed
        if plan.backend.backend.conda_family and plan.prefix is None and plan.name:
            # A new named conda env: it did not exist before this run (plan_create checked), so
            # whatever now carries that name is ours. Let the tool unregister it, then make sure.
            if self.prefix is None:
                try:
                    self.prefix = conda_env_prefix(self.runner, plan.backend.executable, plan.name)
                except EnvcheckError:
                    self.prefix = None
            step = plan_env_remove(plan.backend.backend, plan.backend.executable, name=plan.name)
            run_logged(self.runner, step, self.log_path, self.progress)
        target = self.prefix
        if target and os.path.lexists(target):
            _rmtree(target)
            removed.append(target)
        elif target and plan.backend.backend.conda_family and plan.prefix is None:
            removed.append(target)
        if target and plan.prefix_was_empty_dir and not os.path.exists(target):
            os.makedirs(target, exist_ok=True)  # it was an empty directory before: leave it so
        return removed

    def restore_backup(self) -> str | None:
        if self.backup and os.path.lexists(self.backup):
            original = self.plan.existing
            if original and not os.path.lexists(original):
                os.rename(self.backup, original)
                _log(self.log_path, f"# restored {original} from {self.backup}")
                return original
        return None

    def undo(self) -> dict:
        if self.done:
            return {"removed": [], "restored": None}
        self.done = True
        removed = self.remove_new()
        restored = self.restore_backup()
        return {"removed": removed, "restored": restored}

    def commit(self) -> None:
        if self.backup and os.path.lexists(self.backup):
            _rmtree(self.backup)
            _log(self.log_path, f"# removed the replaced env's backup {self.backup}")
        self.backup = None


def execute_create(
    plan: CreatePlan,
    runner: Runner,
    log_path: str | None,
    progress: Progress = _noop,
    keep_backup: bool = False,
) -> CreatedEnv:
    """Run the plan. On failure or Ctrl-C removes what this run created, restores a replaced env and
    raises EnvcheckError (exit 5 with `data.log_tail`, or 130)."""
    start = time.monotonic()
    cleanup = _Cleanup(plan, runner, log_path, progress)
    tool_s = 0.0
    try:
        if plan.existing:
            # --force: move the old env aside (same directory, so a rename), put it back on failure.
            cleanup.backup = _backup_path(plan.existing)
            os.rename(plan.existing, cleanup.backup)
            _log(log_path, f"# moved the existing env {plan.existing} aside to {cleanup.backup}")
            progress(f"moved the existing env aside to {cleanup.backup}")
        if plan.prefix:
            parent = os.path.dirname(plan.prefix)
            os.makedirs(parent, exist_ok=True)
        cleanup.started = True
        done = run_logged(runner, plan.step, log_path, progress)
        tool_s += done.duration_s
        if not done.ok:
            raise _StepFailed(plan.step, done)
        prefix = plan.prefix
        if prefix is None:  # conda -n: ask conda where it put it
            prefix = conda_env_prefix(runner, plan.backend.executable, plan.name or "")
            cleanup.prefix = prefix
            if prefix is None:
                raise _StepFailed(plan.step, done, f"{plan.backend.backend.value} reported success but "
                                  f"`env list` does not show {plan.name}")
        python = env_python(prefix)
        version, why = interpreter_version(runner, python)
        if version is None:
            raise _StepFailed(plan.step, done, f"the new env's interpreter {python} does not run: {why}")
        if version.rsplit(".", 1)[0] != plan.python:
            raise _StepFailed(plan.step, done, f"the new env has Python {version}, not {plan.python}")
    except _StepFailed as failed:
        undone = cleanup.undo()
        tail = log_tail(log_path)
        reason = failed.reason or failed.completed.describe_failure()
        for line in tail:
            progress(f"  | {line}")
        raise EnvcheckError(
            f"creating the environment failed: {reason}",
            hint=_failure_hint(plan, log_path, undone),
            exit_code=ExitCode.TOOL_FAILED,
            code="env-create-failed",
            data={"plan": plan.to_dict(), "log_path": log_path, "log_tail": tail, **undone},
        ) from None
    except KeyboardInterrupt:
        undone = cleanup.undo()
        raise EnvcheckError(
            "interrupted: " + (f"removed the partial environment {', '.join(undone['removed'])}"
                               if undone["removed"] else "nothing was left behind"),
            hint=(f"the previous env is back at {undone['restored']}" if undone["restored"] else None),
            exit_code=ExitCode.INTERRUPTED,
            code="interrupted",
            data={"log_path": log_path, **undone},
        ) from None
    if not keep_backup:
        cleanup.commit()
    return CreatedEnv(
        backend=plan.backend.backend,
        python=python,
        prefix=prefix,
        name=plan.name,
        python_version=version,
        created=True,
        replaced=plan.existing,
        log_path=log_path,
        duration_s=time.monotonic() - start,
        tool_duration_s=tool_s,
        activate=activate_command(plan.backend.backend, name=plan.name if plan.prefix is None else None, prefix=prefix),
        undo=lambda: cleanup.undo() and None,
        commit=cleanup.commit,
    )


class _StepFailed(Exception):
    def __init__(self, step: Step, completed: Completed, reason: str | None = None):
        super().__init__(reason or completed.describe_failure())
        self.step, self.completed, self.reason = step, completed, reason


def _failure_hint(plan: CreatePlan, log_path: str | None, undone: dict) -> str:
    parts = []
    if log_path:
        parts.append(f"full log: {log_path}")
    if undone.get("removed"):
        parts.append(f"removed what this run created ({', '.join(undone['removed'])})")
    if undone.get("restored"):
        parts.append(f"the previous env is back at {undone['restored']}")
    if plan.backend.backend.conda_family:
        parts.append("check the channels (--mirror) and that python=" + plan.python + " exists there")
    return "; ".join(parts) or "rerun with --dry-run to see the command"


def create_environment(
    request: CreateRequest,
    runner: Runner,
    log_path: str | None,
    environ: Mapping[str, str] | None = None,
    progress: Progress = _noop,
    keep_backup: bool = False,
) -> CreatedEnv:
    """plan_create + execute_create: no prompts (the caller asks). Raises EnvcheckError."""
    plan = plan_create(request, runner, environ)
    return execute_create(plan, runner, log_path, progress, keep_backup=keep_backup)


# --- the command --------------------------------------------------------------------------------


def mirror_channels(mirror: str | None, backend: Backend) -> tuple[str, ...]:
    """--mirror -> the conda channels to use instead of the configured ones.

    A URL (scheme://...) or an existing local channel directory is used as is. A name (tuna, ustc, ...)
    is looked up in configs/mirrors.json (envcheck.matrix): conda and mamba take its `main` channel
    (where `python` lives in the defaults layout); micromamba, whose ecosystem is conda-forge, takes
    its `conda-forge` channel (falling back to `main`).
    """
    if not mirror:
        return ()
    if "://" in mirror:
        return (mirror,)
    expanded = os.path.expanduser(mirror)
    if os.sep in mirror and os.path.isdir(expanded):
        return (os.path.abspath(expanded),)
    try:
        from envcheck.matrix import load_matrix

        mirrors = load_matrix().mirrors
    except Exception:  # a missing or invalid configs/ must not hide the real message below
        mirrors = {}
    entry = mirrors.get(mirror)
    if entry is None:
        known = ", ".join(sorted(mirrors)) or "none configured"
        raise EnvcheckError(
            f"unknown mirror {mirror!r}",
            hint=f"pass a known mirror name ({known}) or a conda channel URL",
            code="invalid-mirror",
        )
    keys = ("conda-forge", "main") if backend is Backend.MICROMAMBA else ("main",)
    for key in keys:
        url = entry.conda_channels.get(key)
        if url:
            return (url,)
    raise EnvcheckError(
        f"mirror {mirror!r} has no conda channel for {backend.value}",
        hint="pass a conda channel URL with --mirror, or omit --mirror to use your .condarc",
        code="invalid-mirror",
    )


def run(
    *,
    python: str,
    name: str | None = None,
    prefix: str | None = None,
    backend: str = "auto",
    force: bool = False,
    dry_run: bool = False,
    yes: bool = False,
    mirror: str | None = None,
    confirm: Confirm | None = None,
    progress: Progress = _noop,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
) -> Result:
    """`envcheck create`. `confirm` is None when stdin is not a terminal: then --yes is required."""
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    request = CreateRequest(python=python, name=name, prefix=prefix, backend=backend, force=force, mirror=mirror)
    plan = plan_create(request, runner, environ)
    warnings: list[str] = []
    if mirror and not plan.backend.backend.conda_family:
        warnings.append(f"--mirror is ignored by the {plan.backend.backend.value} backend (it installs no packages)")
    data = {"dry_run": dry_run, "plan": plan.to_dict(), "warnings": warnings}
    if dry_run:
        return Result("create", ExitCode.OK, data)
    if not yes:
        where = plan.prefix or f"{plan.backend.backend.value} env {plan.name}"
        question = (f"Replace the environment at {plan.existing} with a new Python {plan.python} env?"
                    if plan.existing else f"Create a Python {plan.python} environment at {where}?")
        question += f"\n  {plan.step.display()}\nProceed?"
        if confirm is None:
            raise EnvcheckError(
                "refusing to create an environment without confirmation: stdin is not a terminal",
                hint="pass --yes to proceed non-interactively (or --dry-run to see the command)",
                code="confirmation-required",
            )
        if not confirm(question):
            raise EnvcheckError("cancelled: nothing was changed", hint="pass --yes to skip the question",
                                code="cancelled")
    log_path = new_log_path("create", plan.name or os.path.basename(plan.prefix or "env"), environ)
    progress(f"log: {log_path}")
    created = execute_create(plan, runner, log_path, progress)
    data["env"] = created.to_dict()
    return Result("create", ExitCode.OK, data)
