"""Which Python interpreter a command targets.

`--python` takes either a version request (`3.7`, `3.11`) or an interpreter (a path to an executable,
an environment directory, or a command name on PATH), as uv's `--python` does. Without it the target
is the active environment's interpreter (VIRTUAL_ENV, then CONDA_PREFIX), else `python3` on PATH.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from typing import Mapping

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.facts import Interpreter, Source
from envcheck.runner import Runner

VERSION_REQUEST = re.compile(r"^(\d+)\.(\d+)$")


def parse_version_request(text: str) -> tuple[int, int] | None:
    """'3.7' -> (3, 7); anything that is not exactly MAJOR.MINOR -> None (pure)."""
    m = VERSION_REQUEST.match(text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def env_python(prefix: str) -> str:
    """The interpreter inside an environment directory (venv or conda layout, POSIX or Windows)."""
    for rel in (("bin", "python"), ("bin", "python3"), ("python.exe",), ("Scripts", "python.exe")):
        candidate = os.path.join(prefix, *rel)
        if os.path.isfile(candidate):
            return candidate
    return os.path.join(prefix, "bin", "python")


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_python_version(major: int, minor: int, runner: Runner, path: str | None = None) -> str | None:
    """Find an interpreter for MAJOR.MINOR: `pythonX.Y` on PATH, then uv's discovery.

    Shell equivalent: `command -v python3.7 || uv python find 3.7`.
    """
    found = shutil.which(f"python{major}.{minor}", path=path)
    if found:
        return found
    uv = shutil.which("uv", path=path)
    if uv:
        done = runner.run([uv, "python", "find", f"{major}.{minor}"], timeout=15)
        if done.ok and done.stdout.strip():
            candidate = done.stdout.strip().splitlines()[-1]
            if _executable(candidate):
                return candidate
    return None


def resolve_interpreter(
    spec: str | None, runner: Runner, environ: Mapping[str, str] | None = None
) -> Interpreter:
    """Pick the target interpreter, or raise EnvcheckError with exit code 4 (target not found)."""
    environ = os.environ if environ is None else environ
    path_var = environ.get("PATH")
    if spec is None or spec.strip() == "":
        for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
            prefix = environ.get(var)
            if prefix:
                candidate = env_python(prefix)
                if _executable(candidate):
                    kind = "virtualenv" if var == "VIRTUAL_ENV" else "conda env"
                    return Interpreter(candidate, Source.ENV, f"active {kind} ({var}={prefix})")
        found = shutil.which("python3", path=path_var)
        if found:
            return Interpreter(found, Source.PATH, "python3 on PATH (no active environment)")
        return Interpreter(sys.executable, Source.DEFAULT, "envcheck's own interpreter (no python3 on PATH)")

    spec = spec.strip()
    request = parse_version_request(spec)
    if request:
        found = find_python_version(*request, runner=runner, path=path_var)
        if found:
            return Interpreter(found, Source.FLAG, f"--python {spec}: found python{spec}")
        raise EnvcheckError(
            f"no Python {spec} interpreter found",
            hint=f"install Python {spec} (for example `uv python install {spec}` or a conda env with "
            f"python={spec}), or pass --python /path/to/python",
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="interpreter-not-found",
        )
    expanded = os.path.expanduser(spec)
    if os.path.isdir(expanded):
        candidate = env_python(expanded)
        if _executable(candidate):
            return Interpreter(os.path.abspath(candidate), Source.FLAG, f"--python {spec} (environment)")
        raise EnvcheckError(
            f"{spec} is a directory but holds no Python interpreter (looked for {candidate})",
            hint="pass the environment's interpreter, e.g. --python ENV/bin/python",
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="interpreter-not-found",
        )
    if os.sep in spec or (os.altsep and os.altsep in spec):
        if _executable(expanded):
            return Interpreter(os.path.abspath(expanded), Source.FLAG, f"--python {spec}")
        what = "is not executable" if os.path.exists(expanded) else "does not exist"
        raise EnvcheckError(
            f"interpreter {spec} {what}",
            hint="pass an existing Python executable, an env directory, or a version such as 3.11",
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="interpreter-not-found",
        )
    found = shutil.which(spec, path=path_var)
    if found:
        return Interpreter(found, Source.FLAG, f"--python {spec}: found on PATH")
    raise EnvcheckError(
        f"interpreter {spec!r} not found on PATH",
        hint="pass a path to a Python executable, an env directory, or a version such as 3.11",
        exit_code=ExitCode.TARGET_NOT_FOUND,
        code="interpreter-not-found",
    )
