"""The compatibility matrix: configs/*.json loaded, validated and indexed once per process.

Data lives in JSON (configs/torch_releases.json, configs/cuda_variants.json, configs/mirrors.json;
schema in the README's "configs/" section). Validation runs at load: a malformed file fails with an
EnvcheckError naming the file, the row and what is wrong, never with a KeyError deep in the resolver.
Adding a torch release is a data-only change.

Installed, the files ship as the package `envcheck/_configs`; in a source checkout they are the
repository's top-level `configs/`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.results import Finding, Severity

OSES = ("linux", "windows", "macos")
FILES = ("torch_releases.json", "cuda_variants.json", "mirrors.json")
PIP_STYLES = ("find-links", "extra-index-url", "index-url")
CONDA_STYLES = ("cudatoolkit", "pytorch-cuda")
VARIANT_KINDS = ("cpu", "cuda", "rocm")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_XY = re.compile(r"^\d+\.\d+$")
_VERSIONISH = re.compile(r"^\d+(\.\d+)*$")


# --- data -------------------------------------------------------------------------------------


def parse_xy(text: str) -> tuple[int, int]:
    """'8.6' -> (8, 6) (pure; callers validated the shape)."""
    major, minor = text.split(".")
    return int(major), int(minor)


@dataclass(frozen=True)
class CondaInfo:
    """What the pytorch conda channel offers for one release (`style` None: nothing there)."""

    style: str | None
    cuda: tuple[str, ...] = ()
    cpu: bool = False
    # Channels the previous-versions page adds for one CUDA version, e.g. 1.12.x's
    # `cudatoolkit=11.6 -c pytorch -c conda-forge`: ((cuda, (channel, ...)), ...).
    extra_channels: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def channels_for(self, cuda: str | None) -> tuple[str, ...]:
        return next((chans for xy, chans in self.extra_channels if xy == cuda), ())


@dataclass(frozen=True)
class Release:
    """One stable torch release and its companions, per OS."""

    torch: str
    torchvision: str
    torchaudio: str | None
    python: Mapping[str, tuple[str, ...]]
    variants: Mapping[str, tuple[str, ...]]
    default_index: Mapping[str, str | None]
    pip_style: str
    conda: CondaInfo
    source: tuple[str, ...]
    verified: bool = True  # False: the row rests on inferred or weak evidence (see `note`)
    note: str | None = None

    @property
    def version(self) -> Version:
        return Version(self.torch)

    def pythons(self, os: str) -> tuple[str, ...]:
        return self.python.get(os, ())

    def variants_for(self, os: str) -> tuple[str, ...]:
        return self.variants.get(os, ())


@dataclass(frozen=True)
class DriverFloor:
    """Minimum NVIDIA driver for one CUDA version on one OS, kept as printed by NVIDIA."""

    native: str
    minor_compat: str

    def floor(self, *, minor_compat: bool) -> str:
        """The lower of the two under minor-version compatibility: CUDA 11.0's native minimum
        (450.36.06) is below the 11.x compatibility floor (450.80.02), and native always works."""
        if minor_compat and Version(self.minor_compat) < Version(self.native):
            return self.minor_compat
        return self.native


@dataclass(frozen=True)
class ArchRange:
    """The GPU architectures a variant's official wheels carry for torch versions in `torch`."""

    torch: SpecifierSet
    sm: tuple[str, ...]
    ptx: str | None
    source: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variant:
    """A compute variant of the wheels: cpu, cuXYZ or rocmX.Y."""

    name: str
    kind: str  # "cpu" | "cuda" | "rocm"
    cuda: str | None = None
    rocm: str | None = None
    driver: Mapping[str, DriverFloor] = field(default_factory=dict)
    arches: tuple[ArchRange, ...] = ()
    source: tuple[str, ...] = ()

    @property
    def cuda_version(self) -> Version | None:
        return Version(self.cuda) if self.cuda else None

    def arches_for(self, torch: Version) -> ArchRange | None:
        """The first arch range whose spec admits this torch version (None: the matrix does not say)."""
        for entry in self.arches:
            if entry.torch.contains(torch, prereleases=True):
                return entry
        return None


