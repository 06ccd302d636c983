"""`envcheck create`: make a new environment with conda / mamba / micromamba / uv / venv, safely.

Safety rules (README: create):
- names and paths are validated before anything runs (exit 2);
- an existing env is never replaced without --force; with --force the old env is moved aside and
  put back if the new one fails, and a directory that is not an environment is never deleted;
- on failure or Ctrl-C (SIGTERM, SIGHUP) only what THIS run created is removed (exit 5 / 130);
- --dry-run runs only read-only probes (interpreter discovery, `conda env list --json`).

The machinery is envcheck/envs.py (plan_create, execute_create), shared with `install --execute`.
"""
from __future__ import annotations

import os
from typing import Mapping

from envcheck.envs import CreateRequest, env_lock_paths, execute_create, plan_create
from envcheck.errors import ExitCode, Msg
from envcheck.i18n import N_, tr
from envcheck.results import Result
from envcheck.runner import Runner
from envcheck.workflow import logs
from envcheck.workflow.consent import Confirm, require_consent
from envcheck.workflow.events import NULL, LogOpened, Sink
from envcheck.workflow.locks import hold
from envcheck.workflow.transaction import interrupts_roll_back


# --- the command --------------------------------------------------------------------------------


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
    sink: Sink = NULL,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
) -> Result:
    """`envcheck create`. `confirm` is None when stdin is not a terminal: then --yes is required."""
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    request = CreateRequest(python=python, name=name, prefix=prefix, backend=backend, force=force, mirror=mirror)
    if dry_run or (name is None) == (prefix is None):  # nothing changes (or plan_create says what is wrong)
        return _run(request, dry_run, yes, confirm, sink, runner, environ)
    # One run per env: the lock is taken before the "absent" check and held to the end (issue 14).
    with hold(env_lock_paths(name, prefix, environ), "env"):
        return _run(request, dry_run, yes, confirm, sink, runner, environ)


def _run(request: CreateRequest, dry_run: bool, yes: bool, confirm: Confirm | None, sink: Sink, runner: Runner,
         environ: Mapping[str, str]) -> Result:
    mirror = request.mirror
    plan = plan_create(request, runner, environ)
    warnings: list[str] = []
    if mirror and not plan.backend.backend.conda_family:
        warnings.append(Msg("--mirror is ignored by the {backend} backend (it installs no packages)",
                            backend=plan.backend.backend.value))
    data = {"dry_run": dry_run, "plan": plan.to_dict(), "warnings": warnings}
    if dry_run:
        return Result("create", ExitCode.OK, data)
    # The question is human text only: translated now.
    question = (Msg("Replace the environment at {path} with a new Python {python} env?", path=plan.existing,
                    python=plan.python) if plan.existing else
                Msg("Create a Python {python} environment at {where}?", python=plan.python, where=plan.prefix)
                if plan.prefix else
                Msg("Create a Python {python} environment at {backend} env {name}?", python=plan.python,
                    backend=plan.backend.backend.value, name=plan.name))
    require_consent(f"{tr(question)}\n  {plan.step.display()}\n{tr(Msg('Proceed?'))}", yes=yes, confirm=confirm,
                    refusal=N_("create an environment"))
    log_path = logs.new_log_path("create", plan.name or os.path.basename(plan.prefix or "env"), environ)
    sink.emit(LogOpened(log_path))
    with interrupts_roll_back():
        created = execute_create(plan, runner, log_path, sink, environ=environ)
    data["env"] = created.to_dict()
    data["kernel_command"] = kernel_add_command(created.python, created.name or os.path.basename(created.prefix))
    return Result("create", ExitCode.OK, data)


def kernel_add_command(python: str, env_name: str) -> str:
    """The `envcheck kernel add` line create suggests: shell-quoted (a prefix holding `$(...)` or spaces
    pastes as one safe word) and naming the real env, as a valid kernel name (issue 14)."""
    from envcheck.plans.install import kernel_name, shell_join

    return shell_join(["envcheck", "kernel", "add", "--python", python, "--name", kernel_name(env_name)])
