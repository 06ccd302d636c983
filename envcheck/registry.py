"""What envcheck created: a marker inside each env it made, and an index of where those envs are.

    <env>/.envcheck-created.json          the proof: name, backend, prefix, Python, time, envcheck version
    $ENVCHECK_ENVS_DIR/.envcheck-registry.json   the index: where to look (conda envs and --prefix envs
                                          live outside the envs dir); it proves nothing by itself

`env list` and `env remove` trust a directory only when its marker is there, is envcheck's, names THIS
directory (a copied or moved marker does not count) and the directory still looks like the env the
marker describes (pyvenv.cfg for venv/uv, conda-meta/ for the conda family). Anything else is refused
with the reason: envcheck never deletes a directory it did not create.

Written by envs.execute_create (so `create` and `install --execute` both record what they made).
Reads never raise; writes raise OSError for the caller to turn into a warning.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Mapping

from envcheck.errors import Msg
from envcheck.names import default_envs_dir
from envcheck.plans.env import Backend

MARKER = ".envcheck-created.json"
REGISTRY = ".envcheck-registry.json"  # a leading '.': never a valid env name (names.env_name_problem)
MARKER_VERSION = 1


@dataclass(frozen=True)
class CreatedEnvRecord:
    """An environment envcheck made, as its (trusted) marker describes it."""

    prefix: str
    name: str | None
    backend: Backend
    python: str | None  # the X.Y asked for at creation
    created: str | None  # ISO 8601, UTC
    envcheck_version: str | None

    @property
    def label(self) -> str:
        return self.name or self.prefix

    def to_dict(self) -> dict:
        return {"name": self.name, "prefix": self.prefix, "backend": self.backend.value, "python_requested": self.python,
                "created": self.created, "envcheck_version": self.envcheck_version}


def marker_path(prefix: str) -> str:
    return os.path.join(prefix, MARKER)


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _atomic_write_json(path: str, data: object) -> None:
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".envcheck-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_marker(prefix: str, *, name: str | None, backend: Backend, python: str | None) -> str:
    """Write <prefix>/.envcheck-created.json (raises OSError)."""
    from envcheck import __version__

    path = marker_path(prefix)
    _atomic_write_json(path, {
        "envcheck_marker_version": MARKER_VERSION,
        "name": name,
        "backend": backend.value,
        "prefix": os.path.abspath(prefix),
        "python": python,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "envcheck_version": __version__,
    })
    return path


def env_shape_problem(prefix: str, backend: Backend) -> str | None:
    """Why `prefix` does not look like a `backend` environment, or None (the create rule: pyvenv.cfg
    for venv/uv, conda-meta/ for the conda family)."""
    if backend.conda_family:
        if not os.path.isdir(os.path.join(prefix, "conda-meta")):
            return f"it no longer looks like a {backend.value} environment (no conda-meta/)"
    elif not os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
        return f"it no longer looks like a {backend.value} environment (no pyvenv.cfg)"
    return None


# What an environment's top level holds (issue 14: `--force` and `env remove` never delete anything else).
# venv (CPython's venv module, https://docs.python.org/3/library/venv.html: bin/Scripts, include/Include,
# lib/Lib, lib64, pyvenv.cfg, and since 3.13 a .gitignore) and uv (also CACHEDIR.TAG and .lock);
# share/ and etc/ hold data files pip installs (share/jupyter, etc/jupyter); the envcheck marker.
VENV_ENTRIES = frozenset({
    "bin", "Scripts", "include", "Include", "lib", "Lib", "lib64", "pyvenv.cfg", "share", "etc", "man",
    ".gitignore", "CACHEDIR.TAG", ".lock", MARKER,
})
# conda / mamba / micromamba prefixes are open-ended (packages may add top-level directories): these are
# the ones conda's own packages create on Linux, macOS and Windows, plus the patterns below.
CONDA_ENTRIES = VENV_ENTRIES | frozenset({
    "conda-meta", "condabin", "compiler_compat", "conda-bld", "pkgs", "envs", "shell", "ssl", "libexec", "sbin",
    "lib32", "var", "cmake", "doc", "docs", "info", "mkspecs", "phrasebooks", "plugins", "qml", "resources",
    "translations", "Library", "DLLs", "Tools", "Menu", "libs", "etc", ".nonadmin", ".condarc", "_conda.exe",
    "x86_64-w64-mingw32", "jre", "fonts",
})
_CONDA_PATTERNS = ("-linux-gnu", "-apple-darwin", "-conda-", "-w64-mingw32")
_CONDA_SUFFIXES = (".dll", ".exe", ".pyd", ".ico", ".bat")


def foreign_entries(prefix: str) -> list[str]:
    """Top-level names in the env at `prefix` that are not part of an environment's usual layout (a
    venv made inside a project: src/, .git, README.md, ...): sorted; [] for a plain env or when the
    directory cannot be listed (then nothing is deleted either)."""
    conda = os.path.isdir(os.path.join(prefix, "conda-meta"))
    allowed = CONDA_ENTRIES if conda else VENV_ENTRIES
    try:
        names = sorted(os.listdir(prefix))
    except OSError:
        return []
    out = []
    for name in names:
        if name in allowed:
            continue
        if conda and (any(p in name for p in _CONDA_PATTERNS) or name.lower().endswith(_CONDA_SUFFIXES)
                      or name.upper().startswith(("LICENSE", "UNINSTALL"))):
            continue
        out.append(name)
    return out


def foreign_entries_error(prefix: str, what: str, entries: list[str]):
    """The exit-2 refusal naming what envcheck did not make (EnvcheckError, `env-has-foreign-files`)."""
    from envcheck.errors import EnvcheckError

    shown = ", ".join(entries[:12]) + (f" and {len(entries) - 12} more" if len(entries) > 12 else "")
    return EnvcheckError(
        Msg("refusing to {what} {prefix}: it holds files that are not part of an environment ({shown})", what=what, prefix=prefix, shown=shown),
        hint=Msg("envcheck deletes only what an environment is made of: move those files out first, or choose another --name/--prefix"),
        code="env-has-foreign-files",
        data={"prefix": prefix, "foreign": entries},
    )


def read_marker(prefix: str) -> tuple[CreatedEnvRecord | None, str | None]:
    """(record, None) when envcheck made `prefix` and it is still that env; else (None, why not). Never raises."""
    if os.path.islink(prefix):
        return None, "it is a symbolic link, not an environment directory"
    if not os.path.isdir(prefix):
        return None, "the directory does not exist" if not os.path.lexists(prefix) else "it is not a directory"
    path = marker_path(prefix)
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
        return None, f"its {MARKER} is not a regular file"
    if not os.path.lexists(path):
        return None, f"it has no {MARKER} marker: envcheck did not create it"
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError, RecursionError) as exc:
        return None, f"its {MARKER} is unreadable ({exc.__class__.__name__})"
    if not isinstance(data, dict) or data.get("envcheck_marker_version") != MARKER_VERSION:
        return None, f"its {MARKER} is not an envcheck marker of version {MARKER_VERSION}"
    try:
        backend = Backend(data.get("backend"))
    except ValueError:
        return None, f"its {MARKER} names an unknown backend {data.get('backend')!r}"
    recorded = data.get("prefix")
    if not isinstance(recorded, str) or not _same_path(recorded, prefix):
        return None, f"its {MARKER} describes another directory ({recorded}): it was copied or moved here"
    problem = env_shape_problem(prefix, backend)
    if problem:
        return None, problem
    name = data.get("name") if isinstance(data.get("name"), str) else None
    return CreatedEnvRecord(os.path.abspath(prefix), name, backend, _opt_str(data.get("python")),
                            _opt_str(data.get("created")), _opt_str(data.get("envcheck_version"))), None


def _opt_str(value) -> str | None:
    return value if isinstance(value, str) else None


# --- the index ------------------------------------------------------------------------------------


def registry_path(environ: Mapping[str, str] | None = None) -> str:
    return os.path.join(default_envs_dir(environ), REGISTRY)


def read_registry(environ: Mapping[str, str] | None = None) -> list[dict]:
    """The index entries [{prefix, name, backend}] ([] when absent or unreadable). Never raises."""
    try:
        with open(registry_path(environ), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError, RecursionError):
        return []
    envs = data.get("envs") if isinstance(data, dict) else None
    return [e for e in envs or [] if isinstance(e, dict) and isinstance(e.get("prefix"), str)]


def _write_registry(entries: list[dict], environ: Mapping[str, str] | None) -> None:
    path = registry_path(environ)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _atomic_write_json(path, {"envcheck_registry_version": 1, "envs": entries})


def registered(prefix: str, environ: Mapping[str, str] | None = None) -> bool:
    return any(_same_path(e["prefix"], prefix) for e in read_registry(environ))


def add_to_registry(prefix: str, name: str | None, backend: Backend, environ: Mapping[str, str] | None = None) -> None:
    """Add (or refresh) the entry for `prefix` (raises OSError)."""
    entries = [e for e in read_registry(environ) if not _same_path(e["prefix"], prefix)]
    entries.append({"prefix": os.path.abspath(prefix), "name": name, "backend": backend.value})
    _write_registry(entries, environ)


def drop_from_registry(prefix: str, environ: Mapping[str, str] | None = None) -> None:
    """Remove the entry for `prefix`; the file goes with the last entry (a missing file or entry is
    fine; raises OSError on write)."""
    entries = read_registry(environ)
    kept = [e for e in entries if not _same_path(e["prefix"], prefix)]
    if kept and len(kept) != len(entries):
        _write_registry(kept, environ)
    elif not kept and os.path.isfile(registry_path(environ)):
        os.unlink(registry_path(environ))


# --- finding them ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A directory that may be envcheck's: where it was found and, when not trusted, why."""

    prefix: str
    name: str | None
    record: CreatedEnvRecord | None
    why_not: str | None
    source: str  # "envs-dir" | "registry"


def candidates(environ: Mapping[str, str] | None = None) -> list[Candidate]:
    """Every env envcheck may have made: the index's entries and the envs dir's subdirectories that hold
    a marker, each checked with read_marker (deduplicated by real path). Never raises."""
    envs_dir = default_envs_dir(environ)
    found: list[tuple[str, str | None, str]] = []
    for entry in read_registry(environ):
        found.append((entry["prefix"], _opt_str(entry.get("name")), "registry"))
    try:
        children = sorted(os.listdir(envs_dir))
    except OSError:
        children = []
    for child in children:
        path = os.path.join(envs_dir, child)
        if not child.startswith(".") and os.path.lexists(marker_path(path)):
            found.append((path, child, "envs-dir"))
    out: list[Candidate] = []
    seen: set[str] = set()
    for prefix, name, source in found:
        key = os.path.normcase(os.path.realpath(prefix))
        if key in seen:
            continue
        seen.add(key)
        record, why = read_marker(prefix)
        out.append(Candidate(os.path.abspath(prefix), record.name if record else name, record, why, source))
    return out