@dataclass(frozen=True)
class ArchCuda:
    """The CUDA toolkits whose nvcc can generate code (SASS) for one GPU compute capability.

    `first_cuda` None: the sources name no first version (older than anything the matrix uses);
    `last_cuda` None: still supported by the newest toolkit the sources cover.
    """

    cc: str
    first_cuda: str | None
    last_cuda: str | None
    family: str | None = None
    source: tuple[str, ...] = ()

    def supports(self, cuda: Version) -> bool:
        """False when a CUDA `cuda` toolkit cannot target this architecture (pure)."""
        xy = (cuda.major, cuda.minor)
        if self.first_cuda is not None and xy < parse_xy(self.first_cuda):
            return False
        if self.last_cuda is not None and xy > parse_xy(self.last_cuda):
            return False
        return True


@dataclass(frozen=True)
class Mirror:
    name: str
    title: str
    country: str | None
    conda_channels: Mapping[str, str | None]
    pip_index: str | None
    pytorch_wheels: str | None
    source: tuple[str, ...] = ()


@dataclass(frozen=True)
class Matrix:
    """The validated matrix. Releases are sorted newest first."""

    releases: tuple[Release, ...]
    variants: Mapping[str, Variant]
    mirrors: Mapping[str, Mirror]
    checked: str  # the oldest `checked` date of the three files: the matrix is as fresh as its stalest part
    newest_known: str
    sources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # cuda_variants.json "arch_cuda": which CUDA toolkits can target each compute capability
    arch_cuda: tuple[ArchCuda, ...] = ()

    @property
    def newest_torch(self) -> Version:
        return Version(self.newest_known)

    def release(self, torch_version: str | Version) -> Release | None:
        """The release row for a torch version; a local label is ignored ('2.5.1+cu121' -> 2.5.1)."""
        try:
            wanted = Version(Version(str(torch_version)).public)
        except InvalidVersion:
            return None
        for rel in self.releases:
            if rel.version == wanted:
                return rel
        return None

    def variant(self, name: str) -> Variant | None:
        return self.variants.get(name)

    def cuda_variant(self, cuda: str | Version) -> Variant | None:
        """The cuXYZ variant for a CUDA version ('12.1', '12.1.105' and Version('12.1') all match)."""
        try:
            v = Version(str(cuda))
        except InvalidVersion:
            return None
        key = (v.major, v.minor)
        for variant in self.variants.values():
            if variant.kind == "cuda" and variant.cuda_version is not None:
                cv = variant.cuda_version
                if (cv.major, cv.minor) == key:
                    return variant
        return None

    def driver_floor(self, cuda: str, os: str, *, minor_compat: bool = True) -> Version | None:
        """Minimum driver that runs builds for CUDA `cuda` on `os` (None when the matrix does not know).

        minor_compat=True: CUDA minor-version compatibility (any 12.x build on a driver of the 12.0
        family; https://docs.nvidia.com/deploy/cuda-compatibility/). CUDA 10.x and older have no
        minor-version compatibility, so their floor is the native one (the data encodes that).
        """
        variant = self.cuda_variant(cuda)
        if variant is None or os not in variant.driver:
            return None
        compat = minor_compat and variant.cuda_version is not None and variant.cuda_version.major >= 11
        return Version(variant.driver[os].floor(minor_compat=compat))

    def known_sms(self) -> tuple[tuple[int, int], ...]:
        """Every architecture any variant's wheels carry (SASS or PTX), sorted."""
        found = set()
        for variant in self.variants.values():
            for entry in variant.arches:
                found.update(parse_xy(s) for s in entry.sm)
                if entry.ptx:
                    found.add(parse_xy(entry.ptx))
        return tuple(sorted(found))

    def arch_cuda_for(self, cc: str) -> ArchCuda | None:
        """The toolkit row for compute capability `cc`: the same X.Y, else the nearest listed minor
        of the same major below it (a device X.Y runs sm_X.Z code for Z <= Y); None: not listed."""
        if not _XY.match(str(cc)):
            return None
        major, minor = parse_xy(cc)
        best: ArchCuda | None = None
        for row in self.arch_cuda:
            r_major, r_minor = parse_xy(row.cc)
            if r_major == major and r_minor <= minor and (best is None or r_minor > parse_xy(best.cc)[1]):
                best = row
        return best

    def newest_cuda(self) -> Version | None:
        cudas = [v.cuda_version for v in self.variants.values() if v.kind == "cuda" and v.cuda]
        return max(cudas) if cudas else None


# --- kernel coverage of the official wheels (used by the resolver and by doctor) ----------------


