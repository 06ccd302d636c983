"""Validation of user-supplied names: environment names, env prefixes, Jupyter kernel names.

Everything here is pure (no filesystem access except `os.path` arithmetic) and runs before any tool
does, so a hostile or mistyped name exits 2 with nothing changed.
"""
from __future__ import annotations

import os
import re
import unicodedata
from typing import Mapping

from envcheck.errors import EnvcheckError, ExitCode, Msg

# conda rejects these in an environment name: conda/base/constants.py
# PREFIX_NAME_DISALLOWED_CHARS = {"/", " ", ":", "#"}, checked by PrefixData.validate_name()
# (conda/core/prefix_data.py); PrefixData.from_name() also rejects "\\" (a path separator).
# https://github.com/conda/conda/blob/main/conda/base/constants.py
CONDA_DISALLOWED_CHARS = frozenset({"/", " ", ":", "#", "\\"})
# conda/base/constants.py RESERVED_ENV_NAMES = ("base", "root"): both mean the root environment.
CONDA_RESERVED_NAMES = ("base", "root")
# Characters a shell would interpret. Commands run as argv lists (never a shell), but names end up in
# the `conda activate NAME` / `source PATH/bin/activate` lines users copy-paste, and in paths.
SHELL_METACHARACTERS = frozenset(";&|$`<>()[]{}*?!~'\"\\=%^,@")
# What envcheck accepts: a portable, copy-paste-safe subset of what conda and file systems accept.
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*$")
ENV_NAME_MAX = 100

# jupyter_client/kernelspec.py: _kernel_name_pat = re.compile(r"^[a-z0-9._\-]+$", re.IGNORECASE),
# applied after kernel_name.lower() in KernelSpecManager.install_kernel_spec(). envcheck requires the
# lower-case form up front so the name a user types is the directory Jupyter creates.
# https://github.com/jupyter/jupyter_client/blob/main/jupyter_client/kernelspec.py
KERNEL_NAME_PATTERN = re.compile(r"^[a-z0-9._-]+$")
KERNEL_NAME_MAX = 100
DISPLAY_NAME_MAX = 200


def _describe_char(ch: str) -> str:
    if ch == " ":
        return Msg("a space")
    if ch.isprintable():
        return repr(ch)
    kind = "control character" if unicodedata.category(ch) == "Cc" else "invisible character"
    return f"{kind} U+{ord(ch):04X}"


def env_name_problem(name: str) -> str | None:
    """Why `name` is not an acceptable environment name, or None when it is (pure)."""
    if not name:
        return Msg("the name is empty")
    if len(name) > ENV_NAME_MAX:
        return Msg("the name is longer than {limit} characters", limit=ENV_NAME_MAX)
    if name in (".", ".."):
        return Msg("{name!r} would point outside the environments directory", name=name)
    for ch in name:
        if ch in CONDA_DISALLOWED_CHARS:
            if ch in "/\\":
                return Msg("it contains {char}: a name must not be a path (use --prefix PATH for a path)",
                           char=_describe_char(ch))
            return Msg("conda does not allow {char} in environment names", char=_describe_char(ch))
        if not ch.isprintable() or unicodedata.category(ch).startswith("Z"):
            return Msg("it contains {char}", char=_describe_char(ch))
        if ch in SHELL_METACHARACTERS:
            return Msg("it contains the shell metacharacter {char}", char=_describe_char(ch))
    if name.lower() in CONDA_RESERVED_NAMES:
        return Msg("{name!r} is reserved by conda for the base environment", name=name)
    if name.startswith("-"):
        return Msg("it starts with '-', which tools would read as an option")
    if name.startswith("."):
        return Msg("it starts with '.' (a hidden directory)")
    if not ENV_NAME_PATTERN.match(name):
        return Msg("use only ASCII letters, digits and . _ + -")
    return None


def validate_env_name(name: str) -> str:
    """Return `name` or raise EnvcheckError (exit 2, code invalid-env-name)."""
    problem = env_name_problem(name)
    if problem:
        raise EnvcheckError(
            Msg("invalid environment name {name!r}: {problem}", name=name, problem=problem),
            hint=Msg("use letters, digits and . _ + - (for example torch-py311), or --prefix PATH for a directory"),
            exit_code=ExitCode.USAGE,
            code="invalid-env-name",
        )
    return name


