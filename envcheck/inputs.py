"""Every user input, parsed and validated once (pure unless a function says it runs something).

Bad input is an EnvcheckError with exit 2 (`invalid-*` codes); an interpreter that cannot be found or
is not Python is exit 4 (`interpreter-not-found`). Commands call these and nothing else for:
Python requests (a version X.Y or an interpreter), OS, driver, CUDA, compute capability, env and
kernel names (the rules live in envcheck/names.py), index URLs and find-links.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Mapping, Sequence

from packaging.version import Version

from envcheck.errors import EnvcheckError, ExitCode, Msg
from envcheck.names import validate_display_name, validate_env_name, validate_kernel_name, validate_prefix
from envcheck.numeric import ascii_number_text

__all__ = [
    "OS_ALIASES", "PythonRequest", "host_os", "parse_os", "parse_driver", "parse_cuda", "parse_cc", "parse_gpu_arch",
    "parse_python", "parse_python_request", "parse_gpu_name", "driver_cut_short", "driver_short_note",
    "python_version_request", "target_interpreter", "normalize_index_url", "normalize_find_links",
    "validate_env_name", "validate_kernel_name", "validate_display_name", "validate_prefix",
]

_XY = re.compile(r"^\d+\.\d+$")
_VERSIONISH = re.compile(r"^\d+(\.\d+)*$")
_DRIVER = re.compile(r"^\d+(\.\d+){0,3}$")
_CUDA = re.compile(r"^(\d+)\.(\d+)(\.\d+)?$")
_CC = re.compile(r"^(?:sm_?)?(\d+)\.?(\d)$", re.IGNORECASE)

OS_ALIASES = {
    "linux": "linux",
    "windows": "windows", "win": "windows", "win32": "windows", "win64": "windows",
    "macos": "macos", "mac": "macos", "darwin": "macos", "osx": "macos",
}


def host_os(platform: str | None = None) -> str:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


# --- moved from commands/install.py (bodies unchanged) ------------------------------------------


def parse_os(text: str | None) -> str:
    if text is None:
        return host_os()
    value = OS_ALIASES.get(text.strip().lower())
    if value is None:
        raise EnvcheckError(Msg("unknown OS {text!r}", text=text), hint=Msg("use --os linux, --os windows or --os macos"), code="invalid-os")
    return value


def parse_driver(text: str, what: str = "--driver") -> Version:
    text = ascii_number_text(text, what, "535.104.05")  # ASCII digits, bounded length (issue 14)
    if not _DRIVER.match(text):
        raise EnvcheckError(
            Msg("invalid {what} {text!r}: not an NVIDIA driver version", what=what, text=text),
            hint=Msg("driver versions look like 535.104.05 (Linux) or 537.13 (Windows)"),
            code="invalid-driver",
        )
    return Version(text.strip())


def driver_cut_short(given: str, floor: str) -> bool:
    """True when a driver written `given` may be above OR below `floor`: `given` is a leading part of a
    longer floor ('580.65' or '580' against 580.65.06). Pure.

    Such a driver is read the safe way, as the lowest release it can name (580.65 -> 580.65.0, 580 ->
    580.0.0: packaging's Version pads with zeros), so it is BELOW the floor and the build needing that
    floor is not recommended on a guess. A Windows driver (537.13) or an old Linux one (418.39) is
    written with two parts in full, so two parts alone are not "short": only a floor that goes on is.
    """
    g = [int(x) for x in given.strip().split(".")]
    f = [int(x) for x in floor.strip().split(".")]
    return len(f) > len(g) and f[: len(g)] == g and any(f[len(g):])


def driver_short_note(given: str, floors) -> str | None:
    """The note for a driver given cut short: `floors` are (variant label, floor text) pairs the driver
    was compared with and fell below; None when no comparison depended on the missing digits. Pure."""
    hit = [(label, floor) for label, floor in floors if driver_cut_short(given, floor)]
    if not hit:
        return None
    floor = max((f for _, f in hit), key=Version)
    labels = list(dict.fromkeys(label for label, f in hit if f == floor))
    parts = given.strip().split(".")
    read = ".".join(parts + ["0"] * (3 - len(parts)))
    p = dict(given=given, read=read, floor=floor, variants=', '.join(labels))
    if len(labels) == 1:
        return Msg("driver {given} is cut short: read as {read}, the lowest driver it can name, which is below the "
                   "{floor} that {variants} needs; give the full version "
                   "(`nvidia-smi --query-gpu=driver_version --format=csv,noheader`) if yours is {floor} or newer", **p)
    return Msg("driver {given} is cut short: read as {read}, the lowest driver it can name, which is below the "
               "{floor} that {variants} need; give the full version "
               "(`nvidia-smi --query-gpu=driver_version --format=csv,noheader`) if yours is {floor} or newer", **p)


def parse_gpu_name(text: str) -> tuple[str, str]:
    """`--gpu "RTX 3090"` -> ('8.6', 'GeForce RTX 3090'): the compute capability from configs/nvidia_gpus.json
    (NVIDIA's CUDA GPUs list). Unknown name: exit 2 with the closest names the table knows."""
    import difflib

    from envcheck.gputable import cc_for_name, known_names, normalize

    found = cc_for_name(text)
    if found is not None:
        return found
    names = known_names()
    by_norm = {normalize(n): n for n in names}
    close = difflib.get_close_matches(normalize(text), list(by_norm), n=3, cutoff=0.5)
    hint = (Msg("closest known: {names}; or pass the compute capability with --gpu-cc X.Y",
                names=', '.join(repr(by_norm[c]) for c in close)) if close else
            Msg("or pass the compute capability with --gpu-cc X.Y"))
    raise EnvcheckError(Msg("unknown --gpu {text!r}: not in envcheck's GPU table",
                            text=text), hint=hint, code="invalid-gpu")


def parse_cuda(text: str, what: str = "--cuda") -> Version:
    m = _CUDA.match(ascii_number_text(text, what, "12.4"))
    if not m:
        raise EnvcheckError(
            Msg("invalid {what} {text!r}: expected X.Y", what=what, text=text),
            hint=Msg("the CUDA version nvidia-smi shows top right, e.g. --cuda 12.2"),
            code="invalid-cuda",
        )
    return Version(f"{m.group(1)}.{m.group(2)}")


def parse_cc(text: str) -> str:
    """'8.6', 'sm_86', '86' -> '8.6'; '10.0', 'sm_100' -> '10.0'."""
    t = ascii_number_text(text, "--gpu-cc", "8.6")
    if _XY.match(t):
        major, minor = t.split(".")
        if len(minor) == 1:
            return f"{int(major)}.{int(minor)}"
    m = _CC.match(t)
    if m and "." not in t:
        return f"{int(m.group(1))}.{int(m.group(2))}"
    raise EnvcheckError(
        Msg("invalid --gpu-cc {text!r}: expected a compute capability X.Y", text=text),
        hint=Msg("e.g. --gpu-cc 8.6 (RTX 30xx), 7.5 (T4), 9.0 (H100); `nvidia-smi --query-gpu=compute_cap --format=csv`"),
        code="invalid-gpu-cc",
    )


def parse_gpu_arch(text: str) -> str:
    """'gfx90a', 'GFX1100', rocm-smi's 'gfx9010' -> the gfx target (the AMD probe's normalizer); else exit 2."""
    from envcheck.probes.amd import normalize_gfx

    value = normalize_gfx(text)
    if value is None:
        raise EnvcheckError(
            Msg("invalid --gpu-arch {text!r}: expected an AMD gfx target such as gfx90a", text=text),
            hint=Msg("e.g. --gpu-arch gfx90a (MI200), gfx942 (MI300), gfx1100 (RX 7900); `rocminfo | grep gfx` shows "
                     "yours"),
            code="invalid-gpu-arch",
        )
    return value


def parse_python_request(text: str) -> str | None:
    """'3.7' -> '3.7'; a version that is not X.Y -> exit 2; anything else (a path) -> None."""
    t = text.strip()
    if t[:1].isdigit():  # a version, not a path: ASCII and short, or exit 2
        t = ascii_number_text(t, "--python", "3.11")
    if _XY.match(t):
        major, minor = t.split(".")
        return f"{int(major)}.{int(minor)}"
    if _VERSIONISH.match(t) or re.match(r"^\d", t):
        raise EnvcheckError(
            Msg("invalid --python {text!r}: expected a version X.Y (such as 3.11) or an interpreter path", text=text),
            hint=Msg("e.g. --python 3.11, or --python /path/to/python"),
            code="invalid-python",
        )
    return None


# --- Python: a version or an interpreter, on every command ----------------------------------------


@dataclass(frozen=True)
class PythonRequest:
    """`--python` as given: `version` ("3.11") or `interpreter` (a path, env dir or command name)."""

    text: str
    version: str | None = None
    interpreter: str | None = None


def parse_python(text: str | None, what: str = "--python") -> PythonRequest | None:
    """None when not given; a blank value is exit 2 (it used to mean "not given" silently)."""
    if text is None:
        return None
    if not text.strip():
        raise EnvcheckError(Msg("{what} is empty", what=what), hint=Msg("pass a version such as 3.11 or a path to a Python interpreter"),
                            code="invalid-python")
    version = parse_python_request(text)
    if version is not None:
        return PythonRequest(text, version=version)
    return PythonRequest(text, interpreter=text.strip())


def target_interpreter(text: str | None, runner, environ: Mapping[str, str] | None = None, *,
                       check: bool | None = None):
    """The interpreter `--python` names (or the default one), as an envcheck.facts.Interpreter with its
    version when it was run. Exit 2 for a blank value; exit 4 when there is none, or when what is there
    does not answer as Python (`/bin/ls`, a script printing garbage, a binary that hangs).

    `check` runs it once to ask its version: by default only for an explicit interpreter (a version
    request is already checked by the search; the default one is what doctor diagnoses)."""
    from envcheck.probes.python import InterpreterNotFound, resolve_interpreter

    request = parse_python(text)
    found = resolve_interpreter(request.text if request else None, runner, environ)
    if isinstance(found, InterpreterNotFound):
        raise EnvcheckError(found.message, hint=found.hint, exit_code=ExitCode.TARGET_NOT_FOUND,
                            code="interpreter-not-found", data={"tried": list(found.tried)} if found.tried else None)
    if check is None:
        check = interpreter_check_needed(text)
    if check and found.version is None:
        found = confirm_interpreter(found, runner)
    return found


def interpreter_check_needed(text: str | None) -> bool:
    """Whether target_interpreter's default is to run the interpreter to confirm it is Python: only for an
    explicit interpreter (a version request is already checked by the search)."""
    request = parse_python(text)
    return request is not None and request.interpreter is not None


def confirm_interpreter(found, runner, *, answer: tuple[str | None, str | None] | None = None):
    """`found` with its version, or exit 4 naming what was found when it does not answer as Python
    (`/bin/ls`, a script printing garbage, a binary that hangs). `answer`: (version, why) already known
    from a run of the interpreter (doctor's inspection runs it anyway), so it is not started again."""
    from dataclasses import replace

    from envcheck.probes.python import interpreter_version

    version, why = answer if answer is not None else interpreter_version(runner, found.path)
    if version is None:
        raise EnvcheckError(
            Msg("{path} is not a working Python interpreter: {why}", path=found.path, why=why),
            hint=Msg("pass a Python executable, an env directory, or a version such as 3.11"),
            exit_code=ExitCode.TARGET_NOT_FOUND,
            code="interpreter-not-found",
        )
    return replace(found, version=version)


def python_version_request(text: str | None, runner, environ: Mapping[str, str] | None = None,
                           ) -> tuple[tuple[int, int], str | None]:
    """`--python` for a command that needs a version (create, install --execute): X.Y as given, or the
    version of the interpreter it names -> ((major, minor), interpreter path or None).

    Exit 2 when blank or a version that is not X.Y, exit 4 when the interpreter is missing or is not Python."""
    from envcheck.probes.python import parse_version_request

    asked = parse_python(text if text is not None else "")
    version = parse_version_request(asked.text)
    if version:
        return version, None
    interp = target_interpreter(asked.text, runner, environ, check=True)
    major, minor = (int(x) for x in interp.version.split(".")[:2])
    return (major, minor), interp.path


# --- package sources ------------------------------------------------------------------------------


def normalize_index_url(value: str | None) -> str | None:
    """A URL as is; an existing local directory (a PEP 503 simple index) -> its file:// URL."""
    if value is None:
        return None
    value = value.strip()
    if "://" in value:
        return value
    path = os.path.abspath(os.path.expanduser(value))
    if os.path.isdir(path):
        return "file://" + path
    raise EnvcheckError(Msg("--index-url {value!r} is neither a URL nor a directory", value=value),
                        hint=Msg("pass e.g. --index-url https://mirror.example/simple or a local simple-index directory"),
                        code="invalid-index-url")


def normalize_find_links(value: str | None) -> str | None:
    """A URL as is; a local directory of wheels -> its absolute path (it must exist: a typo would
    otherwise only show up as pip's 'no matching distribution')."""
    if value is None:
        return None
    value = value.strip()
    if "://" in value:
        return value
    path = os.path.abspath(os.path.expanduser(value))
    if not os.path.isdir(path):
        raise EnvcheckError(Msg("--find-links {value!r}: no such directory", value=value),
                            hint=Msg("pass a directory holding the wheels, or a URL of a page linking them"),
                            code="invalid-find-links")
    return path


# --- verify's options ----------------------------------------------------------------------------

VERIFY_DEVICES = ("auto", "cpu", "cuda", "mps")
VERIFY_LEVELS = (1, 2, 3)  # 1: the default suite (seconds); 2: + companions on every device, larger kernels, memory; 3: + measured performance vs the datasheet


REQUIRABLE_PACKAGES = ("torchvision", "torchaudio")  # the suite's companions (inenv/verify_suite.py COMPANIONS)


def parse_required_packages(values: Sequence[str] | None) -> tuple[str, ...]:
    """`verify --require-package` values (repeatable, or comma-separated) -> sorted unique names; exit 2
    for a name the suite has no checks for (pure)."""
    names: set[str] = set()
    for value in values or ():
        for part in str(value).split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name not in REQUIRABLE_PACKAGES:
                raise EnvcheckError(
                    Msg("--require-package must name {items}, not {name!r}", items=" or ".join(REQUIRABLE_PACKAGES),
                        name=part.strip()),
                    hint=Msg("torch is always required; pass --require-package torchvision and/or --require-package "
                             "torchaudio"),
                    code="invalid-option",
                )
            names.add(name)
    return tuple(sorted(names))


def validate_verify_options(device: str, timeout: float, junit_xml: str | None, level: int = 1) -> None:
    """Raise EnvcheckError (exit 2) for verify's option values typer cannot check by itself (shared by
    the single-machine suite and the torchrun path)."""
    if level not in VERIFY_LEVELS:
        raise EnvcheckError(
            Msg("--level must be one of {items}, not {level!r}", items=', '.join(map(str, VERIFY_LEVELS)), level=level),
            hint=Msg("pass --level 1 (the default suite), 2 (deeper: larger kernels, memory, every device) or 3 (also "
                     "measured performance against the datasheet)"),
            code="invalid-option",
        )
    if device not in VERIFY_DEVICES:
        raise EnvcheckError(
            Msg("--device must be one of {items}, not {device!r}", items=', '.join(VERIFY_DEVICES), device=device),
            hint=Msg("pass --device auto (the default), cpu, cuda or mps"),
            code="invalid-option",
        )
    if not (timeout > 0):
        raise EnvcheckError(Msg("--timeout must be a positive number of seconds, not {timeout}",
                                timeout=timeout), code="invalid-option")
    if junit_xml:
        parent = os.path.dirname(os.path.abspath(junit_xml))
        try:  # like pytest's --junitxml, create the report's directory
            os.makedirs(parent, exist_ok=True)
        except OSError:
            pass
        if os.path.isdir(junit_xml) or not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            raise EnvcheckError(
                Msg("cannot write the JUnit report to {junit_xml}", junit_xml=junit_xml),
                hint=Msg("pass a file path in a writable directory, e.g. --junit-xml reports/verify.xml"),
                code="invalid-option",
            )