def kernel_coverage(cc: str, sm: Iterable[str], ptx: str | None) -> str | None:
    """How a GPU of compute capability `cc` runs wheels carrying SASS `sm` and PTX `ptx`.

    'sass': a cubin for the same major and a minor <= the device's (CUDA binary compatibility:
    https://docs.nvidia.com/cuda/cuda-c-programming-guide/#binary-compatibility);
    'ptx': only by JIT-compiling embedded PTX of an arch <= the device (slow first start);
    None: no kernel image for this device ("no kernel image is available for execution").
    """
    major, minor = parse_xy(cc)
    for s in sm:
        s_major, s_minor = parse_xy(s)
        if s_major == major and s_minor <= minor:
            return "sass"
    if ptx is not None and parse_xy(ptx) <= (major, minor):
        return "ptx"
    return None


def sm_label(cc: str) -> str:
    """'9.0' -> 'sm_90' (pure)."""
    major, minor = parse_xy(cc)
    return f"sm_{major}{minor}"


def nearest_arches(variant: Variant, release: Release, matrix: Matrix | None):
    """The arch list of the same variant for the release nearest in version that has one."""
    if matrix is None:
        return None, None
    best = None
    for other in matrix.releases:
        entry = variant.arches_for(other.version)
        if entry is None or not any(variant.name in other.variants_for(o) for o in OSES):
            continue
        distance = abs(_ordinal(other.version) - _ordinal(release.version))
        if best is None or distance < best[0]:
            best = (distance, entry, other)
    return (best[1], best[2]) if best else (None, None)


def _ordinal(v: Version) -> int:
    return v.major * 1_000_000 + v.minor * 1_000 + v.micro


def wheel_arches(variant: Variant, release: Release, matrix: Matrix | None = None):
    """(arch range, presumed_from) of the official `variant` wheels of `release`: the recorded one
    (presumed_from None), else the nearest release's that has one (presumed_from: that Release), else
    (None, None). Pure."""
    arches = variant.arches_for(release.version)
    if arches is not None:
        return arches, None
    return nearest_arches(variant, release, matrix)


def gpu_coverage(
    variant: Variant, release: Release, ccs: tuple[str, ...], matrix: Matrix | None = None
) -> tuple[bool, str | None, tuple[str, ...], str]:
    """(covered, rejection reason, notes, coverage) for every GPU against this variant's kernels.

    coverage: "sass", "ptx" (JIT from embedded PTX), "presumed" (arch list of the nearest release that
    has one), "unknown" (no list anywhere and the toolkit table does not rule it out), "unchecked" (no
    GPUs), "" when not covered. The resolver rejects uncovered variants; doctor predicts
    gpu-arch-not-in-torch-build from the same verdict. Pure.
    """
    if not ccs:
        return True, None, (), "unchecked"
    labels = ", ".join(sm_label(c) for c in ccs)
    arches, presumed_from = wheel_arches(variant, release, matrix)
    if arches is None:
        # No kernel list anywhere: the toolkit table can still rule the variant out, because a
        # CUDA X.Y wheel holds no kernel its nvcc could not generate.
        why = toolkit_rejection(variant, ccs, matrix)
        if why is not None:
            return False, why, (), ""
        return True, None, (f"{variant.name} wheels of torch {release.torch}: kernel architectures not recorded in the matrix; coverage of {labels} unchecked",), "unknown"
    notes = []
    coverage = "sass"
    for cc in ccs:
        how = kernel_coverage(cc, arches.sm, arches.ptx)
        if how is None:
            carried = ", ".join(sm_label(s) for s in arches.sm)
            ptx = f", PTX {sm_label(arches.ptx).replace('sm_', 'compute_')}" if arches.ptx else ""
            presumed = f", as recorded for torch {presumed_from.torch}" if presumed_from is not None else ""
            return False, f"{variant.name}: no kernels for GPU {sm_label(cc)} (torch {release.torch} {variant.name} wheels carry {carried}{ptx}{presumed})", (), ""
        if how == "ptx":
            coverage = "ptx"
            notes.append(f"GPU {sm_label(cc)}: {variant.name} has no native kernels for it; CUDA JIT-compiles the embedded PTX (slow first start)")
    if presumed_from is not None:
        notes.append(f"{variant.name} wheels of torch {release.torch}: kernel architectures not recorded; presumed as for torch {presumed_from.torch} ({labels} covered there)")
        coverage = "presumed"
    return True, None, tuple(notes), coverage