def prefix_problem(path: str) -> str | None:
    """Why `path` is not an acceptable environment directory, or None (pure)."""
    if not path or not path.strip():
        return Msg("the path is empty")
    for ch in path:
        if not ch.isprintable():
            return Msg("it contains {char}", char=_describe_char(ch))
    # conda's PrefixData.validate_path(): "Environment paths cannot contain os.pathsep"; a ':' would
    # also split PATH when the env is activated.
    if os.pathsep in path:
        return Msg("it contains {pathsep!r}, which conda rejects and which would break PATH on activation",
                   pathsep=os.pathsep)
    return None


def validate_prefix(path: str) -> str:
    """Return the absolute, user-expanded prefix or raise EnvcheckError (exit 2)."""
    problem = prefix_problem(path)
    if problem:
        raise EnvcheckError(
            Msg("invalid environment path {path!r}: {problem}", path=path, problem=problem),
            hint=Msg("choose a plain directory path such as ~/envs/torch"),
            exit_code=ExitCode.USAGE,
            code="invalid-env-path",
        )
    return os.path.abspath(os.path.expanduser(path))


def default_envs_dir(environ: Mapping[str, str] | None = None) -> str:
    """Where `create --name NAME` puts venv/uv environments: $ENVCHECK_ENVS_DIR, else ~/.envcheck/envs."""
    environ = os.environ if environ is None else environ
    configured = environ.get("ENVCHECK_ENVS_DIR")
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".envcheck", "envs")


def env_dir_for_name(name: str, envs_dir: str) -> str:
    """envs_dir/NAME, after checking NAME is valid and the result stays inside envs_dir."""
    validate_env_name(name)
    base = os.path.abspath(envs_dir)
    target = os.path.abspath(os.path.join(base, name))
    # Belt and braces: validation already rejects separators and '..'.
    if os.path.dirname(target) != base:
        raise EnvcheckError(
            Msg("invalid environment name {name!r}: it escapes {base}", name=name, base=base),
            hint=Msg("use a plain name, or --prefix PATH for a directory elsewhere"),
            exit_code=ExitCode.USAGE,
            code="invalid-env-name",
        )
    return target


def kernel_name_problem(name: str) -> str | None:
    """Why `name` is not an acceptable Jupyter kernel name, or None (pure)."""
    if not name:
        return Msg("the name is empty")
    if len(name) > KERNEL_NAME_MAX:
        return Msg("the name is longer than {limit} characters", limit=KERNEL_NAME_MAX)
    if name in (".", ".."):
        return Msg("{name!r} would point outside the kernels directory", name=name)
    if not KERNEL_NAME_PATTERN.match(name):
        if KERNEL_NAME_PATTERN.match(name.lower()):
            return Msg("Jupyter lower-cases kernel names: use {lower!r}", lower=name.lower())
        return Msg("Jupyter kernel names may only contain a-z, 0-9 and . _ -")
    if name.startswith("-"):
        return Msg("it starts with '-', which ipykernel would read as an option")
    return None


def validate_kernel_name(name: str) -> str:
    problem = kernel_name_problem(name)
    if problem:
        raise EnvcheckError(
            Msg("invalid kernel name {name!r}: {problem}", name=name, problem=problem),
            hint=Msg("use lower-case letters, digits and . _ - (for example torch-py311)"),
            exit_code=ExitCode.USAGE,
            code="invalid-kernel-name",
        )
    return name


def display_name_problem(text: str) -> str | None:
    if not text or not text.strip():
        return Msg("the display name is empty")
    if len(text) > DISPLAY_NAME_MAX:
        return Msg("the display name is longer than {limit} characters", limit=DISPLAY_NAME_MAX)
    for ch in text:
        if not ch.isprintable():
            return Msg("it contains {char}", char=_describe_char(ch))
    return None


def validate_display_name(text: str) -> str:
    problem = display_name_problem(text)
    if problem:
        raise EnvcheckError(
            Msg("invalid display name {text!r}: {problem}", text=text, problem=problem),
            hint=Msg("use a short single-line text such as 'Python 3.11 (torch)'"),
            exit_code=ExitCode.USAGE,
            code="invalid-display-name",
        )
    return text
