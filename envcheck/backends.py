"""Which tool makes an environment, which conda envs exist, which channels a --mirror means.

Shared by `create`, `kernel add --env` and `install --execute` (so no command imports another's).
Read-only: `conda env list --json` is the only tool it runs.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from typing import Mapping

from envcheck.errors import EnvcheckError, ExitCode, Msg
from envcheck.plans.env import AUTO_ORDER, Backend, plan_conda_env_list
from envcheck.runner import Runner


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
                Msg("unknown backend {requested!r}", requested=requested),
                hint=Msg("choose one of auto, conda, mamba, micromamba, uv, venv"),
                exit_code=ExitCode.USAGE,
                code="invalid-backend",
            ) from None
        if backend is Backend.VENV:
            return BackendChoice(backend, "venv", "--backend venv")
        path = _tool_path(backend, environ)
        if not path:
            raise EnvcheckError(
                Msg("--backend {backend}: {backend} was not found on PATH", backend=backend.value),
                hint=Msg("install {backend}, or use --backend auto to take what is installed", backend=backend.value),
                exit_code=ExitCode.TARGET_NOT_FOUND,
                code="backend-not-found",
            )
        return BackendChoice(backend, path, f"--backend {backend.value} ({path})")
    for backend in AUTO_ORDER:
        if backend is Backend.VENV:
            return BackendChoice(backend, "venv", Msg("auto: no micromamba, mamba, conda or uv found; using Python's "
                                                      "venv"))
        path = _tool_path(backend, environ)
        if path:
            if backend.conda_family:
                why = Msg("auto: {backend} found at {path} (first of micromamba, mamba, conda)", backend=backend.value,
                          path=path)
            else:
                why = Msg("auto: no micromamba, mamba or conda found; uv found at {path}", path=path)
            return BackendChoice(backend, path, why)
    raise AssertionError("unreachable: venv is always available")


# --- conda env lookup ---------------------------------------------------------------------------


def parse_conda_env_list(text: str) -> list[str] | None:
    """`conda env list --json` text -> env prefixes, or None when it is not that JSON (pure)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
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
            Msg("cannot list the existing environments: {reason}",
                reason=done.describe_failure() if not done.ok else 'unexpected output'),
            hint=Msg("check that `{tool} env list --json` works, or use --prefix PATH",
                     tool=os.path.basename(executable)),
            exit_code=ExitCode.TOOL_FAILED,
            code="env-list-failed",
        )
    for prefix in envs:
        if os.path.basename(os.path.normpath(prefix)) == name:
            return prefix
    return None


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
            Msg("unknown mirror {mirror!r}", mirror=mirror),
            hint=Msg("pass a known mirror name ({known}) or a conda channel URL", known=known),
            code="invalid-mirror",
        )
    keys = ("conda-forge", "main") if backend is Backend.MICROMAMBA else ("main",)
    for key in keys:
        url = entry.conda_channels.get(key)
        if url:
            return (url,)
    raise EnvcheckError(
        Msg("mirror {mirror!r} has no conda channel for {backend}", mirror=mirror, backend=backend.value),
        hint=Msg("pass a conda channel URL with --mirror, or omit --mirror to use your .condarc"),
        code="invalid-mirror",
    )
