"""Package managers (conda, mamba, micromamba, uv, pip) and the channels/indexes they will use.

Shell equivalents: `command -v conda && conda --version` (likewise mamba, micromamba, uv);
`cat ~/.condarc`; `pip config list`; `env | grep -E '^(PIP|UV)_'`. Users behind mirrors need to see
which index is in effect, so config files are read directly (fast, no tool start-up).
Credentials inside URLs are always masked (envcheck.redact). Config files are read bounded: at most
1 MiB, regular files only (a FIFO or /dev/zero in CONDARC / PIP_CONFIG_FILE is skipped with a note).
"""
from __future__ import annotations

import configparser
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from envcheck.i18n import N_
from envcheck.probes import MAX_CONFIG_BYTES, read_bounded
from envcheck.redact import redact, redact_any
from envcheck.runner import Runner

MANAGERS = ("conda", "mamba", "micromamba", "uv", "pip")
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?(?:[.\-+]?\w+)?)")


@dataclass(frozen=True)
class ManagerInfo:
    name: str
    path: str | None = None
    source: str | None = None  # "path" | "CONDA_EXE" | "MAMBA_EXE"
    version: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "source": self.source, "version": self.version, "reason": self.reason}


@dataclass(frozen=True)
class ConfigValue:
    key: str
    value: object
    source: str  # a file path or an environment variable name

    def to_dict(self) -> dict:
        return {"key": self.key, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class ManagersFacts:
    managers: tuple[ManagerInfo, ...] = ()
    conda_channels: tuple[str, ...] = ()
    conda_settings: tuple[ConfigValue, ...] = ()  # channel_alias, default_channels, custom_channels
    condarc_files: tuple[str, ...] = ()
    pip_settings: tuple[ConfigValue, ...] = ()  # effective index-url, extra-index-url, ... with source
    pip_config_files: tuple[str, ...] = ()
    uv_settings: tuple[ConfigValue, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def get(self, name: str) -> ManagerInfo | None:
        return next((m for m in self.managers if m.name == name), None)

    def to_dict(self) -> dict:
        return {
            "tools": {m.name: m.to_dict() for m in self.managers},
            "conda": {
                "channels": list(self.conda_channels),
                "settings": [s.to_dict() for s in self.conda_settings],
                "condarc_files": list(self.condarc_files),
            },
            "pip": {"settings": [s.to_dict() for s in self.pip_settings], "config_files": list(self.pip_config_files)},
            "uv": {"settings": [s.to_dict() for s in self.uv_settings]},
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------- pure parsers


def parse_tool_version(text: str) -> str | None:
    """First version on the first line: 'conda 24.1.2', 'uv 0.4.30 (abc 2024-11-05)', '2.0.5'."""
    for line in (text or "").splitlines():
        m = _VERSION.search(line)
        if m:
            return m.group(1)
    return None


def _scalar(text: str):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_condarc(text: str) -> dict:
    """The subset of YAML .condarc files use: top-level `key: value`, `key: [a, b]`, and block lists
    (`- item`) or one-level mappings under a key. Comments and anything else are ignored (pure)."""
    out: dict = {}
    key = None
    for raw in (text or "").splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indented = line[0] in " \t"
        stripped = line.strip()
        if not indented and not stripped.startswith("-"):
            k, sep, v = stripped.partition(":")
            if not sep:
                key = None
                continue
            key = k.strip()
            v = v.strip()
            if v.startswith("[") and v.endswith("]"):
                out[key] = [_scalar(x) for x in v[1:-1].split(",") if x.strip()]
            elif v:
                out[key] = _scalar(v)
            else:
                out[key] = None
            continue
        if key is None:
            continue
        if stripped.startswith("- "):
            if not isinstance(out.get(key), list):
                out[key] = []
            out[key].append(_scalar(stripped[2:]))
        elif ":" in stripped:
            k, _, v = stripped.partition(":")
            if not isinstance(out.get(key), dict):
                out[key] = {}
            out[key][k.strip()] = _scalar(v)
    return out


PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "find-links", "no-index")


def parse_pip_conf(text: str) -> dict[str, str]:
    """pip.conf (INI): [global] then [install] (install wins for the keys pip install uses)."""
    cp = configparser.RawConfigParser()
    try:
        cp.read_string(text or "")
    except configparser.Error:
        return {}
    out: dict[str, str] = {}
    for section in ("global", "install"):
        if cp.has_section(section):
            for key in PIP_KEYS:
                if cp.has_option(section, key):
                    out[key] = " ".join(cp.get(section, key).split())
    return out


# ---------------------------------------------------------------------------------------- probe




def condarc_paths(environ: Mapping[str, str]) -> list[str]:
    """Where conda looks, lowest priority first.
    https://docs.conda.io/projects/conda/en/latest/user-guide/configuration/use-condarc.html#searching-for-condarc
    """
    home = environ.get("HOME") or os.path.expanduser("~")
    xdg = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    paths = ["/etc/conda/.condarc", "/etc/conda/condarc", "/var/lib/conda/.condarc", "/var/lib/conda/condarc"]
    if environ.get("CONDA_ROOT"):
        paths += [os.path.join(environ["CONDA_ROOT"], ".condarc"), os.path.join(environ["CONDA_ROOT"], "condarc")]
    paths += [os.path.join(xdg, "conda", ".condarc"), os.path.join(xdg, "conda", "condarc"),
              os.path.join(home, ".conda", ".condarc"), os.path.join(home, ".conda", "condarc"),
              os.path.join(home, ".condarc")]
    if environ.get("CONDA_PREFIX"):
        paths += [os.path.join(environ["CONDA_PREFIX"], ".condarc"), os.path.join(environ["CONDA_PREFIX"], "condarc")]
    if environ.get("CONDARC"):
        paths.append(environ["CONDARC"])
    seen, out = set(), []
    for p in paths:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _read_config(path: str, notes: list | None, what: str) -> str | None:
    """A config file's text, bounded (MAX_CONFIG_BYTES, regular files only); a refusal becomes a note.
    A file that does not exist is the normal case and is not noted."""
    text, reason = read_bounded(path, MAX_CONFIG_BYTES)
    if text is None and notes is not None and os.path.lexists(path):
        notes.append(redact(f"{what}: {reason or f'cannot read {path}'}"))
    return text


def read_conda_config(environ: Mapping[str, str], notes: list | None = None):
    """(channels, settings, files) from every .condarc conda reads; unreadable files go to `notes`."""
    channels: list[str] = []
    settings: dict[str, ConfigValue] = {}
    files = []
    for path in condarc_paths(environ):
        text = _read_config(path, notes, "conda config")
        if text is None:
            continue
        files.append(path)
        data = parse_condarc(text)
        chans = data.get("channels")
        if isinstance(chans, list):
            # conda merges lists; a file read later has higher priority, so its entries go first
            channels = [str(c) for c in chans] + [c for c in channels if c not in chans]
        for key in ("channel_alias", "default_channels", "custom_channels", "channel_priority"):
            if key in data and data[key] is not None:
                settings[key] = ConfigValue(key, redact_any(data[key]), path)
    if environ.get("CONDA_CHANNELS"):  # conda reads any setting from CONDA_<KEY>
        env_chans = [c.strip() for c in environ["CONDA_CHANNELS"].split(",") if c.strip()]
        channels = env_chans + [c for c in channels if c not in env_chans]
        files.append("CONDA_CHANNELS")
    return tuple(redact(c) for c in channels), tuple(settings.values()), tuple(files)


def pip_config_paths(environ: Mapping[str, str], target_prefix: str | None) -> list[tuple[str, str]]:
    """(kind, path) in pip's override order: global < user < site < PIP_CONFIG_FILE (then PIP_* vars).
    https://pip.pypa.io/en/stable/topics/configuration/#configuration-files
    """
    home = environ.get("HOME") or os.path.expanduser("~")
    xdg_dirs = (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    out = [("global", os.path.join(d, "pip", "pip.conf")) for d in xdg_dirs if d] + [("global", "/etc/pip.conf")]
    config_file = environ.get("PIP_CONFIG_FILE")
    if not (config_file and os.path.exists(config_file)):  # pip skips user files when it is set
        xdg = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        out += [("user", os.path.join(home, ".pip", "pip.conf")), ("user", os.path.join(xdg, "pip", "pip.conf"))]
    if target_prefix:
        out.append(("site", os.path.join(target_prefix, "pip.conf")))
    if config_file:
        out.append(("env", config_file))
    return out


def read_pip_config(environ: Mapping[str, str], target_prefix: str | None, notes: list | None = None):
    """(effective settings, files) as pip would see them; unreadable files go to `notes`."""
    effective: dict[str, ConfigValue] = {}
    files = []
    for _kind, path in pip_config_paths(environ, target_prefix):
        if path == os.devnull:
            continue
        text = _read_config(path, notes, "pip config")
        if text is None:
            continue
        files.append(path)
        for key, value in parse_pip_conf(text).items():
            effective[key] = ConfigValue(key, redact(value), path)
    for key in PIP_KEYS:
        var = "PIP_" + key.upper().replace("-", "_")
        if environ.get(var):
            effective[key] = ConfigValue(key, redact(" ".join(environ[var].split())), var)
    return tuple(effective.values()), tuple(files)


UV_VARS = ("UV_DEFAULT_INDEX", "UV_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_PYTHON")


def read_uv_config(environ: Mapping[str, str]) -> tuple[ConfigValue, ...]:
    return tuple(ConfigValue(v, redact(environ[v]), v) for v in UV_VARS if environ.get(v))


def _locate(name: str, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    found = shutil.which(name, path=environ.get("PATH"))
    if found:
        return found, "path"
    # conda/micromamba need not be on PATH when only their shell hook is active
    for var, tool in (("CONDA_EXE", "conda"), ("MAMBA_EXE", "micromamba")):
        exe = environ.get(var)
        if tool == name and exe and os.path.isfile(exe):
            return exe, var
    return None, None


def probe_manager(name: str, runner: Runner, environ: Mapping[str, str], timeout: float) -> ManagerInfo:
    """`command -v NAME && NAME --version` (pip: path only; its version comes from the target env)."""
    path, source = _locate(name, environ)
    if path is None:
        return ManagerInfo(name, reason=N_("not found on PATH"))
    if name == "pip":
        return ManagerInfo(name, path, source, None, None)
    done = runner.run([path, "--version"], timeout=timeout)
    if not done.ok:
        return ManagerInfo(name, path, source, None, done.describe_failure())
    version = parse_tool_version(done.stdout or done.stderr)
    return ManagerInfo(name, path, source, version, None if version else "could not read its --version output")


def probe_managers(
    runner: Runner,
    environ: Mapping[str, str] | None = None,
    *,
    target_prefix: str | None = None,
    timeout: float = 8.0,
    names: Sequence[str] = MANAGERS,
) -> ManagersFacts:
    """All managers at once (conda --version alone can take a second), plus their configuration."""
    environ = os.environ if environ is None else environ
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        managers = tuple(pool.map(lambda n: probe_manager(n, runner, environ, timeout), names))
    notes: list[str] = []
    channels, conda_settings, condarc_files = read_conda_config(environ, notes)
    pip_settings, pip_files = read_pip_config(environ, target_prefix, notes)
    return ManagersFacts(
        managers=managers,
        conda_channels=channels,
        conda_settings=conda_settings,
        condarc_files=condarc_files,
        pip_settings=pip_settings,
        pip_config_files=pip_files,
        uv_settings=read_uv_config(environ),
        notes=tuple(notes),
    )