def toolkit_rejection(variant: Variant, ccs: tuple[str, ...], matrix: Matrix | None) -> str | None:
    """Why a variant's CUDA toolkit cannot target one of the GPUs (None: it can, or the table does not say).

    From the matrix's arch_cuda table (cuda_variants.json): a CUDA version before the first one that
    generates code for the architecture, or after the last one, cannot have put native kernels for it
    into the wheels. (PTX of an older arch could still JIT on a newer GPU, but no PyTorch CUDA wheel the
    matrix records before cu128 embeds PTX, and the rule is used only where the kernel list is unknown.)
    """
    cuda = variant.cuda_version
    if matrix is None or cuda is None:
        return None
    for cc in ccs:
        row = matrix.arch_cuda_for(cc)
        if row is None or row.supports(cuda):
            continue
        sm = sm_label(cc)
        like = "" if parse_xy(row.cc) == parse_xy(cc) else f", as for {sm_label(row.cc)}"
        if row.first_cuda is not None and (cuda.major, cuda.minor) < parse_xy(row.first_cuda):
            return (f"{variant.name}: CUDA {variant.cuda} predates {sm} (first supported by CUDA {row.first_cuda}{like}): "
                    "its wheels cannot carry kernels for this GPU")
        return (f"{variant.name}: CUDA {variant.cuda} is newer than the last CUDA that supports {sm} "
                f"({row.last_cuda}{like}): its wheels cannot carry kernels for this GPU")
    return None


# --- validation -------------------------------------------------------------------------------


