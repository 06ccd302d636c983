"""The resolver: request + matrix -> the torch build to install, with a reason for every rejection.

PURE: no subprocess, no os.environ, no pynvml, no rich. Every input arrives in ResolveRequest, every
fact about torch comes from the Matrix, versions are compared with packaging.

Rule (issue 3): the newest torch release that supports the Python on the OS, matches --torch, and has
a variant the driver can run whose kernels cover every GPU; among that release's passing variants the
highest CUDA. A variant whose kernel list the matrix does not know is still rejected when its CUDA
toolkit cannot target the GPU at all (the matrix's arch_cuda table). With no runnable CUDA variant
anywhere: the CPU build of the newest eligible release, saying which driver (or, when no build of that
release has kernels for the GPU, which newer release and Python) would allow the better choice.

AMD and Intel (issue 10): with AMD GPUs (their gfx targets, `gpu_gfx`) and no runnable CUDA build, the
newest release with a ROCm variant whose recorded gfx list (configs/rocm_arches.json) covers every GPU,
and among its ROCm variants the newest ROCm; ROCm kernels load only on their exact gfx target and a
variant without a recorded list is never picked. Else, with a supported Intel GPU (`xpu`), the newest
release with an `xpu` variant. Else the CPU build, saying which gfx targets and which lists. The order
on a mixed host: NVIDIA (CUDA), then AMD (ROCm), then Intel (XPU).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from envcheck.errors import EnvcheckError, ExitCode, Msg, joined
# The kernel-coverage rule lives in matrix.py: doctor predicts coverage with it too.
from envcheck.matrix import (
    ARCH_LABEL,
    ARCHES,
    CUDA_WHEEL_MIN_MIB,
    OSES,
    WHEEL_PLATFORM,
    Matrix,
    Release,
    Variant,
    gpu_coverage,
    kernel_arch,
    parse_xy,
    ptx_suffix,
    sm_label,
)

_PLAIN_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")
_XY = re.compile(r"^\d+\.\d+$")

OS_LABEL = {"linux": "Linux", "windows": "Windows", "macos": "macOS"}


# --- request ----------------------------------------------------------------------------------


def parse_arch(text: str, what: str = "--arch") -> str:
    """'arm64' -> 'aarch64', 'AMD64' -> 'x86_64' (pure; exit 2 when unknown). The names: facts.normalize_arch."""
    from envcheck.facts import normalize_arch  # facts' dataclasses are not needed to resolve (start-up)

    value = normalize_arch(text)
    if value is None:
        raise EnvcheckError(Msg("unknown {what} {text!r}: PyTorch wheels exist for x86_64 and aarch64 only",
                                what=what, text=text),
                            hint=Msg("use --arch x86_64 (alias amd64) or --arch aarch64 (alias arm64)"), code="invalid-arch")
    return value


def default_arch(os_name: str) -> str:
    """The CPU architecture assumed when none is known: Apple silicon for macOS (Intel Macs are the
    exception since macOS x86_64 wheels stopped after torch 2.2), x86_64 elsewhere."""
    return "aarch64" if os_name == "macos" else "x86_64"


def parse_torch_spec(text: str) -> SpecifierSet:
    """'1.13' -> ==1.13.*, '2' -> ==2.*, '2.1.2' -> ==2.1.2, '>=2,<2.4' as is (pure; exit 2 if bad)."""
    raw = text.strip()
    spec = raw[len("torch"):].strip() if raw.lower().startswith("torch") else raw
    if _PLAIN_VERSION.match(spec):
        parts = spec.split(".")
        spec = f"=={spec}" if len(parts) == 3 else f"=={spec}.*"
    try:
        if any(not part.strip() for part in spec.split(",")):
            raise InvalidSpecifier(spec)  # packaging skips empty parts; a typo should not widen the spec
        result = SpecifierSet(spec)
    except InvalidSpecifier:
        raise EnvcheckError(
            Msg("invalid --torch {text!r}: not a version or version specifier", text=text),
            hint=Msg("examples: --torch 1.13 (any 1.13.x), --torch ==2.1.2, --torch '>=2,<2.4'"),
            exit_code=ExitCode.USAGE,
            code="invalid-torch-spec",
        ) from None
    if not str(result):
        raise EnvcheckError(
            Msg("empty --torch specifier"),
            hint=Msg("examples: --torch 1.13, --torch ==2.1.2, --torch '>=2,<2.4'"),
            exit_code=ExitCode.USAGE,
            code="invalid-torch-spec",
        )
    return result


@dataclass(frozen=True)
class ResolveRequest:
    """Everything the resolver may know. Commands fill it from flags and probes."""

    python: str  # "3.7"
    os: str  # "linux" | "windows" | "macos"
    driver: Version | None = None  # the NVIDIA driver, e.g. Version("535.104.05")
    cuda: Version | None = None  # the newest CUDA the driver supports (nvidia-smi's "CUDA Version")
    gpu_ccs: tuple[str, ...] = ()  # compute capabilities of the GPUs, "8.6"
    cpu_only: bool = False
    torch_spec: SpecifierSet | str | None = None
    strict_driver: bool = False
    driver_text: str | None = None  # the driver as printed ("450.80.02"; Version drops the zero)
    torch_spec_text: str | None = None  # the spec as the user typed it, for messages
    arch: str | None = None  # CPU architecture "x86_64" | "aarch64"; None: the OS's usual one (default_arch)
    allow_unverified: bool = False  # consider release rows marked unverified without --torch naming them
    gpu_gfx: tuple[str, ...] = ()  # gfx targets of the AMD GPUs, "gfx90a"
    xpu: bool = False  # a supported Intel GPU (an XPU device) is present
    host_rocm: str | None = None  # the ROCm release installed on the host ("6.2.4"), for the driver note only

    def __post_init__(self) -> None:
        if self.os not in OSES:
            raise EnvcheckError(Msg("unknown OS {os!r}", os=self.os), hint=Msg("use linux, windows or macos"), code="invalid-os")
        if self.arch is None:
            object.__setattr__(self, "arch", default_arch(self.os))
        if self.arch not in ARCHES:
            raise EnvcheckError(Msg("unknown CPU architecture {arch!r}", arch=self.arch), hint=Msg("use x86_64 or aarch64"), code="invalid-arch")
        if isinstance(self.torch_spec, str):
            object.__setattr__(self, "torch_spec_text", self.torch_spec_text or self.torch_spec)
            object.__setattr__(self, "torch_spec", parse_torch_spec(self.torch_spec))
        if isinstance(self.driver, str):
            object.__setattr__(self, "driver_text", self.driver_text or self.driver)
            object.__setattr__(self, "driver", Version(self.driver))
        if isinstance(self.cuda, str):
            object.__setattr__(self, "cuda", Version(self.cuda))
        object.__setattr__(self, "gpu_ccs", tuple(self.gpu_ccs))
        object.__setattr__(self, "gpu_gfx", tuple(dict.fromkeys(str(g).lower() for g in self.gpu_gfx)))

    @property
    def driver_label(self) -> str | None:
        if self.driver is None:
            return None
        return self.driver_text or str(self.driver)

    @property
    def spec_label(self) -> str | None:
        if self.torch_spec is None:
            return None
        return self.torch_spec_text or str(self.torch_spec)

    @property
    def has_nvidia(self) -> bool:
        return not self.cpu_only and self.os != "macos" and (self.driver is not None or self.cuda is not None)

    @property
    def has_amd(self) -> bool:
        """AMD GPUs to plan for: ROCm wheels exist for Linux only."""
        return not self.cpu_only and self.os == "linux" and bool(self.gpu_gfx)

    @property
    def has_xpu(self) -> bool:
        """An Intel GPU to plan for: XPU wheels exist for Linux and Windows."""
        return not self.cpu_only and self.os in ("linux", "windows") and self.xpu


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A candidate (a release, or one variant of a release) and why it was not chosen."""

    torch: str
    variant: str | None  # None: the whole release was rejected
    code: str  # stable: torch-spec, no-os-wheels, python, arch, unverified, cpu-only, no-driver, no-amd-gpu, no-xpu, driver, cuda, gpu-arch, not-newest, no-cpu-build
    reason: str

    def to_dict(self) -> dict:
        return {"torch": self.torch, "variant": self.variant, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class Candidate:
    """A release/variant pair that can be installed and run for the request."""

    release: Release
    variant: Variant
    notes: tuple[str, ...] = ()
    # how the GPUs are covered: "sass", "ptx", "presumed" (arch list of the nearest release with
    # one), "unknown" (the matrix records none), "unchecked" (no GPU facts); "gfx" (a ROCm variant's
    # recorded gfx list has every AMD GPU's target), "device" (xpu for a supported Intel GPU); "" for cpu
    coverage: str = ""

    @property
    def torch(self) -> str:
        return self.release.torch

    def to_dict(self) -> dict:
        r = self.release
        return {
            "torch": r.torch,
            "torchvision": r.torchvision,
            "torchaudio": r.torchaudio,
            "variant": self.variant.name,
            "kind": self.variant.kind,
            "coverage": self.coverage or None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Recommendation:
    """The chosen build and why."""

    release: Release
    variant: Variant
    os: str
    python: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()  # caveats: PTX JIT, unknown kernel coverage, better driver
    arch: str = "x86_64"

    @property
    def torch(self) -> str:
        return self.release.torch

    @property
    def torchvision(self) -> str:
        return self.release.torchvision

    @property
    def torchaudio(self) -> str | None:
        return self.release.torchaudio

    def to_dict(self) -> dict:
        return {
            "torch": self.torch,
            "torchvision": self.torchvision,
            "torchaudio": self.torchaudio,
            "variant": self.variant.name,
            "kind": self.variant.kind,
            "cuda": self.variant.cuda,
            "rocm": str(self.variant.rocm_version) if self.variant.rocm_version is not None else None,
            "python": self.python,
            "os": self.os,
            "arch": self.arch,
            "verified": self.release.verified,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Resolution:
    request: ResolveRequest
    recommendation: Recommendation
    rejected: tuple[Rejection, ...]
    compatible: tuple[Candidate, ...]
    better: str | None = None  # what a driver upgrade (or a newer Python) would buy, when the choice is a CPU fallback


class NoCompatibleBuild(EnvcheckError):
    """No torch release fits the Python/OS/--torch request (exit 3), with the nearest alternatives."""

    def __init__(self, message: str, *, alternatives: list[dict], rejected: tuple[Rejection, ...]) -> None:
        hint = joined(a["message"] for a in alternatives) if alternatives else None
        super().__init__(
            message,
            hint=hint,
            exit_code=ExitCode.NO_COMPATIBLE_BUILD,
            code="no-compatible-build",
            data={"alternatives": alternatives, "rejected": [r.to_dict() for r in rejected]},
        )
        self.alternatives = alternatives
        self.rejected = rejected


# --- pure helpers -----------------------------------------------------------------------------


def _python_range(pythons: Iterable[str]) -> str:
    ordered = sorted(set(pythons), key=parse_xy)
    if not ordered:
        return Msg("no Python")
    return ordered[0] if len(ordered) == 1 else Msg("{first} to {last}", first=ordered[0], last=ordered[-1])


def driver_floor_for(variant: Variant, os: str, *, strict: bool) -> str | None:
    """The driver floor the rule applies: native when strict or for CUDA 10.x and older (no
    minor-version compatibility before CUDA 11), else the minor-version-compatibility floor."""
    floor = variant.driver.get(os)
    if floor is None:
        return None
    cuda = variant.cuda_version
    if strict or (cuda is not None and cuda.major < 11):
        return floor.native
    return floor.floor(minor_compat=True)


def _cuda_runs(variant: Variant, request: ResolveRequest) -> tuple[bool, str | None, str | None]:
    """Can the driver run this CUDA variant? (ok, rejection code, reason)."""
    cuda = variant.cuda_version
    assert cuda is not None
    strict = request.strict_driver
    if request.driver is not None:
        floor = driver_floor_for(variant, request.os, strict=strict)
        if floor is None:
            return False, "driver", Msg("{variant}: no {os} driver floor known for CUDA {cuda}", variant=variant.name,
                                        os=OS_LABEL[request.os], cuda=variant.cuda)
        if request.driver < Version(floor):
            how = Msg("native minimum") if strict or cuda.major < 11 else Msg("minimum with CUDA minor-version compatibility")
            return False, "driver", Msg("{variant}: driver {driver} < {floor} ({how} for CUDA {cuda})", variant=variant.name,
                                        driver=request.driver_label, floor=floor, how=how, cuda=variant.cuda)
    if request.cuda is not None:
        dc = request.cuda
        if strict or cuda.major < 11:
            ok = (cuda.major, cuda.minor) <= (dc.major, dc.minor)
            why = Msg("the driver's CUDA")
        else:
            # minor-version compatibility: a driver of CUDA major M runs every M.x build
            ok = cuda.major <= dc.major
            why = Msg("the driver's CUDA major version")
        if not ok:
            return False, "cuda", Msg("{variant}: CUDA {cuda} is newer than {why} ({major}.{minor})", variant=variant.name,
                                      cuda=variant.cuda, why=why, major=dc.major, minor=dc.minor)
    return True, None, None


def _row_caveats(release: Release) -> tuple[str, ...]:
    """A release row the matrix marks unverified is still offered, but never silently."""
    if release.verified:
        return ()
    return (Msg("torch {torch}: envcheck's matrix row for this release is marked unverified (its note in "
                "configs/torch_releases.json says what was inferred); check the command against pytorch.org, "
                "or pin an older --torch", torch=release.torch),)


_COVERAGE_RANK = {"sass": 3, "ptx": 3, "unchecked": 3, "gfx": 3, "device": 3, "presumed": 2, "unknown": 1, "": 0}


def _cuda_key(variant: Variant) -> Version:
    return variant.cuda_version or Version("0")


def _names(spec: SpecifierSet | None, rel: Release) -> bool:
    """--torch names this release: it admits it and pins a version or a version prefix (==2.15.0,
    2.15 -> ==2.15.*); a range such as '>=2' does not name a release."""
    if spec is None or not spec.contains(rel.version, prereleases=True):
        return False
    return all(s.operator in ("==", "===") for s in spec)


def _first_sentence(text: str | None) -> str:
    if not text:
        return "no note"
    body = text[len("UNVERIFIED. "):] if text.startswith("UNVERIFIED. ") else text
    return body.split(". ")[0].rstrip(".")


def _arch_rejection(rel: Release, request: ResolveRequest, matrix: Matrix) -> str | None:
    """Why `rel` has no wheel for the request's Python on its OS and CPU architecture (None: it has one,
    or the facts cannot say). Linux/Windows x86_64 are what the rows describe; the other platforms come
    from wheels.json (the default index), the only record of them."""
    key = (request.os, request.arch)
    label = ARCH_LABEL[key]
    platform = WHEEL_PLATFORM[key]
    if platform is None:
        return Msg("torch {torch}: no {label} wheels (PyTorch publishes none on the default index)", torch=rel.torch,
                   label=label)
    if request.arch == "x86_64" and request.os != "macos":
        return None
    wheels = matrix.wheels
    if wheels is None:
        return None  # a matrix without generated facts: the rows are all there is
    has = wheels.has_wheel("torch", rel.torch, platform, request.python)
    if has is None:
        return Msg("torch {torch}: not in the generated wheel facts (wheels.json, read {read}), so no {label} wheel is "
                   "known", torch=rel.torch, read=wheels.read, label=label)
    if not has:
        return Msg("torch {torch}: no {label} wheel for Python {python} on the default index (wheels.json, read {read})",
                   torch=rel.torch, label=label, python=request.python, read=wheels.read)
    return None


def _wheel_arch(request: ResolveRequest) -> str:
    """Which wheels' kernel lists apply to the request (matrix.kernel_arch)."""
    return kernel_arch(request.os, request.arch)


def _has_build(variant: Variant, rel: Release, request: ResolveRequest) -> bool:
    """False for a CUDA variant with no Linux aarch64 build of `rel` recorded, on Linux aarch64."""
    return _wheel_arch(request) != "aarch64" or variant.aarch64_for(rel.version) is not None


def _aarch64_variant_rejection(rel: Release, variant: Variant, request: ResolveRequest, matrix: Matrix) -> str | None:
    """Linux aarch64: which builds exist. CUDA: the releases and variants cuda_variants.json's "aarch64"
    ranges record (Linux aarch64 wheels on download.pytorch.org/whl/<variant>, with their own kernel
    lists); no ROCm or XPU build is recorded. The CPU build of the default index is offered only where
    that build IS a CPU build: from 2.11 the default index's aarch64 wheels are CUDA builds (wheels.json
    size_mib >= 400 MiB, like every CUDA wheel; CPU-only wheels are far smaller)."""
    if variant.kind == "cuda" and variant.aarch64_for(rel.version) is not None:
        return None
    if variant.kind != "cpu":
        return Msg("{variant}: no Linux aarch64 build of it is recorded in envcheck's matrix", variant=variant.name)
    wheels = matrix.wheels
    rel_facts = wheels.packages["torch"].releases.get(rel.torch) if wheels is not None and "torch" in wheels.packages else None
    size = rel_facts.size_mib.get("linux-aarch64") if rel_facts is not None else None
    if size is not None and size >= CUDA_WHEEL_MIN_MIB:
        return Msg("cpu: torch {torch}'s Linux aarch64 wheels on the default index are CUDA builds ({size} MiB; "
                   "CPU-only wheels are far smaller), and no aarch64 CPU-only build of it is recorded",
                   torch=rel.torch, size=size)
    return None


# --- the resolver -----------------------------------------------------------------------------


def resolve(request: ResolveRequest, matrix: Matrix) -> Resolution:
    """Choose the build; raise NoCompatibleBuild (exit 3) when no release fits Python/OS/spec."""
    os_name = request.os
    spec = request.torch_spec if isinstance(request.torch_spec, SpecifierSet) else None
    rejected: list[Rejection] = []
    eligible: list[Release] = []  # releases with wheels for this Python on this OS matching the spec
    arch_skipped: list[Release] = []  # releases with the Python on the OS, but no wheel for the arch
    unverified_skipped: list[Release] = []  # eligible but for an unverified row

    for rel in matrix.releases:
        if spec is not None and not spec.contains(rel.version, prereleases=True):
            rejected.append(Rejection(rel.torch, None, "torch-spec", Msg("torch {torch}: does not match --torch {spec}", torch=rel.torch,
                                                                                spec=request.spec_label)))
            continue
        pys = rel.pythons(os_name)
        if not pys:
            rejected.append(Rejection(rel.torch, None, "no-os-wheels", Msg("torch {torch}: no wheels for {os}", torch=rel.torch,
                                                                                      os=OS_LABEL[os_name])))
            continue
        if request.python not in pys:
            rejected.append(Rejection(
                rel.torch, None, "python",
                Msg("torch {torch}: no wheel for Python {python} on {os} (supports {range})", torch=rel.torch,
                    python=request.python, os=OS_LABEL[os_name], range=_python_range(pys)),
            ))
            continue
        why = _arch_rejection(rel, request, matrix)
        if why is not None:
            rejected.append(Rejection(rel.torch, None, "arch", why))
            arch_skipped.append(rel)
            continue
        if not rel.verified and not request.allow_unverified and not _names(spec, rel):
            rejected.append(Rejection(
                rel.torch, None, "unverified",
                Msg("torch {torch}: its matrix row is marked unverified ({note}); pass --torch {torch} or "
                    "--allow-unverified to consider it", torch=rel.torch, note=_first_sentence(rel.note)),
            ))
            unverified_skipped.append(rel)
            continue
        eligible.append(rel)

    if not eligible:
        raise _no_build(request, matrix, tuple(rejected), tuple(unverified_skipped))
    aarch64_linux = request.arch == "aarch64" and os_name == "linux"
    cpu_blocked: set[str] = set()

    # Evaluate every variant of every eligible release (for --all and --explain), remembering
    # the first release (newest) that has a runnable CUDA variant.
    compatible: list[Candidate] = []
    chosen_cuda: list[Candidate] = []
    chosen_release: Release | None = None
    chosen_rocm: list[Candidate] = []  # the newest release with a ROCm variant covering the AMD GPUs
    chosen_xpu: Candidate | None = None  # the newest release with an xpu variant, for an Intel GPU
    for rel in eligible:
        passing_cuda: list[Candidate] = []
        passing_rocm: list[Candidate] = []
        for vname in rel.variants_for(os_name):
            variant = matrix.variants[vname]
            if aarch64_linux:
                why = _aarch64_variant_rejection(rel, variant, request, matrix)
                if why is not None:
                    rejected.append(Rejection(rel.torch, vname, "arch", why))
                    if variant.kind == "cpu":
                        cpu_blocked.add(rel.torch)
                    continue
            if variant.kind == "cpu":
                compatible.append(Candidate(rel, variant))
                continue
            if variant.kind in ("rocm", "xpu"):
                cand, code, why = (_rocm_candidate if variant.kind == "rocm" else _xpu_candidate)(rel, variant, request, matrix)
                if cand is None:
                    rejected.append(Rejection(rel.torch, vname, code, why))
                    if code in ("no-amd-gpu", "no-xpu"):  # still listed by --all, for another machine
                        what = (Msg("{variant} build: for AMD GPUs (--gpu-arch gfxNNN plans for one)", variant=vname)
                                if code == "no-amd-gpu" else
                                Msg("{variant} build: for Intel GPUs (--xpu plans for one)", variant=vname))
                        compatible.append(Candidate(rel, variant, (what,)))
                    continue
                compatible.append(cand)
                if variant.kind == "rocm":
                    passing_rocm.append(cand)
                elif chosen_xpu is None:
                    chosen_xpu = cand
                continue
            # CUDA
            if request.cpu_only:
                rejected.append(Rejection(rel.torch, vname, "cpu-only", Msg("{variant}: --cpu requested", variant=vname)))
                continue
            if not request.has_nvidia:
                rejected.append(Rejection(rel.torch, vname, "no-driver", Msg("{variant}: no NVIDIA driver detected", variant=vname)))
                continue
            ok, code, reason = _cuda_runs(variant, request)
            if not ok:
                rejected.append(Rejection(rel.torch, vname, code or "driver", reason or vname))
                continue
            covered, why, notes, coverage = gpu_coverage(variant, rel, request.gpu_ccs, matrix, _wheel_arch(request))
            if not covered:
                rejected.append(Rejection(rel.torch, vname, "gpu-arch", why or vname))
                continue
            cand = Candidate(rel, variant, notes, coverage)
            compatible.append(cand)
            passing_cuda.append(cand)
        if passing_cuda and chosen_release is None:
            chosen_release = rel
            chosen_cuda = passing_cuda
        if passing_rocm and not chosen_rocm:
            chosen_rocm = passing_rocm

    newest = eligible[0]
    reasons: list[str] = []
    notes: list[str] = []
    better: str | None = None
    skipped_newer = [r for r in matrix.releases if r.version > (chosen_release or newest).version]

    if chosen_release is not None:
        # Prefer variants whose kernel coverage the matrix confirms, then the highest CUDA.
        best = max(chosen_cuda, key=lambda c: (_COVERAGE_RANK[c.coverage], _cuda_key(c.variant)))
        rel, variant = chosen_release, best.variant
        for cand in chosen_cuda:
            if cand is not best:
                why = (Msg("{variant}: runs, but {best} is the highest CUDA of torch {torch} that does",
                           variant=cand.variant.name, best=variant.name, torch=rel.torch)
                       if _cuda_key(cand.variant) < _cuda_key(variant) else
                       Msg("{variant}: GPU kernel coverage {coverage} in the matrix; {best}'s is confirmed",
                           variant=cand.variant.name, coverage=cand.coverage, best=variant.name))
                rejected.append(Rejection(rel.torch, cand.variant.name, "not-newest", why))
        passed = _passed_over(request, rel, arch_skipped, unverified_skipped, matrix)
        if not (passed and passed[0].startswith(ARCH_LABEL[(os_name, request.arch)])):
            reasons.append(_python_reason(request, rel, newest, skipped_newer, spec))
        reasons.extend(passed)
        reasons.append(_driver_reason(request, variant))
        if _wheel_arch(request) == "aarch64":
            built = variant.aarch64_for(rel.version)
            reasons.append(Msg("Linux aarch64: the {variant} build of torch {torch} for aarch64 (sbsa) on "
                               "https://download.pytorch.org/whl/{variant}, built for {arches}{ptx} "
                               "(configs/cuda_variants.json \"aarch64\")", variant=variant.name, torch=rel.torch,
                               arches=', '.join(sm_label(x) for x in built.sm) if built else '?',
                               ptx=ptx_suffix(built.ptx if built else None)))
        gpus = ", ".join(sm_label(c) for c in request.gpu_ccs)
        if best.coverage in ("sass", "ptx"):
            how = Msg("JIT from PTX") if best.coverage == "ptx" else Msg("native kernels")
            reasons.append(Msg("GPU {gpus}: {name} wheels of torch {torch} run it ({how})",
                               gpus=gpus, name=variant.name, torch=rel.torch, how=how))
        elif best.coverage == "presumed":
            reasons.append(Msg("GPU {gpus}: presumed covered by {name} wheels of torch {torch} (kernel list of a "
                               "neighbouring release)", gpus=gpus, name=variant.name, torch=rel.torch))
        elif best.coverage == "unknown":
            reasons.append(Msg("GPU {gpus}: kernel coverage of {name} wheels of torch {torch} unknown to the matrix",
                               gpus=gpus, name=variant.name, torch=rel.torch))
        else:
            notes.append(Msg("GPU compute capability unknown: kernel coverage not checked (pass --gpu-cc X.Y)"))
        if len(chosen_cuda) > 1:
            ranked = _COVERAGE_RANK[best.coverage] == max(_COVERAGE_RANK[c.coverage] for c in chosen_cuda)
            top = all(_cuda_key(c.variant) <= _cuda_key(variant) for c in chosen_cuda)
            if top:
                reasons.append(Msg("{name} is the highest CUDA among torch {torch}'s runnable variants ({items})",
                                   name=variant.name, torch=rel.torch, items=', '.join((c.variant.name for c in chosen_cuda))))
            elif ranked:
                reasons.append(Msg("{name} is the highest CUDA among torch {torch}'s runnable variants whose kernels "
                                   "the matrix confirms for this GPU", name=variant.name, torch=rel.torch))
        if rel is not newest:
            blocks = _what_blocks(rejected, newest)
            notes.append(
                Msg("torch {torch} supports Python {python} too, but none of its CUDA builds runs here ({blocks})",
                    torch=newest.torch, python=request.python, blocks=blocks) if blocks else
                Msg("torch {torch} supports Python {python} too, but none of its CUDA builds runs here",
                    torch=newest.torch, python=request.python)
            )
        notes.extend(best.notes)
        notes.extend(_row_caveats(rel))
        rec = Recommendation(rel, variant, os_name, request.python, tuple(reasons), tuple(notes), request.arch)
        return Resolution(request, rec, tuple(rejected), tuple(compatible), None)

    if chosen_rocm or chosen_xpu is not None:
        return _accelerator_pick(request, matrix, chosen_rocm, chosen_xpu, newest, rejected=rejected,
                                 compatible=compatible, arch_skipped=arch_skipped, unverified_skipped=unverified_skipped)

    # CPU build of the newest eligible release that has one (a release the data records without
    # CPU wheels for this OS is skipped, with a reason).
    cpu = matrix.variants["cpu"]
    with_cpu = [r for r in eligible if "cpu" in r.variants_for(os_name) and r.torch not in cpu_blocked]
    for r in eligible:
        if r not in with_cpu and r.torch not in cpu_blocked:
            rejected.append(Rejection(r.torch, "cpu", "no-cpu-build", Msg("torch {torch}: no CPU build recorded for {os}",
                                                                          torch=r.torch, os=OS_LABEL[os_name])))
    if not with_cpu:
        raise _no_build(request, matrix, tuple(rejected))
    rel = with_cpu[0]
    passed = _passed_over(request, rel, arch_skipped, unverified_skipped, matrix)
    if passed and passed[0].startswith(ARCH_LABEL[(os_name, request.arch)]):
        pass  # the architecture's reason names the last release built for it
    elif rel is newest:
        reasons.append(_python_reason(request, rel, newest, skipped_newer, spec))
    else:
        reasons.append(Msg("Python {python} on {os}: torch {torch} is the newest release{spec_text} with a CPU build for it", python=request.python, os=OS_LABEL[os_name], torch=rel.torch, spec_text=Msg(" matching --torch {spec}", spec=str(request.spec_label)) if spec is not None else ''))
    reasons.extend(passed)
    if aarch64_linux:
        if any(matrix.variants[v].kind == "cuda" and _has_build(matrix.variants[v], r, request)
               for r in eligible for v in r.variants_for(os_name)):
            # aarch64 CUDA builds are recorded: the reasons below say why none of them is the pick
            reasons.append(Msg("Linux aarch64: the CPU build, as the default index publishes it for torch {torch}",
                               torch=rel.torch))
        else:
            reasons.append(Msg("Linux aarch64: the CPU build, as the default index publishes it for torch {torch} (no "
                               "aarch64 CUDA build is recorded in envcheck's matrix)", torch=rel.torch))
        notes.append(Msg("Linux aarch64: a plain `pip install torch=={torch}` from the default index gets this aarch64 "
                         "CPU wheel (wheels.json); envcheck has not checked the CPU index of download.pytorch.org for "
                         "aarch64 wheels of this release", torch=rel.torch))
    if os_name == "macos":
        reasons.append(Msg("macOS: the default wheels (CPU; Apple-silicon GPUs through MPS), no CUDA builds exist"))
    elif request.cpu_only:
        reasons.append(Msg("--cpu: the CPU build"))
    elif request.has_amd and not request.has_nvidia:
        reasons.append(Msg("AMD GPU {items}: no ROCm build of a torch release for Python {python} is recorded to carry "
                           "kernels for it: the CPU build", items=', '.join(request.gpu_gfx), python=request.python))
        notes.append(_rocm_gap(request, matrix, eligible))
    elif request.has_xpu and not request.has_nvidia:
        reasons.append(Msg("Intel GPU: no torch release for Python {python} on {os} has XPU wheels (torch 2.5 and "
                           "later): the CPU build", python=request.python, os=OS_LABEL[os_name]))
    elif not request.has_nvidia:
        reasons.append(Msg("no NVIDIA driver detected: the CPU build"))
        better = _better_choice(request, matrix, rel, need_driver=True)
    else:
        reasons.append(Msg("no CUDA build of any torch release for Python {python} runs with driver "
                           "{driver}{cuda_suffix}{gpu_suffix}: the CPU build",
                           python=request.python, driver=request.driver_label or '?', cuda_suffix=_cuda_suffix(request), gpu_suffix=_gpu_suffix(request)))
        better = _better_choice(request, matrix, rel, need_driver=False)
    if better:
        notes.append(better)
    notes.extend(_row_caveats(rel))
    rec = Recommendation(rel, cpu, os_name, request.python, tuple(reasons), tuple(notes), request.arch)
    return Resolution(request, rec, tuple(rejected), tuple(compatible), better)


def _rocm_candidate(rel: Release, variant: Variant, request: ResolveRequest, matrix: Matrix):
    """(Candidate, None, None) when `variant`'s recorded gfx list covers every AMD GPU, else (None, code, reason)."""
    from envcheck.rocmarch import gfx_covered

    name = variant.name
    if request.cpu_only:
        return None, "cpu-only", Msg("{variant}: --cpu requested", variant=name)
    if not request.has_amd:
        return None, "no-amd-gpu", Msg("{variant}: no AMD GPU detected (--gpu-arch gfxNNN plans for one)", variant=name)
    gfx = ", ".join(request.gpu_gfx)
    row = matrix.rocm_gfx_for(name, rel.torch)
    if row is None:
        return None, "gpu-arch", Msg("{variant}: the gfx targets of torch {torch}'s {variant} wheels are not recorded in "
                                     "envcheck's matrix (configs/rocm_arches.json), so kernels for {gfx} are unconfirmed",
                                     variant=name, torch=rel.torch, gfx=gfx)
    missing = [g for g in request.gpu_gfx if not gfx_covered(g, row.arches)]
    if missing:
        return None, "gpu-arch", Msg("{variant}: no kernels for {missing} (torch {torch} {variant} wheels are built for "
                                     "{arches}; ROCm kernels load only on their exact gfx target)", variant=name,
                                     missing=', '.join(missing), torch=rel.torch, arches=', '.join(row.arches))
    return Candidate(rel, variant, (), "gfx"), None, None


def _xpu_candidate(rel: Release, variant: Variant, request: ResolveRequest, matrix: Matrix):
    if request.cpu_only:
        return None, "cpu-only", Msg("{variant}: --cpu requested", variant=variant.name)
    if not request.has_xpu:
        return None, "no-xpu", Msg("{variant}: no supported Intel GPU detected (--xpu plans for one)", variant=variant.name)
    return Candidate(rel, variant, (), "device"), None, None


def _rocm_key(cand: Candidate) -> Version:
    return cand.variant.rocm_version or Version("0")


def _accelerator_pick(request: ResolveRequest, matrix: Matrix, rocm: list[Candidate], xpu: Candidate | None,
                      newest: Release, *, rejected, compatible, arch_skipped, unverified_skipped) -> Resolution:
    """The ROCm pick (AMD GPUs covered) or else the XPU pick (an Intel GPU), with reasons and notes."""
    os_name = request.os
    spec = request.torch_spec if isinstance(request.torch_spec, SpecifierSet) else None
    reasons: list[str] = []
    notes: list[str] = []
    if rocm:
        best = max(rocm, key=_rocm_key)
        rel, variant = best.release, best.variant
        for cand in rocm:
            if cand is not best:
                rejected.append(Rejection(rel.torch, cand.variant.name, "not-newest",
                                          Msg("{variant}: covers the GPU, but {best} is the newest ROCm of torch {torch} "
                                              "that does", variant=cand.variant.name, best=variant.name, torch=rel.torch)))
    else:
        assert xpu is not None
        best, rel, variant = xpu, xpu.release, xpu.variant
    skipped_newer = [r for r in matrix.releases if r.version > rel.version]
    passed = _passed_over(request, rel, arch_skipped, unverified_skipped, matrix)
    if not (passed and passed[0].startswith(ARCH_LABEL[(os_name, request.arch)])):
        reasons.append(_python_reason(request, rel, newest, skipped_newer, spec))
    reasons.extend(passed)
    if rocm:
        gfx = ", ".join(request.gpu_gfx)
        row = matrix.rocm_gfx_for(variant.name, rel.torch)
        reasons.append(Msg("AMD GPU {gfx}: {name} wheels of torch {torch} carry kernels for it (built for {arches}; "
                           "configs/rocm_arches.json)",
                           gfx=gfx, name=variant.name, torch=rel.torch, arches=', '.join(row.arches) if row else '?'))
        if len(rocm) > 1:
            reasons.append(Msg("{name} is the newest ROCm among torch {torch}'s variants that cover the GPU ({items})",
                               name=variant.name, torch=rel.torch, items=', '.join((c.variant.name for c in rocm))))
        if request.has_nvidia:
            reasons.append(Msg("no CUDA build runs with this NVIDIA driver and GPU: the AMD GPU's ROCm build"))
        if rel is not newest:
            blocks = _what_blocks(rejected, newest)
            notes.append(
                Msg("torch {torch} supports Python {python} too, but none of its ROCm builds covers {gfx} ({blocks})",
                    torch=newest.torch, python=request.python, gfx=gfx, blocks=blocks) if blocks else
                Msg("torch {torch} supports Python {python} too, but none of its ROCm builds covers {gfx}",
                    torch=newest.torch, python=request.python, gfx=gfx)
            )
        notes.append(_rocm_runtime_note(variant, request))
    else:
        reasons.append(Msg("Intel GPU: the XPU build of torch {torch} ({os}, https://download.pytorch.org/whl/xpu; "
                           "PyTorch's Intel GPU support starts at 2.5)", torch=rel.torch, os=OS_LABEL[os_name]))
        if request.has_nvidia or request.has_amd:
            reasons.append(Msg("no CUDA or ROCm build covers this machine's other GPUs: the Intel GPU's XPU build"))
        notes.append(Msg("the xpu wheels need Intel's GPU driver (PyTorch's 'Getting Started on Intel GPU' lists the "
                         "validated GPUs and OS versions); `envcheck verify` runs a computation on the XPU"))
        if os_name == "windows" and rel.version < Version("2.6"):
            notes.append(Msg("torch {torch} on Windows: only torch itself is published on the xpu index (torchvision "
                             "and torchaudio are built from source there, per 'Getting Started on Intel GPU' 2.5)",
                             torch=rel.torch))
    notes.extend(_row_caveats(rel))
    rec = Recommendation(rel, variant, os_name, request.python, tuple(reasons), tuple(notes), request.arch)
    return Resolution(request, rec, tuple(rejected), tuple(compatible), None)


def _rocm_runtime_note(variant: Variant, request: ResolveRequest) -> str:
    """The ROCm wheels carry ROCm's user-space libraries but not the kernel driver. AMD: "ROCm provides
    forward and backward compatibility between the AMD Kernel-mode GPU Driver (KMD) and its user space
    software for +/- 2 releases" (User and kernel-space support matrix,
    https://rocm.docs.amd.com/projects/install-on-linux/en/docs-6.3.0/reference/user-kernel-space-compat-matrix.html).
    No floor is derived from it here: the note says what to compare."""
    host = (Msg("this machine has ROCm {rocm} installed", rocm=request.host_rocm) if request.host_rocm
            else Msg("the ROCm release installed on the target machine was not detected"))
    return Msg("{variant} wheels bundle ROCm {rocm} user-space libraries but need the amdgpu kernel driver, which AMD "
               "supports with user space up to 2 ROCm releases apart (AMD's 'User and kernel-space support matrix'); "
               "{host}: check the machine's amdgpu driver against that matrix", variant=variant.name,
               rocm=str(variant.rocm_version), host=host)


def _rocm_gap(request: ResolveRequest, matrix: Matrix, eligible: list[Release]) -> str:
    """Which gfx lists were checked when no ROCm build covers the AMD GPUs (the newest eligible release's)."""
    rel = next((r for r in eligible if any(matrix.variants[v].kind == "rocm" for v in r.variants_for(request.os))), None)
    gfx = ", ".join(request.gpu_gfx)
    if rel is None:
        return Msg("AMD GPU {gfx}: no eligible torch release has a ROCm build for Python {python}", gfx=gfx,
                   python=request.python)
    lists = []
    for vname in rel.variants_for(request.os):
        if matrix.variants[vname].kind != "rocm":
            continue
        row = matrix.rocm_gfx_for(vname, rel.torch)
        lists.append(f"{vname}: {', '.join(row.arches)}" if row else Msg("{variant}: not recorded", variant=vname))
    return Msg("AMD GPU {gfx}: torch {torch}'s ROCm wheels are built for {lists} (configs/rocm_arches.json); ROCm "
               "kernels load only on their exact gfx target (`--explain` lists every release checked)", gfx=gfx,
               torch=rel.torch, lists=joined(lists))


def _passed_over(request: ResolveRequest, rel: Release, arch_skipped: list[Release],
                 unverified_skipped: list[Release], matrix: Matrix) -> list[str]:
    """Reasons naming the newer releases the pick passed over for the CPU architecture or an unverified row."""
    out: list[str] = []
    label = ARCH_LABEL[(request.os, request.arch)]
    newer_arch = [r for r in arch_skipped if r.version > rel.version]
    if newer_arch:
        oldest = newer_arch[-1]
        p = dict(label=label, torch=rel.torch, python=request.python, oldest=oldest.torch)
        out.append(Msg("{label}: torch {torch} is the last release with a {label} wheel for Python {python} (torch "
                       "{oldest} and later have none on the default index; wheels.json read {read})",
                       read=matrix.wheels.read, **p) if matrix.wheels is not None else
                   Msg("{label}: torch {torch} is the last release with a {label} wheel for Python {python} (torch "
                       "{oldest} and later have none on the default index)", **p))
    newer_unverified = [r for r in unverified_skipped if r.version > rel.version]
    for r in newer_unverified:
        out.append(Msg("torch {torch} is newer but passed over: its matrix row is unverified ({note}); --torch {torch} "
                       "or --allow-unverified picks it", torch=r.torch, note=_first_sentence(r.note)))
    return out


def _cuda_suffix(request: ResolveRequest) -> str:
    return Msg(" (CUDA {major}.{minor})", major=request.cuda.major, minor=request.cuda.minor) if request.cuda is not None else ""


def _gpu_suffix(request: ResolveRequest) -> str:
    return Msg(" and GPU {gpus}", gpus=", ".join(sm_label(c) for c in request.gpu_ccs)) if request.gpu_ccs else ""


def _what_blocks(rejected: list[Rejection], rel: Release) -> str:
    mine = [r.reason for r in rejected if r.torch == rel.torch and r.variant and r.code in ("driver", "cuda", "gpu-arch")]
    return joined(mine[:3]) if mine else ""


def _python_reason(request, rel: Release, newest: Release, skipped_newer: list[Release], spec) -> str:
    p = dict(where=Msg("Python {python} on {os}", python=request.python, os=OS_LABEL[request.os]), torch=rel.torch,
             spec=request.spec_label)
    if rel is newest:
        if skipped_newer and any(request.python not in r.pythons(request.os) for r in skipped_newer):
            return (Msg("{where}: torch {torch} is the newest release matching --torch {spec} with wheels for it", **p)
                    if spec is not None else Msg("{where}: torch {torch} is the newest release with wheels for it",
                                                 **p))
        return (Msg("{where}: torch {torch} is the newest release matching --torch {spec}", **p) if spec is not None
                else Msg("{where}: torch {torch} is the newest release", **p))
    return (Msg("{where}: torch {torch} is the newest release matching --torch {spec} with a build that runs here", **p)
            if spec is not None else Msg("{where}: torch {torch} is the newest release with a build that runs here",
                                         **p))


def _driver_reason(request: ResolveRequest, variant: Variant) -> str:
    if request.driver is not None:
        floor = driver_floor_for(variant, request.os, strict=request.strict_driver)
        cuda = variant.cuda_version
        rule = (Msg("native minimum") if (request.strict_driver or (cuda and cuda.major < 11))
                else Msg("CUDA minor-version compatibility"))
        return Msg("driver {driver} runs {variant} (needs >= {floor}, {rule})", driver=request.driver_label,
                   variant=variant.name, floor=floor, rule=rule)
    return Msg("driver CUDA {cuda} runs {variant} (CUDA {variant_cuda})", cuda=str(request.cuda), variant=variant.name,
               variant_cuda=variant.cuda)


def _better_choice(request: ResolveRequest, matrix: Matrix, rel: Release, *, need_driver: bool) -> str | None:
    """The smallest driver that would give `rel` a CUDA build covering the GPUs (None: none would)."""
    best: tuple[Version, str, Variant] | None = None
    for vname in rel.variants_for(request.os):
        variant = matrix.variants[vname]
        if variant.kind != "cuda" or not _has_build(variant, rel, request):
            continue
        if request.gpu_ccs and not gpu_coverage(variant, rel, request.gpu_ccs, matrix, _wheel_arch(request))[0]:
            continue
        floor = driver_floor_for(variant, request.os, strict=request.strict_driver)
        if floor is None:
            continue
        key = Version(floor)
        if best is None or key < best[0] or (key == best[0] and _cuda_key(variant) > _cuda_key(best[2])):
            best = (key, floor, variant)
    if best is None:
        if request.gpu_ccs:
            text = Msg("no CUDA build of torch {torch} carries kernels for GPU {gpus}", torch=rel.torch,
                       gpus=", ".join(sm_label(c) for c in request.gpu_ccs))
            newer = _newer_with_kernels(request, matrix, rel)
            return Msg("{text}; {newer}", text=text, newer=newer) if newer else text
        return None
    _, floor, variant = best
    p = dict(floor=floor, torch=rel.torch, variant=variant.name, cuda=variant.cuda)
    return (Msg("install an NVIDIA driver >= {floor} to get torch {torch} with {variant} (CUDA {cuda})",
                **p) if need_driver
            else Msg("upgrade the NVIDIA driver to >= {floor} to get torch {torch} with {variant} (CUDA {cuda})", **p))


def _newer_with_kernels(request: ResolveRequest, matrix: Matrix, rel: Release) -> str | None:
    """Which releases newer than `rel` have a CUDA build whose kernels the matrix confirms (or presumes)
    for the GPUs, and what keeps them out of reach: the Python version, --torch, the driver."""
    os_name = request.os
    labels = ", ".join(sm_label(c) for c in request.gpu_ccs)
    covering: list[tuple[Release, list[Variant]]] = []  # newest first, like matrix.releases
    with_cuda: list[Release] = []
    for r in matrix.releases:
        if r.version <= rel.version:
            continue
        cudas = [matrix.variants[v] for v in r.variants_for(os_name)
                 if matrix.variants[v].kind == "cuda" and _has_build(matrix.variants[v], r, request)]
        if cudas:
            with_cuda.append(r)
        ok = [v for v in cudas
              if gpu_coverage(v, r, request.gpu_ccs, matrix, _wheel_arch(request))[3] in ("sass", "ptx", "presumed")]
        if ok:
            covering.append((r, ok))
    if not covering:
        return None
    oldest, oldest_ok = covering[-1]
    lowest = min(oldest_ok, key=_cuda_key)
    later = [r for r in with_cuda if r.version >= oldest.version]
    who = (Msg("torch {torch} and later have {variant}+ builds for {gpus}", torch=oldest.torch, variant=lowest.name,
               gpus=labels) if len(later) == len(covering)
           else Msg("torch {torch} and some later releases have {variant}+ builds for {gpus}", torch=oldest.torch,
                    variant=lowest.name, gpus=labels))
    with_python = [r for r, _ in covering if request.python in r.pythons(os_name)]
    if with_python:
        # They have wheels for this Python, so only --torch kept them out (eligible releases are all <= rel).
        blocker = Msg("torch {torch} has one for Python {python} but does not match --torch {spec}",
                      torch=with_python[-1].torch, python=request.python, spec=request.spec_label)
        return joined([who, blocker]) if request.torch_spec is not None else who
    pys = sorted({p for r, _ in covering for p in r.pythons(os_name)}, key=parse_xy)
    if parse_xy(request.python) < parse_xy(pys[0]):
        blocker = Msg("but need Python >= {python}", python=pys[0])
    elif parse_xy(request.python) > parse_xy(pys[-1]):
        blocker = Msg("but support Python up to {python}", python=pys[-1])
    else:
        blocker = Msg("but none has wheels for Python {python}", python=request.python)
    text = joined([who, blocker], " ")
    floors = [driver_floor_for(v, os_name, strict=request.strict_driver) for v in oldest_ok]
    floors = [f for f in floors if f is not None]
    if request.driver is not None and floors:
        floor = min(floors, key=Version)
        if request.driver < Version(floor):
            text = Msg("{text} (and driver >= {floor})", text=text, floor=floor)
    return text


def _no_build(request: ResolveRequest, matrix: Matrix, rejected: tuple[Rejection, ...],
              unverified: tuple[Release, ...] = ()) -> NoCompatibleBuild:
    """Exit 3, with the nearest valid alternatives for the Python and for the spec."""
    os_name = request.os
    spec = request.torch_spec if isinstance(request.torch_spec, SpecifierSet) else None
    label = OS_LABEL[os_name] if request.arch == default_arch(os_name) else ARCH_LABEL[(os_name, request.arch)]
    alternatives: list[dict] = []
    for rel in unverified:
        alternatives.append({
            "kind": "unverified", "torch": rel.torch,
            "message": Msg("torch {torch} has wheels for Python {python} but its matrix row is unverified: "
                           "--torch {torch} or --allow-unverified picks it", torch=rel.torch, python=request.python),
        })

    def newest_for(python: str) -> Release | None:
        rows = [r for r in matrix.releases if python in r.pythons(os_name)]
        return next((r for r in rows if r.verified or request.allow_unverified), rows[0] if rows else None)

    if WHEEL_PLATFORM[(os_name, request.arch)] is None:
        alternatives.append({
            "kind": "arch", "arch": request.arch,
            "message": Msg("PyTorch publishes no {label} wheels; an x86_64 Python can use the x86_64 wheels "
                           "(--arch x86_64)", label=label),
        })
        message = (Msg("no torch release matching --torch {spec} has wheels for {label}", spec=request.spec_label,
                       label=label) if spec is not None else
                   Msg("no torch release has wheels for {label}", label=label))
        return NoCompatibleBuild(message, alternatives=alternatives, rejected=rejected)

    same_python = newest_for(request.python)
    if same_python is not None:
        alternatives.append({
            "kind": "python", "python": request.python, "torch": same_python.torch,
            "message": Msg("Python {python}: newest torch is {torch}", python=request.python, torch=same_python.torch),
        })
    else:
        all_pys = sorted({p for r in matrix.releases for p in r.pythons(os_name)}, key=parse_xy)
        if all_pys:
            want = parse_xy(request.python)
            lower = [p for p in all_pys if parse_xy(p) < want]
            higher = [p for p in all_pys if parse_xy(p) > want]
            for p in ([lower[-1]] if lower else []) + ([higher[0]] if higher else []):
                rel = newest_for(p)
                if rel is not None:
                    alternatives.append({
                        "kind": "python", "python": p, "torch": rel.torch,
                        "message": Msg("Python {python}: newest torch is {torch}", python=p, torch=rel.torch),
                    })
    if spec is not None:
        matching = [r for r in matrix.releases if spec.contains(r.version, prereleases=True)]
        pys = {p for r in matching for p in r.pythons(os_name)}
        if matching and pys:
            alternatives.append({
                "kind": "torch", "torch_spec": request.spec_label, "pythons": sorted(pys, key=parse_xy),
                "message": Msg("torch {spec} supports Python {range} on {label}", spec=request.spec_label,
                               range=_python_range(pys), label=label),
            })
        elif matching:
            others = sorted({o for r in matching for o in OSES if r.pythons(o)})
            alternatives.append({
                "kind": "os", "torch_spec": request.spec_label, "os": others,
                "message": Msg("torch {spec} has no {label} wheels (only {oses})", spec=request.spec_label, label=label,
                               oses=', '.join(OS_LABEL[o] for o in others)),
            })
        else:
            newest = matrix.releases[0].torch
            alternatives.append({
                "kind": "torch", "torch_spec": request.spec_label, "pythons": [],
                "message": Msg("no torch release matches --torch {spec} (known: {oldest} to {newest})",
                               spec=request.spec_label, oldest=matrix.releases[-1].torch, newest=newest),
            })
    p = dict(spec=request.spec_label, python=request.python, label=label)
    if spec is not None and unverified:
        message = Msg("no torch release matching --torch {spec} with a verified matrix row has wheels for Python "
                      "{python} on {label}", **p)
    elif spec is not None:
        message = Msg("no torch release matching --torch {spec} has wheels for Python {python} on {label}", **p)
    elif unverified:
        message = Msg("no torch release with a verified matrix row has wheels for Python {python} on {label}", **p)
    else:
        message = Msg("no torch release has wheels for Python {python} on {label}", **p)
    return NoCompatibleBuild(message, alternatives=alternatives, rejected=rejected)
