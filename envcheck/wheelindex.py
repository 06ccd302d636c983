"""Wheel facts read from a package index's JSON simple API (PEP 691), and the schema of configs/wheels.json.

Three parts, kept apart so each can be tested alone:
- `parse_project(doc)`: PURE. One project's PEP 691 JSON -> WheelFacts: per release, per platform, the
  CPython versions that have a wheel. No network, no clock.
- `fetch_project(index_url, name, timeout)`: the only network call. urllib (so HTTP(S)_PROXY / NO_PROXY
  are honoured), an explicit timeout, asking for PEP 691 JSON first and taking a PEP 503 HTML page from
  a mirror that serves only HTML (`parse_simple_html`, pure: no sizes or upload dates there); a file://
  index directory reads its index.html, as pip does. Raises IndexError_ with a one-line reason on any
  failure (HTTP error, timeout, not JSON, not a simple API page).
- `build_wheels_doc(...)` / `validate_wheels_doc(doc, filename)`: the generated file's shape, written by
  scripts/refresh_wheels.py and checked at load by envcheck/matrix.py (EnvcheckError naming file, row and
  problem).

Platforms (the five that matter for torch; anything else is ignored):
  linux-x86_64   manylinux*_x86_64 and linux_x86_64 tags (musllinux is NOT counted: pip on a glibc system,
                 which is every platform torch supports, cannot install it, and torch publishes none)
  linux-aarch64  manylinux*_aarch64 / linux_aarch64
  windows-amd64  win_amd64
  macos-arm64    macosx_*_arm64 (and universal2)
  macos-x86_64   macosx_*_x86_64 (and universal2, intel)
Python versions are CPython interpreter tags written "3.12". A free-threaded build (ABI tag `cp313t`) is
written "3.13t", in the same list, so a reader that wants GIL builds filters on the suffix. Wheels that
are not CPython-specific (py3-none-any) carry no per-Python fact and are ignored, and so are yanked files
(PEP 592: an installer skips them unless pinned exactly). Pre-releases and dev releases are skipped.
"""
from __future__ import annotations

import json
import re
from collections import abc
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

PLATFORMS = ("linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64", "macos-x86_64")
# matrix OS name -> the platforms of that OS
OS_PLATFORMS = {
    "linux": ("linux-x86_64", "linux-aarch64"),
    "windows": ("windows-amd64",),
    "macos": ("macos-arm64", "macos-x86_64"),
}
# pip's own preference order (pip/_internal/index/collector.py): JSON, then the versioned HTML, then HTML
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
SCHEMA = 1
PACKAGES = ("torch", "torchvision", "torchaudio")
_PLATFORM_SET = frozenset(PLATFORMS)

