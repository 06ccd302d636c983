"""PURE argv builders for environments and Jupyter kernels: conda / mamba / micromamba / uv / venv,
pip and ipykernel. No subprocess, no os.environ, no filesystem: data in, argv tuples out.

The commands shown to users are `Step.display()`: shlex-quoted, so a copy-paste is safe.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from enum import Enum
from typing import Sequence

from envcheck.errors import Msg


class Backend(str, Enum):
    CONDA = "conda"
    MAMBA = "mamba"
    MICROMAMBA = "micromamba"
    UV = "uv"
    VENV = "venv"

    @property
    def conda_family(self) -> bool:
        return self in (Backend.CONDA, Backend.MAMBA, Backend.MICROMAMBA)


# `--backend auto`: the first of these found wins, then uv, then venv (issue 5). micromamba and mamba
# first because they solve the same specs as conda, much faster.
AUTO_ORDER = (Backend.MICROMAMBA, Backend.MAMBA, Backend.CONDA, Backend.UV, Backend.VENV)


class StepKind(str, Enum):
    RUN = "run"  # run argv
    REMOVE_TREE = "remove-tree"  # delete a directory tree (done in-process, shown as rm -rf)


@dataclass(frozen=True)
class Step:
    """One thing to do. `argv` is what runs (RUN) or what a shell user would type (REMOVE_TREE)."""

    argv: tuple[str, ...]
    description: str
    kind: StepKind = StepKind.RUN
    timeout_s: float = 600.0
    env: tuple[tuple[str, str], ...] = field(default=())  # extra environment variables
    path: str | None = None  # REMOVE_TREE: the directory

    def display(self) -> str:
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        cmd = shlex.join(self.argv)
        return f"{prefix} {cmd}" if prefix else cmd

    def to_dict(self) -> dict:
        return {
            "kind": self.kind.value,
            "argv": list(self.argv),
            "display": self.display(),
            "description": self.description,
            "env": dict(self.env),
            "timeout_s": self.timeout_s,
        }


CREATE_TIMEOUT_S = {  # generous: a conda solve on a slow mirror takes minutes
    Backend.CONDA: 1800.0,
    Backend.MAMBA: 1800.0,
    Backend.MICROMAMBA: 1800.0,
    Backend.UV: 300.0,
    Backend.VENV: 300.0,
}


def _target_args(name: str | None, prefix: str | None) -> list[str]:
    if (name is None) == (prefix is None):
        raise ValueError("exactly one of name and prefix is required")
    return ["-n", name] if name is not None else ["-p", prefix]


def plan_conda_create(
    executable: str,
    backend: Backend,
    python: str,
    *,
    name: str | None = None,
    prefix: str | None = None,
    channels: Sequence[str] = (),
) -> Step:
    """`conda create -n NAME python=X.Y -y [--override-channels -c URL ...]` (mamba/micromamba alike).

    `python=3.11` is a MatchSpec for 3.11.* (conda's "=" is a prefix match). With channels (from
    --mirror) `--override-channels` makes them the only source, as a mirror user expects; without,
    the tool's own configuration (.condarc / .mambarc) decides.
    """
    argv = [executable, "create", *_target_args(name, prefix), f"python={python}", "-y"]
    if channels:
        argv.append("--override-channels")
        for url in channels:
            argv += ["-c", url]
    title = (Msg("create {backend} env named {name} with Python {python}", backend=backend.value, name=name,
                 python=python) if name is not None else
             Msg("create {backend} env at {prefix} with Python {python}", backend=backend.value, prefix=prefix,
                 python=python))
    return Step(tuple(argv), title, timeout_s=CREATE_TIMEOUT_S[backend])


def plan_venv_create(base_python: str, prefix: str) -> Step:
    """`<python X.Y> -m venv PATH` (the venv gets pip from ensurepip, offline)."""
    return Step((base_python, "-m", "venv", prefix), Msg("create venv at {prefix}", prefix=prefix), timeout_s=CREATE_TIMEOUT_S[Backend.VENV])


def plan_uv_create(uv: str, python: str, prefix: str) -> Step:
    """`uv venv --python PYTHON PATH`.

    `python` is the interpreter envcheck found (a path) so uv never downloads one;
    UV_PYTHON_DOWNLOADS=never makes that explicit. The env has no pip (uv's default, no --seed):
    packages go in with `uv pip install --python ENV/bin/python ...`.
    """
    return Step(
        (uv, "venv", "--python", python, prefix),
        Msg("create uv venv at {prefix}", prefix=prefix),
        timeout_s=CREATE_TIMEOUT_S[Backend.UV],
        env=(("UV_PYTHON_DOWNLOADS", "never"),),
    )


def plan_conda_remove(executable: str, backend: Backend, *, name: str | None = None, prefix: str | None = None) -> Step:
    """`conda env remove -n NAME -y` (the same verb in conda, mamba 2 and micromamba)."""
    argv = (executable, "env", "remove", *_target_args(name, prefix), "-y")
    return Step(argv, Msg("remove {backend} env {target}", backend=backend.value, target=name or prefix), timeout_s=600.0)


def plan_remove_tree(path: str) -> Step:
    """Delete a venv/uv environment directory (done in-process; shown as `rm -rf -- PATH`)."""
    return Step(("rm", "-rf", "--", path), Msg("remove {path}", path=path), kind=StepKind.REMOVE_TREE, path=path, timeout_s=0)


def plan_env_remove(backend: Backend, executable: str | None, *, name: str | None = None, prefix: str | None = None) -> Step:
    """The step that removes an environment created with `backend`."""
    if backend.conda_family:
        if executable is None:
            raise ValueError("a conda-family removal needs the executable")
        return plan_conda_remove(executable, backend, name=name, prefix=prefix)
    if prefix is None:
        raise ValueError("a venv/uv removal needs the prefix")
    return plan_remove_tree(prefix)


def plan_conda_env_list(executable: str) -> tuple[str, ...]:
    """`conda env list --json` -> {"envs": [prefix, ...]} (read-only; conda, mamba, micromamba)."""
    return (executable, "env", "list", "--json")


class KernelScope(str, Enum):
    USER = "user"  # JUPYTER_DATA_DIR/kernels, else the per-user data dir
    SYS_PREFIX = "sys-prefix"  # <target env>/share/jupyter/kernels
    PREFIX = "prefix"  # DIR/share/jupyter/kernels


def plan_ipykernel_install(
    python: str,
    name: str,
    display_name: str,
    scope: KernelScope = KernelScope.USER,
    prefix_dir: str | None = None,
) -> Step:
    """`<target python> -m ipykernel install --name NAME --display-name TEXT (--user|--sys-prefix|--prefix DIR)`.

    Run by the TARGET interpreter: ipykernel writes its own sys.executable into kernel.json's argv,
    which is what makes the kernel launch the right Python.
    """
    argv = [python, "-m", "ipykernel", "install", "--name", name, "--display-name", display_name]
    if scope is KernelScope.USER:
        argv.append("--user")
    elif scope is KernelScope.SYS_PREFIX:
        argv.append("--sys-prefix")
    else:
        if not prefix_dir:
            raise ValueError("--prefix scope needs a directory")
        argv += ["--prefix", prefix_dir]
    return Step(tuple(argv), Msg("register Jupyter kernel {name}", name=name), timeout_s=120.0)


def plan_pip_install(
    python: str,
    packages: Sequence[str],
    *,
    uv: str | None = None,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    find_links: Sequence[str] = (),
) -> Step:
    """`<target python> -m pip install PKG...`, or `uv pip install --python PY PKG...` when `uv` is given
    (for uv-created envs, which have no pip). Index options go through unchanged."""
    if uv:
        argv = [uv, "pip", "install", "--python", python]
    else:
        argv = [python, "-m", "pip", "install"]
    if index_url:
        argv += ["--index-url", index_url]
    for url in extra_index_urls:
        argv += ["--extra-index-url", url]
    for link in find_links:
        argv += ["--find-links", link]
    argv += list(packages)
    tool = "uv pip" if uv else "pip"
    return Step(tuple(argv), Msg("install {packages} with {tool}", packages=" ".join(packages), tool=tool), timeout_s=900.0)


def activate_command(backend: Backend, *, name: str | None, prefix: str, windows: bool = False) -> str:
    """The line a user types to activate the environment (shlex-quoted)."""
    if backend.conda_family:
        tool = "micromamba" if backend is Backend.MICROMAMBA else "conda"
        return f"{tool} activate {shlex.quote(name) if name else shlex.quote(prefix)}"
    if windows:
        return f"{prefix}\\Scripts\\activate"
    return f"source {shlex.quote(prefix + '/bin/activate')}"
