"""Jupyter kernelspecs: where Jupyter looks for kernels, and what each kernel would launch.

The search path mirrors jupyter_core.paths.jupyter_path() (jupyter_core 5.x,
https://github.com/jupyter/jupyter_core/blob/main/jupyter_core/paths.py) and
jupyter_client.kernelspec.KernelSpecManager (kernel dirs = jupyter_path("kernels") + IPython's
~/.ipython/kernels; the first directory holding a name wins, names compared lower-cased,
https://github.com/jupyter/jupyter_client/blob/main/jupyter_client/kernelspec.py).
Without importing Jupyter: envcheck must work where Jupyter is not installed, and the Jupyter that
matters is the user's, not envcheck's own.

Shell equivalent: `jupyter kernelspec list --json` (run by the Jupyter you use) and
`cat <dir>/kernels/<name>/kernel.json`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, replace
from typing import Iterable, Mapping

from envcheck.errors import Msg
from envcheck.probes import MAX_CONFIG_BYTES, read_bounded

# jupyter_core.paths.SYSTEM_JUPYTER_PATH on POSIX (without JUPYTER_PLATFORM_DIRS).
SYSTEM_JUPYTER_PATH_POSIX = ("/usr/local/share/jupyter", "/usr/share/jupyter")

# argv[0] of a Python kernel: python, python3, python3.11, python3.13t, pythonw.exe, ...
_PYTHON_NAME = re.compile(r"^python[0-9.]*[a-z]?(\.exe)?$|^pythonw(\.exe)?$", re.IGNORECASE)


@dataclass(frozen=True)
class KernelJson:
    """What a kernel.json says (pure parse result). `error` is set when the file is unusable."""

    display_name: str | None = None
    language: str | None = None
    argv: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class KernelSpecInfo:
    """One kernelspec directory on the Jupyter path.

    `name` is the key Jupyter uses (the directory name, lower-cased). `interpreter` is argv[0]
    when it names or points to a Python, else None (an R or Julia kernel). `shadowed_by` is the
    resource_dir of the same-named spec that Jupyter finds first (this one is then never used).
    `error` says why kernel.json could not be read or is invalid.
    """

    name: str
    resource_dir: str
    display_name: str | None = None
    language: str | None = None
    argv: tuple[str, ...] = ()
    interpreter: str | None = None
    interpreter_exists: bool = False
    shadowed_by: str | None = None
    error: str | None = None

    @property
    def stale(self) -> bool:
        """A Python kernel whose interpreter is gone (the classic deleted-env kernel)."""
        return self.interpreter is not None and not self.interpreter_exists

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "resource_dir": self.resource_dir,
            "display_name": self.display_name,
            "language": self.language,
            "argv": list(self.argv),
            "interpreter": self.interpreter,
            "interpreter_exists": self.interpreter_exists,
            "shadowed_by": self.shadowed_by,
            "stale": self.stale,
            "error": self.error,
        }


def parse_kernel_json(text: str) -> KernelJson:
    """kernel.json text -> KernelJson (pure; never raises).

    Jupyter requires `argv` (a non-empty list of strings) and `display_name`; `language` is
    optional (https://jupyter-client.readthedocs.io/en/stable/kernels.html#kernel-specs).
    """
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        return KernelJson(error=Msg("kernel.json is not valid JSON: {error}", error=str(exc)))
    except RecursionError:  # `[[[[...]]]]` thousands deep: json's decoder recurses per level
        return KernelJson(error="kernel.json is not valid JSON: nested too deeply")
    if not isinstance(data, dict):
        return KernelJson(error="kernel.json is not a JSON object")
    display = data.get("display_name")
    display = display if isinstance(display, str) else None
    language = data.get("language")
    language = language if isinstance(language, str) else None
    argv = data.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return KernelJson(display, language, (), "kernel.json has no usable argv (a non-empty list of strings)")
    if display is None:
        return KernelJson(None, language, tuple(argv), "kernel.json has no display_name")
    return KernelJson(display, language, tuple(argv), None)


def python_interpreter_of(argv: Iterable[str]) -> str | None:
    """argv[0] when it is a path to, or the name of, a Python interpreter (pure)."""
    argv = tuple(argv)
    if not argv or not argv[0]:
        return None
    base = argv[0].replace("\\", "/").rsplit("/", 1)[-1]
    return argv[0] if _PYTHON_NAME.match(base) else None


def _home(environ: Mapping[str, str]) -> str:
    home = environ.get("HOME") or environ.get("USERPROFILE") or os.path.expanduser("~")
    # jupyter_core.paths.get_home_dir() resolves symlinks (FreeBSD's /home -> /usr/home).
    return os.path.realpath(home)


def user_data_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """Jupyter's per-user data dir, as jupyter_core.paths.jupyter_data_dir() computes it.

    JUPYTER_DATA_DIR, else ~/Library/Jupyter (macOS), %APPDATA%\\jupyter (Windows),
    $XDG_DATA_HOME/jupyter or ~/.local/share/jupyter (Linux and other Unix).
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if environ.get("JUPYTER_DATA_DIR"):
        return environ["JUPYTER_DATA_DIR"]
    home = _home(environ)
    if platform == "darwin":
        return os.path.join(home, "Library", "Jupyter")
    if platform == "win32":
        appdata = environ.get("APPDATA")
        if appdata:
            return os.path.join(appdata, "jupyter")
        return os.path.join(home, ".jupyter", "data")
    xdg = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(xdg, "jupyter")


def _python_user_base_dir(environ: Mapping[str, str], platform: str) -> str | None:
    """<site.USER_BASE>/share/jupyter, which jupyter_path() also searches (ENABLE_USER_SITE)."""
    base = environ.get("PYTHONUSERBASE")
    if not base:
        if platform == "win32":
            appdata = environ.get("APPDATA")
            base = os.path.join(appdata, "Python") if appdata else None
        elif platform == "darwin":
            base = None  # framework builds use ~/Library/Python/X.Y: version-specific, skipped
        else:
            base = os.path.join(_home(environ), ".local")
    return os.path.join(base, "share", "jupyter") if base else None


def _prefer_env(environ: Mapping[str, str]) -> bool:
    # jupyter_core.paths.prefer_environment_over_user(): JUPYTER_PREFER_ENV_PATH decides when set
    # (envset: anything but no/n/false/off/0/0.0 is true). Without it Jupyter prefers env dirs only
    # when Jupyter itself runs from a venv/conda env, which envcheck cannot know: user dirs first.
    value = environ.get("JUPYTER_PREFER_ENV_PATH")
    if value is None:
        return False
    return value.lower() not in ("no", "n", "false", "off", "0", "0.0")


def jupyter_data_dirs(
    environ: Mapping[str, str] | None = None,
    prefixes: Iterable[str] = (),
    platform: str | None = None,
) -> list[str]:
    """Jupyter's data search path in precedence order (first wins), per jupyter_core.paths.jupyter_path().

    1. each entry of JUPYTER_PATH;  2. the user data dir (JUPYTER_DATA_DIR, else the platform
    default) and Python's user base share/jupyter;  3. `<prefix>/share/jupyter` for each given
    environment prefix (e.g. the active env and the target env; with JUPYTER_PREFER_ENV_PATH=1
    these come before 2);  4. system dirs /usr/local/share/jupyter, /usr/share/jupyter (POSIX;
    %PROGRAMDATA%\\jupyter on Windows only with JUPYTER_USE_PROGRAMDATA).
    Kernels live in `<dir>/kernels/<name>/kernel.json`. Duplicates are dropped (first kept).
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    paths: list[str] = []
    if environ.get("JUPYTER_PATH"):
        sep = ";" if platform == "win32" else ":"
        paths.extend(p.rstrip("/\\") or p for p in environ["JUPYTER_PATH"].split(sep) if p)
    user = [user_data_dir(environ, platform)]
    userbase = _python_user_base_dir(environ, platform)
    if userbase and userbase not in user:
        user.append(userbase)
    if platform == "win32":
        system: list[str] = []
        if environ.get("JUPYTER_USE_PROGRAMDATA", "").lower() not in ("", "no", "n", "false", "off", "0", "0.0"):
            if environ.get("PROGRAMDATA"):
                system = [os.path.join(environ["PROGRAMDATA"], "jupyter")]
    else:
        system = list(SYSTEM_JUPYTER_PATH_POSIX)
    env_dirs = [os.path.join(p, "share", "jupyter") for p in prefixes if p]
    env_dirs = [p for p in env_dirs if p not in system]
    if _prefer_env(environ):
        paths.extend(env_dirs + user)
    else:
        paths.extend(user + env_dirs)
    paths.extend(system)
    out: list[str] = []
    for p in paths:
        if p not in out:
            out.append(p)
    return out


def kernel_dirs(
    environ: Mapping[str, str] | None = None,
    prefixes: Iterable[str] = (),
    platform: str | None = None,
) -> list[str]:
    """The kernelspec directories KernelSpecManager searches, in order: each data dir's kernels/,
    then IPython's ($IPYTHONDIR or ~/.ipython)/kernels, which jupyter_client still appends."""
    environ = os.environ if environ is None else environ
    dirs = [os.path.join(d, "kernels") for d in jupyter_data_dirs(environ, prefixes, platform)]
    ipython = environ.get("IPYTHONDIR") or os.path.join(_home(environ), ".ipython")
    legacy = os.path.join(ipython, "kernels")
    if legacy not in dirs:
        dirs.append(legacy)
    return dirs


def default_prefixes(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Environment prefixes whose share/jupyter a user's Jupyter likely searches: the active
    virtualenv / conda env, and the env that holds the `jupyter` command found on PATH."""
    environ = os.environ if environ is None else environ
    out: list[str] = []
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if environ.get(var):
            out.append(environ[var])
    jupyter = shutil.which("jupyter", path=environ.get("PATH"))
    if jupyter:
        out.append(os.path.dirname(os.path.dirname(os.path.abspath(jupyter))))
    seen: list[str] = []
    for p in out:
        if p not in seen:
            seen.append(p)
    return tuple(seen)


def _interpreter_exists(interpreter: str, environ: Mapping[str, str]) -> bool:
    if "/" in interpreter or "\\" in interpreter:
        return os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)
    # A bare "python"/"python3" is replaced by Jupyter's own sys.executable at launch
    # (jupyter_client.manager.KernelManager.format_kernel_cmd); on PATH is the best we can check.
    return shutil.which(interpreter, path=environ.get("PATH")) is not None


def read_kernelspec(name: str, resource_dir: str, environ: Mapping[str, str] | None = None) -> KernelSpecInfo:
    """Read one kernelspec directory (never raises)."""
    environ = os.environ if environ is None else environ
    path = os.path.join(resource_dir, "kernel.json")
    # Bounded: at most 1 MiB, regular files only (a FIFO or /dev/zero named kernel.json is refused).
    text, reason = read_bounded(path, MAX_CONFIG_BYTES)
    parsed = parse_kernel_json(text) if text is not None else KernelJson(error=reason)
    interpreter = python_interpreter_of(parsed.argv)
    return KernelSpecInfo(
        name=name,
        resource_dir=resource_dir,
        display_name=parsed.display_name,
        language=parsed.language,
        argv=parsed.argv,
        interpreter=interpreter,
        interpreter_exists=_interpreter_exists(interpreter, environ) if interpreter else False,
        error=parsed.error,
    )


def probe_kernelspecs(
    environ: Mapping[str, str] | None = None, prefixes: Iterable[str] = ()
) -> tuple[KernelSpecInfo, ...]:
    """Every kernelspec on the Jupyter path, in search order; shadowed duplicates included.

    Shell equivalent: `for d in $(kernel dirs); do ls $d/*/kernel.json; done`. Never raises.
    """
    environ = os.environ if environ is None else environ
    found: list[KernelSpecInfo] = []
    winners: dict[str, str] = {}
    for kdir in kernel_dirs(environ, tuple(prefixes)):
        try:
            entries = sorted(os.listdir(kdir), key=str.lower)
        except OSError:
            continue
        for entry in entries:
            resource_dir = os.path.join(kdir, entry)
            try:
                # jupyter_client._is_kernel_dir: a directory holding kernel.json
                if not (os.path.isdir(resource_dir) and os.path.isfile(os.path.join(resource_dir, "kernel.json"))):
                    continue
            except OSError:
                continue
            name = entry.lower()
            info = read_kernelspec(name, resource_dir, environ)
            if name in winners:
                info = replace(info, shadowed_by=winners[name])
            else:
                winners[name] = resource_dir
            found.append(info)
    return tuple(found)


def find_kernelspec(
    name: str, environ: Mapping[str, str] | None = None, prefixes: Iterable[str] = ()
) -> KernelSpecInfo | None:
    """The spec Jupyter would use for `name` (the first on the path), or None."""
    for info in probe_kernelspecs(environ, prefixes):
        if info.name == name.lower() and info.shadowed_by is None:
            return info
    return None