_CP = re.compile(r"^cp(\d)(\d+)$")
_PY = re.compile(r"^(\d+\.\d+t?|py3)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RELEASE = re.compile(r"^\d+(\.\d+)*(\.post\d+)?$")  # final releases only (the parser skips pre/dev)


class IndexError_(Exception):
    """A fetch or parse of an index answer failed; str() is a one-line reason."""


@dataclass(frozen=True)
class ReleaseWheels:
    version: str
    wheels: Mapping[str, tuple[str, ...]]  # platform -> ("3.10", "3.13t", ...), sorted
    uploaded: str | None  # date of the first non-yanked file, YYYY-MM-DD
    requires_python: str | None = None  # the wheels' Requires-Python, when they all agree
    # platform -> the largest wheel in MiB: a torch wheel with CUDA kernels inside is several times the
    # size of a CPU-only one, which tells what the default-index build of an OS is
    size_mib: Mapping[str, int] = field(default_factory=dict)

    def pythons(self, platform: str) -> tuple[str, ...]:
        return self.wheels.get(platform, ())

    def has_wheel(self, platform: str, python: str) -> bool:
        """A wheel for CPython `python` ('3.12') on `platform`: its own cpXY wheel, or a py3-none
        platform wheel whose Requires-Python admits it (pure)."""
        pys = self.wheels.get(platform, ())
        if python in pys:
            return True
        if "py3" not in pys or not python.startswith("3.") or python.endswith("t"):
            return False
        if not self.requires_python:
            return True
        try:
            return SpecifierSet(self.requires_python).contains(python + ".0", prereleases=True)
        except InvalidSpecifier:
            return False


@dataclass(frozen=True)
class WheelFacts:
    name: str
    releases: Mapping[str, ReleaseWheels]  # version -> facts, only releases with a non-yanked file
    yanked: tuple[str, ...] = ()  # versions every file of which is yanked


# --- pure parsing -----------------------------------------------------------------------------


def platform_of(tag_platform: str) -> tuple[str, ...]:
    """'manylinux_2_28_aarch64' -> ('linux-aarch64',); 'musllinux_1_2_x86_64' -> () (pure)."""
    p = tag_platform
    if p.startswith("musllinux"):
        return ()
    if p.startswith(("manylinux", "linux_")):
        if p.endswith("_x86_64"):
            return ("linux-x86_64",)
        if p.endswith("_aarch64"):
            return ("linux-aarch64",)
        return ()
    if p == "win_amd64":
        return ("windows-amd64",)
    if p.startswith("macosx_"):
        if p.endswith("_arm64"):
            return ("macos-arm64",)
        if p.endswith(("_x86_64", "_intel")):
            return ("macos-x86_64",)
        if p.endswith("_universal2"):
            return ("macos-arm64", "macos-x86_64")
    return ()


def python_of(interpreter: str, abi: str) -> str | None:
    """('cp312', 'cp312') -> '3.12'; ('cp313', 'cp313t') -> '3.13t'; ('py3', 'none') -> 'py3': a
    platform wheel for any Python 3 its release's requires-python admits; ('py2', ...) -> None (pure)."""
    if interpreter == "py3" and abi == "none":
        return "py3"
    m = _CP.match(interpreter)
    if not m:
        return None
    label = f"{m.group(1)}.{m.group(2)}"
    return label + "t" if abi.endswith("t") and abi.startswith("cp") else label


def python_key(label: str) -> tuple[int, int, int]:
    """Sort key: '3.9' < '3.10' < '3.13' < '3.13t' < 'py3'."""
    if label == "py3":
        return 3, 10_000, 0
    free = label.endswith("t")
    major, minor = label.rstrip("t").split(".")
    return int(major), int(minor), int(free)


def parse_project(doc: Any, *, name: str | None = None, min_version: str | None = None) -> WheelFacts:
    """One project's PEP 691 JSON -> WheelFacts (pure). Raises IndexError_ when `doc` is not such an answer."""
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise IndexError_("not a PEP 691 project page (no 'files' list)")
    project = name or str(doc.get("name") or "")
    floor = Version(min_version) if min_version else None
    wheels: dict[str, dict[str, set[str]]] = {}
    uploaded: dict[str, str] = {}
    requires: dict[str, set[str]] = {}
    sizes: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    live: set[str] = set()
    # packaging.utils pulls in packaging.tags (~13 ms): only a refresh parses file names, so `install`
    # (which imports this module for the schema) does not pay for it
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    for entry in doc["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            raise IndexError_("a 'files' entry has no filename")
        filename = entry["filename"]
        if not filename.endswith(".whl"):
            continue
        try:
            _, version, _, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue  # a stray file an installer would not use either
        if version.is_prerelease or version.is_devrelease or (floor is not None and version < floor):
            continue
        key = str(version)
        seen.add(key)
        if entry.get("yanked"):
            continue
        live.add(key)
        per = wheels.setdefault(key, {})
        size = entry.get("size")
        for tag in tags:
            py = python_of(tag.interpreter, tag.abi)
            if py is None:
                continue
            for plat in platform_of(tag.platform):
                per.setdefault(plat, set()).add(py)
                if isinstance(size, int) and size >= 0:
                    mib = size // (1 << 20)
                    if mib > sizes.setdefault(key, {}).get(plat, -1):
                        sizes[key][plat] = mib
        rp = entry.get("requires-python")
        requires.setdefault(key, set()).add(rp if isinstance(rp, str) and rp.strip() else "")
        when = entry.get("upload-time")
        if isinstance(when, str) and _DATE.match(when[:10]):
            if key not in uploaded or when[:10] < uploaded[key]:
                uploaded[key] = when[:10]
    releases = {
        v: ReleaseWheels(
            v,
            {p: tuple(sorted(wheels[v][p], key=python_key)) for p in PLATFORMS if wheels[v].get(p)},
            uploaded.get(v),
            _one(requires.get(v, set())),
            {p: sizes[v][p] for p in PLATFORMS if p in sizes.get(v, {}) and wheels[v].get(p)},
        )
        for v in sorted(live, key=Version)
    }
    yanked = tuple(sorted(seen - live, key=Version))
    return WheelFacts(project, releases, yanked)


def _one(values: set[str]) -> str | None:
    """The Requires-Python the wheels agree on; None when absent or when they disagree (then the
    per-Python tags are the only facts, and a py3 wheel is taken for every Python 3)."""
    return next(iter(values)) or None if len(values) == 1 else None


# --- network (the only side effect here) ------------------------------------------------------


def project_url(index_url: str, name: str) -> str:
    return index_url.rstrip("/") + "/" + name + "/"


def parse_simple_html(text: str, *, name: str) -> dict:
    """A PEP 503 project page -> the PEP 691 shape `parse_project` reads (pure): {"name", "files": [{
    "filename", "requires-python", "yanked"}]}. The file name is the anchor's text (PEP 503), else the
    last part of its href; `data-requires-python` is unescaped by the parser; `data-yanked` (PEP 592)
    marks a yanked file, with or without a reason. HTML carries no sizes or upload dates."""
    from html.parser import HTMLParser

    files: list[dict] = []

    class _Anchors(HTMLParser):
        current: dict | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                a = dict(attrs)
                self.current = {"href": a.get("href") or "", "text": "", "requires-python": a.get("data-requires-python"),
                                "yanked": ("data-yanked" in a) and (a.get("data-yanked") or True)}

        def handle_data(self, data):
            if self.current is not None:
                self.current["text"] += data

        def handle_endtag(self, tag):
            if tag == "a" and self.current is not None:
                a, self.current = self.current, None
                filename = a["text"].strip() or a["href"].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                if filename:
                    files.append({"filename": filename, "requires-python": a["requires-python"], "yanked": a["yanked"]})

    parser = _Anchors(convert_charrefs=True)
    parser.feed(text)
    parser.close()
    return {"name": name, "files": files}


def _local_index_page(url: str) -> str:
    """file:///…/simple/torch/ -> …/index.html when that is a directory (pip reads a local PEP 503
    index the same way); any other URL unchanged."""
    if not url.startswith("file:"):
        return url
    import os
    import urllib.parse
    import urllib.request

    path = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
    return url.rstrip("/") + "/index.html" if os.path.isdir(path) else url


def fetch_project(index_url: str, name: str, timeout: float) -> dict:
    """GET <index>/<name>/ as PEP 691 JSON, or a PEP 503 HTML page where the index serves only that;
    proxies from the environment (urllib's default handlers).

    Shell equivalent: curl -H 'Accept: application/vnd.pypi.simple.v1+json' <index>/<name>/
    """
    import urllib.error  # here, not at module level: the matrix imports this module on every `install`
    import urllib.request

    url = _local_index_page(project_url(index_url, name))
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": "envcheck-wheelindex"})
    shown = mask_url(url)  # messages never carry a token from the URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (http(s) index URL)
            ctype = answer.headers.get("Content-Type", "")
            body = answer.read()
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open answer: close its socket
        raise IndexError_(f"{shown}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IndexError_(f"{shown}: {reason}") from None
    if "html" in ctype:  # a mirror that serves only PEP 503 pages (or a file:// index)
        doc = parse_simple_html(body.decode("utf-8", errors="replace"), name=name)
        if not any(f["filename"].endswith((".whl", ".tar.gz", ".zip")) for f in doc["files"]):
            raise IndexError_(f"{shown}: the index answered an HTML page with no package files: not a simple API "
                              "project page (PEP 503)")
        return doc
    if "json" not in ctype:
        raise IndexError_(f"{shown}: the index answered {ctype or 'no content type'}, not a simple API page "
                          "(PEP 691 JSON or PEP 503 HTML)")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise IndexError_(f"{shown}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise IndexError_(f"{shown}: not a PEP 691 project page (no 'files' list)")
    return doc


# --- which index (one home: scripts/refresh_wheels.py and `envcheck matrix refresh`) -----------

# `pip config list` prints `<section>.index-url='<url>'`; pip's own order: the environment (`:env:`)
# over the [install] section (what `pip install` reads) over [global]
# (https://pip.pypa.io/en/stable/topics/configuration/#precedence-override-order)
_PIP_SECTION_RANK = {":env:": 0, "install": 1, "global": 2}


def parse_pip_config_list(text: str) -> str | None:
    """`python -m pip config list` output -> the index-url pip would use; None when none is set (pure)."""
    found: list[tuple[int, str]] = []
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.endswith(".index-url") or key.endswith("extra-index-url"):
            continue
        section = key[: -len(".index-url")]
        url = value.strip().strip("'\"").split()
        if url:
            found.append((_PIP_SECTION_RANK.get(section, 3), url[0]))
    return min(found)[1] if found else None


def pip_default_index() -> str | None:
    """pip's built-in default index (read from pip itself, so no host name is written here)."""
    try:
        from pip._internal.models.index import PyPI  # type: ignore[import-not-found]
    except ImportError:
        return None
    return PyPI.simple_url


def discover_index_url(explicit: str | None, environ: Mapping[str, str], runner=None, *,
                       python: str | None = None, timeout: float = 60.0) -> tuple[str | None, str]:
    """(index URL, where it came from): `explicit` (--index-url / a mirror), else PIP_INDEX_URL, else
    `index-url` from `python -m pip config list`, else pip's own default; (None, why) when none.

    Shell equivalent: python -m pip config list | grep index-url
    """
    import sys

    if explicit and explicit.strip():
        return explicit.strip(), "flag"
    env = (environ.get("PIP_INDEX_URL") or "").split()
    if env:
        return env[0], "PIP_INDEX_URL"
    if runner is None:
        from envcheck.runner import Runner

        runner = Runner()
    done = runner.run([python or sys.executable, "-m", "pip", "config", "list"], timeout=timeout)
    url = parse_pip_config_list(done.stdout if done.ok else "")
    if url:
        return url, "pip config"
    default = pip_default_index()
    if default:
        return default, "pip's default index"
    return None, "no index configured (pip is not importable and PIP_INDEX_URL / pip config name none)"


def mask_url(url: str) -> str:
    """An index URL fit to print: credentials masked (the one masking rule, envcheck.redact)."""
    from envcheck.redact import redact

    return redact(url)


# --- the generated file ------------------------------------------------------------------------


def build_wheels_doc(facts: Iterable[WheelFacts], *, read: str, index: str, min_version: Mapping[str, str]) -> dict:
    """The configs/wheels.json document (pure; sorted so the same facts give the same bytes)."""
    packages = {}
    for f in sorted(facts, key=lambda f: f.name):
        packages[f.name] = {
            "min_version": min_version.get(f.name),
            "releases": {
                v: {"uploaded": r.uploaded, "requires_python": r.requires_python,
                    "wheels": {p: list(r.wheels[p]) for p in PLATFORMS if p in r.wheels},
                    "size_mib": {p: r.size_mib[p] for p in PLATFORMS if p in r.size_mib}}
                for v, r in sorted(f.releases.items(), key=lambda kv: Version(kv[0]))
            },
            "yanked": list(f.yanked),
        }
    return {
        "schema": SCHEMA,
        "generated_by": "scripts/refresh_wheels.py",
        "read": read,
        "index": index,
        "platforms": list(PLATFORMS),
        "packages": packages,
    }


def dump_wheels_doc(doc: Mapping[str, Any]) -> str:
    """Deterministic text: releases one per line so a refresh diff stays row-local."""
    lines = ["{"]
    head = [k for k in doc if k != "packages"]
    for k in head:
        lines.append(f"  {json.dumps(k)}: {json.dumps(doc[k])},")
    lines.append('  "packages": {')
    names = list(doc["packages"])
    for i, name in enumerate(names):
        pkg = doc["packages"][name]
        lines.append(f"    {json.dumps(name)}: {{")
        lines.append(f'      "min_version": {json.dumps(pkg["min_version"])},')
        lines.append(f'      "yanked": {json.dumps(pkg["yanked"])},')
        lines.append('      "releases": {')
        rels = list(pkg["releases"].items())
        for j, (v, r) in enumerate(rels):
            comma = "," if j < len(rels) - 1 else ""
            lines.append(f"        {json.dumps(v)}: {json.dumps(r, sort_keys=False)}{comma}")
        lines.append("      }")
        lines.append("    }" + ("," if i < len(names) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class WheelsFile:
    """configs/wheels.json, validated: per package, per release, per platform, the Pythons with wheels."""

    read: str
    index: str
    packages: Mapping[str, WheelFacts]

    def pythons(self, package: str, version: str, platform: str) -> tuple[str, ...] | None:
        """The Pythons with wheels; None when the file does not know that release at all."""
        facts = self.packages.get(package)
        if facts is None:
            return None
        rel = facts.releases.get(version)
        if rel is None:
            return None if version not in facts.yanked else ()
        return rel.pythons(platform)

    def has_wheel(self, package: str, version: str, platform: str, python: str) -> bool | None:
        """A wheel for CPython `python` on `platform`; None when the file does not know the release."""
        facts = self.packages.get(package)
        if facts is None:
            return None
        rel = facts.releases.get(version)
        if rel is None:
            return False if version in facts.yanked else None
        return rel.has_wheel(platform, python)

    def has_release(self, package: str, version: str) -> bool:
        facts = self.packages.get(package)
        return facts is not None and version in facts.releases


class WheelsSchemaError(ValueError):
    """The generated file is malformed: `row` names where, str() says what."""

    def __init__(self, row: str, problem: str) -> None:
        super().__init__(f"{row}: {problem}")
        self.row = row
        self.problem = problem


def validate_wheels_doc(doc: Any, eager: Iterable[str] | None = None) -> WheelsFile:
    """Check the generated file's shape and return it parsed; raise WheelsSchemaError(row, problem).

    eager: the packages validated now (None: all); the others are validated when first read. The matrix
    validates torch at load (the resolver reads only torch on every `install`) and leaves the companions
    to the consistency check, which reads them all."""
    if not isinstance(doc, dict):
        raise WheelsSchemaError("(top)", "expected a JSON object")
    if doc.get("schema") != SCHEMA:
        raise WheelsSchemaError("schema", f"expected {SCHEMA}, got {doc.get('schema')!r}")
    read = doc.get("read")
    if not isinstance(read, str) or not _DATE.match(read):
        raise WheelsSchemaError("read", f"expected a date YYYY-MM-DD, got {read!r}")
    index = doc.get("index")
    if not isinstance(index, str) or not index:
        raise WheelsSchemaError("index", "expected a description of the index that was read")
    packages = doc.get("packages")
    if not isinstance(packages, dict) or not packages:
        raise WheelsSchemaError("packages", "expected an object keyed by package name")
    for name, pkg in packages.items():
        if not isinstance(pkg, dict) or not isinstance(pkg.get("releases"), dict):
            raise WheelsSchemaError(f"packages.{name}", "expected an object with a 'releases' object")
    eager = tuple(packages) if eager is None else tuple(n for n in eager if n in packages)
    return WheelsFile(read, index, _Packages(packages, eager))


class _Packages(abc.Mapping):
    """package name -> WheelFacts, validated on first access (or at once for `eager`)."""

    def __init__(self, raw: Mapping[str, Any], eager: tuple[str, ...]) -> None:
        self._raw = raw
        self._done: dict[str, WheelFacts] = {}
        for name in eager:
            self[name]

    def __getitem__(self, name: str) -> WheelFacts:
        if name not in self._done:
            self._done[name] = _validate_package(name, self._raw[name])
        return self._done[name]

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _validate_package(name: str, pkg: dict) -> WheelFacts:
    # The same Python lists and Requires-Python strings repeat across releases and platforms: check
    # each distinct one once (the file is loaded on every `install`; issue 8 keeps it under 1.2x).
    good_lists: dict[tuple, tuple[str, ...]] = {}
    good_specs: set[str] = set()
    where = f"packages.{name}"
    if not isinstance(pkg, dict) or not isinstance(pkg.get("releases"), dict):
        raise WheelsSchemaError(where, "expected an object with a 'releases' object")
    yanked = pkg.get("yanked", [])
    if not isinstance(yanked, list) or not all(isinstance(v, str) for v in yanked):
        raise WheelsSchemaError(where + ".yanked", "expected a list of versions")
    rels: dict[str, ReleaseWheels] = {}
    for version, row in pkg["releases"].items():
        # error locations are built only on failure: this loop runs on every `install`
        if not _RELEASE.match(version):
            raise WheelsSchemaError(f"{where}.releases.{version}", f"{version!r} is not a version")
        if not isinstance(row, dict) or not isinstance(row.get("wheels"), dict):
            raise WheelsSchemaError(f"{where}.releases.{version}", "expected an object with a 'wheels' object")
        up = row.get("uploaded")
        if up is not None and (not isinstance(up, str) or not _DATE.match(up)):
            raise WheelsSchemaError(f"{where}.releases.{version}.uploaded", f"expected a date YYYY-MM-DD or null, got {up!r}")
        rp = row.get("requires_python")
        if rp is not None and rp not in good_specs:
            try:
                SpecifierSet(rp)
            except (InvalidSpecifier, TypeError):
                raise WheelsSchemaError(f"{where}.releases.{version}.requires_python", f"not a version specifier: {rp!r}") from None
            good_specs.add(rp)
        per: dict[str, tuple[str, ...]] = {}
        for plat, pys in row["wheels"].items():
            key = tuple(pys) if isinstance(pys, list) else None
            if plat in _PLATFORM_SET and key in good_lists:
                per[plat] = good_lists[key]
                continue
            pwhere = f"{where}.releases.{version}.wheels.{plat}"
            if plat not in PLATFORMS:
                raise WheelsSchemaError(pwhere, f"unknown platform (use {', '.join(PLATFORMS)})")
            if not isinstance(pys, list) or not pys or not all(isinstance(p, str) and _PY.match(p) for p in pys):
                raise WheelsSchemaError(pwhere, f"expected a non-empty list like ['3.12', '3.13t'], got {pys!r}")
            if len(set(pys)) != len(pys):
                raise WheelsSchemaError(pwhere, "duplicate Python version")
            per[plat] = good_lists[key] = tuple(sorted(pys, key=python_key))
        sizes = row.get("size_mib", {})
        if not isinstance(sizes, dict):
            sizes = None
        else:
            for k, n in sizes.items():
                if k not in _PLATFORM_SET or type(n) is not int or n < 0:
                    sizes = None
                    break
        if sizes is None:
            raise WheelsSchemaError(f"{where}.releases.{version}.size_mib", "expected an object of platform -> non-negative integer MiB")
        rels[version] = ReleaseWheels(version, per, up, rp, dict(sizes))
    return WheelFacts(name, rels, tuple(yanked))
