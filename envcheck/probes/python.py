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

from envcheck.errors import Msg
from envcheck.facts import Interpreter, Source
from envcheck.numeric import ascii_number_text
from envcheck.runner import Runner

VERSION_REQUEST = re.compile(r"^([0-9]+)\.([0-9]+)$")
FULL_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


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
    if not done.ok:
        return None, done.describe_failure()
    lines = done.stdout.strip().splitlines()
    if lines and FULL_VERSION.match(lines[-1].strip()):
        return lines[-1].strip(), None
    shown = (lines[-1].strip()[:60] if lines else "")
    return None, (Msg("it printed {shown!r}, not a Python version", shown=shown) if shown else Msg("it printed nothing"))


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
    for candidate in pyenv_interpreters(want, environ):
        found = accept(candidate, "pyenv")
        if found:
            return found
    return InterpreterSearch(None, None, None, tuple(tried))


def pyenv_root(environ: Mapping[str, str]) -> str:
    """$PYENV_ROOT, else ~/.pyenv (pyenv's default)."""
    return environ.get("PYENV_ROOT") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".pyenv")


def pyenv_interpreters(want: str, environ: Mapping[str, str]) -> list[str]:
    """pyenv's installed Python `want` ("3.7") executables, newest first; no process is started.

    Shell equivalent: `ls -d $PYENV_ROOT/versions/3.7.*/bin/python3.7`."""
    def newest_first(path: str):  # 3.7.16 before 3.7.9: compare the numbers, not the strings
        return tuple(int(n) for n in re.findall(r"\d+", os.path.basename(path)))

    out = []
    dirs = glob.glob(os.path.join(pyenv_root(environ), "versions", f"{want}.*"))
    for version_dir in sorted(dirs, key=newest_first, reverse=True):
        candidate = os.path.join(version_dir, "bin", f"python{want}")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            out.append(candidate)
    return out


def check_interpreter(path: str, major: int, minor: int, runner: Runner) -> InterpreterSearch:
    """The interpreter the user named, accepted only if it runs and is MAJOR.MINOR."""
    version, why = interpreter_version(runner, path)
    if version and version.rsplit(".", 1)[0] == f"{major}.{minor}":
        return InterpreterSearch(path, version, "--python", ())
    return InterpreterSearch(None, None, None, (Msg("{path} (--python): {why}", path=path,
                                                    why=why or Msg("is Python {version}", version=version)),))


@dataclass(frozen=True)
class InterpreterNotFound:
    """Why `--python SPEC` names no interpreter (a probe reports; the command decides the exit code)."""

    message: str
    hint: str
    tried: tuple[str, ...] = ()



def resolve_interpreter(
    spec: str | None, runner: Runner, environ: Mapping[str, str] | None = None
) -> Interpreter | InterpreterNotFound:
    """Pick the target interpreter, or say why there is none. Never raises.

    `spec` None means "not given" (active env, then python3 on PATH); a blank `spec` is the
    caller's to refuse (envcheck.inputs.parse_python refuses it with exit 2) and is treated as None."""
    environ = os.environ if environ is None else environ
    path_var = environ.get("PATH")
    if spec is None or spec.strip() == "":
        for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
            prefix = environ.get(var)
            if prefix:
                candidate = env_python(prefix)
                if _executable(candidate):
                    kind = Msg("virtualenv") if var == "VIRTUAL_ENV" else Msg("conda env")
                    return Interpreter(candidate, Source.ENV, Msg("active {kind} ({var}={prefix})", kind=kind, var=var,
                                                                  prefix=prefix))
        found = shutil.which("python3", path=path_var)
        if found:
            return Interpreter(found, Source.PATH, Msg("python3 on PATH (no active environment)"))
        return Interpreter(sys.executable, Source.DEFAULT, Msg("envcheck's own interpreter (no python3 on PATH)"))

    spec = spec.strip()
    request = parse_version_request(spec)
    if request:
        search = find_interpreter(*request, runner=runner, environ=environ)
        if search.path:
            return Interpreter(search.path, Source.FLAG, Msg("--python {spec}: {source}", spec=spec, source=search.source),
                               version=search.version)
        return InterpreterNotFound(
            Msg("no Python {spec} interpreter found", spec=spec),
            Msg("install Python {spec} (for example `uv python install {spec}` or a conda env with python={spec}), or "
                "pass --python /path/to/python", spec=spec),
            tuple(search.tried),
        )
    expanded = os.path.expanduser(spec)
    if os.path.isdir(expanded):
        candidate = env_python(expanded)
        if _executable(candidate):
            return Interpreter(os.path.abspath(candidate), Source.FLAG, Msg("--python {spec} (environment)", spec=spec))
        return InterpreterNotFound(
            Msg("{spec} is a directory but holds no Python interpreter (looked for {candidate})",
                spec=spec, candidate=candidate),
            Msg("pass the environment's interpreter, e.g. --python ENV/bin/python"),
        )
    if os.sep in spec or (os.altsep and os.altsep in spec):
        if _executable(expanded):
            return Interpreter(os.path.abspath(expanded), Source.FLAG, f"--python {spec}")
        return InterpreterNotFound(
            Msg("interpreter {spec} is not executable", spec=spec) if os.path.exists(expanded)
            else Msg("interpreter {spec} does not exist", spec=spec),
            Msg("pass an existing Python executable, an env directory, or a version such as 3.11"),
        )
    found = shutil.which(spec, path=path_var)
    if found:
        return Interpreter(found, Source.FLAG, Msg("--python {spec}: found on PATH", spec=spec))
    return InterpreterNotFound(
        Msg("interpreter {spec!r} not found on PATH", spec=spec),
        Msg("pass a path to a Python executable, an env directory, or a version such as 3.11"),
    )
