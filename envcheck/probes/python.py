"""Which Python interpreter a command targets.

`--python` takes either a version request (`3.7`, `3.11`) or an interpreter (a path to an executable,
an environment directory, or a command name on PATH), as uv's `--python` does. Without it the target
is the active environment's interpreter (VIRTUAL_ENV, then CONDA_PREFIX), else `python3` on PATH.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import sys
from dataclasses import dataclass
from typing import Mapping

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.facts import Interpreter, Source
from envcheck.numeric import ascii_number_text
from envcheck.runner import Runner

VERSION_REQUEST = re.compile(r"^([0-9]+)\.([0-9]+)$")


def parse_version_request(text: str) -> tuple[int, int] | None:
    """'3.7' -> (3, 7); anything that is not exactly MAJOR.MINOR -> None (pure).
    Digits and dots only but not ASCII or over 32 characters ('３.11', 5,000 digits): exit 2."""
    t = text.strip()
    if t and all(c.isdigit() or c == "." for c in t):
        t = ascii_number_text(t, "--python", "3.11")
    m = VERSION_REQUEST.match(t)
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


_VERSION_SNIPPET = "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3]))"


@dataclass(frozen=True)
class InterpreterSearch:
    """A Python of a requested version: `path` (None if not found), how it was found, what was tried."""

    path: str | None
    version: str | None = None
    source: str | None = None  # "PATH", "uv python find", "pyenv", "--python"
    tried: tuple[str, ...] = ()


def interpreter_version(runner: Runner, path: str) -> tuple[str | None, str | None]:
    """("3.11.7", None) from running the interpreter, or (None, why it could not be run)."""
    done = runner.run([path, "-c", _VERSION_SNIPPET], timeout=20)
    if done.ok and done.stdout.strip():
        return done.stdout.strip().splitlines()[-1], None
    return None, done.describe_failure()


def find_interpreter(major: int, minor: int, runner: Runner, environ: Mapping[str, str] | None = None) -> InterpreterSearch:
    """A working Python MAJOR.MINOR: every `pythonX.Y` on PATH (broken pyenv shims skipped), then
    `uv python find --system X.Y`, then pyenv's installed versions.

    Shell equivalent: `python3.11 -V; uv python find --system 3.11; ls ~/.pyenv/versions/3.11.*/bin`.
    Each candidate is run once to confirm it starts and is X.Y.
    """
    environ = os.environ if environ is None else environ
    want = f"{major}.{minor}"
    tried: list[str] = []

    def accept(path: str, source: str) -> InterpreterSearch | None:
        version, why = interpreter_version(runner, path)
        if version and version.rsplit(".", 1)[0] == want:
            return InterpreterSearch(path, version, source, tuple(tried))
        tried.append(f"{path} ({source}): " + (why or f"is Python {version}"))
        return None

    seen: set[str] = set()
    for directory in (environ.get("PATH") or "").split(os.pathsep):
        if not directory:
            continue
        candidate = os.path.join(directory, f"python{want}")
        if candidate in seen or not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        seen.add(candidate)
        found = accept(candidate, "PATH")
        if found:
            return found
    uv = shutil.which("uv", path=environ.get("PATH"))
    if uv:
        done = runner.run([uv, "python", "find", "--system", want], timeout=20,
                          env={"UV_PYTHON_DOWNLOADS": "never"})
        if done.ok and done.stdout.strip():
            found = accept(done.stdout.strip().splitlines()[-1], "uv python find")
            if found:
                return found
        else:
            tried.append(f"uv python find --system {want}: {done.describe_failure()}")
    pyenv_root = environ.get("PYENV_ROOT") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".pyenv")
    for version_dir in sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{want}.*")), reverse=True):
        candidate = os.path.join(version_dir, "bin", f"python{want}")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            found = accept(candidate, "pyenv")
            if found:
                return found
    return InterpreterSearch(None, None, None, tuple(tried))


def check_interpreter(path: str, major: int, minor: int, runner: Runner) -> InterpreterSearch:
    """The interpreter the user named, accepted only if it runs and is MAJOR.MINOR."""
    version, why = interpreter_version(runner, path)
    if version and version.rsplit(".", 1)[0] == f"{major}.{minor}":
        return InterpreterSearch(path, version, "--python", ())
    return InterpreterSearch(None, None, None, (f"{path} (--python): " + (why or f"is Python {version}"),))


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
        search = find_interpreter(*request, runner=runner, environ=environ)
        if search.path:
            return Interpreter(search.path, Source.FLAG, f"--python {spec}: {search.source}", version=search.version)
        raise EnvcheckError(
            f"no Python {spec} interpreter found",
            hint=f"install Python {spec} (for example `uv python install {spec}` or a conda env with "
            f"python={spec}), or pass --python /path/to/python",
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="interpreter-not-found",
            data={"tried": list(search.tried)},
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