class _Checker:
    """Collects the location of what is being checked so errors name file and row."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, where: str, what: str) -> EnvcheckError:
        place = f"{self.filename}: {where}" if where else self.filename
        return EnvcheckError(
            f"invalid compatibility matrix: {place}: {what}",
            hint="the configs/ data files ship with envcheck; reinstall envcheck or fix that row "
            "(schema: README, section configs/)",
            exit_code=ExitCode.PROBLEMS,
            code="matrix-invalid",
            data={"file": self.filename, "row": where, "problem": what},
        )

    def obj(self, value: Any, where: str, what: str = "an object") -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected {what}, got {type(value).__name__}")
        return value

    def key(self, row: dict, name: str, where: str) -> Any:
        if name not in row:
            raise self.fail(where, f"missing field {name!r}")
        return row[name]

    def string(self, value: Any, where: str, what: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"{what} must be a non-empty string, got {value!r}")
        return value

    def version(self, value: Any, where: str, what: str) -> str:
        text = self.string(value, where, what)
        if not _VERSIONISH.match(text):
            raise self.fail(where, f"{what} {text!r} is not a version like 1.2.3")
        return text

    def xy(self, value: Any, where: str, what: str) -> str:
        text = self.string(value, where, what)
        if not _XY.match(text):
            raise self.fail(where, f"{what} {text!r} is not a version X.Y")
        return text

    def str_list(self, value: Any, where: str, what: str) -> list:
        if not isinstance(value, list):
            raise self.fail(where, f"{what} must be a list, got {type(value).__name__}")
        return value

    def keyed_rows(self, rows: list, list_key: str, name_key: str, parse: Callable, *, what: str,
                   label: str = "{}", identity: Callable | None = None) -> Iterator[tuple[str, dict, Any]]:
        """(where, row, name) for each row of a list whose rows are named by `name_key`; `where` reads
        e.g. "releases[3] (torch 2.1.2)" for errors, and a name seen twice fails."""
        seen: set = set()
        for i, raw in enumerate(rows):
            where = f"{list_key}[{i}]"
            row = self.obj(raw, where)
            name = parse(self.key(row, name_key, where), where, name_key)
            where = f"{list_key}[{i}] ({label.format(name)})"
            ident = identity(name) if identity else name
            if ident in seen:
                raise self.fail(where, f"duplicate {what} {name}")
            seen.add(ident)
            yield where, row, name

    def header(self, doc: Any) -> tuple[dict, dict]:
        doc = self.obj(doc, "", "a JSON object at the top level")
        if doc.get("schema") != 1:
            raise self.fail("schema", f"expected 1, got {doc.get('schema')!r}")
        checked = doc.get("checked")
        if not isinstance(checked, str) or not _DATE.match(checked):
            raise self.fail("checked", f"expected a date YYYY-MM-DD, got {checked!r}")
        sources = self.obj(doc.get("sources"), "sources")
        for key, src in sources.items():
            src = self.obj(src, f"sources[{key!r}]")
            for name in ("title", "url"):
                self.string(src.get(name), f"sources[{key!r}]", name)
            read = src.get("read")
            if not isinstance(read, str) or not _DATE.match(read):
                raise self.fail(f"sources[{key!r}]", f"'read' must be a date YYYY-MM-DD, got {read!r}")
        return doc, sources

    def cites(self, row: dict, where: str, sources: dict, *, required: bool = True) -> tuple[str, ...]:
        cited = row.get("source")
        if cited is None and not required:
            return ()
        if not isinstance(cited, list) or not cited:
            raise self.fail(where, "'source' must be a non-empty list of keys of 'sources'")
        for key in cited:
            if key not in sources:
                raise self.fail(where, f"cites unknown source {key!r} (not in 'sources')")
        return tuple(cited)


def _variant_name_matches(name: str, cuda: str) -> bool:
    # cu121 <-> 12.1, cu92 <-> 9.2, cu100 <-> 10.0
    return name == "cu" + cuda.replace(".", "")


def _parse_variants(doc: Any, filename: str) -> tuple[dict[str, Variant], str, dict]:
    c = _Checker(filename)
    doc, sources = c.header(doc)
    rows = c.str_list(doc.get("variants"), "variants", "'variants'")
    variants: dict[str, Variant] = {}
    for where, row, name in c.keyed_rows(rows, "variants", "variant", c.string, what="variant"):
        kind = c.key(row, "kind", where)
        if kind not in VARIANT_KINDS:
            raise c.fail(where, f"kind must be one of {', '.join(VARIANT_KINDS)}, got {kind!r}")
        cited = c.cites(row, where, sources)
        cuda = rocm = None
        floors: dict[str, DriverFloor] = {}
        arches: list[ArchRange] = []
        if kind == "cuda":
            cuda = c.xy(c.key(row, "cuda", where), where, "cuda")
            if not _variant_name_matches(name, cuda):
                raise c.fail(where, f"name {name!r} does not match cuda {cuda!r}")
            driver = c.obj(c.key(row, "driver", where), where + ".driver", "an object of driver floors per OS")
            if "linux" not in driver and "windows" not in driver:
                raise c.fail(where + ".driver", "no driver floor for linux or windows")
            for os_name, floor in driver.items():
                fwhere = f"{where}.driver.{os_name}"
                if os_name not in ("linux", "windows"):
                    raise c.fail(fwhere, "driver floors exist only for linux and windows")
                if floor is None:
                    continue
                floor = c.obj(floor, fwhere)
                native = c.version(c.key(floor, "native", fwhere), fwhere, "native")
                minor = c.version(c.key(floor, "minor_compat", fwhere), fwhere, "minor_compat")
                floors[os_name] = DriverFloor(native, minor)
            if not floors:
                raise c.fail(where + ".driver", "no driver floor for any OS")
            for j, entry in enumerate(c.str_list(row.get("arches", []), where, "arches")):
                awhere = f"{where}.arches[{j}]"
                entry = c.obj(entry, awhere)
                spec_text = c.string(c.key(entry, "torch", awhere), awhere, "torch")
                try:
                    spec = SpecifierSet(spec_text)
                except InvalidSpecifier:
                    raise c.fail(awhere, f"torch {spec_text!r} is not a version specifier like '>=2.0'") from None
                sms = tuple(c.xy(s, awhere, "sm") for s in c.str_list(c.key(entry, "sm", awhere), awhere, "sm"))
                if not sms:
                    raise c.fail(awhere, "sm must list at least one architecture")
                ptx = entry.get("ptx")
                if ptx is not None:
                    ptx = c.xy(ptx, awhere, "ptx")
                cited_a = c.cites(entry, awhere, sources, required=False)
                arches.append(ArchRange(spec, sms, ptx, cited_a))
        elif kind == "rocm":
            rocm = c.xy(c.key(row, "rocm", where), where, "rocm") if row.get("rocm") is not None else None
            if rocm is None:
                m = re.match(r"^rocm(\d+\.\d+)", name)
                rocm = m.group(1) if m else None
            if row.get("driver"):
                raise c.fail(where, "rocm variants have no NVIDIA driver floor (driver must be null)")
        else:
            if name != "cpu":
                raise c.fail(where, "the cpu kind must be named 'cpu'")
            if row.get("driver"):
                raise c.fail(where, "the cpu variant has no driver floor (driver must be null)")
        variants[name] = Variant(name, kind, cuda, rocm, floors, tuple(arches), cited)
    if "cpu" not in variants:
        raise c.fail("variants", "no 'cpu' variant")
    return variants, doc["checked"], sources


def _parse_arch_cuda(doc: Any, filename: str) -> tuple[ArchCuda, ...]:
    """cuda_variants.json "arch_cuda" (optional): one row per compute capability."""
    c = _Checker(filename)
    sources = doc.get("sources") or {}
    rows = c.str_list(doc.get("arch_cuda", []), "arch_cuda", "'arch_cuda'")
    table: list[ArchCuda] = []
    for where, row, cc in c.keyed_rows(rows, "arch_cuda", "cc", c.xy, what="compute capability", label="cc {}"):
        bounds = {}
        for name in ("first_cuda", "last_cuda"):
            value = row.get(name)
            bounds[name] = None if value is None else c.xy(value, where, name)
        first, last = bounds["first_cuda"], bounds["last_cuda"]
        if first is None and last is None:
            raise c.fail(where, "needs first_cuda or last_cuda (a row with neither says nothing)")
        if first is not None and last is not None and parse_xy(first) > parse_xy(last):
            raise c.fail(where, f"first_cuda {first} is newer than last_cuda {last}")
        family = row.get("family")
        if family is not None and not isinstance(family, str):
            raise c.fail(where, f"family must be a string, got {family!r}")
        cited = c.cites(row, where, sources)
        table.append(ArchCuda(cc, first, last, family, cited))
    table.sort(key=lambda r: parse_xy(r.cc))
    return tuple(table)


def _per_os(c: _Checker, value: Any, where: str, what: str) -> dict:
    obj = c.obj(value, where + "." + what, "an object keyed by linux/windows/macos")
    for key in obj:
        if key not in OSES:
            raise c.fail(where + "." + what, f"unknown OS {key!r} (use {', '.join(OSES)})")
    return obj


def _parse_releases(doc: Any, filename: str, variants: Mapping[str, Variant]) -> tuple[list[Release], str, str, dict]:
    c = _Checker(filename)
    doc, sources = c.header(doc)
    rows = c.str_list(doc.get("releases"), "releases", "'releases'")
    if not rows:
        raise c.fail("releases", "no releases")
    releases: list[Release] = []
    for where, row, torch in c.keyed_rows(rows, "releases", "torch", c.version, what="release",
                                          label="torch {}", identity=Version):
        torchvision = c.version(c.key(row, "torchvision", where), where, "torchvision")
        audio = c.key(row, "torchaudio", where)
        torchaudio = None if audio is None else c.version(audio, where, "torchaudio")
        pythons_raw = _per_os(c, c.key(row, "python", where), where, "python")
        variants_raw = _per_os(c, c.key(row, "variants", where), where, "variants")
        default_raw = _per_os(c, row.get("default_index", {}), where, "default_index")
        python: dict[str, tuple[str, ...]] = {}
        per_os_variants: dict[str, tuple[str, ...]] = {}
        default_index: dict[str, str | None] = {}
        for os_name in OSES:
            pys = c.str_list(pythons_raw.get(os_name, []), f"{where}.python.{os_name}", "python")
            python[os_name] = tuple(c.xy(p, f"{where}.python.{os_name}", "python") for p in pys)
            if len(set(python[os_name])) != len(python[os_name]):
                raise c.fail(f"{where}.python.{os_name}", "duplicate Python version")
            vs = c.str_list(variants_raw.get(os_name, []), f"{where}.variants.{os_name}", "variants")
            for v in vs:
                if v not in variants:
                    raise c.fail(f"{where}.variants.{os_name}", f"variant {v!r} is not defined in cuda_variants.json")
            if len(set(vs)) != len(vs):
                raise c.fail(f"{where}.variants.{os_name}", "duplicate variant")
            per_os_variants[os_name] = tuple(vs)
            if python[os_name] and not vs:
                raise c.fail(where, f"Python versions listed for {os_name} but no variants")
            if vs and not python[os_name]:
                raise c.fail(where, f"variants listed for {os_name} but no Python versions")
            d = default_raw.get(os_name)
            if d is not None and d not in vs:
                raise c.fail(f"{where}.default_index.{os_name}", f"{d!r} is not one of this release's {os_name} variants")
            default_index[os_name] = d
        if not any(python.values()):
            raise c.fail(where, "no wheels for any OS")
        pip_style = c.key(row, "pip_style", where)
        if pip_style not in PIP_STYLES:
            raise c.fail(where, f"pip_style must be one of {', '.join(PIP_STYLES)}, got {pip_style!r}")
        conda_raw = row.get("conda")
        if conda_raw is None:
            conda = CondaInfo(None)
        else:
            cw = where + ".conda"
            conda_raw = c.obj(conda_raw, cw)
            style = conda_raw.get("style")
            if style is not None and style not in CONDA_STYLES:
                raise c.fail(cw, f"style must be one of {', '.join(CONDA_STYLES)} or null, got {style!r}")
            cudas = tuple(c.xy(x, cw, "cuda") for x in c.str_list(conda_raw.get("cuda", []), cw, "cuda"))
            cpu = conda_raw.get("cpu", False)
            if not isinstance(cpu, bool):
                raise c.fail(cw, f"cpu must be true or false, got {cpu!r}")
            extra_raw = c.obj(conda_raw.get("extra_channels", {}), cw + ".extra_channels")
            extra = tuple(
                (c.xy(xy, cw + ".extra_channels", "cuda"), tuple(c.string(ch, cw + ".extra_channels", xy) for ch in c.str_list(chans, cw + ".extra_channels", xy)))
                for xy, chans in extra_raw.items()
            )
            conda = CondaInfo(style, cudas if style else (), bool(cpu) if style else False, extra if style else ())
        cited = c.cites(row, where, sources)
        verified = row.get("verified", True)
        if not isinstance(verified, bool):
            raise c.fail(where, f"verified must be true or false, got {verified!r}")
        note = row.get("note")
        if note is not None and not isinstance(note, str):
            raise c.fail(where, f"note must be a string, got {note!r}")
        releases.append(
            Release(torch, torchvision, torchaudio, python, per_os_variants, default_index, pip_style, conda, cited,
                    verified, note)
        )
    releases.sort(key=lambda r: r.version, reverse=True)
    newest_known = doc.get("newest_known") or releases[0].torch
    newest_known = c.version(newest_known, "newest_known", "newest_known")
    if Version(newest_known) < releases[0].version:
        raise c.fail("newest_known", f"{newest_known} is older than release {releases[0].torch} in the file")
    return releases, doc["checked"], newest_known, sources


def _parse_mirrors(doc: Any, filename: str) -> tuple[dict[str, Mirror], str, dict]:
    c = _Checker(filename)
    doc, sources = c.header(doc)
    rows = c.str_list(doc.get("mirrors"), "mirrors", "'mirrors'")
    mirrors: dict[str, Mirror] = {}
    for where, row, name in c.keyed_rows(rows, "mirrors", "name", c.string, what="mirror"):
        channels = c.obj(row.get("conda_channels", {}), where + ".conda_channels")
        for key, url in channels.items():
            if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
                raise c.fail(f"{where}.conda_channels.{key}", f"expected a URL or null, got {url!r}")
        urls = {}
        for key in ("pip_index", "pytorch_wheels"):
            url = row.get(key)
            if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
                raise c.fail(f"{where}.{key}", f"expected a URL or null, got {url!r}")
            urls[key] = url.rstrip("/") if url else None
        cited = c.cites(row, where, sources)
        mirrors[name] = Mirror(
            name, str(row.get("title") or name), row.get("country"), dict(channels),
            urls["pip_index"], urls["pytorch_wheels"], cited,
        )
    return mirrors, doc["checked"], sources


def build_matrix(docs: Mapping[str, Any], names: Mapping[str, str] | None = None) -> Matrix:
    """Validate three parsed documents (keys: the FILES names) into a Matrix. Pure; tests use it."""
    names = dict(names or {})
    variants, v_checked, v_sources = _parse_variants(
        docs["cuda_variants.json"], names.get("cuda_variants.json", "cuda_variants.json")
    )
    arch_cuda = _parse_arch_cuda(docs["cuda_variants.json"], names.get("cuda_variants.json", "cuda_variants.json"))
    releases, r_checked, newest_known, r_sources = _parse_releases(
        docs["torch_releases.json"], names.get("torch_releases.json", "torch_releases.json"), variants
    )
    mirrors_doc = docs.get("mirrors.json")
    if mirrors_doc is None:
        mirrors, m_checked, m_sources = {}, r_checked, {}
    else:
        mirrors, m_checked, m_sources = _parse_mirrors(mirrors_doc, names.get("mirrors.json", "mirrors.json"))
    sources = {**m_sources, **v_sources, **r_sources}
    return Matrix(tuple(releases), variants, mirrors, min(r_checked, v_checked, m_checked), newest_known, sources,
                  arch_cuda)


def default_config_dir() -> Path:
    """envcheck/_configs when installed as a wheel, else the source checkout's configs/."""
    import envcheck

    package = Path(envcheck.__file__).resolve().parent
    shipped = package / "_configs"
    if shipped.is_dir():  # installed: report ITS files, even when one is missing or damaged (issue 14)
        return shipped
    return package.parent / "configs"


def read_docs(config_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    docs: dict[str, Any] = {}
    names: dict[str, str] = {}
    for filename in FILES:
        path = config_dir / filename
        names[filename] = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if filename == "mirrors.json":
                continue
            raise EnvcheckError(
                f"compatibility matrix file missing: {path}",
                hint="reinstall envcheck (its configs/ data files are part of the package)",
                exit_code=ExitCode.PROBLEMS,
                code="matrix-invalid",
                data={"file": str(path), "row": "", "problem": "missing"},
            ) from None
        except (OSError, UnicodeDecodeError) as exc:  # a directory, no permission, not UTF-8
            reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason})"
            raise EnvcheckError(
                f"compatibility matrix file unreadable: {path}: {reason}",
                hint="reinstall envcheck (its configs/ data files are part of the package)",
                exit_code=ExitCode.PROBLEMS,
                code="matrix-invalid",
                data={"file": str(path), "row": "", "problem": str(reason)},
            ) from None
        try:
            docs[filename] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Checker(str(path)).fail(f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise _Checker(str(path)).fail("", "not valid JSON: nested too deeply") from None
    return docs, names


@lru_cache(maxsize=8)
def _load(config_dir: str) -> Matrix:
    docs, names = read_docs(Path(config_dir))
    return build_matrix(docs, names)


def load_matrix(config_dir: str | Path | None = None) -> Matrix:
    """Load and validate the matrix (cached per directory); raises EnvcheckError naming file and row."""
    return _load(str(config_dir if config_dir is not None else default_config_dir()))


# --- staleness (issue 3, item 4) --------------------------------------------------------------


def stale_notes(
    matrix: Matrix,
    *,
    torch_version: str | Version | None = None,
    driver_cuda: str | Version | None = None,
    compute_capabilities: Iterable[str] = (),
) -> list[Finding]:
    """Findings for facts newer than the matrix knows (pure). Doctor and install both call this.

    Codes: `matrix-older-than-torch` (info), `matrix-older-than-driver` (info: a newer driver still
    runs every build the matrix knows), `gpu-arch-unknown-to-matrix` (warning: no wheel the matrix
    knows is recorded to carry kernels for that architecture, so advice may be wrong).
    """
    findings: list[Finding] = []
    update = "update envcheck (`pip install -U envcheck`) for a newer compatibility matrix"
    if torch_version is not None:
        try:
            tv = Version(str(torch_version))
        except InvalidVersion:
            tv = None
        if tv is not None and Version(tv.base_version) > matrix.newest_torch:
            findings.append(Finding(
                "matrix-older-than-torch", Severity.INFO,
                f"torch {torch_version} is newer than envcheck's compatibility matrix knows "
                f"(newest known {matrix.newest_known}, checked {matrix.checked})",
                update,
            ))
    if driver_cuda is not None:
        newest = matrix.newest_cuda()
        try:
            dc = Version(str(driver_cuda))
        except InvalidVersion:
            dc = None
        if dc is not None and newest is not None and (dc.major, dc.minor) > (newest.major, newest.minor):
            findings.append(Finding(
                "matrix-older-than-driver", Severity.INFO,
                f"the driver supports CUDA {driver_cuda}, newer than any CUDA build envcheck's matrix knows "
                f"(newest {newest}, checked {matrix.checked}); newer drivers still run older builds",
                update,
            ))
    known = matrix.known_sms()
    if known:
        newest_sm = known[-1]
        for cc in compute_capabilities:
            if not cc or not _XY.match(str(cc)):
                continue
            if parse_xy(cc) > newest_sm:
                findings.append(Finding(
                    "gpu-arch-unknown-to-matrix", Severity.WARNING,
                    f"GPU compute capability {cc} is newer than any architecture in envcheck's matrix "
                    f"(newest sm_{newest_sm[0]}{newest_sm[1]}, checked {matrix.checked}): kernel coverage "
                    "of the recommended wheels is unverified",
                    update + "; then run `envcheck verify` in the new environment",
                ))
    return findings
